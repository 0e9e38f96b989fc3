// The rules the server enforces, as it publishes them (GET /api/rules): the control threshold,
// the duplicate radius, the GPS accuracy limit, the treatment methods, the code prefix. Forms
// and hints read them from here; the server still decides. Offline, the copy from the last
// connection is used (the page's data cache), and on a device that has never been online the
// server's defaults below.

import { getCached } from './api.js';
import { t, has } from './i18n.js';

const DEFAULTS = {
  threshold_c: 50,
  duplicate_radius_m: 50,
  max_gps_accuracy_m: 100,
  watch_days: 365,
  code_prefix: 'WH',
  methods: ['strip_dig', 'loess_cover', 'grouting', 'water', 'nitrogen', 'sealing'],
};

let current = { ...DEFAULTS };

/** Fetches the rules (or takes the cached copy); never fails: the defaults stand in. */
export async function loadRules() {
  try {
    const { data } = await getCached('/api/rules');
    current = {
      ...DEFAULTS,
      ...data.rules,
      methods: data.methods?.length ? data.methods : DEFAULTS.methods,
      max_gps_accuracy_m: data.max_gps_accuracy_m ?? DEFAULTS.max_gps_accuracy_m,
    };
  } catch (e) {
    console.warn('rules: using the defaults', e.message);
  }
  return current;
}

/** The rules in force: `threshold_c`, `duplicate_radius_m`, `max_gps_accuracy_m`, `methods`, … */
export const rules = () => current;

/** A treatment method's label; a method the tables do not know yet shows as the server names it. */
export const methodLabel = (m) => (has(`method.${m}`) ? t(`method.${m}`) : m);
