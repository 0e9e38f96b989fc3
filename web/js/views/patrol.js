// The patrol's tablet view: report a fire in under a minute (GPS or a point tapped on the map,
// kind, temperature, area, signs, note), see the fires within 50 m first so a duplicate becomes
// an inspection, inspect an existing fire, and watch the outbox send it all when there is signal.

import { h, fill, toast } from '../dom.js';
import { t, num, pick } from '../i18n.js';
import { get, getCached, qs } from '../api.js';
import { values, kindLabel, signLabel, layer } from '../layers.js';
import { distanceM, bboxAround, inGeometry } from '../geo.js';
import { createMap, addAreas, fireLayer, addLegend, L } from '../ui/map.js';
import { statusBadge, field, errorBox, partyText } from '../ui/bits.js';
import * as outbox from '../offline/outbox.js';
import { loadDraft, saveDraft, clearDraft } from '../offline/draft.js';
import { outboxList } from '../ui/outbox-list.js';

export const MAX_GPS_ACCURACY_M = 100; // the server refuses worse GPS fixes (ODK's default)
export const DUPLICATE_RADIUS_M = 50;
const GPS_GOOD_M = 5; // stop watching once the fix is this good

const emptyDraft = () => ({ position: null, kind: '', temp_c: '', area_m2: '', signs: [], note: '' });
/** Fires a patrol can still confuse with a new one: open, or cleared but on the re-ignition watch. */
const live = (p) => p.status !== 'dismissed' && (p.status !== 'cleared' || p.watched);

