// The service worker's shell list names every file the app loads, so nothing is missing offline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/harness.mjs';

const WEB = path.join(ROOT, 'web');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [path.relative(WEB, p)];
  });
}

test('every module, translation table and stylesheet is in the service worker\'s shell', () => {
  const sw = fs.readFileSync(path.join(WEB, 'sw.js'), 'utf8');
  const shell = new Set([...sw.matchAll(/^\s*'([^']+)',$/gm)].map((m) => m[1]));
  const needed = files(WEB).filter((f) => /^(js\/.*\.js|i18n\/.*\.json|app\.css|index\.html)$/.test(f));
  assert.ok(needed.length > 20);
  for (const f of needed) assert.ok(shell.has(f), `${f} is not in sw.js SHELL`);
  // A vendored file is named with its version (`?v=`): the file is the path before it.
  for (const f of shell) if (f !== './') assert.ok(fs.existsSync(path.join(WEB, f.split('?')[0])), `${f} in SHELL does not exist`);
});

test('the vendored map library is there, with its licence', () => {
  for (const f of ['maplibre-gl.mjs', 'maplibre-gl-worker.mjs', 'maplibre-gl.css', 'LICENSE.txt']) {
    assert.ok(fs.existsSync(path.join(WEB, 'vendor/maplibre-gl', f)), `web/vendor/maplibre-gl/${f} (run bash web/vendor.sh)`);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal(fs.readFileSync(path.join(WEB, 'vendor/maplibre-gl/VERSION'), 'utf8').trim(), pkg.dependencies['maplibre-gl']);
});

// The server keeps a vendored file a year (immutable) only when it is asked for with the version
// its VERSION file states: every reference carries that version, so an upgrade is a new address.
test('the app asks for vendored files with the version web/vendor.sh wrote', () => {
  const sources = [path.join(WEB, 'index.html'), ...files(path.join(WEB)).filter((f) => f.startsWith('js/')).map((f) => path.join(WEB, f))];
  let seen = 0;
  for (const file of sources) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/vendor\/([\w.-]+)\/[\w./-]+?(\?v=([\w.-]+))?['"]/g)) {
      seen += 1;
      const version = fs.readFileSync(path.join(WEB, 'vendor', m[1], 'VERSION'), 'utf8').trim();
      assert.equal(m[3], version, `${path.relative(WEB, file)}: ${m[0]} should end in ?v=${version}`);
    }
  }
  assert.ok(seen >= 2, 'found the vendored files');
});
