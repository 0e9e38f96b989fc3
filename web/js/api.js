// Talking to the server. Same-origin fetches carry the HttpOnly session cookie, so no token is
// kept in script. Errors come back as ApiError with the server's message (in the UI language,
// asked for with Accept-Language); a failed connection is status 0. A FormData body (photos)
// goes as multipart/form-data, everything else as JSON.

import { locale, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, detail = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
  get offline() { return this.status === 0; }
}

/** Called when the server says the session is gone (401), except on the login call itself. */
let onUnauthorized = () => {};
export const setUnauthorizedHandler = (fn) => { onUnauthorized = fn; };

export async function request(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': locale() };
  const multipart = body instanceof FormData; // the browser sets its Content-Type and boundary
  if (body !== undefined && !multipart) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (res.status === 204) return { status: 204, data: null };
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep null */ }
  if (!res.ok) {
    if (res.status === 401 && !quiet401) onUnauthorized();
    throw new ApiError(res.status, data?.error ?? 'http', data?.message ?? t('error.http', { status: res.status }), data?.detail);
  }
  return { status: res.status, data };
}

export const get = async (path, opts) => (await request('GET', path, undefined, opts)).data;
export const post = async (path, body, opts) => (await request('POST', path, body, opts)).data;

/** Uploads one photo to `path` (a `…/photos` collection, field `photo`): the server's record. */
export async function uploadPhotoTo(path, blob, name, opts) {
  const form = new FormData();
  form.append('photo', blob, name || 'photo');
  const data = await post(path, form, opts);
  return data?.photos?.[0] ?? null;
}

/** Uploads one photo of a fire (`POST /api/fires/{id}/photos`): the server's record. */
export const uploadPhoto = (fireId, blob, name, opts) =>
  uploadPhotoTo(`/api/fires/${encodeURIComponent(fireId)}/photos`, blob, name, opts);

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

// Lists are paged (GET …?limit=&offset=): each answer holds one page and links to the next
// (`links` with rel "next", and `next`, the next offset, or null on the last page).

/** The link to the page after `page`, if there is one. */
export const nextPage = (page) => page?.links?.find((l) => l.rel === 'next')?.href ?? null;

/** `path` with `limit` set, unless it already asks for one. */
export function withLimit(path, limit) {
  const u = new URL(path, window.location.origin);
  if (!u.searchParams.has('limit')) u.searchParams.set('limit', String(limit));
  return `${u.pathname}${u.search}`;
}

/**
 * The items (under `key`) of every page of a list, following the `next` links, up to about `max`
 * of them: the first page's answer with all the items, `truncated` true when pages were left.
 */
export async function getPages(path, key, { max = 5000, limit = 500 } = {}) {
  const first = await get(withLimit(path, limit));
  const items = [...(first?.[key] ?? [])];
  let page = first;
  while (nextPage(page) && items.length < max) {
    page = await get(nextPage(page));
    items.push(...(page?.[key] ?? []));
  }
  return { ...first, [key]: items, truncated: Boolean(nextPage(page)) };
}

// Reference data a patrol needs in the field (layers, areas, fires nearby) is kept in the Cache
// API by the page itself, so it is there offline whether or not the service worker was already
// controlling the page when it was fetched.
const DATA_CACHE = 'qingling-data';

/**
 * GET with a cached copy for offline use: `{data, stale}`; stale is true when served from cache.
 * With `all: {key, max}`, every page of a paged list (see getPages) is fetched and kept together.
 */
export async function getCached(path, { all } = {}) {
  try {
    const data = all ? await getPages(path, all.key, all) : await get(path);
    // Kept for offline use in the background: the caller need not wait for the write.
    if ('caches' in window) {
      const copy = new Response(JSON.stringify(data), { headers: { 'Content-Type': 'application/json' } });
      caches.open(DATA_CACHE).then((c) => c.put(path, copy)).catch(() => {});
    }
    return { data, stale: false };
  } catch (e) {
    if (!(e instanceof ApiError && e.offline) || !('caches' in window)) throw e;
    const hit = await (await caches.open(DATA_CACHE)).match(path);
    if (!hit) throw e;
    return { data: await hit.json(), stale: true };
  }
}

/**
 * Forgets cached data (on sign-out: the next user of the tablet must not see it), the map tiles
 * the service worker kept (drawn for this user's role) included.
 */
export async function clearCachedData() {
  if ('caches' in window) await Promise.all([caches.delete(DATA_CACHE), caches.delete('qingling-tiles')]);
}
