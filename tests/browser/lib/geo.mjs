// Geometry for choosing test points: inside a polygon, away from other polygons and fires; and
// such points in the demo data, through an API client (see apiAs in harness.mjs). Distances and
// point-in-polygon are the app's own (web/js/geo.js).

import assert from 'node:assert/strict';
import { distanceM, inGeometry } from '../../../web/js/geo.js';
import { OWNER_HOLDER, OWNER_PIT, DISTRICT_CODE } from './harness.mjs';

export { distanceM, inGeometry };

/** A geometry's bbox: [minlon, minlat, maxlon, maxlat]. */
export function bbox(g) {
  const pts = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat(2);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/**
 * Points inside `geometry`, outside every geometry in `avoid`, and at least `clearM` metres
 * from every point in `away`, on a grid, nearest to the bbox centre first.
 */
export function pointsInside(geometry, { avoid = [], away = [], clearM = 120, n = 1 } = {}) {
  const [x0, y0, x1, y1] = bbox(geometry);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const found = [];
  const steps = 40;
  for (let i = 1; i < steps; i++) {
    for (let j = 1; j < steps; j++) {
      const p = [x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * j) / steps];
      if (!inGeometry(p, geometry) || avoid.some((g) => inGeometry(p, g))) continue;
      if (away.some((q) => distanceM(p, q) < clearM)) continue;
      found.push(p);
    }
  }
  found.sort((a, b) => (a[0] - cx) ** 2 + (a[1] - cy) ** 2 - ((b[0] - cx) ** 2 + (b[1] - cy) ** 2));
  // Spread out: each chosen point clear of the ones chosen before.
  const out = [];
  for (const p of found) {
    if (out.every((q) => distanceM(p, q) >= clearM)) out.push(p);
    if (out.length === n) break;
  }
  return out.map((p) => p.map((v) => Math.round(v * 1e6) / 1e6));
}

/** The geometries of a collection's features. */
const geometries = async (api, collection) => (await api(`/collections/${collection}/items?limit=10000`)).data.features.map((f) => f.geometry);

/** The geometries of the demo's waste dumps and gangue heaps. */
export const dumpsAndHeaps = async (api) => [...(await geometries(api, 'waste_dumps')), ...(await geometries(api, 'gangue_heaps'))];

/** Where the demo's fires are. */
const firePoints = async (api) => (await api('/api/fires')).data.features.map((f) => f.geometry.coordinates);

/**
 * `n` points in open country in Wuda, the demo's district (no mine, dump or heap), at least
 * `clearM` metres from every fire and from each other.
 */
export async function openCountry(api, { n = 1, clearM }) {
  const wuda = (await api('/collections/districts/items')).data.features.find((d) => d.properties.code === DISTRICT_CODE);
  return pointsInside(wuda.geometry, {
    avoid: [...(await geometries(api, 'mines')), ...(await dumpsAndHeaps(api))],
    away: await firePoints(api),
    clearM,
    n,
  });
}

/**
 * The demo owner's open-pit mine (a Feature) and `n` points inside it, outside every other
 * polygon, at least `clearM` metres from every fire and from each other: `{ mine, points }`.
 */
export async function inOwnersPit(api, { n = 1, clearM = 120 } = {}) {
  const mines = (await api('/collections/mines/items?limit=10000')).data.features;
  const mine = mines.find((m) => m.properties.holder === OWNER_HOLDER && m.properties.name === OWNER_PIT);
  assert.ok(mine, 'the demo mine exists');
  const others = [...mines.filter((m) => m !== mine).map((f) => f.geometry), ...(await dumpsAndHeaps(api))];
  return { mine, points: pointsInside(mine.geometry, { avoid: others, away: await firePoints(api), clearM, n }) };
}
