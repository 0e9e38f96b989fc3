// The layer registry as the server declares it (GET /api/layers, from layers/*.toml): titles,
// field labels and colours for the legend, the status badges and the forms come from here, so a
// change to a layer file shows in the app without touching it.

import { getCached } from './api.js';
import { pick } from './i18n.js';

let byName = new Map();

export async function loadLayers() {
  const { data } = await getCached('/api/layers');
  byName = new Map(data.layers.map((l) => [l.name, l]));
  return [...byName.values()].sort((a, b) => a.order - b.order);
}

export const layer = (name) => byName.get(name);
export const layers = () => [...byName.values()].sort((a, b) => a.order - b.order);

export function field(layerName, fieldName) {
  return layer(layerName)?.fields.find((f) => f.name === fieldName);
}

/** A field's title in the UI language. */
export const fieldTitle = (layerName, fieldName) => pick(field(layerName, fieldName)?.title) || fieldName;

/** The label of one value of a field (a status, a kind, a sign), or the value itself. */
export function valueLabel(layerName, fieldName, value) {
  const f = field(layerName, fieldName);
  return pick(f?.labels?.[value]) || value;
}

/** The values a field may take, in the order the layer file lists them. */
export const values = (layerName, fieldName) => field(layerName, fieldName)?.values ?? [];

/** The colour a layer's style gives a feature, by its `style.by` field or the plain fill. */
export function colourOf(layerName, props = {}) {
  const s = layer(layerName)?.style ?? {};
  const by = s.by;
  if (by && props[by.field] in by.values) return by.values[props[by.field]];
  return s.fill ?? s.stroke ?? '#555';
}

// Fire shorthands used all over the app.
export const statusLabel = (s) => valueLabel('fire_points', 'status', s);
export const statusColour = (s) => colourOf('fire_points', { status: s });
export const kindLabel = (k) => valueLabel('fire_points', 'kind', k);
export const signLabel = (s) => valueLabel('fire_points', 'signs', s);

/** Black or white text, whichever reads better on `hex` (status badges in sunlight). */
export function textOn(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#000';
  const n = parseInt(m[1], 16);
  const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255].map((c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // The text with the higher WCAG contrast: black and white tie at a luminance of about 0.179
  // ((L + 0.05)² = 1.05 × 0.05), so e.g. #ff3d00 takes black (5.9:1), not white (3.5:1).
  return lum > 0.179 ? '#000' : '#fff';
}
