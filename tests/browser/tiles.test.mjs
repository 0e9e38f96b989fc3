// The map from vector tiles (OGC API - Tiles, TILES.md), where the server serves them: the
// manager's map asks for the fires' tiles, draws counts per cell at the city's zoom (adding up
// to the open fires) and each open fire close up, and a click on one opens its detail; the
// patrol's map, seen once, draws its areas from the tiles the service worker kept when the
// network is gone. Skipped, with a message, on a server that has no tiles.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, watch, waitForMarkers, markerIds, clickFire } from './lib/harness.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

/** Whether the server serves the fires as tiles: a JSON tilesets list for a signed-in manager. */
async function served() {
  const res = await api('/collections/fire_points/tiles');
  return Array.isArray(res.data?.tilesets);
}

const TILE = /\/collections\/([^/]+)\/tiles\/WebMercatorQuad\/\d+\/\d+\/\d+$/;

test('the manager\'s map draws the fires from tiles: counts at the city\'s zoom, each open fire close up, a click opens one', async (t) => {
  if (!(await served())) { t.skip('GET /collections/fire_points/tiles is not a tilesets list on this server: no tiles to draw from'); return; }
  const open = (await api('/api/fires?status=open')).data.features;
  const ctx = await demo.context();
  const tiles = [];
  ctx.on('response', (r) => { const m = TILE.exec(new URL(r.url()).pathname); if (m) tiles.push({ layer: m[1], status: r.status() }); });
  const page = await ctx.newPage();
  const problems = watch(page);
  await signIn(page, demo.base, 'manager');
  await waitForMarkers(page, open.length);
  assert.equal(await page.evaluate(() => window.qingling.fires.mode()), 'tiles');
  assert.ok(tiles.some((x) => x.layer === 'fire_points' && [200, 204, 304].includes(x.status)), `the fires' tiles were asked for: ${JSON.stringify(tiles.slice(0, 5))}`);
  assert.ok(tiles.some((x) => x.layer === 'mines'), 'and the areas\' tiles');
  // At the city's zoom the tiles carry counts, which add up to the open fires.
  assert.ok(await page.evaluate(() => window.qingling.fires.clusters()) > 0, 'counts are drawn');
  assert.equal(await page.evaluate(() => window.qingling.fires.count()), open.length);
  // Close up, each open fire is drawn, none other.
  assert.deepEqual((await markerIds(page)).sort(), open.map((f) => f.id).sort());
  const fire = open.find((f) => f.properties.status === 'reported') ?? open[0];
  await clickFire(page, fire.id);
  await page.locator('.detail .fire-code', { hasText: fire.properties.code }).waitFor();
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the patrol\'s map draws the areas from the tiles it has seen when the network is gone', async (t) => {
  if (!(await served())) { t.skip('GET /collections/fire_points/tiles is not a tilesets list on this server: no tiles to draw from'); return; }
  const { ctx, page: p, problems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 }, markers: true });
  await p.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
  // Seen once with the service worker in control, so that it keeps them.
  await p.reload();
  await p.waitForSelector('body[data-role=patrol]');
  await waitForMarkers(p);
  await p.waitForFunction(() => window.qingling?.map?.areTilesLoaded());
  const kept = await p.evaluate(async () => (await (await caches.open('qingling-tiles')).keys()).length);
  assert.ok(kept > 0, 'the service worker kept the tiles');
  await ctx.setOffline(true);
  await p.reload();
  await p.waitForSelector('body[data-role=patrol]');
  // Until the page has made its map again there is no hook to ask.
  await p.waitForFunction(() => window.qingling?.map?.queryRenderedFeatures().some((f) => f.layer.type === 'fill'), null, { timeout: 15_000 });
  // The fires: the list last seen (the outbox's reports go on it as before).
  await waitForMarkers(p);
  assert.equal(await p.evaluate(() => window.qingling.fires.mode()), 'list');
  await ctx.setOffline(false);
  assert.deepEqual(problems, []);
  await ctx.close();
});
