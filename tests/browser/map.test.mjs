// The map works on a network without the internet: no request leaves the server's origin, no
// tiles are drawn unless /config.json names a tile source, and then they are.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, waitForMarkers } from './lib/harness.mjs';

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const demo = useDemo();

test('with no tile source the map draws its layers on a plain background and asks nothing of other hosts', async () => {
  const ctx = await demo.context();
  const p = await ctx.newPage();
  const foreign = [];
  p.on('request', (r) => { if (!r.url().startsWith(demo.base)) foreign.push(r.url()); });
  await signIn(p, demo.base, 'manager');
  await waitForMarkers(p);
  // The areas are drawn (polygons on the map), and no raster layer is.
  await p.waitForFunction(() => window.qingling?.map?.queryRenderedFeatures().some((f) => f.layer.type === 'fill'));
  assert.equal(await p.evaluate(() => window.qingling.map.getStyle().layers.filter((l) => l.type === 'raster').length), 0);
  assert.ok(await p.locator('.legend-body .legend-row').count() >= 8, 'a legend row per fire status at least');
  assert.deepEqual(foreign, []);
  await ctx.close();
});

test('a tile source named in /config.json is drawn under the vector layers', async () => {
  const ctx = await demo.context();
  const p = await ctx.newPage();
  await ctx.route('**/config.json', (r) => r.fulfill({ json: { tiles: `${demo.base}/test-tiles/{z}/{x}/{y}.png`, attribution: 'test tiles' } }));
  let served = 0;
  await ctx.route('**/test-tiles/**', (r) => { served += 1; return r.fulfill({ body: PNG, contentType: 'image/png' }); });
  await signIn(p, demo.base, 'manager');
  await waitForMarkers(p);
  // The raster layer is under every vector layer, and its tiles are asked for and drawn.
  await p.waitForFunction(() => window.qingling?.map?.getStyle()?.layers.some((l) => l.type === 'raster'));
  const order = await p.evaluate(() => window.qingling.map.getStyle().layers.filter((l) => l.type !== 'background').map((l) => l.type));
  assert.equal(order[0], 'raster', `the basemap first: ${order}`);
  await p.waitForFunction(() => window.qingling?.map?.areTilesLoaded());
  assert.ok(served > 0, 'the basemap tiles were asked for');
  assert.match(await p.locator('.maplibregl-ctrl-attrib').textContent(), /test tiles/);
  await ctx.close();
});
