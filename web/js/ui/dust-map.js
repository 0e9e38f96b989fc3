// Dust on the map: the monitors as squares coloured by their latest value against the limit
// (with a popup of the latest values), the violations as diamonds coloured by status (colours
// from the dust_issues layer file), the areas of warnings, and a small tool to draw an area by
// clicking its corners (for a warning that covers part of a district). Monitors and violations
// are a few hundred at most: each is a marker (a button on the map, with its title, reachable
// by keyboard); the areas are GeoJSON layers.

import { Marker, Popup } from '../../vendor/maplibre-gl/maplibre-gl.mjs?v=6.20.0';
import { legendControl, addLayer, showLayers, ready, alive, captureClicks, openPopup } from './map.js';
import { h } from '../dom.js';
import { t, num, pick } from '../i18n.js';
import { layer, values, textOn } from '../layers.js';
import { fmtDateTime } from '../time.js';
import { stateColour, stateLabel, pollutantLabel, issueKindLabel, issueStatusLabel, issueStatusColour, ug, LEVEL_COLOURS } from '../dust.js';

/**
 * The dust legend (not yet on the map: the views swap it with the fires' legend): monitor
 * states, then violation statuses with the layer file's colours.
 */
export function dustLegend(map) {
  return legendControl(map, () => h('div', { class: 'legend-body dust-legend' },
    h('div', { class: 'legend-title' }, pick(layer('dust_monitors')?.title) || t('dust.col_monitor')),
    ['ok', 'near', 'over', 'stale'].map((s) => h('div', { class: 'legend-row' },
      h('span', { class: 'swatch monitor-swatch', style: `background:${stateColour(s)}` }), s === 'stale' ? t('dust.legend_grey') : stateLabel(s))),
    h('div', { class: 'legend-title' }, pick(layer('dust_issues')?.title) || t('owner.dust_issues')),
    (values('dust_issues', 'status').length ? values('dust_issues', 'status') : ['open', 'rectifying', 'rectified', 'verified']).map((s) => h('div', { class: 'legend-row' },
      h('span', { class: 'swatch issue-swatch', style: `background:${issueStatusColour(s)}` }), issueStatusLabel(s))),
    h('div', { class: 'legend-row' }, h('span', { class: 'swatch issue-swatch overdue-swatch' }), t('legend.overdue_issue'))));
}

