// The clearance view for the city's manager and for a district officer (the server scopes the
// district officer's fires and counts to its district): the map, the burning counter with the
// dynamic-zero state, the burn-down chart, the overdue list, the league tables, the
// production-suspended mines, and a fire's detail with the actions the user may take. A switch
// at the top of the side panel turns to dust (ui/dust-panel.js): monitors, alerts, warnings,
// violations.

import { h, fill } from '../dom.js';
import { t, num, pick, listOf } from '../i18n.js';
import { get, getCached, qs, nextPage, withLimit } from '../api.js';
import { values, statusLabel, kindLabel, layer } from '../layers.js';
import { today, fmtDate, fmtDateTime } from '../time.js';
import { createMap, addAreas, scopeBounds, frame, boundsOf } from '../ui/map.js';
import { fireLayer, addLegend } from '../ui/fire-map.js';
import { burnDown } from '../ui/chart.js';
import { statusBadge, deadlineCountdown, modeTabs, viewLayout } from '../ui/bits.js';
import { showFire } from '../ui/fire-detail.js';
import { onOpenFire, onOpenDust } from '../ui/notifications.js';
import { dustPanel } from '../ui/dust-panel.js';
import { dustLegend } from '../ui/dust-map.js';

const REFRESH_MS = 60_000;
/** Fires asked for at a time (GET /api/fires is paged); "more" in the list asks for the next. */
const FIRE_PAGE = 500;

function select(name, options, value, onChange) {
  return h('select', { name, on: { change: (e) => onChange(e.target.value) } },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** The big counter: burning now (or as of a day), dynamic zero, days since zero. */
function counter(c, asOf) {
  // Before the first record there is nothing to count: say so rather than show a zero.
  if (c.before_records) {
    return h('section', { class: 'counter before-records', dataset: { beforeRecords: 'true' } },
      h('p', {}, t('clearance.before_records', { date: fmtDate(`${asOf}T12:00:00+08:00`), first: fmtDate(`${c.data_since}T12:00:00+08:00`) })));
  }
  const zero = c.burning === 0;
  return h('section', { class: ['counter', zero ? 'zero' : 'burning'], dataset: { burning: String(c.burning), zero: String(zero) } },
    h('div', { class: 'counter-main' },
      h('span', { class: 'burning-count', dataset: { count: String(c.burning) } }, num(c.burning)),
      h('div', {},
        h('div', { class: 'counter-label' }, t('clearance.burning')),
        h('div', { class: 'counter-state' }, zero ? t('clearance.zero') : t('clearance.days_since_zero', { days: c.days_since_zero })))),
    h('div', { class: 'counter-facts' },
      h('span', {}, t('clearance.not_cleared'), h('b', { class: 'not-cleared-count' }, num(c.not_cleared))),
      h('span', {}, t('clearance.overdue'), h('b', {}, num(listTotal(c, 'overdue')))),
      h('span', {}, t('clearance.reignitions'), h('b', {}, num(c.reignitions)))),
    asOf !== today() ? h('p', { class: 'hint as-of-note' }, t('clearance.as_of_note', { date: asOf })) : null);
}

/** How many rows a paged list of /api/clearance has in all (its page may hold fewer). */
const listTotal = (c, key) => c.pages?.[key]?.total ?? c[key].length;

function table(head, rows) {
  return h('table', { class: 'league' }, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))), h('tbody', {}, rows));
}

