// The map, drawn with MapLibre GL (WebGL): the area layers styled by their layer files, a legend
// built from /api/layers, an optional raster basemap, and what every map needs — one click and
// hover dispatch over the layers that take them, popups and tooltips built from DOM nodes, and
// framing the user's scope. The fires are in fire-map.js, dust in dust-map.js.
//
// Where the server serves vector tiles (OGC API - Tiles: `GET /collections/{id}/tiles` answers),
// each layer is a vector source on its tiles, so a province opens as fast as a city; where it does
// not, the layers come as GeoJSON from /collections/{id}/items as before. With no basemap the
// layers draw on a plain background: the app must work on a network that does not reach the
// internet. Zoom levels are MapLibre's (512 px world at zoom 0: one less than Leaflet's for the
// same scale).

import { Map as MapLibre, Popup, Marker, NavigationControl, AttributionControl, LngLatBounds, prewarm } from '../../vendor/maplibre-gl/maplibre-gl.mjs?v=6.20.0';
import { get, getCached } from '../api.js';
import { pick, t } from '../i18n.js';
import { h, textEl } from '../dom.js';
import { layer, values, valueLabel } from '../layers.js';
import { inGeometry } from '../geo.js';

// Wuhai's padded extent (DOMAIN.md), shown before the user's scope is known: [[w, s], [e, n]].
const CITY_BOUNDS = [[106.55, 39.2], [107.15, 39.92]];
export const AREA_LAYERS = ['districts', 'mines', 'waste_dumps', 'gangue_heaps'];
/** The collections the map may draw from tiles. */
const TILED = [...AREA_LAYERS, 'fire_points'];
/** The zoom a single fire is shown at (tiles give the fires themselves, not counts, from here). */
export const FIRE_ZOOM = 13;
/** The sources stop asking for new tiles past this zoom (and draw those they have larger). */
const TILE_MAX_ZOOM = 16;

// Layers are added into slots, bottom to top, so the order holds whatever loads first: each slot
// is an invisible anchor layer, and a layer of slot S goes just below S's anchor.
const SLOTS = ['base', 'areas', 'dust', 'fires', 'pick', 'draw'];

// The map's workers start loading their script now, while the view is still being built.
prewarm();

/** A map's own state: the layers that take clicks and hovers, the popup, the drawing tool. */
const states = new WeakMap();
const state = (map) => states.get(map);

/** `GET /config.json`, if the deployment has one: `{ "tiles": "https://…/{z}/{x}/{y}.png", "attribution": "…" }`. */
async function siteConfig() {
  try {
    const res = await fetch('/config.json', { headers: { Accept: 'application/json' } });
    return res.ok ? await res.json() : {};
  } catch {
    return {};
  }
}

/**
 * The tile URL template of each collection the server serves as vector tiles (`{z}/{x}/{y}`
 * placeholders, this origin), or null where it does not: from the tilesets list's templated
 * link, kept for offline use like the other reference data. Asked once a page, as soon as a
 * view with a map loads (before it draws: the map waits for them).
 */
let templates = null;
const tileTemplates = () => (templates ??= askTileTemplates());
tileTemplates();

async function askTileTemplates() {
  const out = {};
  await Promise.all(TILED.map(async (id) => {
    out[id] = null;
    try {
      const { data } = await getCached(`/collections/${id}/tiles`);
      // A server without tiles answers 404 (or, with the web app's fallback, the page: not JSON).
      if (!Array.isArray(data?.tilesets) && !Array.isArray(data?.links)) return;
      const links = [...(data.links ?? []), ...(data.tilesets ?? []).flatMap((s) => s.links ?? [])];
      const link = links.find((l) => l.templated && /\{(z|tileMatrix)\}/.test(l.href ?? ''));
      const href = link?.href ?? `/collections/${id}/tiles/WebMercatorQuad/{z}/{y}/{x}`;
      // Same origin always: the worker that fetches them resolves a relative URL against its own script.
      const path = href.replace(/^https?:\/\/[^/]+/, '')
        .replace('{tileMatrix}', '{z}').replace('{tileRow}', '{y}').replace('{tileCol}', '{x}');
      out[id] = `${location.origin}${path}`;
    } catch { /* no tiles here (404), or offline and never seen: GeoJSON instead */ }
  }));
  return out;
}

