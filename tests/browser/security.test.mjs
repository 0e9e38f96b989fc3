// Browser-facing hardening: a district and a mine renamed to HTML (as a hostile editor could)
// show literally in every role's views and never run, and no view of any role, nor the OGC HTML
// pages, breaks the Content-Security-Policy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useDemo, signIn, watch, login, clickFire, hoverFire, fitMap, clickMapAt, PASSWORDS, DISTRICT_CODE, OWNER_PIT } from './lib/harness.mjs';
import { pointsInside, bbox, inGeometry } from './lib/geo.mjs';

const DISTRICT_NAME = '<img src=x onerror="window.__xss=1">';
const MINE_NAME = '<script>window.__xss=2</script><img src=y onerror="window.__xss=2">';
const MINE = OWNER_PIT; // the owner's, with fires and dust in the demo

const demo = useDemo({ setup });

async function token(role) {
  return (await (await login(demo.base, role, PASSWORDS[role])).json()).token;
}

/** Renames a feature through the OGC API as the manager (a bearer token: no Origin needed). */
async function rename(auth, collection, match, name) {
  const all = await (await fetch(`${demo.base}/collections/${collection}/items?limit=1000`, { headers: { Authorization: auth } })).json();
  const f = all.features.find(match);
  assert.ok(f, `a ${collection} feature to rename`);
  const res = await fetch(`${demo.base}/collections/${collection}/items/${f.id}`, {
    method: 'PATCH',
    headers: { Authorization: auth, 'Content-Type': 'application/geo+json' },
    body: JSON.stringify({ properties: { name } }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The renamed mine (a Feature), a point inside it and nothing else, and a fire in it. */
let renamed = null;

/** Before the tests: a district and a mine renamed to HTML. */
async function setup() {
  const auth = `Bearer ${await token('manager')}`;
  await rename(auth, 'districts', (f) => f.properties.code === DISTRICT_CODE, DISTRICT_NAME);
  await rename(auth, 'mines', (f) => f.properties.name === MINE, MINE_NAME);
  const get = async (path) => (await fetch(`${demo.base}${path}`, { headers: { Authorization: auth } })).json();
  const mines = (await get('/collections/mines/items?limit=1000')).features;
  const mine = mines.find((f) => f.properties.name === MINE_NAME);
  const others = [...mines.filter((f) => f !== mine), ...(await get('/collections/waste_dumps/items?limit=1000')).features,
    ...(await get('/collections/gangue_heaps/items?limit=1000')).features].map((f) => f.geometry);
  const fires = (await get('/api/fires')).features;
  const [point] = pointsInside(mine.geometry, { avoid: others, away: fires.map((f) => f.geometry.coordinates), clearM: 60 });
  // A fire the dashboard draws (open ones, at first) in the mine.
  const open = (await get('/api/fires?status=open')).features;
  renamed = { mine, point, fire: open.find((f) => inGeometry(f.geometry.coordinates, mine.geometry)) };
}

/**
 * A page that records CSP violations (from before the first script runs) and console errors.
 * "Failed to load resource" lines are HTTP statuses the app handles (the 401 before sign-in),
 * not script errors.
 */
async function open(role, { lang = 'zh' } = {}) {
  const ctx = await demo.context({ lang });
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const p = await ctx.newPage();
  const problems = watch(p);
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  if (role) await signIn(p, demo.base, role);
  return { ctx, p, problems };
}

async function settle(p) {
  await p.waitForLoadState('networkidle').catch(() => {});
  await p.waitForTimeout(250);
}

/** Nothing ran, nothing broke the policy, nothing went wrong. */
async function assertClean(p, problems, where) {
  assert.equal(await p.evaluate(() => window.__xss), undefined, `${where}: injected markup ran`);
  assert.equal(await p.locator('img[src=x], img[src=y]').count(), 0, `${where}: injected markup became elements`);
  assert.deepEqual(await p.evaluate(() => window.__csp), [], `${where}: CSP violations`);
  assert.deepEqual(problems, [], where);
}

/**
 * Points at the renamed mine on the map (its tooltip) and clicks it (its popup, where the view
 * has popups) and returns their text; null for either the view does not show.
 */
async function mineTooltipAndPopup(p) {
  await fitMap(p, bbox(renamed.mine.geometry), 60);
  await p.waitForFunction(() => window.qingling?.map?.areTilesLoaded());
  const box = await p.locator('.maplibregl-map').boundingBox();
  const pt = await p.evaluate((ll) => window.qingling.map.project(ll), renamed.point);
  await p.mouse.move(box.x + pt.x, box.y + pt.y);
  const tip = p.locator('.map-tooltip');
  const tooltip = await tip.waitFor({ timeout: 3000 }).then(() => tip.textContent(), () => null);
  await clickMapAt(p, renamed.point);
  const pop = p.locator('.maplibregl-popup:not(.map-tooltip) .popup');
  const popup = await pop.waitFor({ timeout: 3000 }).then(() => pop.textContent(), () => null);
  await p.locator('.maplibregl-popup-close-button').click().catch(() => {});
  return { tooltip, popup };
}



/** Clicks through every mode, tab and sub-tab a view offers, checking each screen. */
async function visitEverything(p, problems, role) {
  const modes = await p.$$eval('.mode[data-mode]', (els) => els.map((e) => e.dataset.mode));
  for (const mode of modes.length ? modes : [null]) {
    if (mode) { await p.click(`.mode[data-mode="${mode}"]`); await settle(p); }
    for (const [sel, attr] of [['.tab[data-tab]', 'tab'], ['.dust-tab[data-dust-tab]', 'dustTab'], ['.dust-sub[data-sub]', 'sub']]) {
      const names = await p.$$eval(sel, (els, a) => els.map((e) => e.dataset[a]), attr);
      for (const n of names) {
        const key = sel.slice(0, sel.indexOf('[')) + `[data-${attr.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${n}"]`;
        if (!(await p.locator(key).first().isVisible())) continue;
        await p.locator(key).first().click();
        await settle(p);
        await assertClean(p, problems, `${role} ${mode ?? ''} ${n}`);
      }
    }
    await assertClean(p, problems, `${role} ${mode ?? ''}`);
  }
}

test('a district and a mine named in HTML show literally on the map, in tooltips and popups, and never run', async () => {
  const { ctx, p, problems } = await open('manager');
  await p.waitForSelector('.district-label');
  await settle(p);
  const labels = await p.$$eval('.district-label', (els) => els.map((e) => e.textContent));
  assert.ok(labels.includes(DISTRICT_NAME), `the district's label shows its name literally: ${labels}`);
  const { tooltip, popup } = await mineTooltipAndPopup(p);
  assert.equal(tooltip, MINE_NAME, 'the mine tooltip shows the name literally');
  assert.ok(popup?.includes(MINE_NAME), `the mine popup shows the name literally: ${popup}`);
  // Hovering the fires shows their tooltips too.
  await p.evaluate(() => window.qingling.map.jumpTo(window.qingling.map.cameraForBounds(window.qingling.fires.frame())));
  await p.waitForFunction(() => window.qingling?.fires?.onScreen()?.length > 0);
  await hoverFire(p);
  await p.locator('.map-tooltip').waitFor();
  await settle(p);
  await assertClean(p, problems, 'manager map');
  await ctx.close();
});

test('the names show literally in the league tables, and a fire\'s detail of the renamed mine opens cleanly', async () => {
  const { ctx, p, problems } = await open('manager', { lang: 'en' });
  for (const tab of ['mines', 'districts']) {
    await p.click(`.tab[data-tab=${tab}]`);
    await settle(p);
  }
  await p.click('.tab[data-tab=mines]');
  await p.locator('table.league', { hasText: MINE_NAME }).first().waitFor();
  await p.click('.tab[data-tab=districts]');
  await p.locator('table.league', { hasText: DISTRICT_NAME }).first().waitFor();
  // The detail of a fire in the renamed mine.
  const id = renamed.fire?.id;
  assert.ok(id, 'a fire in the renamed mine');
  await clickFire(p, id);
  await p.locator('.detail .fire-code').first().waitFor();
  await assertClean(p, problems, 'league tables and fire detail');
  await ctx.close();
});

for (const role of ['manager', 'district', 'owner', 'patrol']) {
  test(`every view of the ${role} passes the Content-Security-Policy and runs no injected name`, async () => {
    const { ctx, p, problems } = await open(role);
    await settle(p);
    await assertClean(p, problems, `${role} first view`);
    if (role !== 'patrol') {
      const { tooltip } = await mineTooltipAndPopup(p);
      if (tooltip !== null) assert.equal(tooltip, MINE_NAME);
    }
    await visitEverything(p, problems, role);
    await ctx.close();
  });
}

test('the OGC HTML pages pass the Content-Security-Policy and show the names escaped', async () => {
  const { ctx, p, problems } = await open(null);
  // The pages are public for public layers; sign in by cookie for the rest.
  await p.goto(`${demo.base}/`);
  await p.evaluate(async (pw) => {
    await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'manager', password: pw }) });
  }, PASSWORDS.manager);
  for (const path of ['/?f=html', '/conformance?f=html', '/collections?f=html', '/collections/mines?f=html',
    '/collections/mines/items?f=html&limit=200', '/collections/districts/items?f=html', '/collections/mines/queryables?f=html']) {
    const res = await p.goto(`${demo.base}${path}`);
    assert.equal(res.status(), 200, path);
    assert.ok(res.headers()['content-security-policy'], path);
    await settle(p);
    // The stylesheet applied: the header bar is dark.
    assert.notEqual(await p.$eval('header', (e) => getComputedStyle(e).backgroundColor), 'rgba(0, 0, 0, 0)', `${path}: styled`);
    await assertClean(p, problems, path);
    if (path.startsWith('/collections/districts/items')) {
      assert.ok((await p.textContent('body')).includes(DISTRICT_NAME), 'the district name shows literally');
    }
  }
  await ctx.close();
});

