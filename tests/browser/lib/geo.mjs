// Geometry for choosing test points: inside a polygon, away from other polygons and fires.

export function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Point in a Polygon or MultiPolygon geometry (holes respected). */
export function inGeometry(p, g) {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  return polys.some(([outer, ...holes]) => inRing(p, outer) && !holes.some((h) => inRing(p, h)));
}

export function distanceM([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

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
