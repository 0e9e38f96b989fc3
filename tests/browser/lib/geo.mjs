// Geometry for choosing test points: inside a polygon, away from other polygons and fires.
// Distances and point-in-polygon are the app's own (web/js/geo.js).

import { distanceM, inGeometry } from '../../../web/js/geo.js';

export { distanceM, inGeometry };

function bbox(g) {
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
