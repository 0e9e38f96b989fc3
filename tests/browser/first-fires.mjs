// Time to the first fires drawn on the demo: from navigating to the app (signed in already) to
// the first frame with fires (or counts of fires) on the map, per role, in headless Chromium —
// a measurement, not a test. Each web app directory given is served by its own demo server;
// the runs take turns between them, so load on the machine falls on all alike.
//
//   node tests/browser/first-fires.mjs [--runs 7] [--roles manager,patrol] [WEB_DIR ...]
//   node tests/browser/first-fires.mjs --base http://127.0.0.1:8080 --login manager=U:P,patrol=U:P
//
// With --base, a server already running (on a province database, say) is timed instead, signed
// in with the accounts --login names for each role (the demo's otherwise).
//
// WEB_DIR defaults to web/. To compare with another version of the app, check it out beside
// (e.g. `git worktree add ../before main`, then `npm ci && bash web/vendor.sh` there) and give
// both: `node tests/browser/first-fires.mjs web ../before/web`. An app that draws with Leaflet
// is recognised by its SVG fire markers; one that draws with MapLibre by its test hook.

import path from 'node:path';
import { launchBrowser, startServer, newContext, PASSWORDS, ROOT } from './lib/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const [v] = args.splice(i, 2).slice(1);
  return v;
};
const runs = Number(opt('runs', 7));
const roles = opt('roles', 'manager,patrol').split(',');
const given = opt('base', null);
const logins = new Map((opt('login', '') || '').split(',').filter(Boolean).map((kv) => {
  const [role, cred] = kv.split('=');
  const i = cred.indexOf(':');
  return [role, { username: cred.slice(0, i), password: cred.slice(i + 1) }];
}));
const dirs = given ? [given] : args.length ? args : ['web'];

/** Records in the page when the first fire is drawn (`window.__firstFire`, ms since navigation). */
function firstFireProbe() {
  const drawn = () => {
    if (document.querySelector('path.fire-marker')) return true; // Leaflet
    try { return (window.qingling?.fires?.drawnNow?.() ?? 0) > 0; } catch { return false; } // MapLibre
  };
  const tick = () => { if (drawn()) window.__firstFire = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}

async function once(browser, base, role) {
  const viewport = role === 'patrol' ? { width: 1024, height: 768 } : { width: 1440, height: 900 };
  const ctx = await newContext(browser, { viewport });
  const login = logins.get(role) ?? { username: role, password: PASSWORDS[role] };
  const res = await ctx.request.post(`${base}/api/login`, { data: login });
  if (!res.ok()) throw new Error(`login ${role}: ${res.status()}`);
  await ctx.addInitScript(firstFireProbe);
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.__firstFire !== undefined, null, { timeout: 60_000, polling: 50 });
  const ms = await page.evaluate(() => Math.round(window.__firstFire));
  await ctx.close();
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const servers = [];
const browser = await launchBrowser();
try {
  if (given) servers.push({ dir: given, server: { base: given, stop: async () => {} } });
  else for (const dir of dirs) servers.push({ dir, server: await startServer({ web: path.resolve(ROOT, dir) }) });
  const times = new Map();
  for (let i = 0; i < runs; i++) {
    for (const role of roles) {
      for (const { dir, server } of servers) {
        const key = `${role}\t${dir}`;
        times.set(key, [...(times.get(key) ?? []), await once(browser, server.base, role)]);
      }
    }
  }
  console.log('role\tweb\tmedian ms\tmin\tmax\truns');
  for (const [key, xs] of times) console.log(`${key}\t${median(xs)}\t${Math.min(...xs)}\t${Math.max(...xs)}\t${xs.join(' ')}`);
} finally {
  await browser.close();
  for (const { server } of servers) await server.stop();
}