function baseStyle() {
  return {
    version: 8,
    sources: {},
    layers: SLOTS.map((s) => ({ id: `slot-${s}`, type: 'background', layout: { visibility: 'none' } })),
  };
}

/** Adds a layer at the top of its slot. */
export function addLayer(map, spec, slot) {
  map.addLayer(spec, `slot-${slot}`);
}

/** Shows or hides layers (those not there yet are skipped). */
export function showLayers(map, ids, on) {
  for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
}

/** Whether the map is still there (not removed by its view). */
export const alive = (map) => states.has(map);

/** Resolves once the map's style can take sources and layers. */
export const ready = (map) => state(map)?.ready ?? new Promise(() => {});

/** Whether the server serves this collection as tiles: its template, or null. */
export async function tileTemplate(map, id) {
  return (await state(map)?.tiles)?.[id] ?? null;
}

/** A vector source on a collection's tiles. */
export const vectorSource = (template) => ({ type: 'vector', tiles: [template], minzoom: 0, maxzoom: TILE_MAX_ZOOM });

/** A raster basemap from a URL template (`{s}` as Leaflet's subdomains a, b, c). */
function addBasemap(map, cfg) {
  const url = cfg.tiles;
  const tiles = url.includes('{s}') ? ['a', 'b', 'c'].map((s) => url.replace('{s}', s)) : [url];
  map.addSource('basemap', { type: 'raster', tiles, tileSize: 256, maxzoom: 19, attribution: cfg.attribution ?? '' });
  addLayer(map, { id: 'basemap', type: 'raster', source: 'basemap' }, 'base');
  map.addControl(new AttributionControl({ compact: false }), 'bottom-left');
}

