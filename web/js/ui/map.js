// The map: the area layers drawn from the server's collections and styled by their layer files,
// the fire points coloured by status, a legend built from /api/layers, and an optional tile
// layer. With no tile source the vector layers draw on a plain light background: the app must
// work on a network that does not reach the internet.

import * as L from '../../vendor/leaflet/leaflet-src.esm.js?v=1.9.4';
import { getCached } from '../api.js';
import { pick, t } from '../i18n.js';
import { h, textEl, escapeHtml } from '../dom.js';
import { layer, colourOf, statusColour, statusLabel, values, valueLabel } from '../layers.js';

// Wuhai's padded extent (DOMAIN.md), shown before the districts have loaded.
const CITY_BOUNDS = [[39.2, 106.55], [39.92, 107.15]];
export const AREA_LAYERS = ['districts', 'mines', 'waste_dumps', 'gangue_heaps'];

/** `GET /config.json`, if the deployment has one: `{ "tiles": "https://…/{z}/{x}/{y}.png", "attribution": "…" }`. */
async function siteConfig() {
  try {
    const res = await fetch('/config.json', { headers: { Accept: 'application/json' } });
    return res.ok ? await res.json() : {};
  } catch {
    return {};
  }
}

export function createMap(el, { onClick } = {}) {
  const map = L.map(el, { zoomSnap: 0.5, attributionControl: false });
  map.fitBounds(CITY_BOUNDS);
  siteConfig().then((cfg) => {
    if (typeof cfg.tiles === 'string' && cfg.tiles) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: cfg.attribution ?? '' }).addTo(map).bringToBack();
    }
  });
  if (onClick) map.on('click', (e) => onClick([e.latlng.lng, e.latlng.lat]));
  // A handle for the browser tests and for debugging from the console.
  window.qingling = Object.assign(window.qingling || {}, { map });
  return map;
}

function areaStyle(name) {
  const s = layer(name)?.style ?? {};
  return (feature) => {
    const c = colourOf(name, feature.properties);
    return {
      color: s.by ? c : s.stroke ?? c,
      weight: s.width ?? 1.5,
      fillColor: c,
      fillOpacity: s.opacity ?? 0.25,
      opacity: 1,
    };
  };
}

/** A small table of a feature's fields for its popup, titles and labels from the layer file. */
function areaPopup(name, props) {
  const l = layer(name);
  const rows = (l?.fields ?? [])
    .filter((f) => !f.internal && props[f.name] !== null && props[f.name] !== undefined && props[f.name] !== '')
    .map((f) => h('tr', {}, h('th', {}, pick(f.title)), h('td', {}, f.labels ? valueLabel(name, f.name, props[f.name]) : String(props[f.name]))));
  return h('div', { class: 'popup' }, h('strong', {}, pick(l?.title)), h('table', {}, rows));
}

/**
 * Draws the area layers (districts, mines, dumps, heaps) the user may read. With `popups`, a
 * click shows the feature's fields; without, clicks go to the map (the patrol places points).
 * Returns `{ groups, stale }`.
 */
export async function addAreas(map, { popups = true, fit = 'districts' } = {}) {
  const groups = {};
  let stale = false;
  const results = await Promise.allSettled(
    AREA_LAYERS.map((name) => getCached(`/collections/${name}/items?limit=10000`)),
  );
  const control = L.control.layers(null, null, { collapsed: true, position: 'topright' });
  results.forEach((r, i) => {
    const name = AREA_LAYERS[i];
    if (r.status !== 'fulfilled') return;
    stale ||= r.value.stale;
    const label = layer(name)?.style?.label;
    const g = L.geoJSON(r.value.data, {
      style: areaStyle(name),
      interactive: popups || name !== 'districts',
      onEachFeature: (f, lyr) => {
        if (name === 'districts' && label) {
          lyr.bindTooltip(textEl(f.properties[label]), { permanent: true, direction: 'center', className: 'district-label' });
        } else if (label && f.properties[label]) {
          lyr.bindTooltip(textEl(f.properties[label]), { sticky: true });
        }
        if (popups) lyr.bindPopup(() => areaPopup(name, f.properties));
      },
    }).addTo(map);
    groups[name] = g;
    control.addOverlay(g, escapeHtml(pick(layer(name)?.title))); // the control sets names as HTML
  });
  control.addTo(map);
  const fitTo = groups[fit]?.getLayers().length ? groups[fit] : groups.districts;
  if (fitTo?.getLayers().length) map.fitBounds(fitTo.getBounds(), { padding: [16, 16] });
  return { groups, stale, control };
}

