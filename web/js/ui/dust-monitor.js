// One dust monitor: its latest values and state, and its series over time — hourly means for
// the last 7 days by default, daily means (30 days) or raw readings (24 hours) — for TSP, PM10
// or PM2.5, with the limit that applies drawn across (the 1-hour TSP limit on hourly TSP, the
// 24-hour limits on daily means; a daily mean on fewer than 20 hours is shown hollow, it is not
// a valid mean), and the wind speed against the speed that suggests a gale warning.

import { h, fill } from '../dom.js';
import { t, num } from '../i18n.js';
import { get, qs, ApiError } from '../api.js';
import { series } from './chart.js';
import { monitorFacts, stateBadge } from './dust-map.js';
import { dustRules, pollutantLabel, POLLUTANTS } from '../dust.js';
import { alertList } from './dust-lists.js';

const RANGE_MS = { raw: 86_400_000, hour: 7 * 86_400_000, day: 30 * 86_400_000 };
export const INTERVALS = ['hour', 'day', 'raw'];

/** The limits that apply to a pollutant's values at an interval. */
export function limitsFor(pollutant, interval) {
  const r = dustRules();
  if (interval === 'hour' && pollutant === 'tsp') return [{ value: r.tsp_hour_ug, label: t('chart.limit_hour', { v: num(r.tsp_hour_ug) }) }];
  if (interval === 'day') {
    const v = r[`${pollutant}_day_ug`];
    return v ? [{ value: v, label: t('chart.limit_day', { v: num(v) }) }] : [];
  }
  return [];
}

function segmented(name, options, current, label, onPick) {
  return h('div', { class: 'segmented-buttons', role: 'group', dataset: { name } }, options.map((o) => h('button', {
    type: 'button', class: ['toggle-small', name, o === current && 'active'], dataset: { [name]: o }, 'aria-pressed': String(o === current),
    on: { click: () => onPick(o) },
  }, label(o))));
}

/**
 * Renders a monitor (an entry of GET /api/dust/monitors) into `panel`. Options: `onClose()`,
 * `alerts` (this monitor's alerts, with `user`, `onChanged` for their actions).
 */
/**
 * The chart a monitor opens on: the figure nearest its limit (as the map colours it), so a
 * monitor over its 24-hour PM10 limit opens on daily PM10, not on hourly TSP.
 */
export function worstChart(m) {
  const r = dustRules();
  const invalid = m.day?.invalid ?? [];
  const candidates = [
    ['hour', 'tsp', m.hour?.tsp, r.tsp_hour_ug],
    ...['pm10', 'pm25', 'tsp'].map((q) => ['day', q, invalid.includes(q) ? null : m.day?.[q], r[`${q}_day_ug`]]),
  ].filter(([, , v, limit]) => v != null && limit);
  const [interval, pollutant] = candidates.sort((a, b) => b[2] / b[3] - a[2] / a[3])[0] ?? ['hour', 'tsp'];
  return { interval, pollutant };
}

export function showMonitor(panel, m, opts = {}) {
  const state = { ...worstChart(m), data: null, seq: 0 };
  const chartSlot = h('div', { class: 'chart-box monitor-chart' });
  const windSlot = h('div', { class: 'chart-box wind-chart' });
  const controls = h('div', { class: 'chart-controls' });
  const caption = h('p', { class: 'hint chart-caption' });

  function paintControls() {
    fill(controls,
      segmented('interval', INTERVALS, state.interval, (i) => t(`dust.interval.${i}`), (i) => { state.interval = i; load(); }),
      segmented('pollutant', POLLUTANTS, state.pollutant, pollutantLabel, (q) => { state.pollutant = q; paintControls(); draw(); }));
  }

  function draw() {
    const d = state.data;
    if (!d) return;
    const rows = d.readings ?? [];
    const from = Date.now() - RANGE_MS[state.interval];
    const to = Date.now();
    const q = state.pollutant;
    const points = rows.map((r) => ({
      time: r.time,
      value: r[q] ?? null,
      valid: r.valid === false || (Array.isArray(r.invalid) && r.invalid.includes(q)) ? false : true,
    }));
    const limits = limitsFor(q, state.interval);
    if (!rows.length) {
      fill(chartSlot, h('p', { class: 'hint' }, t('dust.no_readings')));
      fill(windSlot);
    } else {
      const svg = series(points, { limits, label: pollutantLabel(q), from, to, days: state.interval === 'day' });
      Object.assign(svg.dataset, { interval: state.interval, pollutant: q });
      fill(chartSlot, h('div', { class: 'chart-title' }, t('dust.chart_title', { q: pollutantLabel(q), unit: 'µg/m³' })), svg);
      const wind = rows.map((r) => ({ time: r.time, value: r.wind_speed ?? null }));
      const ws = dustRules().wind_suggest_ms;
      fill(windSlot, wind.some((w) => w.value !== null) ? [
        h('div', { class: 'chart-title' }, t('dust.chart_title', { q: pollutantLabel('wind_speed'), unit: 'm/s' })),
        series(wind, { limits: [{ value: ws, label: t('chart.wind_threshold', { v: num(ws, 1) }) }], label: pollutantLabel('wind_speed'), from, to, days: state.interval === 'day', height: 140 }),
      ] : null);
    }
    const invalid = points.filter((p) => p.valid === false && p.value !== null).length;
    // Each day's completeness: hours received (n) of those expected (24).
    const days = rows.filter((r) => r.expected != null);
    caption.textContent = [
      t(`dust.range.${state.interval}`),
      limits.length ? null : t('dust.no_limit', { q: pollutantLabel(q) }),
      invalid ? t('dust.invalid_days', { n: invalid }) : null,
      days.length ? t('dust.days_complete', { full: days.filter((r) => r.n >= r.expected).length, days: days.length }) : null,
    ].filter(Boolean).join(' ');
  }

  async function load() {
    paintControls();
    const seq = ++state.seq;
    fill(chartSlot, h('p', { class: 'hint' }, t('common.loading')));
    const to = new Date();
    const from = new Date(to.getTime() - RANGE_MS[state.interval]);
    try {
      const d = await get(`/api/dust/monitors/${encodeURIComponent(m.mn)}/readings${qs({ from: from.toISOString(), to: to.toISOString(), interval: state.interval })}`);
      if (seq !== state.seq) return;
      state.data = d;
      draw();
    } catch (e) {
      if (seq !== state.seq) return;
      fill(chartSlot, h('p', { class: 'form-error' }, e instanceof ApiError ? e.message : String(e)));
    }
  }

  fill(panel, h('div', { class: 'monitor-detail', dataset: { mn: m.mn } },
    h('div', { class: 'detail-head' },
      h('div', {}, h('h3', {}, m.name ?? m.mn), stateBadge(m.state), ' ', h('span', { class: 'hint' }, m.mn)),
      h('button', { type: 'button', class: 'btn btn-close', 'aria-label': t('common.close'), on: { click: () => opts.onClose?.() } }, '×')),
    h('p', { class: 'hint' }, [m.mine_name ?? m.mine, m.holder].filter(Boolean).join(' · ') || t('dust.no_mine')),
    h('section', {}, h('h4', {}, t('dust.latest')), monitorFacts(m)),
    h('section', {}, h('h4', {}, t('dust.series')), controls, chartSlot, caption, windSlot),
    opts.alerts ? h('section', {}, h('h4', {}, t('dust.monitor_alerts', { n: opts.alerts.length })),
      alertList(opts.alerts, { user: opts.user, monitorName: () => m.name ?? m.mn, onChanged: opts.onChanged })) : null));
  load();
}