test('a page of another origin on the same site cannot write with the owner\'s cookie; the app itself can', async () => {
  // Another port on the same host is the same site, so the browser sends even a SameSite=Strict
  // cookie along: only the Origin check stops it.
  const evil = http.createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end('<!doctype html><title>evil</title>'); });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const evilBase = `http://127.0.0.1:${evil.address().port}`;
  try {
    const manager = `Bearer ${await token('manager')}`;
    const owner = `Bearer ${await token('owner')}`;
    const codes = (await (await fetch(`${demo.base}/collections/districts/items?limit=100`, { headers: { Authorization: manager } })).json())
      .features.map((f) => f.properties.code);
    const now = Date.now();
    const issued = await fetch(`${demo.base}/api/dust/warnings`, {
      method: 'POST', headers: { Authorization: manager, 'Content-Type': 'application/json' },
      body: JSON.stringify({ level: 'orange', districts: codes, from: new Date(now - 60_000).toISOString(), to: new Date(now + 86_400_000).toISOString() }),
    });
    assert.equal(issued.status, 201, await issued.text());
    const restrictions = async () => (await (await fetch(`${demo.base}/api/dust/restrictions`, { headers: { Authorization: owner } })).json()).restrictions;
    const target = (await restrictions()).find((r) => !r.acknowledged_at);
    assert.ok(target, 'an unacknowledged restriction of the owner');

    const { ctx, p, problems } = await open('owner');
    const attacker = await ctx.newPage();
    await attacker.goto(`${evilBase}/`);
    await attacker.evaluate(async (url) => {
      await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' });
    }, `${demo.base}/api/dust/restrictions/${target.id}/acknowledge`);
    assert.equal((await restrictions()).find((r) => r.id === target.id).acknowledged_at ?? null, null, 'not acknowledged from the other origin');

    // The app's own fetch, with the same cookie: accepted.
    const status = await p.evaluate(async (id) => (await fetch(`/api/dust/restrictions/${id}/acknowledge`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, target.id);
    assert.equal(status, 200);
    assert.ok((await restrictions()).find((r) => r.id === target.id).acknowledged_at, 'acknowledged from the app');
    await assertClean(p, problems, 'owner writes');
    await ctx.close();
  } finally {
    evil.close();
  }
});
