// The patrol's tablet view: report a fire in under a minute (GPS or a point tapped on the map,
// kind, temperature, area, signs, note, photos from the camera), see the fires within the
// duplicate radius first so a duplicate becomes an inspection, inspect an existing fire, and
// watch the outbox send it all when there is signal. Picked photos are kept on the device at once
// (IndexedDB), with the draft, and go into the outbox with their report or inspection. The dust
// tab (ui/dust-patrol.js) logs dust violations, verifies rectified ones and records compliance
// checks on restricted mines, through the same outbox and with the same position chooser.

import { h, fill, toast } from '../dom.js';
import { t, num, pick as pickText } from '../i18n.js';
import { get, getCached, getPages, qs } from '../api.js';
import { values, kindLabel, signLabel, layer } from '../layers.js';
import { distanceM, bboxAround } from '../geo.js';
import { createMap, addAreas, positionMarker, scopeBounds, frame, centreOn } from '../ui/map.js';
import { fireLayer, addLegend } from '../ui/fire-map.js';
import { statusBadge, field, errorBox, partyText, viewLayout, queuedToast } from '../ui/bits.js';
import * as outbox from '../offline/outbox.js';
import * as devicePhotos from '../offline/photos.js';
import { loadDraft, saveDraft, clearDraft } from '../offline/draft.js';
import { outboxList } from '../ui/outbox-list.js';
import { photoField } from '../ui/photos.js';
import { onOpenFire } from '../ui/notifications.js';
import { rules } from '../rules.js';
import { dustPatrol, emptyDustDraft } from '../ui/dust-patrol.js';
import { dustLegend } from '../ui/dust-map.js';
import { loadDustRules } from '../dust.js';

// The server's limits (GET /api/rules): GPS fixes worse than this are refused unless the point
// is placed by hand (ODK's default is 100 m), and fires this close are possible duplicates.
const maxGpsM = () => rules().max_gps_accuracy_m;
const radiusM = () => rules().duplicate_radius_m;
const GPS_GOOD_M = 5; // stop watching once the fix is this good

// `photos`: descriptions of the photos picked for the draft; their Blobs are on the device.
const emptyDraft = () => ({ position: null, kind: '', temp_c: '', area_m2: '', signs: [], note: '', photos: [] });
/** Fires a patrol can still confuse with a new one: open, or cleared but on the re-ignition watch. */
const live = (p) => p.status !== 'dismissed' && (p.status !== 'cleared' || p.watched);

