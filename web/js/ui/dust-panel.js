// The dust side of the dashboard (manager and district officer; the server filters what a
// district officer sees): the monitors on the map coloured by their latest value against the
// limit, a monitor's chart, the exceedance alerts with their actions, the warnings (a manager
// issues them, for districts or an area drawn on the map) with their restrictions, the
// violations logged by patrols, and — for a manager — a suggestion to issue a gale warning when
// monitors report wind at or over the threshold.

import { h, fill, toast } from '../dom.js';
import { t, num } from '../i18n.js';
import { get, getPages, ApiError } from '../api.js';
import { fmtDateTime } from '../time.js';
import { monitorLayer, issueLayer, warningAreaLayer, stateBadge } from './dust-map.js';
import { centreOn } from './map.js';
import { showMonitor } from './dust-monitor.js';
import { showIssue } from './dust-issue.js';
import { alertList, warningCard, issueList } from './dust-lists.js';
import { warningForm, issuedText } from './dust-warning-form.js';
import { loadDustRules, ug, inForce, issueStatusLabel, alertStatusLabel } from '../dust.js';

const REFRESH_MS = 60_000;
const STATE_ORDER = ['over', 'near', 'ok', 'stale', 'none'];

/**
 * Mounts the panel. `map`: the dashboard's map; `detail`: the aside for a monitor's or a
 * violation's detail; `districts()`: [{code, name}] known so far. Returns `{ el, show, hide,
 * destroy }`: the map layers are on the map only while the panel is shown.
 */
