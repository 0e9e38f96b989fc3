// The fires on the map, drawn in one of two ways:
// - from the server's vector tiles (`useTiles(filter)`), where it serves them: counts per grid
//   cell at low zooms (circles sized by how many fires, red while any burns) and the fires
//   themselves close up, coloured by status; the filter is applied on the map, to the fires and
//   to the counts (a count per status is in each cell);
// - from a list of GeoJSON features (`set(features)`): what the views asked /api/fires for, when
//   there are no tiles, when the filter is one tiles cannot apply (a kind, a district, a past
//   date), and for a patrol out of signal (the list it last saw).
// A click on a fire opens it; a click on a count zooms in on it. A thick black ring marks an
// overdue fire, a blue one the fire open in the side panel.

import { t, num, pick } from '../i18n.js';
import { get } from '../api.js';
import { h } from '../dom.js';
import { layer, values, statusColour, statusLabel } from '../layers.js';
import { addLayer, showLayers, ready, alive, tileTemplate, vectorSource, interactive, centreOn, lastFrame, legendControl, areaLegend, colourExpression, FIRE_ZOOM } from './map.js';

/** A tile's flag (true, or 1), and a cell's count (0 when left out). */
const yes = (k) => ['to-boolean', ['get', k]];
const n = (k) => ['to-number', ['get', k], 0];
const CLUSTER = yes('cluster');

/** Statuses that are no longer open (the rest is "not cleared"). */
const CLOSED = ['cleared', 'dismissed'];
const CLUSTER_BURNING = '#d50000';
const CLUSTER_QUIET = '#607d8b';

/**
 * A status filter as the views name it: '' (all), 'open', 'burning', a status, or 'live' (what
 * a patrol can still confuse with a new fire: open, or cleared but on the re-ignition watch).
 * `point` filters single fires; `count` is how many of a cell's fires pass it.
 */
function filterExpressions(f) {
  const status = ['get', 'status'];
  switch (f || '') {
    case '': return { point: true, count: n('count') };
    case 'open': return { point: ['!', ['in', status, ['literal', CLOSED]]], count: n('not_cleared') };
    case 'burning': return { point: yes('burning'), count: n('burning') };
    case 'live': return {
      point: ['all', ['!=', status, 'dismissed'], ['any', ['!=', status, 'cleared'], yes('watched')]],
      count: n('not_cleared'), // the cells do not count the watched ones
    };
    default: return { point: ['==', status, f], count: n(`n_${f}`) };
  }
}

/** The same count in script, for the tests' hook. */
function cellCount(p, f) {
  const k = { '': 'count', open: 'not_cleared', live: 'not_cleared', burning: 'burning' }[f || ''] ?? `n_${f}`;
  return Number(p[k] ?? 0);
}

/**
 * The fire points: `useTiles(filter)` draws them from tiles (false when the server has none),
 * `set(features)` from a list; `select(id, pan)` rings one; `group.addTo(map)`/`group.remove()`
 * show and hide them; `tiled` resolves to whether tiles are there.
 */
