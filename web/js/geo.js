// Distances on the ground (lon/lat in degrees): haversine is plenty for the 50 m duplicate radius.

const R = 6371008.8; // mean Earth radius, m

export function distanceM([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}

/** A bbox (minlon,minlat,maxlon,maxlat) that contains every point within `m` metres of `p`. */
export function bboxAround([lon, lat], m) {
  const dLat = (m / R) * (180 / Math.PI);
  const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 1e-6);
  return [lon - dLon, lat - dLat, lon + dLon, lat + dLat];
}

function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a lon/lat lies in a GeoJSON Polygon or MultiPolygon (holes respected). */
export function inGeometry(p, g) {
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return false;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  return polys.some(([outer, ...holes]) => inRing(p, outer) && !holes.some((hole) => inRing(p, hole)));
}