export function render(root, user) {
  let draft = { ...emptyDraft(), ...(loadDraft(user.username) ?? {}) };
  let tab = 'report';
  let allFires = [];
  let nearby = [];
  let confirmDuplicate = false;
  let inspectTarget = null;
  let inspectFromDraft = false; // a duplicate turned into an inspection carries the draft's readings
  let watchId = null;
  let gpsBest = null;

  const mapEl = h('div', { class: 'map' });
  const tabBar = h('div', { class: 'tabs tabs-big', role: 'tablist' });
  const body = h('div', { class: 'patrol-body' });
  const staleNote = h('p', { class: 'hint stale-note', hidden: true }, t('patrol.stale'));
  fill(root, h('div', { class: 'layout layout-patrol' },
    h('div', { class: 'map-pane' }, mapEl),
    h('div', { class: 'side' }, tabBar, h('div', { class: 'side-scroll' }, staleNote, body))));

  const map = createMap(mapEl, { onClick: (lonlat) => { if (tab === 'report') setPosition({ lon: lonlat[0], lat: lonlat[1], source: 'map', accuracy_m: null }); } });
  const fires = fireLayer(map, { onSelect: (f) => { inspectTarget = f; inspectFromDraft = false; tab = 'inspect'; renderAll(); } });
  addLegend(map);
  let areas = {};
  addAreas(map, { popups: false }).then(({ groups, stale }) => {
    areas = groups;
    if (stale) staleNote.hidden = false;
    if (draft.position && tab === 'report') renderBody();
  });
  if (!map.getPane('pick')) map.createPane('pick').style.zIndex = 460;
  const pickMarker = L.circleMarker([0, 0], { pane: 'pick', radius: 11, color: '#0d47a1', weight: 4, fillColor: '#fff', fillOpacity: 0.9, className: 'pick-marker', interactive: false });
  const accuracyCircle = L.circle([0, 0], { pane: 'pick', radius: 1, color: '#0d47a1', weight: 1, fillOpacity: 0.1, interactive: false });

  // ---- data --------------------------------------------------------------------------------
  async function loadFires() {
    try {
      const { data, stale } = await getCached('/api/fires');
      allFires = data.features.filter((f) => live(f.properties));
      fires.set(allFires);
      if (stale) staleNote.hidden = false;
    } catch (e) {
      staleNote.hidden = false;
    }
    if (draft.position) checkNearby();
  }

  /** Fires within 50 m of the point: asked of the server around it, else from the last list. */
  async function checkNearby() {
    const p = draft.position;
    if (!p) { nearby = []; return; }
    const here = [p.lon, p.lat];
    let candidates = allFires;
    try {
      const fc = await get(`/api/fires${qs({ bbox: bboxAround(here, DUPLICATE_RADIUS_M * 1.5).map((x) => x.toFixed(6)).join(',') })}`);
      candidates = fc.features;
    } catch { /* offline: the fires last seen */ }
    nearby = candidates.filter((f) => live(f.properties))
      .map((f) => ({ f, d: distanceM(here, f.geometry.coordinates) }))
      .filter((x) => x.d <= DUPLICATE_RADIUS_M)
      .sort((a, b) => a.d - b.d);
    if (tab === 'report') renderBody();
  }

  // ---- position ----------------------------------------------------------------------------
  function setPosition(pos) {
    draft.position = pos;
    confirmDuplicate = false;
    if (pos.source === 'map') stopGps();
    save();
    drawPosition();
    checkNearby();
    if (tab === 'report') renderBody();
  }

  function drawPosition() {
    const p = draft.position;
    if (!p) { pickMarker.remove(); accuracyCircle.remove(); return; }
    pickMarker.setLatLng([p.lat, p.lon]).addTo(map);
    if (p.source === 'gps' && p.accuracy_m) accuracyCircle.setLatLng([p.lat, p.lon]).setRadius(p.accuracy_m).addTo(map);
    else accuracyCircle.remove();
  }

  function startGps() {
    if (!('geolocation' in navigator)) { toast(t('patrol.gps_unavailable'), 'error'); return; }
    gpsBest = null;
    watchId = navigator.geolocation.watchPosition((g) => {
      const fix = { lon: g.coords.longitude, lat: g.coords.latitude, accuracy_m: Math.round(g.coords.accuracy * 10) / 10, source: 'gps' };
      if (!gpsBest || fix.accuracy_m <= gpsBest.accuracy_m) {
        gpsBest = fix;
        setPosition(fix);
        map.setView([fix.lat, fix.lon], Math.max(map.getZoom(), 15));
      }
      if (fix.accuracy_m <= GPS_GOOD_M) stopGps();
    }, (err) => {
      stopGps();
      toast(t('patrol.gps_error', { message: err.message }), 'error');
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60_000 });
    renderBody();
  }

  function stopGps() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    if (tab === 'report') renderBody();
  }

  function save() { saveDraft(user.username, draft); }

  // ---- report form -------------------------------------------------------------------------
  function positionBlock() {
    const p = draft.position;
    const poor = p?.source === 'gps' && p.accuracy_m > MAX_GPS_ACCURACY_M;
    return h('section', { class: 'position' },
      h('h3', {}, t('patrol.position')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: ['btn', 'btn-big', watchId !== null && 'active'], on: { click: () => (watchId === null ? startGps() : stopGps()) } },
          watchId === null ? t('patrol.gps_start') : t('patrol.gps_stop'))),
      h('p', { class: ['position-text', poor && 'warn'], dataset: { source: p?.source ?? '' } },
        !p ? t('patrol.no_position')
          : p.source === 'gps'
            ? t('patrol.gps_fix', { lat: p.lat.toFixed(6), lon: p.lon.toFixed(6), acc: num(p.accuracy_m, 1) })
            : t('patrol.map_fix', { lat: p.lat.toFixed(6), lon: p.lon.toFixed(6) })),
      p ? h('p', { class: 'where' }, whereText([p.lon, p.lat])) : null,
      poor ? h('p', { class: 'form-error' }, t('patrol.gps_poor', { acc: num(p.accuracy_m), limit: MAX_GPS_ACCURACY_M })) : null,
      h('p', { class: 'hint' }, t('patrol.tap_map')));
  }

  /**
   * Which mine, dump or heap (else which district) the point lies in, from the layers on the
   * map: a hint for the patrol before sending. The server decides the responsible party.
   */
  function whereText(pt) {
    for (const name of ['gangue_heaps', 'waste_dumps', 'mines', 'districts']) {
      const hit = areas[name]?.getLayers().find((l) => inGeometry(pt, l.feature.geometry));
      if (hit) return t('patrol.where', { layer: pick(layer(name)?.title), name: hit.feature.properties.name ?? '' });
    }
    return Object.keys(areas).length ? t('patrol.where_outside') : '';
  }

  function toggleGroup(name, options, selected, multi, label) {
    return h('div', { class: 'toggles', role: multi ? 'group' : 'radiogroup', dataset: { name } },
      options.map((v) => h('button', {
        type: 'button', class: 'toggle', dataset: { [name]: v }, 'aria-pressed': String(multi ? selected.includes(v) : selected === v),
        on: {
          click: () => {
            if (multi) draft[name] = selected.includes(v) ? selected.filter((x) => x !== v) : [...selected, v];
            else draft[name] = v;
            save();
            renderBody();
          },
        },
      }, label(v))));
  }

  function nearbyBlock() {
    if (!draft.position || !nearby.length) return null;
    return h('section', { class: 'nearby banner banner-warn' },
      h('strong', {}, t('patrol.nearby_title', { n: nearby.length, m: DUPLICATE_RADIUS_M })),
      h('ul', {}, nearby.map(({ f, d }) => h('li', { dataset: { fireId: f.properties.id } },
        h('span', { class: 'fire-code' }, f.properties.code), ' ', statusBadge(f.properties.status), ' ',
        t('patrol.distance', { m: Math.round(d) }), ' ',
        h('button', { type: 'button', class: 'btn btn-small as-inspection', on: { click: () => { inspectTarget = f; inspectFromDraft = true; tab = 'inspect'; renderAll(); } } }, t('patrol.as_inspection'))))));
  }

  function reportForm() {
    const input = (name, attrs) => h('input', {
      name, type: 'number', inputmode: 'decimal', step: 'any', value: draft[name], ...attrs,
      on: { input: (e) => { draft[name] = e.target.value; save(); } },
    });
    const p = draft.position;
    const canSend = p && draft.kind && !(p.source === 'gps' && p.accuracy_m > MAX_GPS_ACCURACY_M);
    const send = h('button', { type: 'submit', class: 'btn btn-primary btn-big send-report', disabled: !canSend },
      confirmDuplicate ? t('patrol.send_anyway') : t('patrol.send'));
    const form = h('form', { class: 'report-form', novalidate: true },
      positionBlock(),
      nearbyBlock(),
      h('section', {}, h('h3', {}, t('patrol.kind')), toggleGroup('kind', values('fire_points', 'kind'), draft.kind, false, kindLabel)),
      h('div', { class: 'row two' },
        field(t('form.temp_c'), input('temp_c', { min: -60, max: 1500 })),
        field(t('form.area_m2'), input('area_m2', { min: 0 }))),
      h('section', {}, h('h3', {}, t('patrol.signs')), toggleGroup('signs', values('fire_points', 'signs'), draft.signs, true, signLabel)),
      field(t('form.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000, on: { input: (e) => { draft.note = e.target.value; save(); } } }, draft.note)),
      // Follow-up: photos. The server has no photo endpoint yet, so the form takes none.
      confirmDuplicate ? h('p', { class: 'warn' }, t('patrol.confirm_new')) : null,
      h('div', { class: 'row send-row' }, send,
        h('button', { type: 'button', class: 'btn', on: { click: () => { draft = emptyDraft(); clearDraft(user.username); nearby = []; drawPosition(); renderBody(); } } }, t('patrol.clear'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!canSend) return;
      if (nearby.length && !confirmDuplicate) { confirmDuplicate = true; renderBody(); return; }
      const props = { id: crypto.randomUUID(), kind: draft.kind, position_source: p.source };
      const n = (v) => (v === '' || v === null || v === undefined ? undefined : Number(v));
      if (n(draft.temp_c) !== undefined) props.temp_c = n(draft.temp_c);
      if (n(draft.area_m2) !== undefined) props.area_m2 = n(draft.area_m2);
      if (draft.signs.length) props.signs = draft.signs;
      if (draft.note.trim()) props.note = draft.note.trim();
      if (p.source === 'gps' && p.accuracy_m != null) props.accuracy_m = p.accuracy_m;
      const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [+p.lon.toFixed(6), +p.lat.toFixed(6)] }, properties: props };
      await outbox.enqueue({ type: 'report', path: '/api/fires', body: feature, summary: { kind: draft.kind, temp_c: props.temp_c ?? null, lon: feature.geometry.coordinates[0], lat: feature.geometry.coordinates[1] } });
      toast(t('patrol.queued'), 'ok');
      draft = emptyDraft();
      clearDraft(user.username);
      nearby = [];
      confirmDuplicate = false;
      drawPosition();
      renderBody();
    });
    return form;
  }

  // ---- inspection --------------------------------------------------------------------------
  function inspectView() {
    const here = draft.position ? [draft.position.lon, draft.position.lat] : null;
    const rows = allFires
      .map((f) => ({ f, d: here ? distanceM(here, f.geometry.coordinates) : null }))
      .sort((a, b) => (here ? a.d - b.d : a.f.properties.code.localeCompare(b.f.properties.code)));
    const picker = h('section', {}, h('h3', {}, t('patrol.pick_fire')), h('p', { class: 'hint' }, t('patrol.pick_hint')),
      h('ul', { class: 'pick-list' }, rows.slice(0, 30).map(({ f, d }) => h('li', {},
        h('button', { type: 'button', class: ['pick', inspectTarget?.properties.id === f.properties.id && 'active'], dataset: { fireId: f.properties.id }, on: { click: () => { inspectTarget = f; inspectFromDraft = false; renderBody(); } } },
          h('span', { class: 'fire-code' }, f.properties.code), ' ', statusBadge(f.properties.status), ' ', kindLabel(f.properties.kind),
          d !== null ? h('span', { class: 'hint' }, ` · ${t('patrol.distance', { m: Math.round(d) })}`) : null)))));
    if (!inspectTarget) return picker;
    const p = inspectTarget.properties;
    fires.select(p.id);
    const err = errorBox();
    const numIn = (name, v) => h('input', { name, type: 'number', inputmode: 'decimal', step: 'any', value: v ?? '' });
    const form = h('form', { class: 'inspect-form card', dataset: { fireId: p.id } },
      h('h3', {}, t('patrol.inspect_title', { code: p.code })),
      h('p', {}, statusBadge(p.status), ' ', kindLabel(p.kind), ' · ', partyText(p.responsible)),
      h('p', { class: 'hint' }, t('patrol.last_temp', { c: p.temp_c ?? '—', max: p.max_temp_c ?? '—' })),
      h('div', { class: 'row two' }, field(t('form.temp_c'), numIn('temp_c', inspectFromDraft ? draft.temp_c : '')), field(t('form.co_ppm'), numIn('co_ppm'))),
      field(t('form.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000 }, inspectFromDraft ? draft.note : '')),
      err,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-big' }, t('patrol.send_inspection')),
        h('button', { type: 'button', class: 'btn', on: { click: () => { inspectTarget = null; fires.select(null); renderBody(); } } }, t('common.cancel'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = (k) => form.elements[k].value.trim();
      const bodyJson = { action: 'inspect', id: crypto.randomUUID() };
      if (v('temp_c')) bodyJson.temp_c = Number(v('temp_c'));
      if (v('co_ppm')) bodyJson.co_ppm = Number(v('co_ppm'));
      if (v('note')) bodyJson.note = v('note');
      if (bodyJson.temp_c === undefined && bodyJson.co_ppm === undefined && !bodyJson.note) { err.show(t('form.inspect_hint')); return; }
      await outbox.enqueue({ type: 'event', path: `/api/fires/${encodeURIComponent(p.id)}/events`, body: bodyJson, summary: { code: p.code, temp_c: bodyJson.temp_c ?? null } });
      toast(t('patrol.queued'), 'ok');
      if (inspectFromDraft) { draft = emptyDraft(); clearDraft(user.username); nearby = []; drawPosition(); }
      inspectTarget = null;
      inspectFromDraft = false;
      fires.select(null);
      renderBody();
    });
    return [form, picker];
  }

  // ---- outbox ------------------------------------------------------------------------------
  let items = [];
  let sentSeen = 0;
  const queueView = () => outboxList(items);

  // ---- frame -------------------------------------------------------------------------------
  function renderTabs() {
    const waiting = items.filter((i) => i.state !== 'sent').length;
    fill(tabBar, [['report', t('patrol.tab_report')], ['inspect', t('patrol.tab_inspect')], ['outbox', t('patrol.tab_outbox', { n: waiting })]]
      .map(([k, label]) => h('button', { type: 'button', role: 'tab', class: ['tab', tab === k && 'active'], 'aria-selected': String(tab === k), dataset: { tab: k }, on: { click: () => { tab = k; renderAll(); } } }, label)));
  }

  function renderBody() {
    // Typing only saves the draft; the form is rebuilt on taps (toggles, position), not keystrokes.
    fill(body, tab === 'report' ? reportForm() : tab === 'inspect' ? inspectView() : queueView());
  }

  function renderAll() { renderTabs(); renderBody(); }

  const unsubscribe = outbox.subscribe((list) => {
    items = list;
    renderTabs();
    if (tab === 'outbox') renderBody();
    const sent = list.filter((i) => i.state === 'sent').length;
    if (sent > sentSeen) loadFires(); // show what the server now holds
    sentSeen = sent;
  });
  const stopOutbox = outbox.start(user.username);
  outbox.list().then((l) => { items = l; renderAll(); });
  renderAll();
  drawPosition();
  loadFires();
  if (draft.position) map.setView([draft.position.lat, draft.position.lon], 15);

  return () => { stopGps(); unsubscribe(); stopOutbox(); map.remove(); };
}