export function fireLayer(map, { onSelect } = {}) {
  const style = layer('fire_points')?.style ?? {};
  const radius = Math.max(style.radius ?? 7, 8); // big enough to hit with a finger
  const tiled = tileTemplate(map, 'fire_points').then(Boolean);
  let mode = null; // 'tiles' | 'list', once drawn
  let filter = '';
  let features = [];
  let selected = null;
  let shown = true;
  const empty = { type: 'FeatureCollection', features: [] };
  const LIST = ['fires-point', 'fires-selected'];
  const TILES = ['fires-tiles-cluster', 'fires-tiles-count', 'fires-tiles-point', 'fires-tiles-selected'];

  const pointPaint = {
    'circle-radius': radius,
    'circle-color': colourExpression('fire_points'),
    'circle-opacity': 0.95,
    'circle-stroke-color': ['case', yes('overdue'), '#000', style.stroke ?? '#000'],
    'circle-stroke-width': ['case', yes('overdue'), 4, style.width ?? 1.5],
  };
  const ringPaint = { 'circle-radius': radius + 3, 'circle-opacity': 0, 'circle-stroke-color': '#0d47a1', 'circle-stroke-width': 4 };
  const selectedFilter = () => ['==', ['get', 'id'], selected ?? ''];
  const tooltip = (f) => `${f.properties.code} · ${statusLabel(f.properties.status)}`;
  const open = (f) => onSelect?.({ type: 'Feature', id: f.properties.id, geometry: f.geometry, properties: f.properties });

  const added = ready(map).then(async () => {
    if (!alive(map)) return;
    map.addSource('fires', { type: 'geojson', data: empty });
    addLayer(map, { id: 'fires-point', type: 'circle', source: 'fires', layout: { visibility: 'none' }, paint: pointPaint }, 'fires');
    addLayer(map, { id: 'fires-selected', type: 'circle', source: 'fires', layout: { visibility: 'none' }, filter: selectedFilter(), paint: ringPaint }, 'fires');
    interactive(map, 'points', { layers: ['fires-point'], onClick: open, tooltip });
    const template = await tileTemplate(map, 'fire_points');
    if (!template || !alive(map)) return;
    map.addSource('fires-tiles', vectorSource(template));
    const on = { source: 'fires-tiles', 'source-layer': 'fire_points', layout: { visibility: 'none' } };
    const cluster = CLUSTER;
    addLayer(map, {
      id: 'fires-tiles-cluster', type: 'circle', ...on, filter: cluster,
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['sqrt', n('count')], 1, 11, 10, 24, 40, 44],
        'circle-color': ['case', ['>', n('burning'), 0], CLUSTER_BURNING, CLUSTER_QUIET],
        'circle-opacity': 0.85,
        'circle-stroke-color': '#fff',
        'circle-stroke-width': 2,
      },
    }, 'fires');
    addLayer(map, { id: 'fires-tiles-point', type: 'circle', ...on, filter: ['!', cluster], paint: pointPaint }, 'fires');
    addLayer(map, { id: 'fires-tiles-selected', type: 'circle', ...on, filter: ['all', ['!', cluster], selectedFilter()], paint: ringPaint }, 'fires');
    interactive(map, 'points', { layers: ['fires-tiles-point'], onClick: open, tooltip });
    interactive(map, 'points', {
      layers: ['fires-tiles-cluster'],
      onClick: (f) => map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, FIRE_ZOOM) }),
      tooltip: (f) => t('map.cluster_tip', { n: num(cellCount(f.properties, filter)), burning: num(f.properties.burning ?? 0) }),
    });
  });

  /**
   * The numbers on the counts: text, which the map draws from glyphs it makes first — slow in
   * software WebGL — so added once the circles are on screen, not to hold them back.
   */
  let countsAsked = false;
  function addCounts() {
    if (countsAsked) return;
    countsAsked = true;
    map.once('idle', () => {
      if (!alive(map) || map.getLayer('fires-tiles-count')) return;
      addLayer(map, {
        id: 'fires-tiles-count', type: 'symbol', source: 'fires-tiles', 'source-layer': 'fire_points', filter: CLUSTER,
        layout: { visibility: 'none', 'text-field': '', 'text-font': ['Noto Sans Bold'], 'text-size': 13, 'text-allow-overlap': true },
        paint: { 'text-color': '#fff' },
      }, 'fires');
      sentFilter = null;
      paint();
    });
  }

  // What the map was last given, so that a repaint sends only what changed (a new selection
  // does not send the list to the map's worker again, nor lays out the counts again).
  let sentList = null;
  let sentFilter = null;
  function paint() {
    if (!map.getLayer('fires-point')) return;
    const useTiles = mode === 'tiles' && map.getLayer('fires-tiles-point');
    showLayers(map, LIST, shown && mode === 'list');
    showLayers(map, TILES, shown && Boolean(useTiles));
    const list = mode === 'list' ? features : [];
    if (list !== sentList) {
      map.getSource('fires').setData({ type: 'FeatureCollection', features: list });
      sentList = list;
    }
    map.setFilter('fires-selected', selectedFilter());
    if (!useTiles) return;
    const { point, count } = filterExpressions(filter);
    const cluster = CLUSTER;
    map.setFilter('fires-tiles-selected', ['all', ['!', cluster], point, selectedFilter()]);
    if (sentFilter === filter) return;
    sentFilter = filter;
    map.setFilter('fires-tiles-point', ['all', ['!', cluster], point]);
    map.setFilter('fires-tiles-cluster', ['all', cluster, ['>', count, 0]]);
    if (map.getLayer('fires-tiles-count')) {
      map.setFilter('fires-tiles-count', ['all', cluster, ['>', count, 0]]);
      map.setLayoutProperty('fires-tiles-count', 'text-field', ['to-string', count]);
    } else addCounts();
    map.setPaintProperty('fires-tiles-cluster', 'circle-radius', ['interpolate', ['linear'], ['sqrt', count], 1, 11, 10, 24, 40, 44]);
  }

  /** Draws exactly these features (GeoJSON, as /api/fires gives them). */
  function set(list) {
    mode = 'list';
    features = list;
    added.then(paint);
  }

  /** Draws the fires from tiles with a status filter; false (and nothing changed) when there are none. */
  async function useTiles(f) {
    if (!(await tiled)) return false;
    // Asked again: the fires may have changed since (the tiles revalidate cheaply, 304 when not).
    const again = mode === 'tiles';
    mode = 'tiles';
    filter = f ?? '';
    features = [];
    await added;
    paint();
    if (again && map.getSource('fires-tiles')) map.refreshTiles('fires-tiles');
    return true;
  }

  /** Where a fire is: from the list, else asked of the server. */
  async function locate(id) {
    const f = features.find((x) => x.properties.id === id);
    if (f) return f.geometry.coordinates;
    try { return (await get(`/api/fires/${encodeURIComponent(id)}`)).geometry.coordinates; } catch { return null; }
  }

  /** Rings one fire; with `pan`, brings it into view (close enough to show it alone). */
  async function select(id, pan = false) {
    selected = id;
    added.then(paint);
    if (pan && id) {
      const at = await locate(id);
      if (at && selected === id) centreOn(map, at, FIRE_ZOOM);
    }
  }

  const group = {
    addTo() { shown = true; added.then(paint); return group; },
    remove() { shown = false; added.then(paint); return group; },
  };

  // ---- for the browser tests and the console: what the map draws ---------------------------
  const pointLayer = () => (mode === 'tiles' ? 'fires-tiles-point' : 'fires-point');
  const rendered = (ids) => (shown && map.getLayer(ids[0]) ? map.queryRenderedFeatures({ layers: ids.filter((id) => map.getLayer(id)) }) : []);
  const hook = {
    /** 'tiles' or 'list' (null before anything is drawn). */
    mode: () => mode,
    /** The fires drawn one by one: the whole list, or from tiles those on screen. */
    ids() {
      if (!shown) return [];
      if (mode === 'list') return features.map((f) => f.properties.id);
      return [...new Set(rendered([pointLayer()]).map((f) => f.properties.id))];
    },
    /** How many fires the map shows: one per fire, a cell's count for a cell. */
    count() {
      if (!shown) return 0;
      if (mode === 'list') return features.length;
      const cells = new Map();
      for (const f of rendered(['fires-tiles-cluster'])) cells.set(f.geometry.coordinates.map((c) => c.toFixed(6)).join(), cellCount(f.properties, filter));
      return [...cells.values()].reduce((a, b) => a + b, 0) + hook.ids().length;
    },
    /** Whether any fire or count is on screen now. */
    drawnNow: () => rendered(mode === 'tiles' ? ['fires-tiles-point', 'fires-tiles-cluster'] : ['fires-point']).length,
    /** The properties of a fire drawn (null when it is not). */
    props(id) {
      if (mode === 'list') return features.find((f) => f.properties.id === id)?.properties ?? null;
      return rendered([pointLayer()]).find((f) => f.properties.id === id)?.properties ?? null;
    },
    /** Opens a fire as a click on it does (brought into view first when drawn from tiles). */
    async click(id) {
      if (mode === 'list') { const f = features.find((x) => x.properties.id === id); if (f) open(f); return Boolean(f); }
      let f = rendered([pointLayer()]).find((x) => x.properties.id === id);
      if (!f) {
        const at = await locate(id);
        if (!at) return false;
        await new Promise((resolve) => { map.once('idle', resolve); centreOn(map, at, FIRE_ZOOM); map.triggerRepaint(); });
        f = rendered([pointLayer()]).find((x) => x.properties.id === id);
      }
      if (f) open(f);
      return Boolean(f);
    },
    /** How many counts (cells) are on screen. */
    clusters: () => (mode === 'tiles' ? rendered(['fires-tiles-cluster']).length : 0),
    /** Where the fires and counts on screen are: `[{ id, x, y }]` in the map's pixels. */
    onScreen: () => rendered(mode === 'tiles' ? ['fires-tiles-point', 'fires-tiles-cluster'] : ['fires-point']).map((f) => {
      const { x, y } = map.project(f.geometry.coordinates);
      return { id: f.properties.id ?? null, x, y };
    }),
    /** The frame the map fitted for the user's scope. */
    frame: () => lastFrame(map),
    /** The zoom from which the tiles (WebMercatorQuad 12 and up, by default) carry single fires. */
    walkZoom: 12,
  };
  window.qingling = Object.assign(window.qingling || {}, { fires: hook });

  return { set, useTiles, select, group, tiled, locate };
}