export function createMap(el, { onClick } = {}) {
  const map = new MapLibre({
    container: el,
    style: baseStyle(),
    bounds: CITY_BOUNDS,
    fitBoundsOptions: { padding: 16 },
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
    renderWorldCopies: false,
    cancelPendingTileRequestsWhileZooming: false,
    fadeDuration: 0, // labels appear at once: no frames drawn only to fade them in
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-left');
  const st = {
    ready: new Promise((resolve) => map.once('load', resolve)),
    tiles: tileTemplates(),
    points: [], // { layers, onClick, tooltip }: small things hit within a finger's width
    areas: [], // the same for polygons, hit where the pointer is
    capture: null, // the drawing tool takes every click while it draws
    onClick,
    popup: null,
    tooltip: new Popup({ closeButton: false, closeOnClick: false, className: 'map-tooltip', offset: 14, maxWidth: '280px' }),
    frame: null,
  };
  states.set(map, st);
  // Tiles that cannot be fetched (offline, not seen before) are left blank, not reported as errors.
  map.on('error', (e) => console.warn('map:', e.error?.message ?? e.error ?? e));
  st.ready.then(async () => {
    const cfg = await siteConfig();
    if (typeof cfg.tiles === 'string' && cfg.tiles) addBasemap(map, cfg);
  });

  map.on('click', (e) => {
    if (st.capture) { st.capture(e); return; }
    // A marker (dust) handles its own clicks.
    if (e.originalEvent?.target?.closest?.('.maplibregl-marker')) return;
    const hit = e.point ? hitAt(map, e.point, 'onClick') : null;
    if (hit) { hit.target.onClick(hit.feature, e); return; }
    st.onClick?.([e.lngLat.lng, e.lngLat.lat]);
  });
  // Hover: at most once a frame, the tooltip of what is under the pointer and a hand over what takes clicks.
  let pending = null;
  map.on('mousemove', (e) => {
    const scheduled = pending !== null;
    pending = e;
    if (scheduled) return;
    requestAnimationFrame(() => {
      const ev = pending;
      pending = null;
      if (!states.has(map)) return;
      const hit = st.capture ? null : hitAt(map, ev.point, 'tooltip');
      const clickable = st.capture ? null : hitAt(map, ev.point, 'onClick');
      map.getCanvas().style.cursor = st.capture ? 'crosshair' : clickable ? 'pointer' : '';
      const text = hit?.target.tooltip(hit.feature);
      if (text) st.tooltip.setLngLat(ev.lngLat).setDOMContent(textEl(text)).addTo(map);
      else st.tooltip.remove();
    });
  });
  map.on('mouseout', () => st.tooltip.remove());
  map.on('remove', () => states.delete(map));

  // A handle for the browser tests and for debugging from the console.
  window.qingling = Object.assign(window.qingling || {}, { map });
  return map;
}

/**
 * Makes layers take clicks and hovers: `onClick(feature, event)`, `tooltip(feature)` → text.
 * `kind`: 'points' (hit a little around them, for a finger; above the areas) or 'areas' (hit where the
 * pointer is). Later registrations of a kind draw above earlier ones.
 */
export function interactive(map, kind, target) {
  state(map)[kind].push(target);
}

/** The topmost feature under a point among the layers that have `what` (onClick or tooltip). */
function hitAt(map, point, what) {
  const st = state(map);
  for (const [kind, pad] of [['points', 4], ['areas', 0]]) {
    const targets = st[kind].filter((tg) => tg[what]);
    const byLayer = new Map(targets.flatMap((tg) => tg.layers.filter((id) => map.getLayer(id)).map((id) => [id, tg])));
    if (!byLayer.size) continue;
    const geom = pad ? [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]] : point;
    const hits = map.queryRenderedFeatures(geom, { layers: [...byLayer.keys()] });
    if (hits.length) return { target: byLayer.get(hits[0].layer.id), feature: hits[0] };
  }
  return null;
}

/** Opens a popup (one at a time) with a DOM node at a lon/lat. */
export function openPopup(map, lngLat, node, className) {
  const st = state(map);
  st.popup?.remove();
  st.popup = new Popup({ maxWidth: '340px', className, focusAfterOpen: false }).setLngLat(lngLat).setDOMContent(node).addTo(map);
  return st.popup;
}

/** Lets the drawing tool take every click (`fn(event)`), or gives them back (null). */
export function captureClicks(map, fn) {
  const st = state(map);
  if (!st) return;
  st.capture = fn;
  st.tooltip.remove();
  if (fn) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
}

/** Centres the map on a lon/lat, at `zoom` at least. */
export function centreOn(map, [lon, lat], zoom = FIRE_ZOOM) {
  map.jumpTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), zoom) });
}

// ---- bounds ----------------------------------------------------------------------------------

/** The bbox of GeoJSON features, geometries or lon/lat pairs: LngLatBounds, or null when empty. */
export function boundsOf(things) {
  const b = new LngLatBounds();
  let any = false;
  const walk = (c) => {
    if (typeof c[0] === 'number') { b.extend([c[0], c[1]]); any = true; } else c.forEach(walk);
  };
  for (const x of things ?? []) {
    const g = x?.type === 'Feature' ? x.geometry : x;
    if (Array.isArray(g)) walk([g]);
    else if (g?.coordinates) walk(g.coordinates);
  }
  return any ? b : null;
}

/**
 * Fits the map to bounds (LngLatBounds or [[w, s], [e, n]]) and remembers them as the user's
 * frame; with `fit: false` only remembers them (the view starts elsewhere).
 */
export function frame(map, bounds, { padding = 24, fit = true } = {}) {
  if (!bounds || !alive(map)) return;
  const b = LngLatBounds.convert(bounds);
  state(map).frame = b.toArray();
  if (fit) map.fitBounds(b, { padding, animate: false, maxZoom: 15 });
}

/** The frame the map last fitted (for the tests: where the user's fires are). */
export const lastFrame = (map) => state(map)?.frame ?? null;

/**
 * The extent of the user's scope: a district officer's district, an owner's mines (with `more`,
 * e.g. its fires), everyone else the districts (the managed area), from small requests that
 * work offline from the last copy. Null when nothing is known.
 */
