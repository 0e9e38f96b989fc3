// Dust on the map: the monitors as squares coloured by their latest value against the limit
// (with a popup of the latest values), the violations as diamonds coloured by status (colours
// from the dust_issues layer file), the areas of warnings, and a small tool to draw an area by
// clicking its corners (for a warning that covers part of a district).

import { L, legendControl } from './map.js';
import { h, textEl } from '../dom.js';
import { t, num, pick } from '../i18n.js';
import { layer, values } from '../layers.js';
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

function pane(map, name, z) {
  if (!map.getPane(name)) map.createPane(name).style.zIndex = z;
  return name;
}

/** The latest values of a monitor, for its popup and its detail. */
export function monitorFacts(m) {
  const l = m.latest;
  const rows = [
    [t('dust.latest_at'), l ? fmtDateTime(l.time) : t('dust.no_data')],
    ...['tsp', 'pm10', 'pm25'].map((q) => [pollutantLabel(q), l?.[q] == null ? t('common.none') : ug(l[q])]),
    [pollutantLabel('wind_speed'), l?.wind_speed == null ? t('common.none')
      : t('dust.wind', { ms: num(l.wind_speed, 1), dir: l.wind_dir == null ? t('common.none') : num(l.wind_dir) })],
    m.hour ? [t('dust.hour_tsp'), m.hour.tsp == null ? t('common.none') : ug(m.hour.tsp)] : null,
    m.day ? [t('dust.day_pm10'), m.day.pm10 == null ? t('common.none') : `${ug(m.day.pm10)}${m.day.valid === false ? ` (${t('chart.invalid')})` : ''}`] : null,
    m.ratio != null ? [t('dust.ratio'), t('dust.ratio_value', { pct: num(m.ratio * 100) })] : null,
  ].filter(Boolean);
  return h('table', { class: 'facts monitor-facts' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function stateBadge(state) {
  const bg = stateColour(state);
  return h('span', { class: 'badge state-badge', style: `background:${bg};color:${state === 'near' ? '#000' : '#fff'}`, dataset: { state } }, stateLabel(state));
}
export { stateBadge };

/** Dust monitors: `set(monitors)` redraws them; `onSelect(monitor)` on a click. */
export function monitorLayer(map, { onSelect } = {}) {
  const group = L.layerGroup();
  let markers = new Map();
  function set(monitors) {
    group.clearLayers();
    markers = new Map();
    for (const m of monitors) {
      if (!Array.isArray(m.position)) continue;
      const [lon, lat] = m.position;
      const icon = L.divIcon({
        className: 'monitor-icon-wrap',
        html: h('span', { class: `monitor-icon state-${m.state}`, style: `background:${stateColour(m.state)}`, dataset: { mn: m.mn, state: m.state } }),
        iconSize: [22, 22],
        iconAnchor: [11, 11],
      });
      const mk = L.marker([lat, lon], { icon, pane: pane(map, 'dust-monitors', 620), keyboard: true, title: m.name ?? m.mn, bubblingMouseEvents: false });
      mk.bindPopup(() => h('div', { class: 'popup monitor-popup', dataset: { mn: m.mn } },
        h('strong', {}, m.name ?? m.mn), ' ', stateBadge(m.state),
        h('div', { class: 'hint' }, m.mn),
        monitorFacts(m),
        onSelect ? h('button', { type: 'button', class: 'btn btn-small open-chart', on: { click: () => onSelect(m) } }, t('dust.open_chart')) : null));
      if (onSelect) mk.on('click', () => onSelect(m));
      mk.addTo(group);
      markers.set(m.mn, mk);
    }
  }
  return { set, group, markers: () => markers };
}

/** Dust violations (GeoJSON Features): `set(features)`; `onSelect(feature)` on a click. */
export function issueLayer(map, { onSelect } = {}) {
  const group = L.layerGroup();
  function set(features) {
    group.clearLayers();
    for (const f of features) {
      const p = f.properties;
      if (f.geometry?.type !== 'Point') continue;
      const [lon, lat] = f.geometry.coordinates;
      const icon = L.divIcon({
        className: 'issue-icon-wrap',
        html: h('span', { class: ['issue-icon', p.overdue && 'overdue'], style: `background:${issueStatusColour(p.status)}`, dataset: { uuid: p.uuid, status: p.status } }),
        iconSize: [20, 20],
        iconAnchor: [10, 10],
      });
      const mk = L.marker([lat, lon], { icon, pane: pane(map, 'dust-issues', 615), bubblingMouseEvents: false });
      mk.bindTooltip(textEl(`${p.code ?? ''} ${issueKindLabel(p.kind)} · ${issueStatusLabel(p.status)}`.trim()));
      if (onSelect) mk.on('click', () => onSelect(f));
      mk.addTo(group);
    }
  }
  return { set, group };
}

/** The areas of warnings (those drawn on the map), dashed in the level's colour. */
export function warningAreaLayer(map) {
  const group = L.layerGroup();
  function set(warnings) {
    group.clearLayers();
    for (const w of warnings) {
      if (!w.area) continue;
      L.geoJSON(w.area, {
        pane: pane(map, 'dust-areas', 440),
        interactive: false,
        style: { color: LEVEL_COLOURS[w.level] ?? '#6a1b9a', weight: 3, dashArray: '8 6', fillOpacity: 0.08, className: 'warning-area' },
      }).addTo(group);
    }
  }
  return { set, group };
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
  const paneName = pane(map, 'dust-draw', 640);
  let corners = [];
  let drawing = false;
  let finished = false;
  const line = L.polyline([], { pane: paneName, color: '#6a1b9a', weight: 3, dashArray: '6 4', interactive: false, className: 'draw-line' });
  const shape = L.polygon([], { pane: paneName, color: '#6a1b9a', weight: 3, fillOpacity: 0.18, interactive: false, className: 'draw-area' });
  const dots = L.layerGroup();
  const container = map.getContainer();

  function redraw() {
    const ll = corners.map(([lon, lat]) => [lat, lon]);
    dots.clearLayers();
    for (const p of ll) L.circleMarker(p, { pane: paneName, radius: 5, color: '#6a1b9a', weight: 2, fillColor: '#fff', fillOpacity: 1, interactive: false, className: 'draw-corner' }).addTo(dots);
    if (finished) {
      line.remove();
      shape.setLatLngs(ll).addTo(map);
    } else {
      shape.remove();
      line.setLatLngs(ll).addTo(map);
    }
    dots.addTo(map);
    container.classList.toggle('drawing', drawing);
    onChange?.({ drawing, corners: corners.length, finished });
  }

  const onClick = (e) => { corners.push([+e.latlng.lng.toFixed(6), +e.latlng.lat.toFixed(6)]); redraw(); };

  function listen(on) {
    if (on) { map.on('click', onClick); map.doubleClickZoom.disable(); } else { map.off('click', onClick); map.doubleClickZoom.enable(); }
  }

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
    destroy() { if (drawing) listen(false); line.remove(); shape.remove(); dots.remove(); container.classList.remove('drawing'); },
  };
}
