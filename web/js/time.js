// Dates and countdowns. The city keeps its days in China Standard Time (the server's "as of" and
// daily series use UTC+8 days), so times show in that zone whatever the device's zone is.

import { t, locale, getLang } from './i18n.js';

export const ZONE = 'Asia/Shanghai';

// English dates are written year-month-day: a browser's date picker may show MM/DD or DD/MM by
// its own locale, and 03/04 beside it would be read either way.
function isoLike(iso, withTime) {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
    ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
  });
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  const day = `${p.year}-${p.month}-${p.day}`;
  return withTime ? `${day} ${p.hour}:${p.minute}` : day;
}

export function fmtDateTime(iso) {
  if (!iso) return t('common.none');
  if (getLang() === 'en') return isoLike(iso, true);
  return new Date(iso).toLocaleString(locale(), {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

export function fmtDate(iso) {
  if (!iso) return t('common.none');
  if (getLang() === 'en') return isoLike(iso, false);
  return new Date(iso).toLocaleDateString(locale(), { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
}

/** Today in the city's zone, as YYYY-MM-DD (for date inputs and the API's `at`). */
export function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

/** "2 d 5 h left" or "overdue 3 h" for a deadline. */
export function countdown(iso, now = Date.now()) {
  if (!iso) return { text: t('deadline.none'), overdue: false };
  const ms = new Date(iso).getTime() - now;
  const overdue = ms < 0;
  const mins = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(mins / 1440);
  const hrs = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const span = d > 0 ? t('duration.dh', { d, h: hrs }) : hrs > 0 ? t('duration.hm', { h: hrs, m }) : t('duration.m', { m });
  return { text: overdue ? t('deadline.overdue_by', { span }) : t('deadline.left', { span }), overdue };
}

/** "3 minutes ago", "yesterday" — in the UI language; older than a month, the date. */
export function ago(iso, now = Date.now()) {
  const s = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (abs < 60) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 30 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  return fmtDate(iso);
}