export async function scopeBounds(user, more = []) {
  try {
    if (user.role === 'district' && user.district) {
      const { data } = await getCached(`/collections/districts/items?code=${encodeURIComponent(user.district)}`);
      return boundsOf([...data.features, ...more]);
    }
    if (user.role === 'owner' && user.holder) {
      const { data } = await getCached(`/collections/mines/items?holder=${encodeURIComponent(user.holder)}&limit=1000`);
      return boundsOf([...data.features, ...more]) ?? boundsOf(more);
    }
    const { data } = await getCached('/collections/districts');
    const [w, s, e, n] = data.extent?.spatial?.bbox?.[0] ?? [];
    if ([w, s, e, n].every(Number.isFinite)) return boundsOf([[w, s], [e, n], ...more]);
  } catch { /* offline and never seen: the city */ }
  return boundsOf(more);
}

// ---- areas -----------------------------------------------------------------------------------

/** The colour a layer file gives a feature, as a MapLibre expression (by `style.by`, else plain). */
export function colourExpression(name) {
  const s = layer(name)?.style ?? {};
  const plain = s.fill ?? s.stroke ?? '#555';
  const pairs = Object.entries(s.by?.values ?? {});
  if (!s.by || !pairs.length) return plain;
  return ['match', ['to-string', ['get', s.by.field]], ...pairs.flat(), plain];
}

/** Twice the signed area of a ring (lon/lat degrees: only to compare pieces). */
function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a;
}

/** A point well inside a polygon: its centroid if inside, else the inside point of a grid nearest to it. */
function pointInside(poly) {
  const [outer] = poly;
  let cx = 0;
  let cy = 0;
  for (const [x, y] of outer) { cx += x; cy += y; }
  const c = [cx / outer.length, cy / outer.length];
  const g = { type: 'Polygon', coordinates: poly };
  if (inGeometry(c, g)) return c;
  const xs = outer.map((p) => p[0]);
  const ys = outer.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  let best = null;
  for (let i = 1; i < 12; i++) {
    for (let j = 1; j < 12; j++) {
      const p = [x0 + ((x1 - x0) * i) / 12, y0 + ((y1 - y0) * j) / 12];
      const d = (p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2;
      if (inGeometry(p, g) && (!best || d < best.d)) best = { p, d };
    }
  }
  return best?.p ?? outer[0];
}

/** Label points (GeoJSON) for polygons: one per feature id, in its largest piece. */
function labelPoints(features, field) {
  const best = new Map();
  for (const f of features) {
    const g = f.geometry;
    if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) continue;
    const key = f.properties?.id ?? f.id ?? f.properties?.[field];
    for (const poly of g.type === 'Polygon' ? [g.coordinates] : g.coordinates) {
      const area = Math.abs(ringArea(poly[0]));
      if (!best.has(key) || best.get(key).area < area) best.set(key, { area, poly, text: f.properties?.[field] });
    }
  }
  return {
    type: 'FeatureCollection',
    features: [...best.values()].filter((b) => b.text != null).map((b) => ({
      type: 'Feature', properties: { [field]: b.text }, geometry: { type: 'Point', coordinates: pointInside(b.poly) },
    })),
  };
}

/**
 * The districts' names on the map, one each (from tiles MapLibre would label every tile's piece
 * of a polygon), as text in the page: a few markers, placed in each district's largest piece
 * the map has (`features()`), again whenever the map settles when `live` (tiles come and go).
 */
function districtLabels(map, field, features, live) {
  let markers = [];
  let last = '';
  let shown = true;
  function draw() {
    const fc = labelPoints(features(), field);
    const key = JSON.stringify(fc);
    if (key === last) return;
    last = key;
    for (const m of markers) m.remove();
    markers = fc.features.map((f) => new Marker({ element: textEl(f.properties[field], { class: 'district-label' }), className: 'label-marker' }).setLngLat(f.geometry.coordinates));
    if (shown) for (const m of markers) m.addTo(map);
  }
  draw();
  if (live) map.on('idle', draw);
  return {
    show(on) { shown = on; for (const m of markers) if (on) m.addTo(map); else m.remove(); },
  };
}