/** The fire points: `set(features)` redraws them, `select(id)` rings one. */
export function fireLayer(map, { onSelect } = {}) {
  // Fires live in a pane above the area polygons, whatever order things load in.
  if (!map.getPane('fires')) map.createPane('fires').style.zIndex = 450;
  const group = L.featureGroup().addTo(map);
  const style = layer('fire_points')?.style ?? {};
  const radius = Math.max(style.radius ?? 7, 8); // big enough to hit with a finger
  let markers = new Map();
  let selected = null;

  function set(features) {
    group.clearLayers();
    markers = new Map();
    for (const f of features) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const m = L.circleMarker([lat, lon], {
        radius,
        pane: 'fires',
        color: p.overdue ? '#000' : style.stroke ?? '#000',
        weight: p.overdue ? 4 : style.width ?? 1.5,
        fillColor: statusColour(p.status),
        fillOpacity: 0.95,
        className: `fire-marker${p.overdue ? ' overdue' : ''}`,
        bubblingMouseEvents: false, // tapping a fire must not also place a report point
      });
      m.bindTooltip(textEl(`${p.code} · ${statusLabel(p.status)}`));
      if (onSelect) m.on('click', () => onSelect(f));
      m.addTo(group);
      const el = m.getElement();
      if (el) Object.assign(el.dataset, { fireId: p.id, code: p.code, status: p.status });
      markers.set(p.id, m);
    }
    if (selected) select(selected);
  }

  /** Rings one fire; with `pan`, brings it into view. */
  function select(id, pan = false) {
    selected = id;
    for (const [fid, m] of markers) {
      m.getElement()?.classList.toggle('selected', fid === id);
      if (fid === id) {
        m.bringToFront();
        if (pan) map.setView(m.getLatLng(), Math.max(map.getZoom(), 13));
      }
    }
  }

  return { set, select, group, markers: () => markers };
}

/**
 * A legend control (bottom right): `body()` builds its list, under a button that shows or hides
 * it, hidden at first on a small map (on a tablet the open legend would hide the fires). Not yet
 * on the map.
 */
export function legendControl(map, body) {
  const ctl = L.control({ position: 'bottomright' });
  ctl.onAdd = () => {
    const list = body();
    const toggle = h('button', { class: 'legend-toggle', type: 'button' }, t('legend.title'));
    const size = map.getSize();
    if (size.x < 900 || size.y < 720) list.hidden = true;
    toggle.setAttribute('aria-expanded', String(!list.hidden));
    const box = h('div', { class: 'legend leaflet-bar' }, toggle, list);
    toggle.addEventListener('click', () => {
      list.hidden = !list.hidden;
      toggle.setAttribute('aria-expanded', String(!list.hidden));
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  return ctl;
}

/** The legend, from the layer files: fire statuses, then the area layers. */
export function addLegend(map) {
  const ctl = legendControl(map, () => {
    const fp = layer('fire_points');
    return h('div', { class: 'legend-body' },
      h('div', { class: 'legend-title' }, pick(fp?.title)),
      values('fire_points', 'status').map((s) => h('div', { class: 'legend-row' },
        h('span', { class: 'swatch dot', style: `background:${statusColour(s)}` }), statusLabel(s))),
      h('div', { class: 'legend-row' }, h('span', { class: 'swatch dot overdue-dot' }), t('legend.overdue')),
      AREA_LAYERS.filter((n) => layer(n)).map((n) => {
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
      }));
  });
  ctl.addTo(map);
  return ctl;
}

export { L };