/** The legend, from the layer files: fire statuses, the counts drawn from tiles, then the area layers. */
export function addLegend(map) {
  const ctl = legendControl(map, () => {
    const fp = layer('fire_points');
    // The counts' rows only where the fires come from tiles.
    const clusters = [
      h('div', { class: 'legend-row legend-cluster', hidden: true }, h('span', { class: 'swatch dot cluster-dot', style: `background:${CLUSTER_BURNING}` }), t('legend.cluster_burning')),
      h('div', { class: 'legend-row legend-cluster', hidden: true }, h('span', { class: 'swatch dot cluster-dot', style: `background:${CLUSTER_QUIET}` }), t('legend.cluster')),
    ];
    tileTemplate(map, 'fire_points').then((tpl) => { for (const r of clusters) r.hidden = !tpl; });
    return h('div', { class: 'legend-body' },
      h('div', { class: 'legend-title' }, pick(fp?.title)),
      values('fire_points', 'status').map((s) => h('div', { class: 'legend-row' },
        h('span', { class: 'swatch dot', style: `background:${statusColour(s)}` }), statusLabel(s))),
      h('div', { class: 'legend-row' }, h('span', { class: 'swatch dot overdue-dot' }), t('legend.overdue')),
      clusters,
      areaLegend());
  });
  ctl.addTo(map);
  return ctl;
}