export function render(root, user) {
  const state = { status: 'open', kind: '', district: '', asOf: today(), tab: 'overdue', selected: null, clearance: null, fires: [], firesNext: null, firesMatched: null };
  const mapEl = h('div', { class: 'map' });
  const detail = h('aside', { class: 'detail', hidden: true, 'aria-label': t('fire.detail') });
  const counterSlot = h('div');
  const chartSlot = h('div', { class: 'chart-box' });
  const tabsSlot = h('div', { class: 'tabs-body' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist' });
  const districtNames = new Map();

  const toolbar = h('div', { class: 'toolbar' },
    h('label', {}, t('filter.status'), select('status', [
      ['', t('filter.all')], ['burning', t('filter.burning')], ['open', t('filter.open')],
      ...values('fire_points', 'status').map((s) => [s, statusLabel(s)])], state.status, (v) => { state.status = v; loadFires(true); })),
    h('label', {}, t('filter.kind'), select('kind', [['', t('filter.all')], ...values('fire_points', 'kind').map((k) => [k, kindLabel(k)])], '', (v) => { state.kind = v; loadFires(true); })),
    user.role === 'manager' ? h('label', { class: 'district-filter' }, t('filter.district'), h('select', { name: 'district', on: { change: (e) => { state.district = e.target.value; loadFires(true); } } }, h('option', { value: '' }, t('filter.all')))) : null,
    h('span', { class: 'fire-count hint' }));

  // A day after today is no "as of": it falls back to today (the picker's max; typed dates too).
  const setAsOf = (d) => { state.asOf = d && d <= today() ? d : today(); asOfInput.value = state.asOf; loadCounts(); loadFires(); };
  // Deadlines are counted to the end of the day on screen, not to now.
  const asOfMoment = () => (state.asOf === today() ? null : `${state.asOf}T23:59:59+08:00`);
  const asOfInput = h('input', { type: 'date', name: 'as_of', value: state.asOf, max: state.asOf, on: { change: (e) => setAsOf(e.target.value) } });

  const fireSide = h('div', { class: 'fire-side' },
    counterSlot,
    h('div', { class: 'as-of' }, h('label', {}, t('clearance.as_of'), asOfInput),
      h('button', { type: 'button', class: 'btn', on: { click: () => setAsOf(today()) } }, t('clearance.today'))),
    h('section', {}, h('h3', {}, t('chart.burndown')),
      h('div', { class: 'chart-legend' }, h('span', { class: 'key key-burning' }, t('clearance.burning')), h('span', { class: 'key key-open' }, t('clearance.not_cleared'))),
      chartSlot),
    h('section', {}, tabBar, tabsSlot));
  const modeBar = h('div', { class: 'mode-switch', role: 'tablist' });
  // A district officer's district by name (with its code) once the counts have named it.
  const scopeNote = user.role === 'district' ? h('p', { class: 'scope-note' }, t('dashboard.district_scope', { name: '', code: user.district })) : null;
  const dustSlot = h('div');

  viewLayout(root, {
    cls: 'layout',
    map: [toolbar, mapEl],
    side: [
      scopeNote,
      modeBar,
      fireSide,
      dustSlot,
    ],
    detail,
  });

  const map = createMap(mapEl);
  const fires = fireLayer(map, { onSelect: (f) => openFire(f.properties.id) });
  const dust = dustPanel({ user, map, detail, districts: () => [...districtNames].map(([code, name]) => ({ code, name })) });
  dustSlot.append(dust.el);

  // Fires or dust: the side panel, the map's layers and the toolbar follow the mode.
  let mode = 'fires';
  function setMode(m) {
    mode = m;
    modeTabs(modeBar, mode, setMode);
    detail.hidden = true;
    state.selected = null;
    fireSide.hidden = m !== 'fires';
    toolbar.hidden = m !== 'fires';
    if (m === 'fires') { dust.hide(); dustKey.remove(); fires.group.addTo(map); fireLegend.addTo(map); } else { fires.group.remove(); fireLegend.remove(); dustKey.addTo(map); dust.show(); }
    map.resize();
  }
  const fireLegend = addLegend(map);
  const dustKey = dustLegend(map);
  setMode('fires');
  addAreas(map);
  // The whole city, or the district officer's district.
  scopeBounds(user).then((b) => frame(map, b));

  function openFire(id, pan = false) {
    if (mode !== 'fires') setMode('fires');
    detail.setAttribute('aria-label', t('fire.detail'));
    state.selected = id;
    fires.select(id, pan);
    detail.hidden = false;
    showFire(detail, id, {
      onClose: () => { detail.hidden = true; state.selected = null; fires.select(null); },
      onChanged: () => { loadFires(); loadCounts(); },
    });
  }

  const fireLink = (id, code) => h('button', { type: 'button', class: 'link fire-code', on: { click: () => openFire(id, true) } }, code);

  const layerTitle = (name) => pick(layer(name)?.title) || name;

  // Downloads through GET /api/export (managers only; the server checks): the fire ledger as a
  // spreadsheet, or any layer as a GIS file, with the status and kind filters now on screen.
  function exportPanel() {
    const layerSel = h('select', { name: 'export_layer' },
      ['fire_points', 'mines', 'waste_dumps', 'gangue_heaps', 'districts', 'inspections'].map((l) => h('option', { value: l }, layerTitle(l))));
    const formats = [['XLSX', 'export.xlsx'], ['GeoJSON', 'export.geojson'], ['GPKG', 'export.gpkg'], ['ESRI Shapefile', 'export.shp'], ['KML', 'export.kml'], ['CSV', 'export.csv']];
    const href = (format) => {
      const layer = layerSel.value;
      const p = new URLSearchParams({ layer, format });
      if (layer === 'fire_points') {
        if (state.status) p.append('where', `status=${state.status}`);
        if (state.kind) p.append('where', `kind=${state.kind}`);
        if (state.district) p.append('where', `district_code=${state.district}`);
      }
      return `/api/export?${p}`;
    };
    // What the download holds, said in words: the filters it takes from the screen.
    const applied = () => {
      if (layerSel.value !== 'fire_points') return t('export.applied_none');
      const parts = [
        state.status ? `${t('filter.status')} ${state.status === 'burning' ? t('filter.burning') : state.status === 'open' ? t('filter.open') : statusLabel(state.status)}` : null,
        state.kind ? `${t('filter.kind')} ${kindLabel(state.kind)}` : null,
        state.district ? `${t('filter.district')} ${districtNames.get(state.district) ?? state.district}` : null,
      ].filter(Boolean);
      return parts.length ? t('export.applied', { filters: listOf(parts) }) : t('export.applied_none');
    };
    const note = h('p', { class: 'export-applied' });
    const links = h('div', { class: 'export-links' });
    const draw = () => {
      note.textContent = [applied(), state.asOf !== today() ? t('export.today_only', { date: state.asOf }) : null].filter(Boolean).join(' ');
      fill(links, formats
        .filter(([f]) => f !== 'XLSX' || layerSel.value === 'fire_points')
        .map(([f, key]) => h('a', { class: 'btn', href: href(f), download: '', dataset: { format: f } }, t(key))));
    };
    layerSel.addEventListener('change', draw);
    draw();
    return [h('p', { class: 'hint' }, t('export.hint')), h('label', {}, t('export.layer'), layerSel), note, links];
  }

  // The clearance lists come a page at a time (`pages.{list}.next`): "more" adds the next page.
  async function moreRows(key) {
    const c = state.clearance;
    const next = c?.pages?.[key]?.next;
    if (!next) return;
    try {
      const more = await get(next);
      if (state.clearance !== c) return; // the date changed meanwhile
      c[key] = [...c[key], ...more[key]];
      c.pages[key] = more.pages[key];
      renderTabs();
    } catch (e) {
      fill(tabsSlot, h('p', { class: 'form-error' }, e.message));
    }
  }

  const moreRowsButton = (key) => (state.clearance?.pages?.[key]?.next
    ? h('button', { type: 'button', class: 'btn more-rows', dataset: { list: key }, on: { click: () => moreRows(key) } }, t('list.more'))
    : null);

  function renderTabs() {
    const c = state.clearance;
    if (!c) return;
    const tabs = [
      ['overdue', t('tab.overdue', { n: listTotal(c, 'overdue') })],
      ['mines', t('tab.mines')],
      // A league of one is no league: the district officer's own row is the counter above.
      ...(user.role === 'district' ? [] : [['districts', t('tab.districts')]]),
      ['suspended', t('tab.suspended', { n: listTotal(c, 'suspended_mines') })],
      ['list', t('tab.list', { n: state.firesMatched ?? state.fires.length })],
      ...(user.role === 'manager' ? [['export', t('tab.export')]] : []),
    ];
    fill(tabBar, tabs.map(([k, label]) => h('button', {
      type: 'button', role: 'tab', class: ['tab', state.tab === k && 'active'], 'aria-selected': String(state.tab === k), dataset: { tab: k },
      on: { click: () => { state.tab = k; renderTabs(); } },
    }, label)));
    const body = {
      overdue: () => (c.overdue.length
        ? [table([t('col.code'), t('col.district'), t('col.deadline')], c.overdue.map((o) => h('tr', {},
          h('td', {}, fireLink(o.id, o.code), h('div', {}, statusBadge(o.status))),
          h('td', { class: 'nowrap' }, districtNames.get(o.district_code) ?? o.district_code), h('td', {}, deadlineCountdown(o.deadline, true, asOfMoment()),
            o.urged ? h('div', { class: 'hint urged', dataset: { by: o.urged.by } }, t('clearance.urged', { by: o.urged.by, at: fmtDateTime(o.urged.at) })) : null)))),
        moreRowsButton('overdue')]
        : h('p', { class: 'hint' }, t('clearance.no_overdue'))),
      mines: () => [table([t('col.mine'), t('col.burning'), t('col.not_cleared'), t('col.overdue'), t('col.reignitions')],
        c.by_mine.map((m) => h('tr', {}, h('td', {}, h('div', {}, m.name), h('div', { class: 'hint' }, m.holder || t('party.ownerless'))),
          h('td', { class: 'n' }, m.burning), h('td', { class: 'n' }, m.not_cleared), h('td', { class: 'n' }, m.overdue), h('td', { class: 'n' }, m.reignitions)))),
        moreRowsButton('by_mine')],
      districts: () => table([t('col.district'), t('col.burning'), t('col.not_cleared'), t('col.overdue')],
        c.by_district.map((d) => h('tr', {}, h('td', {}, d.name), h('td', { class: 'n' }, d.burning), h('td', { class: 'n' }, d.not_cleared), h('td', { class: 'n' }, d.overdue)))),
      suspended: () => (c.suspended_mines.length
        ? [h('p', { class: 'hint' }, t('suspended.rule')),
          table([t('col.mine'), t('col.holder'), t('col.burning')], c.suspended_mines.map((m) => h('tr', { class: 'suspended', dataset: { licence: m.licence_no } },
            h('td', {}, m.name, h('div', { class: 'hint' }, m.licence_no), h('div', { class: 'fire-links' }, (m.fires ?? []).map((f) => fireLink(f.id, f.code)))),
            h('td', {}, m.holder || t('party.ownerless')), h('td', { class: 'n' }, m.burning)))),
          moreRowsButton('suspended_mines')]
        : h('p', { class: 'hint' }, t('suspended.none'))),
      list: () => [table([t('col.code'), t('col.responsible'), t('col.deadline')], state.fires.map((f) => {
        const p = f.properties;
        return h('tr', { dataset: { fireId: p.id } }, h('td', {}, fireLink(p.id, p.code), h('div', {}, statusBadge(p.status))),
          h('td', {}, p.responsible?.name ?? ''), h('td', {}, deadlineCountdown(p.deadline, p.burning, asOfMoment())));
      })),
      state.firesNext ? h('button', { type: 'button', class: 'btn more-fires', on: { click: moreFires } }, t('list.more')) : null],
      export: () => exportPanel(),
    }[state.tab];
    fill(tabsSlot, body());
  }

  // The "as of" date redraws the counts, the chart and the map: GET /api/fires?at= gives each
  // fire's status at the end of that day (fires reported later are left out). A fire opened from
  // there shows as it is now.
  async function loadCounts() {
    const at = state.asOf === today() ? undefined : state.asOf;
    try {
      const [c, daily] = await Promise.all([get(`/api/clearance${qs({ at })}`), get(`/api/clearance/daily${qs({ to: at })}`)]);
      state.clearance = c;
      if (c.data_since) asOfInput.min = c.data_since;
      const sel = toolbar.querySelector('select[name=district]');
      for (const d of c.by_district) {
        if (sel && !districtNames.has(d.code)) sel.append(h('option', { value: d.code }, d.name));
        districtNames.set(d.code, d.name);
      }
      if (scopeNote && districtNames.has(user.district)) scopeNote.textContent = t('dashboard.district_scope', { name: districtNames.get(user.district), code: user.district });
      fill(counterSlot, counter(c, state.asOf));
      fill(chartSlot, burnDown(daily.days));
      renderTabs();
    } catch (e) {
      fill(counterSlot, h('p', { class: 'form-error' }, e.message));
    }
  }

  // The server's `overdue` is about now; as of a past day, a fire was overdue if it burned then
  // past its deadline.
  const asOfOverdue = (fc, at) => {
    if (at) for (const f of fc.features) f.properties.overdue = Boolean(f.properties.burning && f.properties.deadline && f.properties.deadline < f.properties.as_of);
  };

  // How many fires the filter matches (numberMatched, when the server counted) and how many are
  // loaded: the first page, then each page "more" asks for.
  function showCount(at) {
    const n = state.fires.length;
    const total = state.firesMatched;
    let text;
    if (total !== null && total > n) text = t('filter.count_of', { n, total });
    else if (total === null && state.firesNext) text = t('filter.count_more', { n });
    else text = at ? t('filter.count_as_of', { n, date: at }) : t('filter.count', { n });
    toolbar.querySelector('.fire-count').textContent = text;
  }

  // The map draws the fires from tiles where the server serves them and the filter is one the
  // tiles carry (a status, today); a kind, a district or a past date draws the list instead.
  let fireAsk = 0;
  // A filter the user picks moves the map to what it shows: the district picked, else the
  // fires it lists (the first page). The user's own frame stays what "home" is.
  async function reframe(fc) {
    let b = null;
    if (state.district) {
      try {
        const { data } = await getCached(`/collections/districts/items?code=${encodeURIComponent(state.district)}`);
        b = boundsOf(data.features);
      } catch { /* offline and never seen: the fires */ }
    }
    b ??= boundsOf(fc.features);
    if (b) map.fitBounds(b, { padding: 40, maxZoom: 14, animate: false });
  }

  async function loadFires(refit = false) {
    const ask = ++fireAsk;
    const at = state.asOf === today() ? undefined : state.asOf;
    const list = get(withLimit(`/api/fires${qs({ status: state.status, kind: state.kind, district: state.district, at })}`, FIRE_PAGE));
    list.catch(() => {}); // awaited below
    const tiled = !state.kind && !state.district && !at && await fires.tiled;
    if (ask !== fireAsk) return; // asked again meanwhile
    if (tiled) fires.useTiles(state.status);
    try {
      const fc = await list;
      asOfOverdue(fc, at);
      if (ask !== fireAsk) return; // the date or a filter changed meanwhile
      state.fires = fc.features;
      state.firesNext = nextPage(fc);
      state.firesMatched = fc.numberMatched ?? null;
      state.tiled = tiled;
      if (!tiled) fires.set(state.fires);
      showCount(at);
      renderTabs();
      if (refit) reframe(fc);
    } catch (e) {
      toolbar.querySelector('.fire-count').textContent = e.message;
    }
  }

  /** The next page of fires, added to the list (and to the map when it draws the list). */
  async function moreFires() {
    const at = state.asOf === today() ? undefined : state.asOf;
    const next = state.firesNext;
    const ask = fireAsk;
    if (!next) return;
    try {
      const fc = await get(next);
      asOfOverdue(fc, at);
      if (ask !== fireAsk) return;
      state.fires = [...state.fires, ...fc.features];
      state.firesNext = nextPage(fc);
      if (!state.tiled) fires.set(state.fires);
      showCount(at);
      renderTabs();
    } catch (e) {
      toolbar.querySelector('.fire-count').textContent = e.message;
    }
  }

  loadCounts();
  loadFires();
  const unlistenFire = onOpenFire((id) => openFire(id, true));
  const unlistenDust = onOpenDust(({ issue, monitor }) => {
    if (mode !== 'dust') setMode('dust');
    if (issue) { dust.tab('issues'); dust.openIssue(issue); } else if (monitor) dust.openMonitorByMn(monitor); else dust.tab('warnings');
  });
  const unlisten = () => { unlistenFire(); unlistenDust(); };
  const timer = setInterval(() => { if (document.visibilityState === 'visible') { loadFires(); loadCounts(); } }, REFRESH_MS);
  return () => { clearInterval(timer); unlisten(); dust.destroy(); map.remove(); };
}
