// Dust reference data: the rules the server applies (GET /api/dust/rules — limits, the wind
// speed that suggests a warning, each warning level's measures and their labels), and the
// labels and colours of monitor states, pollutants, warning levels, alerts and violations.
// Violation kinds, statuses and colours come from the `dust_issues` layer file (/api/layers),
// pollutant names from the `dust_monitors` one; the rest from the translation tables. Offline,
// the last copy of the rules is used, and the server's defaults on a device never online.

import { getCached } from './api.js';
import { t, has, pick, getLang, num } from './i18n.js';
import { valueLabel, colourOf, values, layer } from './layers.js';

const DEFAULTS = {
  tsp_hour_ug: 1000,
  pm10_day_ug: 150,
  pm25_day_ug: 75,
  tsp_day_ug: 300,
  wind_suggest_ms: 8.0,
  measures: {},
};
const LEVELS = ['yellow', 'orange', 'red', 'gale', 'sandstorm', 'fog'];
export const ISSUE_KINDS = ['open_stockpile', 'unhardened_road', 'unswept_road', 'uncovered_truck', 'blasting_outside_window', 'no_spraying'];
export const POLLUTANTS = ['tsp', 'pm10', 'pm25'];

let rules = { ...DEFAULTS };
let levels = LEVELS;
let measureTitles = new Map();
let levelTitles = new Map();

/** Fetches the dust rules (or the cached copy); never fails: the defaults stand in. */
export async function loadDustRules() {
  try {
    const { data } = await getCached('/api/dust/rules');
    rules = { ...DEFAULTS, ...(data.rules ?? {}) };
    if (data.levels?.length) {
      levels = data.levels.map((l) => (typeof l === 'string' ? l : l.code)).filter(Boolean);
      levelTitles = new Map(data.levels.filter((l) => l?.code).map((l) => [l.code, { zh: l.zh, en: l.en }]));
    }
    measureTitles = new Map((data.measures ?? []).map((m) => [m.code, { zh: m.zh, en: m.en }]));
  } catch (e) {
    console.warn('dust rules: using the defaults', e.message);
  }
  return rules;
}

export const dustRules = () => rules;
export const warningLevels = () => levels;

/** A warning level's name ("黄色预警", "Gale"), as the server names it, else as the bell does. */
export const levelLabel = (l) => pick(levelTitles.get(l)) || (has(`notify.level.${l}`) ? t(`notify.level.${l}`) : l);

/** A warning level's colour (the national scheme's for pollution; blue-grey for weather). */
export const LEVEL_COLOURS = { yellow: '#fdd835', orange: '#fb8c00', red: '#d50000', gale: '#1565c0', sandstorm: '#8d6e63', fog: '#78909c' };

/** A restriction measure's label, as the server names it in the UI language. */
export const measureLabel = (code) => pick(measureTitles.get(code)) || (has(`dust.measure.${code}`) ? t(`dust.measure.${code}`) : code);

/** "TSP", "PM10", "PM2.5", "风速" — from the dust_monitors layer file. */
export function pollutantLabel(q) {
  const l = valueLabel('dust_monitors', 'pollutants', q);
  return l && l !== q ? l : ({ tsp: 'TSP', pm10: 'PM10', pm25: 'PM2.5' }[q] ?? q);
}

// Monitor states against the limit: ok green, near amber, over red, stale / none grey.
const STATE_COLOURS = { ok: '#2e7d32', near: '#ff8f00', over: '#c62828', stale: '#9e9e9e', none: '#9e9e9e' };
export const stateColour = (s) => STATE_COLOURS[s] ?? STATE_COLOURS.none;
export const stateLabel = (s) => t(`dust.state.${STATE_COLOURS[s] ? s : 'none'}`);

export const alertStatusLabel = (s) => (has(`dust.alert_status.${s}`) ? t(`dust.alert_status.${s}`) : s);
const ALERT_COLOURS = { open: '#c62828', rectifying: '#ff8f00', closed: '#2e7d32' };
export const alertStatusColour = (s) => ALERT_COLOURS[s] ?? '#555';

// Violations: kinds, statuses and colours from the layer file.
export const issueKinds = () => (values('dust_issues', 'kind').length ? values('dust_issues', 'kind') : ISSUE_KINDS);
export const issueKindLabel = (k) => valueLabel('dust_issues', 'kind', k);
export const issueStatusLabel = (s) => valueLabel('dust_issues', 'status', s);
export const issueStatusColour = (s) => (layer('dust_issues') ? colourOf('dust_issues', { status: s }) : ({ open: '#c62828', rectifying: '#ff8f00', rectified: '#1565c0', verified: '#2e7d32' }[s] ?? '#555'));

/** An alert's attribution in the UI language. */
export const attributionText = (a) => (getLang() === 'en' ? a?.text_en ?? a?.text : a?.text ?? a?.text_en) ?? '';

/** "1,240 µg/m³" */
export const ug = (v) => t('dust.ug', { v: num(v, 1) });

/**
 * The actions a user may take on an alert. The server decides (and says so when it refuses);
 * when its answer carries no `allowed_actions`, this mirrors its rule: the responsible party
 * (the owner, or the district officer for a district-responsible alert) starts rectifying an
 * open alert, a manager may do that and close an open or rectifying one.
 */
export function alertActions(a, user) {
  if (Array.isArray(a.allowed_actions)) return a.allowed_actions;
  const responsible = user.role === 'owner'
    || (user.role === 'district' && a.responsible?.party === 'district' && a.responsible?.district_code === user.district);
  const out = [];
  if (a.status === 'open' && (user.role === 'manager' || responsible)) out.push('start_rectifying');
  if ((a.status === 'open' || a.status === 'rectifying') && user.role === 'manager') out.push('close');
  return out;
}

/** Whether a warning's period covers `now`. */
export const inForce = (w, now = Date.now()) => new Date(w.from).getTime() <= now && now < new Date(w.to).getTime();