/** The latest values of a monitor, for its popup and its detail. */
export function monitorFacts(m) {
  const l = m.latest;
  const rows = [
    [t('dust.latest_at'), l ? fmtDateTime(l.time) : t('dust.no_data')],
    ...['tsp', 'pm10', 'pm25'].map((q) => [pollutantLabel(q), l?.[q] == null ? t('common.none')
      : `${ug(l[q])}${l.not_counted?.includes(q) ? ` (${t('dust.not_counted')})` : ''}`]),
    [pollutantLabel('wind_speed'), l?.wind_speed == null ? t('common.none')
      : t('dust.wind', { ms: num(l.wind_speed, 1), dir: l.wind_dir == null ? t('common.none') : num(l.wind_dir) })],
    m.hour ? [t('dust.hour_tsp'), m.hour.tsp == null ? t('common.none') : ug(m.hour.tsp)] : null,
    m.day ? [t('dust.day_pm10'), m.day.pm10 == null ? t('common.none') : `${ug(m.day.pm10)}${m.day.valid === false ? ` (${t('chart.invalid')})` : ''}`] : null,
    m.ratio != null ? [t('dust.ratio'), t('dust.ratio_value', { pct: num(m.ratio * 100) })] : null,
    m.completeness ? [t('dust.completeness'), t('dust.completeness_value', m.completeness)] : null,
  ].filter(Boolean);
  return h('table', { class: 'facts monitor-facts' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function stateBadge(state) {
  const bg = stateColour(state);
  return h('span', { class: 'badge state-badge', style: `background:${bg};color:${textOn(bg)}`, dataset: { state } }, stateLabel(state));
}
export { stateBadge };

/**
 * Markers that are on the map only while shown: `set(list)` replaces them (each `make(x)` →
 * `{ lngLat, el }`), `group.addTo(map)`/`group.remove()` show and hide them all.
 */
function markerGroup(map, make) {
  let markers = [];
  let shown = false;
  const group = {
    addTo() { shown = true; for (const m of markers) m.addTo(map); return group; },
    remove() { shown = false; for (const m of markers) m.remove(); return group; },
  };
  function set(list) {
    for (const m of markers) m.remove();
    markers = list.map(make).filter(Boolean).map(({ lngLat, el }) => new Marker({ element: el }).setLngLat(lngLat));
    if (shown) for (const m of markers) m.addTo(map);
  }
  return { set, group, markers: () => markers };
}

/** Dust monitors: `set(monitors)` redraws them; `onSelect(monitor)` on a click. */
export function monitorLayer(map, { onSelect } = {}) {
  return markerGroup(map, (m) => {
    if (!Array.isArray(m.position)) return null;
    const popup = () => h('div', { class: 'popup monitor-popup', dataset: { mn: m.mn } },
      h('strong', {}, m.name ?? m.mn), ' ', stateBadge(m.state),
      h('div', { class: 'hint' }, m.mn),
      monitorFacts(m),
      onSelect ? h('button', { type: 'button', class: 'btn btn-small open-chart', on: { click: () => onSelect(m) } }, t('dust.open_chart')) : null);
    const el = h('button', { type: 'button', class: 'map-marker monitor-marker', title: m.name ?? m.mn, 'aria-label': m.name ?? m.mn },
      h('span', { class: `monitor-icon state-${m.state}`, style: `background:${stateColour(m.state)}`, dataset: { mn: m.mn, state: m.state } }));
    el.addEventListener('click', () => {
      // After the map has seen this click (a popup closes on a click on the map).
      setTimeout(() => openPopup(map, m.position, popup(), 'monitor-popup-wrap'), 0);
      onSelect?.(m);
    });
    return { lngLat: m.position, el };
  });
}

/** Dust violations (GeoJSON Features): `set(features)`; `onSelect(feature)` on a click. */
export function issueLayer(map, { onSelect } = {}) {
  const tip = new Popup({ closeButton: false, closeOnClick: false, className: 'map-tooltip', offset: 14 });
  return markerGroup(map, (f) => {
    const p = f.properties;
    if (f.geometry?.type !== 'Point') return null;
    const text = `${p.code ?? ''} ${issueKindLabel(p.kind)} · ${issueStatusLabel(p.status)}`.trim();
    const el = h('button', { type: 'button', class: 'map-marker issue-marker', 'aria-label': text },
      h('span', { class: ['issue-icon', p.overdue && 'overdue'], style: `background:${issueStatusColour(p.status)}`, dataset: { uuid: p.uuid, status: p.status } }));
    el.addEventListener('mouseenter', () => tip.setLngLat(f.geometry.coordinates).setDOMContent(h('span', {}, text)).addTo(map));
    el.addEventListener('mouseleave', () => tip.remove());
    el.addEventListener('click', () => { tip.remove(); onSelect?.(f); });
    return { lngLat: f.geometry.coordinates, el };
  });
}

/** A GeoJSON source with its layers in a slot, shown or hidden together: `data(fc)`, `group`. */
function geojsonLayers(map, id, slot, specs) {
  let data = { type: 'FeatureCollection', features: [] };
  let shown = false;
  const ids = specs.map((s) => s.id);
  const added = ready(map).then(() => {
    if (!alive(map)) return;
    map.addSource(id, { type: 'geojson', data });
    for (const spec of specs) addLayer(map, { ...spec, source: id, layout: { ...spec.layout, visibility: 'none' } }, slot);
  });
  const paint = () => { if (!alive(map) || !map.getSource(id)) return; map.getSource(id).setData(data); showLayers(map, ids, shown); };
  const group = {
    addTo() { shown = true; added.then(paint); return group; },
    remove() { shown = false; added.then(paint); return group; },
  };
  return { data(fc) { data = fc; added.then(paint); }, group };
}

/** The areas of warnings (those drawn on the map), dashed in the level's colour. */
export function warningAreaLayer(map) {
  const layers = geojsonLayers(map, 'dust-areas', 'dust', [
    { id: 'dust-areas-fill', type: 'fill', paint: { 'fill-color': ['get', 'colour'], 'fill-opacity': 0.08 } },
    { id: 'dust-areas-line', type: 'line', paint: { 'line-color': ['get', 'colour'], 'line-width': 3, 'line-dasharray': [2.6, 2] } },
  ]);
  function set(warnings) {
    layers.data({
      type: 'FeatureCollection',
      features: warnings.filter((w) => w.area).map((w) => ({ type: 'Feature', properties: { colour: LEVEL_COLOURS[w.level] ?? '#6a1b9a', id: w.id }, geometry: w.area })),
    });
  }
  return { set, group: layers.group };
}

/** Twice the signed area of a ring (lon/lat): positive when counter-clockwise. */
function ringArea(ring) {
  let a = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    a += x1 * y2 - x2 * y1;
  }
  return a;
}

/**
 * Draws a polygon by clicking its corners on the map: `start()` turns clicks into corners (the
 * map's own features stop taking clicks meanwhile), `finish()` closes it (three corners at
 * least), `undo()` drops the last corner, `clear()` forgets it. `geometry()` is the finished
 * area as a GeoJSON Polygon (lon/lat, counter-clockwise as RFC 7946 asks), or null.
 * `onChange({ drawing, corners, finished })` after each step.
 */
export function areaDrawer(map, { onChange } = {}) {
  const purple = '#6a1b9a';
  const layers = geojsonLayers(map, 'dust-draw', 'draw', [
    { id: 'dust-draw-area', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': purple, 'fill-opacity': 0.18 } },
    { id: 'dust-draw-outline', type: 'line', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'line-color': purple, 'line-width': 3 } },
    { id: 'dust-draw-line', type: 'line', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': purple, 'line-width': 3, 'line-dasharray': [2, 1.3] } },
    { id: 'dust-draw-corner', type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': '#fff', 'circle-stroke-color': purple, 'circle-stroke-width': 2 } },
  ]);
  layers.group.addTo();
  let corners = [];
  let drawing = false;
  let finished = false;
  const container = map.getContainer();

  function redraw() {
    const feature = (geometry) => ({ type: 'Feature', properties: {}, geometry });
    const shape = finished && corners.length >= 3
      ? [feature({ type: 'Polygon', coordinates: [[...corners, corners[0]]] })]
      : corners.length >= 2 ? [feature({ type: 'LineString', coordinates: corners })] : [];
    layers.data({ type: 'FeatureCollection', features: [...shape, ...corners.map((c) => feature({ type: 'Point', coordinates: c }))] });
    container.classList.toggle('drawing', drawing);
    onChange?.({ drawing, corners: corners.length, finished });
  }

  const onClick = (e) => { corners.push([+e.lngLat.lng.toFixed(6), +e.lngLat.lat.toFixed(6)]); redraw(); };
  const listen = (on) => captureClicks(map, on ? onClick : null);

  return {
    start() { if (drawing) return; corners = []; finished = false; drawing = true; listen(true); redraw(); },
    finish() {
      if (corners.length < 3) return false;
      drawing = false;
      finished = true;
      listen(false);
      redraw();
      return true;
    },
    undo() { corners.pop(); redraw(); },
    clear() { corners = []; finished = false; if (drawing) listen(false); drawing = false; redraw(); },
    geometry() {
      if (!finished || corners.length < 3) return null;
      const ring = ringArea(corners) < 0 ? [...corners].reverse() : [...corners];
      return { type: 'Polygon', coordinates: [[...ring, ring[0]]] };
    },
    state: () => ({ drawing, corners: corners.length, finished }),
    destroy() {
      if (drawing && alive(map)) listen(false);
      drawing = false;
      corners = [];
      finished = false;
      layers.data({ type: 'FeatureCollection', features: [] });
      container.classList.remove('drawing');
    },
  };
}