export function dustPanel({ user, map, detail, districts }) {
  const manager = user.role === 'manager';
  const state = {
    tab: 'monitors', monitors: [], alerts: [], warnings: [], restrictions: [], issues: [], suggestions: null,
    alertStatus: 'active', issueStatus: 'active', form: null, errors: {}, shown: false, selected: null,
  };
  const banner = h('div', { class: 'suggestion-slot' });
  const tabBar = h('div', { class: 'tabs dust-tabs', role: 'tablist' });
  const body = h('div', { class: 'tabs-body dust-body' });
  const el = h('div', { class: 'dust-panel', hidden: true }, banner, tabBar, body);

  const monitors = monitorLayer(map, { onSelect: (m) => openMonitor(m) });
  const issues = issueLayer(map, { onSelect: (f) => openIssue(f.properties.uuid) });
  const areas = warningAreaLayer(map);
  const districtName = (code) => districts().find((d) => d.code === code)?.name ?? code;
  const monitorName = (mn) => state.monitors.find((m) => m.mn === mn)?.name ?? mn;

  function closeDetail() { detail.hidden = true; state.selected = null; }

  function openMonitor(m) {
    state.selected = { kind: 'monitor', id: m.mn };
    detail.setAttribute('aria-label', t('dust.monitor_detail'));
    detail.hidden = false;
    showMonitor(detail, m, {
      onClose: closeDetail, user, onChanged: load,
      alerts: state.alerts.filter((a) => a.mn === m.mn),
    });
  }

  function openIssue(uuid) {
    state.selected = { kind: 'issue', id: uuid };
    detail.setAttribute('aria-label', t('dust.issue_detail'));
    detail.hidden = false;
    showIssue(detail, uuid, { onClose: closeDetail, onChanged: load });
  }

  // ---- the suggestion banner (managers) ------------------------------------------------------
  function paintBanner() {
    const s = state.suggestions;
    if (!manager || !s?.suggestions?.length) { fill(banner); return; }
    const codes = [...new Set(s.suggestions.map((x) => x.district_code).filter(Boolean))];
    fill(banner, h('div', { class: 'banner banner-warn suggestion', role: 'alert', dataset: { n: String(s.suggestions.length) } },
      h('strong', {}, t('dust.suggest_title')),
      h('ul', {}, s.suggestions.map((x) => h('li', { dataset: { mn: x.mn } },
        t('dust.suggest_line', { name: x.name ?? x.mn, ms: num(x.wind_speed, 1), threshold: num(s.threshold, 1), at: fmtDateTime(x.time) })))),
      h('button', {
        type: 'button', class: 'btn btn-primary suggest-issue',
        on: { click: () => openForm({ level: s.suggestions[0].kind ?? 'gale', districts: codes }) },
      }, t('dust.suggest_button'))));
  }

  // ---- tabs ------------------------------------------------------------------------------------
  const openAlerts = () => state.alerts.filter((a) => a.status !== 'closed');
  const openIssues = () => state.issues.filter((f) => f.properties.status !== 'verified');
  const activeWarnings = () => state.warnings.filter((w) => w.active ?? inForce(w));

  function paintTabs() {
    const tabs = [
      ['monitors', t('dust.tab_monitors', { n: state.monitors.length })],
      ['alerts', t('dust.tab_alerts', { n: openAlerts().length })],
      ['warnings', t('dust.tab_warnings', { n: activeWarnings().length })],
      ['issues', t('dust.tab_issues', { n: openIssues().length })],
    ];
    fill(tabBar, tabs.map(([k, label]) => h('button', {
      type: 'button', role: 'tab', class: ['tab', 'dust-tab', state.tab === k && 'active'], 'aria-selected': String(state.tab === k), dataset: { dustTab: k },
      on: { click: () => { state.tab = k; paint(); } },
    }, label)));
  }

  function errorOf(what) {
    return state.errors[what] ? h('p', { class: 'form-error' }, state.errors[what]) : null;
  }

  function filterSelect(name, value, options, onChange) {
    return h('label', { class: 'inline-filter' }, t('filter.status'), h('select', { name, on: { change: (e) => onChange(e.target.value) } },
      options.map(([v, label]) => h('option', { value: v, selected: v === value }, label))));
  }

  function monitorsBody() {
    const counts = STATE_ORDER.map((s) => [s, state.monitors.filter((m) => m.state === s).length]).filter(([, n]) => n);
    const sorted = [...state.monitors].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || (b.ratio ?? 0) - (a.ratio ?? 0));
    return [
      errorOf('monitors'),
      h('div', { class: 'state-counts' }, counts.map(([s, n]) => h('span', { class: 'state-count' }, stateBadge(s), ' ', num(n)))),
      state.monitors.length ? h('table', { class: 'league monitor-table' },
        h('thead', {}, h('tr', {}, [t('dust.col_monitor'), t('dust.col_state'), t('dust.col_tsp_hour'), t('dust.ratio')].map((x) => h('th', {}, x)))),
        h('tbody', {}, sorted.map((m) => h('tr', { dataset: { mn: m.mn, state: m.state } },
          h('td', {}, h('button', { type: 'button', class: 'link monitor-link', on: { click: () => { pan(m.position); openMonitor(m); } } }, m.name ?? m.mn),
            h('div', { class: 'hint' }, m.holder ?? districtName(m.district_code) ?? '')),
          h('td', {}, stateBadge(m.state)),
          h('td', { class: 'n' }, m.hour?.tsp == null ? t('common.none') : ug(m.hour.tsp)),
          h('td', { class: 'n' }, m.ratio == null ? t('common.none') : t('dust.ratio_value', { pct: num(m.ratio * 100) }))))))
        : h('p', { class: 'hint' }, t('dust.no_monitors')),
      h('p', { class: 'hint' }, t('dust.state_rule')),
    ];
  }

  function alertsBody() {
    const list = state.alerts.filter((a) => (state.alertStatus === 'all' ? true : state.alertStatus === 'active' ? a.status !== 'closed' : a.status === state.alertStatus));
    return [
      errorOf('alerts'),
      filterSelect('alert_status', state.alertStatus, [['active', t('dust.filter_active')], ...['open', 'rectifying', 'closed'].map((s) => [s, alertStatusLabel(s)]), ['all', t('filter.all')]],
        (v) => { state.alertStatus = v; paint(); }),
      alertList(list, { user, monitorName, onChanged: load }),
    ];
  }

  function openForm(preset = {}) {
    state.tab = 'warnings';
    state.form?.destroy?.();
    state.form = warningForm({
      map, districts: districts(), preset,
      onCancel: () => { state.form = null; paint(); },
      onDone: (w) => {
        state.form = null;
        toast(issuedText(w), 'ok');
        state.lastIssued = w;
        load();
      },
    });
    paint();
    state.form.scrollIntoView?.({ block: 'start' });
  }

  function warningsBody() {
    const result = state.lastIssued;
    return [
      errorOf('warnings'),
      manager && !state.form ? h('button', { type: 'button', class: 'btn btn-primary new-warning', on: { click: () => openForm() } }, t('dust.new_warning')) : null,
      !manager ? h('p', { class: 'hint' }, t('dust.warnings_manager_only')) : null,
      state.form,
      result ? h('p', { class: 'banner banner-ok issued-result', dataset: { warningId: String(result.id) } }, issuedText(result)) : null,
      state.warnings.length
        ? h('ul', { class: 'dust-list warning-list' }, state.warnings.map((w) => warningCard(w, {
          districtName, restrictions: state.restrictions, onShow: (x) => { areas.set([x]); fitArea(x.area); },
        })))
        : h('p', { class: 'hint' }, t('dust.no_warnings')),
    ];
  }

  function issuesBody() {
    const list = state.issues.filter((f) => {
      const s = f.properties.status;
      return state.issueStatus === 'all' ? true : state.issueStatus === 'active' ? s !== 'verified' : s === state.issueStatus;
    });
    return [
      errorOf('issues'),
      filterSelect('issue_status', state.issueStatus, [['active', t('dust.filter_active')], ...['open', 'rectifying', 'rectified', 'verified'].map((s) => [s, issueStatusLabel(s)]), ['all', t('filter.all')]],
        (v) => { state.issueStatus = v; paint(); }),
      issueList(list, { onOpen: (f) => { pan(f.geometry?.coordinates); openIssue(f.properties.uuid); } }),
    ];
  }

  function pan(pos) {
    if (Array.isArray(pos)) centreOn(map, pos, 12);
  }

  function fitArea(area) {
    try {
      const coords = (area.type === 'Polygon' ? [area.coordinates] : area.coordinates).flat(2);
      const lats = coords.map((c) => c[1]);
      const lons = coords.map((c) => c[0]);
      map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 30 });
    } catch { /* not a polygon: leave the map as it is */ }
  }

  function paint() {
    paintBanner();
    paintTabs();
    // The form keeps its state (and the area drawn) across repaints: it is the same element.
    fill(body, { monitors: monitorsBody, alerts: alertsBody, warnings: warningsBody, issues: issuesBody }[state.tab]());
  }

  // ---- data ------------------------------------------------------------------------------------
  async function load() {
    const asks = {
      // Each list a page at a time, all of it (up to a few thousand: what a panel can show).
      monitors: getPages('/api/dust/monitors', 'monitors').then((d) => d.monitors),
      alerts: getPages('/api/dust/alerts', 'alerts').then((d) => d.alerts),
      warnings: getPages('/api/dust/warnings', 'warnings').then((d) => d.warnings),
      restrictions: getPages('/api/dust/restrictions', 'restrictions').then((d) => d.restrictions),
      issues: getPages('/api/dust/issues', 'features').then((d) => d.features),
      suggestions: manager ? get('/api/dust/suggestions') : Promise.resolve(null),
    };
    const keys = Object.keys(asks);
    const results = await Promise.allSettled(Object.values(asks));
    results.forEach((r, i) => {
      const k = keys[i];
      if (r.status === 'fulfilled') {
        state[k] = r.value ?? (k === 'suggestions' ? null : []);
        delete state.errors[k];
      } else {
        state.errors[k] = r.reason instanceof ApiError ? r.reason.message : String(r.reason);
      }
    });
    monitors.set(state.monitors);
    issues.set(state.issues);
    areas.set(activeWarnings());
    if (state.shown) paint();
  }

  let timer = null;
  const loaded = loadDustRules();
  return {
    el,
    async show() {
      state.shown = true;
      el.hidden = false;
      for (const g of [areas.group, monitors.group, issues.group]) g.addTo(map);
      paint();
      await loaded;
      await load();
      timer ??= setInterval(() => { if (document.visibilityState === 'visible') load(); }, REFRESH_MS);
    },
    hide() {
      state.shown = false;
      el.hidden = true;
      clearInterval(timer);
      timer = null;
      state.form?.destroy?.();
      state.form = null;
      for (const g of [areas.group, monitors.group, issues.group]) g.remove();
      if (state.selected) closeDetail();
    },
    destroy() { clearInterval(timer); state.form?.destroy?.(); },
    /** Shows one of the tabs (monitors, alerts, warnings, issues). */
    tab(k) { state.tab = k; if (state.shown) paint(); },
    openIssue,
    /** Shows the monitors and opens the one with this MN (a silent monitor's notice). */
    openMonitorByMn(mn) {
      state.tab = 'monitors';
      if (state.shown) paint();
      const m = state.monitors.find((x) => x.mn === mn);
      if (m) openMonitor(m);
    },
  };
}