/** A small table of a feature's fields for its popup, titles and labels from the layer file. */
function areaPopup(name, props) {
  const l = layer(name);
  const rows = (l?.fields ?? [])
    .filter((f) => !f.internal && props[f.name] !== null && props[f.name] !== undefined && props[f.name] !== '')
    .map((f) => h('tr', {}, h('th', {}, pick(f.title)), h('td', {}, f.labels ? valueLabel(name, f.name, props[f.name]) : String(props[f.name]))));
  return h('div', { class: 'popup', dataset: { layer: name } }, h('strong', {}, pick(l?.title)), h('table', {}, rows));
}

/**
 * Draws the area layers (districts, mines, dumps, heaps) the user may read, from tiles or as
 * GeoJSON. With `popups`, a click shows the feature's fields (all of them: from tiles, the
 * feature is asked for); without, clicks go to the map (the patrol places points). Returns
 * `{ stale, names, at(lonlat) }`: whether any came from the offline copy, the layers drawn, and
 * the features under a point by layer (for "which mine is this in").
 */
export async function addAreas(map, { popups = true } = {}) {
  const st = state(map);
  const tiles = await st.tiles;
  let stale = false;
  const data = {};
  await Promise.all(AREA_LAYERS.map(async (name) => {
    if (!layer(name) || tiles[name]) return;
    try {
      const r = await getCached(`/collections/${name}/items?limit=10000`);
      stale ||= r.stale;
      data[name] = r.data;
    } catch { /* not readable, or offline and never seen */ }
  }));
  await st.ready;
  if (!states.has(map)) return { stale, names: [], at: () => ({}) };
  const names = AREA_LAYERS.filter((n) => layer(n) && (tiles[n] || data[n]));
  let labels = null;
  for (const name of names) {
    const s = layer(name).style ?? {};
    const src = `area-${name}`;
    map.addSource(src, tiles[name] ? vectorSource(tiles[name]) : { type: 'geojson', data: data[name] });
    const on = tiles[name] ? { source: src, 'source-layer': name } : { source: src };
    const colour = colourExpression(name);
    addLayer(map, { id: `${name}-fill`, type: 'fill', ...on, paint: { 'fill-color': colour, 'fill-opacity': s.opacity ?? 0.25 } }, 'areas');
    addLayer(map, { id: `${name}-line`, type: 'line', ...on, paint: { 'line-color': s.by ? colour : s.stroke ?? colour, 'line-width': s.width ?? 1.5 } }, 'areas');
    const label = s.label;
    if (name === 'districts' && label) {
      labels = districtLabels(map, label, tiles[name] ? () => map.querySourceFeatures(src, { sourceLayer: name }) : () => data[name].features, Boolean(tiles[name]));
    }
    const full = async (props) => {
      if (!tiles[name] || props.id === undefined) return props;
      try { return (await get(`/collections/${name}/items/${encodeURIComponent(props.id)}`)).properties; } catch { return props; }
    };
    interactive(map, 'areas', {
      layers: [`${name}-fill`],
      tooltip: name !== 'districts' && label ? (f) => f.properties[label] : null,
      onClick: popups ? async (f, e) => {
        const box = h('div', { class: 'popup-slot' }, areaPopup(name, f.properties));
        openPopup(map, e.lngLat, box);
        box.replaceChildren(areaPopup(name, await full(f.properties)));
      } : null,
    });
  }
  layersControl(map, names, labels);
  /** The features of each area layer that contain a lon/lat, as far as the map has them. */
  function at(pt) {
    const out = {};
    for (const name of names) {
      const list = data[name]?.features
        ?? map.querySourceFeatures(`area-${name}`, { sourceLayer: name });
      const hit = list.find((f) => inGeometry(pt, f.geometry));
      if (hit) out[name] = hit;
    }
    return out;
  }
  return { stale, names, at };
}


/** A control that shows or hides each area layer (top right, folded into a button). */
function layersControl(map, names, labels) {
  if (!names.length) return;
  const list = h('div', { class: 'layers-list', hidden: true },
    names.map((name) => h('label', { class: 'check' },
      h('input', {
        type: 'checkbox', checked: true, dataset: { layer: name },
        on: {
          change: (e) => {
            showLayers(map, [`${name}-fill`, `${name}-line`], e.target.checked);
            if (name === 'districts') labels?.show(e.target.checked);
          },
        },
      }),
      pick(layer(name)?.title))));
  const toggle = h('button', { type: 'button', class: 'layers-toggle', 'aria-expanded': 'false' }, t('map.layers'));
  toggle.addEventListener('click', () => {
    list.hidden = !list.hidden;
    toggle.setAttribute('aria-expanded', String(!list.hidden));
  });
  const box = h('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group layers-control' }, toggle, list);
  map.addControl({ onAdd: () => box, onRemove: () => box.remove() }, 'top-right');
}

