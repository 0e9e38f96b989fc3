// Translation tables: every visible string of the app comes from web/i18n/{zh,en}.json, looked
// up by key. Chinese is the default; the choice is remembered in localStorage.
// A missing key shows the key itself (and warns), so the browser tests can spot it.

const STORE_KEY = 'qingling.lang';
export const LANGS = ['zh', 'en'];
let lang = LANGS.includes(localStorage.getItem(STORE_KEY)) ? localStorage.getItem(STORE_KEY) : 'zh';
let table = {};

export const getLang = () => lang;
/** The BCP 47 tag for Intl and Accept-Language. */
export const locale = () => (lang === 'zh' ? 'zh-CN' : 'en-GB');

export async function loadLang(l = lang) {
  const res = await fetch(`i18n/${l}.json`);
  if (!res.ok) throw new Error(`i18n/${l}.json: ${res.status}`);
  table = await res.json();
  lang = l;
  document.documentElement.lang = locale();
}

export async function setLang(l) {
  localStorage.setItem(STORE_KEY, l);
  await loadLang(l);
}

/** The string for `key`, with `{name}` placeholders filled from `args`. */
export function t(key, args = {}) {
  const s = table[key];
  if (s === undefined) {
    console.warn(`i18n: missing key ${key} (${lang})`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in args ? String(args[name]) : m));
}

/** Whether the tables have `key` (for values the server may add, e.g. a new treatment method). */
export const has = (key) => key in table;

/** Picks the current language from a server-side `{zh, en}` title. */
export function pick(title) {
  if (!title) return '';
  if (typeof title === 'string') return title;
  return title[lang] ?? title.zh ?? title.en ?? '';
}

/** Formats a number in the current locale. */
export const num = (n, digits = 0) =>
  n === null || n === undefined ? t('common.none')
    : Number(n).toLocaleString(locale(), { maximumFractionDigits: digits });

/** A list in the current language: "A、B和C" in Chinese, "A, B and C" in English. */
export const listOf = (items) => new Intl.ListFormat(locale(), { type: 'conjunction' }).format(items.map(String));