export function render(root, user) {
  let draft = { ...emptyDraft(), ...(loadDraft(user.username) ?? {}) };
  const dustDraft = { ...emptyDustDraft(), ...(loadDraft(user.username, 'dust') ?? {}) };
  /** The draft whose position the GPS and the map set: the dust tab's, else the report's. */
  const activeDraft = () => (tab === 'dust' ? dustDraft : draft);
  let tab = 'report';
  let allFires = [];
  let nearby = [];
  let confirmDuplicate = false;
  let inspectTarget = null;
  let lastHere = null; // where the patrol last was, kept when a send clears the draft
  let inspectFromDraft = false; // a duplicate turned into an inspection carries the draft's readings
  let inspectPhotos = []; // photos picked in the inspection form (those of the draft when from it)
  const photoStore = devicePhotos.deviceStore(user.username);
  let watchId = null;
  let gpsBest = null;

  const mapEl = h('div', { class: 'map' });
  const tabBar = h('div', { class: 'tabs tabs-big', role: 'tablist' });
  const body = h('div', { class: 'patrol-body' });
  const staleNote = h('p', { class: 'hint stale-note', hidden: true }, t('patrol.stale'));
  viewLayout(root, { cls: 'layout layout-patrol', map: mapEl, head: tabBar, side: [staleNote, body] });

  const map = createMap(mapEl, { onClick: (lonlat) => { if (tab === 'report' || tab === 'dust') setPosition({ lon: lonlat[0], lat: lonlat[1], source: 'map', accuracy_m: null }); } });
  const fires = fireLayer(map, { onSelect: (f) => inspect(f, false) });
  const fireLegend = addLegend(map);
  const dustKey = dustLegend(map);
  let areas = null;
  addAreas(map, { popups: false }).then((a) => {
    areas = a;
    if (a.stale) staleNote.hidden = false;
    if (draft.position && tab === 'report') renderBody();
  });
  const pick = positionMarker(map);

  // ---- data --------------------------------------------------------------------------------
  // The map draws the fires from tiles where the server serves them (and the service worker
  // keeps the tiles seen); out of signal, from the list last seen, which the duplicate check
  // and the inspection list use too.
  async function loadFires() {
    const tiled = fires.useTiles('live'); // drawn at once where there are tiles
    try {
      const { data, stale } = await getCached('/api/fires', { all: { key: 'features' } });
      allFires = data.features.filter((f) => live(f.properties));
      if (stale || !(await tiled)) fires.set(allFires);
      if (stale) staleNote.hidden = false;
    } catch (e) {
      staleNote.hidden = false;
    }
    if (draft.position) checkNearby();
  }

  /** Fires within the duplicate radius: asked of the server around the point, else from the last list. */
  async function checkNearby() {
    const p = draft.position;
    if (!p) { nearby = []; return; }
    const here = [p.lon, p.lat];
    let candidates = allFires;
    try {
      const fc = await getPages(`/api/fires${qs({ bbox: bboxAround(here, radiusM() * 1.5).map((x) => x.toFixed(6)).join(',') })}`, 'features');
      candidates = fc.features;
    } catch { /* offline: the fires last seen */ }
    nearby = candidates.filter((f) => live(f.properties))
      .map((f) => ({ f, d: distanceM(here, f.geometry.coordinates) }))
      .filter((x) => x.d <= radiusM())
      .sort((a, b) => a.d - b.d);
    if (tab === 'report') renderBody();
  }

  // ---- position ----------------------------------------------------------------------------
  function setPosition(pos) {
    activeDraft().position = pos;
    lastHere = [pos.lon, pos.lat];
    if (pos.source === 'map') stopGps();
    save();
    drawPosition();
    if (tab === 'dust') { renderBody(); return; }
    confirmDuplicate = false;
    checkNearby();
    if (tab === 'report') renderBody();
  }

  function drawPosition() {
    pick.set(activeDraft().position);
  }

  function startGps() {
    if (!('geolocation' in navigator)) { toast(t('patrol.gps_unavailable'), 'error'); return; }
    gpsBest = null;
    watchId = navigator.geolocation.watchPosition((g) => {
      const fix = { lon: g.coords.longitude, lat: g.coords.latitude, accuracy_m: Math.round(g.coords.accuracy * 10) / 10, source: 'gps' };
      if (!gpsBest || fix.accuracy_m <= gpsBest.accuracy_m) {
        gpsBest = fix;
        setPosition(fix);
        centreOn(map, [fix.lon, fix.lat], 14);
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
    if (tab === 'report' || tab === 'dust') renderBody();
  }

  function save() { saveDraft(user.username, draft); saveDraft(user.username, dustDraft, 'dust'); }

  // ---- report form -------------------------------------------------------------------------
  function positionBlock() {
    const p = activeDraft().position;
    const poor = p?.source === 'gps' && p.accuracy_m > maxGpsM();
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
      poor ? h('p', { class: 'form-error' }, t('patrol.gps_poor', { acc: num(p.accuracy_m), limit: maxGpsM() })) : null,
      h('p', { class: 'hint' }, t('patrol.tap_map')));
  }

  /**
   * Which mine, dump or heap (else which district) the point lies in, from the layers on the
   * map: a hint for the patrol before sending. The server decides the responsible party.
   */
  function whereText(pt) {
    if (!areas?.names.length) return '';
    const hits = areas.at(pt);
    for (const name of ['gangue_heaps', 'waste_dumps', 'mines', 'districts']) {
      if (hits[name]) return t('patrol.where', { layer: pickText(layer(name)?.title), name: hits[name].properties.name ?? '' });
    }
    return t('patrol.where_outside');
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
      h('strong', {}, t('patrol.nearby_title', { n: nearby.length, m: radiusM() })),
      h('ul', {}, nearby.map(({ f, d }) => h('li', { dataset: { fireId: f.properties.id } },
        h('span', { class: 'fire-code' }, f.properties.code), ' ', statusBadge(f.properties.status), ' ',
        t('patrol.distance', { m: Math.round(d) }), ' ',
        h('button', { type: 'button', class: 'btn btn-small as-inspection', on: { click: () => inspect(f, true) } }, t('patrol.as_inspection'))))));
  }

  function reportForm() {
    const input = (name, attrs) => h('input', {
      name, type: 'number', inputmode: 'decimal', step: 'any', value: draft[name], ...attrs,
      on: { input: (e) => { draft[name] = e.target.value; save(); } },
    });
    const p = draft.position;
    const canSend = p && draft.kind && !(p.source === 'gps' && p.accuracy_m > maxGpsM());
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
      h('section', { class: 'report-photos' }, h('h3', {}, t('photo.label')),
        photoField({ store: photoStore, initial: draft.photos, onChange: (list) => { draft.photos = list; save(); } })),
      confirmDuplicate ? h('p', { class: 'warn' }, t('patrol.confirm_new')) : null,
      h('div', { class: 'row send-row' }, send,
        h('button', { type: 'button', class: 'btn', on: { click: () => { devicePhotos.drop(draft.photos.map((x) => x.id)); resetDraft(); renderBody(); } } }, t('patrol.clear'))));
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
      queuedToast(await outbox.send({
        type: 'report', path: '/api/fires', body: feature, photos: draft.photos,
        summary: { kind: draft.kind, temp_c: props.temp_c ?? null, lon: feature.geometry.coordinates[0], lat: feature.geometry.coordinates[1] },
      }));
      resetDraft(); // its photos now belong to the outbox item
      renderBody();
    });
    return form;
  }

  /** Starts a new, empty draft (the old one's photos are the caller's business). */
  function resetDraft() {
    draft = emptyDraft();
    clearDraft(user.username);
    nearby = [];
    confirmDuplicate = false;
    drawPosition();
  }

  // ---- inspection --------------------------------------------------------------------------
  /** Opens the inspection of a fire; `fromDraft` when the report being typed turns into it. */
  function inspect(f, fromDraft) {
    if (fromDraft) {
      if (!inspectFromDraft) devicePhotos.drop(inspectPhotos.map((x) => x.id)).catch(() => {});
      inspectPhotos = draft.photos;
    } else if (inspectFromDraft) {
      inspectPhotos = []; // the draft keeps its photos
    } // else another fire picked while typing: the photos taken so far stay with the form
    inspectTarget = f;
    inspectFromDraft = fromDraft;
    if (tab !== 'inspect') switchTab('inspect'); else renderAll();
  }

  function closeInspection() {
    // Photos picked for an inspection never sent are dropped; the draft keeps its own.
    if (!inspectFromDraft) devicePhotos.drop(inspectPhotos.map((x) => x.id)).catch(() => {});
    inspectTarget = null;
    inspectFromDraft = false;
    inspectPhotos = [];
    fires.select(null);
  }

  // Fires still burning come first, then those being watched after control, then cleared ones on
  // the re-ignition watch; within each, nearest first from where the patrol is (or last was:
  // a send clears the draft, not the patrol's place), else newest first.
  const urgency = (s) => (['reignited', 'reported', 'confirmed', 'treating'].includes(s) ? 0 : s === 'cleared' ? 2 : 1);
  function inspectView() {
    const here = draft.position ? [draft.position.lon, draft.position.lat] : lastHere;
    const rows = allFires
      .map((f) => ({ f, d: here ? distanceM(here, f.geometry.coordinates) : null }))
      .sort((a, b) => urgency(a.f.properties.status) - urgency(b.f.properties.status)
        || (here ? a.d - b.d : b.f.properties.code.localeCompare(a.f.properties.code)));
    const picker = h('section', {}, h('h3', {}, t('patrol.pick_fire')), h('p', { class: 'hint' }, t('patrol.pick_hint')),
      h('ul', { class: 'pick-list' }, rows.slice(0, 30).map(({ f, d }) => h('li', {},
        h('button', { type: 'button', class: ['pick', inspectTarget?.properties.id === f.properties.id && 'active'], dataset: { fireId: f.properties.id }, on: { click: () => inspect(f, false) } },
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
      h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('photo.label')),
        photoField({
          store: photoStore, initial: inspectPhotos,
          onChange: (list) => { inspectPhotos = list; if (inspectFromDraft) { draft.photos = list; save(); } },
        })),
      err,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-big' }, t('patrol.send_inspection')),
        h('button', { type: 'button', class: 'btn', on: { click: () => { closeInspection(); renderBody(); } } }, t('common.cancel'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = (k) => form.elements[k].value.trim();
      const bodyJson = { action: 'inspect', id: crypto.randomUUID() };
      if (v('temp_c')) bodyJson.temp_c = Number(v('temp_c'));
      if (v('co_ppm')) bodyJson.co_ppm = Number(v('co_ppm'));
      if (v('note')) bodyJson.note = v('note');
      if (bodyJson.temp_c === undefined && bodyJson.co_ppm === undefined && !bodyJson.note) { err.show(t('form.inspect_hint')); return; }
      queuedToast(await outbox.send({
        type: 'event', path: `/api/fires/${encodeURIComponent(p.id)}/events`, body: bodyJson, fireId: p.id, photos: inspectPhotos,
        summary: { code: p.code, temp_c: bodyJson.temp_c ?? null },
      }));
      if (inspectFromDraft) resetDraft(); // its photos went with the inspection
      inspectPhotos = []; // they belong to the outbox item now
      inspectFromDraft = false;
      closeInspection();
      renderBody();
    });
    return [form, picker];
  }

  // ---- dust --------------------------------------------------------------------------------
  const positionOk = () => {
    const p = dustDraft.position;
    return Boolean(p) && !(p.source === 'gps' && p.accuracy_m > maxGpsM());
  };
  const dust = dustPatrol({
    map, draft: () => dustDraft, save, positionBlock, positionOk, photoStore,
    rerender: () => { if (tab === 'dust') renderBody(); },
    onStale: () => { staleNote.hidden = false; },
  });
  loadDustRules();
  dust.load(); // the lists are then on the device for a patrol that goes out of signal

  // ---- outbox ------------------------------------------------------------------------------
  let items = [];
  let sentSeen = 0;
  const queueView = () => outboxList(items);

  // ---- frame -------------------------------------------------------------------------------
  function renderTabs() {
    const waiting = items.filter((i) => i.state !== 'sent').length;
    fill(tabBar, [['report', t('patrol.tab_report')], ['inspect', t('patrol.tab_inspect')], ['dust', t('patrol.tab_dust')], ['outbox', t('patrol.tab_outbox', { n: waiting })]]
      .map(([k, label]) => h('button', { type: 'button', role: 'tab', class: ['tab', tab === k && 'active'], 'aria-selected': String(tab === k), dataset: { tab: k }, on: { click: () => switchTab(k) } }, label)));
  }

  /** Another tab: the GPS stops (its fix belongs to the form it was started for). */
  function switchTab(k) {
    if (k === tab) return;
    const wasDust = tab === 'dust';
    if (watchId !== null) stopGps();
    tab = k;
    if (k === 'dust') {
      fires.group.remove(); fireLegend.remove(); dustKey.addTo(map); dust.show();
    } else if (wasDust) {
      dust.hide(); dustKey.remove(); fires.group.addTo(map); fireLegend.addTo(map);
    }
    drawPosition();
    renderAll();
  }

  function renderBody() {
    // Typing only saves the draft; the form is rebuilt on taps (toggles, position), not keystrokes.
    fill(body, tab === 'report' ? reportForm() : tab === 'inspect' ? inspectView() : tab === 'dust' ? dust.view() : queueView());
  }

  function renderAll() { renderTabs(); renderBody(); }

  const unsubscribe = outbox.subscribe((list) => {
    items = list;
    renderTabs();
    if (tab === 'outbox') renderBody();
    const sent = list.filter((i) => i.state === 'sent').length;
    if (sent > sentSeen) { loadFires(); if (tab === 'dust') dust.load(); } // show what the server now holds
    sentSeen = sent;
  });
  const stopOutbox = outbox.start(user.username);
  outbox.list().then((l) => { items = l; renderAll(); });
  // Photos of forms closed without sending (a closed tab) are dropped; the draft's are kept.
  devicePhotos.sweep(user.username, [...draft.photos, ...dustDraft.photos].map((x) => x.id)).catch(() => {});
  renderAll();
  drawPosition();
  loadFires();
  // The city, or where the draft's point is.
  if (draft.position) map.jumpTo({ center: [draft.position.lon, draft.position.lat], zoom: 14 });
  scopeBounds(user).then((b) => frame(map, b, { fit: !draft.position }));
  // From tiles, the areas under a point are known once the map has drawn there: say again
  // which mine or district the point is in when it has.
  map.on('idle', () => {
    const p = activeDraft().position;
    const el = body.querySelector('.position .where');
    if (p && el) el.textContent = whereText([p.lon, p.lat]);
  });

  // A notification opens the fire's inspection (a patrol hears of re-ignitions).
  const unlisten = onOpenFire(async (id) => {
    let f = allFires.find((x) => x.properties.id === id);
    if (!f) { try { f = await get(`/api/fires/${encodeURIComponent(id)}`); } catch { return; } }
    fires.select(id, true);
    inspect(f, false);
  });

  return () => { stopGps(); unsubscribe(); stopOutbox(); unlisten(); map.remove(); };
}