// ---- controls --------------------------------------------------------------------------------

/**
 * A legend control (bottom right): `body()` builds its list, under a button that shows or hides
 * it, hidden at first on a small map (on a tablet the open legend would hide the fires). Not yet
 * on the map: `addTo(map)` and `remove()`.
 */
export function legendControl(map, body) {
  let on = false;
  const ctl = {
    onAdd() {
      const list = body();
      const toggle = h('button', { class: 'legend-toggle', type: 'button' }, t('legend.title'));
      const el = map.getContainer();
      if (el.clientWidth < 900 || el.clientHeight < 720) list.hidden = true;
      toggle.setAttribute('aria-expanded', String(!list.hidden));
      const box = h('div', { class: 'maplibregl-ctrl legend' }, toggle, list);
      toggle.addEventListener('click', () => {
        list.hidden = !list.hidden;
        toggle.setAttribute('aria-expanded', String(!list.hidden));
      });
      ctl.box = box;
      return box;
    },
    onRemove() { ctl.box?.remove(); },
    addTo(m) { if (!on) { m.addControl(ctl, 'bottom-right'); on = true; } return ctl; },
    remove() { if (on) { map.removeControl(ctl); on = false; } return ctl; },
  };
  return ctl;
}

/** The area layers' part of a legend, from the layer files. */
export function areaLegend() {
  return AREA_LAYERS.filter((n) => layer(n)).map((n) => {
    const l = layer(n);
    const by = l.style.by;
    if (!by) {
      return h('div', { class: 'legend-row' },
        h('span', { class: 'swatch', style: `background:${l.style.opacity ? l.style.fill : 'transparent'};border:2px solid ${l.style.stroke}` }),
        pick(l.title));
    }
    return [
      h('div', { class: 'legend-title' }, pick(l.title)),
      values(n, by.field).map((v) => h('div', { class: 'legend-row' },
        h('span', { class: 'swatch', style: `background:${by.values[v]};opacity:0.8` }),
        valueLabel(n, by.field, v))),
    ];
  });
}

// ---- the patrol's point ----------------------------------------------------------------------

/** A circle of `m` metres around a lon/lat, as a GeoJSON Polygon. */
function circle([lon, lat], m, n = 48) {
  const dLat = (m / 6371008.8) * (180 / Math.PI);
  const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 1e-6);
  const ring = Array.from({ length: n + 1 }, (_, i) => {
    const a = (2 * Math.PI * (i % n)) / n;
    return [lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)];
  });
  return { type: 'Polygon', coordinates: [ring] };
}

/** The point a patrol placed (GPS or tapped), with the GPS accuracy as a circle: `set(position|null)`. */
export function positionMarker(map) {
  const empty = { type: 'FeatureCollection', features: [] };
  let last = empty;
  ready(map).then(() => {
    if (!states.has(map)) return;
    map.addSource('pick', { type: 'geojson', data: last });
    addLayer(map, { id: 'pick-accuracy', type: 'fill', source: 'pick', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#0d47a1', 'fill-opacity': 0.1, 'fill-outline-color': '#0d47a1' } }, 'pick');
    addLayer(map, { id: 'pick-point', type: 'circle', source: 'pick', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 11, 'circle-color': '#fff', 'circle-opacity': 0.9, 'circle-stroke-color': '#0d47a1', 'circle-stroke-width': 4 } }, 'pick');
  });
  return {
    set(p) {
      last = !p ? empty : {
        type: 'FeatureCollection',
        features: [
          ...(p.source === 'gps' && p.accuracy_m ? [{ type: 'Feature', properties: {}, geometry: circle([p.lon, p.lat], p.accuracy_m) }] : []),
          { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } },
        ],
      };
      map.getSource('pick')?.setData(last);
    },
  };
}
