// Accessibility: axe-core (the npm package, injected into the page) over every view of every
// role, in Chinese and English, at the sizes each user works at — no serious or critical
// violation — and a keyboard that reaches the side panel before anything on the map.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { useDemo, ROOT } from './lib/harness.mjs';

const demo = useDemo();
const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');

/** The serious and critical violations axe finds on the page as it is, with where. */
async function violations(page) {
  // The app's CSP allows no inline script; axe comes from a file through the test's own channel.
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
}

/** Signs in as `role` (or stays signed out) and yields each of the role's views in turn. */
async function* views(role, { lang, viewport }) {
  const ctx = await demo.context({ lang, viewport, bypassCSP: true });
  const p = await ctx.newPage();
  await p.goto(`${demo.base}/`);
  await p.locator('form.login').waitFor();
  if (!role) {
    yield ['login', p];
    await ctx.close();
    return;
  }
  await p.fill('input[name=username]', role);
  await p.fill('input[name=password]', `qingling-${role}`);
  await p.click('form.login button[type=submit]');
  await p.waitForSelector(`body[data-role=${role}]`);
  await p.waitForLoadState('networkidle');
  yield ['signed in', p];
  if (role === 'patrol') {
    for (const tab of await p.$$eval('.tabs-big .tab', (ts) => ts.map((t) => t.dataset.tab))) {
      await p.click(`.tabs-big .tab[data-tab="${tab}"]`);
      await p.waitForLoadState('networkidle');
      yield [`tab ${tab}`, p];
    }
  } else {
    await p.click('.mode[data-mode=dust]');
    await p.waitForLoadState('networkidle');
    yield ['dust', p];
    for (const tab of await p.$$eval('.dust-tab', (ts) => ts.map((t) => t.dataset.dustTab))) {
      await p.click(`.dust-tab[data-dust-tab="${tab}"]`);
      await p.waitForLoadState('networkidle');
      yield [`dust ${tab}`, p];
    }
  }
  await ctx.close();
}

const SIZES = { desk: { width: 1440, height: 900 }, tablet: { width: 1024, height: 768 }, phone: { width: 390, height: 844 } };
const ROLES = [[null, 'desk'], ['manager', 'desk'], ['district', 'desk'], ['owner', 'tablet'], ['patrol', 'tablet'], ['patrol', 'phone']];

for (const lang of ['zh', 'en']) {
  test(`no serious or critical axe violation on any view (${lang})`, async () => {
    const found = [];
    for (const [role, size] of ROLES) {
      for await (const [view, p] of views(role, { lang, viewport: SIZES[size] })) {
        for (const v of await violations(p)) found.push(`${role ?? 'signed out'} ${size} ${view}: ${v}`);
      }
    }
    assert.deepEqual(found, []);
  });
}

test('the keyboard reaches the side panel before the map, and every control it reaches has a name', async () => {
  for (const role of ['manager', 'owner', 'patrol']) {
    const { ctx, page: p } = await demo.open(role);
    await p.click('.dust-tab, .mode[data-mode=dust], .tabs-big .tab').catch(() => {}); // markers of both kinds drawn
    await p.keyboard.press('Escape');
    await p.evaluate(() => document.activeElement?.blur());
    const stops = [];
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press('Tab');
      stops.push(await p.evaluate(() => {
        const e = document.activeElement;
        const where = e.closest('.side') ? 'side' : e.closest('.map-pane') ? 'map' : 'top';
        const name = (e.getAttribute('aria-label') || e.textContent || e.getAttribute('title') || e.labels?.[0]?.textContent || e.getAttribute('placeholder') || '').trim();
        return { where, tag: e.tagName, name, marker: Boolean(e.closest('.maplibregl-marker')) };
      }));
    }
    const firstSide = stops.findIndex((s) => s.where === 'side');
    const firstMap = stops.findIndex((s) => s.where === 'map');
    assert.ok(firstSide >= 0, `${role}: the side panel is reached`);
    assert.ok(firstMap === -1 || firstSide < firstMap, `${role}: side (${firstSide}) before map (${firstMap})`);
    const unnamed = stops.filter((s) => s.tag !== 'CANVAS' && !s.name);
    assert.deepEqual(unnamed, [], `${role}: every control reached has a name`);
    await ctx.close();
  }
});
