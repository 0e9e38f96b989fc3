// The service worker: keeps the app shell (HTML, CSS, modules, translations, the map library)
// so the app opens with no network, and the map's vector tiles it has seen, so a patrol's map
// still draws where it has been. Other data is not cached here: the page keeps the reference
// data it needs offline in its own cache ('qingling-data', see js/api.js), and queued reports
// and their photos live in IndexedDB. Photos from the server (/api/photos/…) are not kept here.
//
// Strategy: the page itself (navigations) network-first, so a deployment shows at once when
// online, falling back to the cached shell offline; other shell files stale-while-revalidate,
// so they load instantly in the field and refresh in the background; tiles network-first (the
// server's ETag makes a repeat cheap), the last copy when there is no network. Tiles are the
// signed-in user's (by role), so the page deletes their cache on sign-out. Bump VERSION when
// the shell's file list changes.

const VERSION = 'qingling-shell-v9';
const TILES = 'qingling-tiles';
const TILE_PATH = /^\/collections\/[^/]+\/tiles\/WebMercatorQuad\/\d+\/\d+\/\d+$/;
const TILE_LIMIT = 5000; // tiles kept, the oldest dropped first (a few tens of MB at most)
const SHELL = [
  './',
  'index.html',
  'app.css',
  'manifest.webmanifest',
  'icon.svg',
  'i18n/zh.json',
  'i18n/en.json',
  'vendor/maplibre-gl/maplibre-gl.mjs?v=6.20.0',
  'vendor/maplibre-gl/maplibre-gl-worker.mjs',
  'vendor/maplibre-gl/maplibre-gl.css?v=6.20.0',
  'js/main.js',
  'js/api.js',
  'js/dom.js',
  'js/dust.js',
  'js/geo.js',
  'js/i18n.js',
  'js/layers.js',
  'js/rules.js',
  'js/time.js',
  'js/ui/account.js',
  'js/ui/actions.js',
  'js/ui/bits.js',
  'js/ui/chart.js',
  'js/ui/dust-issue.js',
  'js/ui/dust-lists.js',
  'js/ui/dust-map.js',
  'js/ui/dust-monitor.js',
  'js/ui/dust-panel.js',
  'js/ui/dust-patrol.js',
  'js/ui/dust-warning-form.js',
  'js/ui/fire-detail.js',
  'js/ui/fire-map.js',
  'js/ui/map.js',
  'js/ui/notifications.js',
  'js/ui/outbox-list.js',
  'js/ui/photos.js',
  'js/views/dashboard.js',
  'js/views/login.js',
  'js/views/owner.js',
  'js/views/patrol.js',
  'js/offline/draft.js',
  'js/offline/idb.js',
  'js/offline/outbox.js',
  'js/offline/photos.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('qingling-shell-') && key !== VERSION) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

// The shell and the vector tiles are handled here; everything else (the API, a basemap's
// raster tiles, config) goes to the network untouched, so no other user data ends up cached.
const SHELL_PATHS = new Set(SHELL.map((p) => new URL(p, self.registration.scope).pathname));

let puts = 0;
async function trimTiles(cache) {
  const keys = await cache.keys();
  for (const k of keys.slice(0, Math.max(0, keys.length - TILE_LIMIT))) await cache.delete(k);
}

/** A vector tile: from the network (and kept), else the copy last seen. */
async function tile(event) {
  const cache = await caches.open(TILES);
  try {
    const res = await fetch(event.request);
    if (res.status === 200 || res.status === 204) {
      event.waitUntil(cache.put(event.request, res.clone()).then(() => (++puts % 250 === 0 ? trimTiles(cache) : null)).catch(() => {}));
    }
    return res;
  } catch (e) {
    const hit = await cache.match(event.request, { ignoreVary: true });
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (TILE_PATH.test(url.pathname)) { event.respondWith(tile(event)); return; }
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/collections')) return;
  if (req.mode !== 'navigate' && !SHELL_PATHS.has(url.pathname)) return;
  if (req.mode === 'navigate') {
    event.respondWith(fetch(req).then((res) => {
      // Every app route (a path without a file extension) serves the same page: keep the newest.
      if (res.ok && (res.headers.get('content-type') ?? '').startsWith('text/html')) event.waitUntil(caches.open(VERSION).then((c) => c.put('index.html', res.clone())));
      return res;
    }).catch(async () => (await caches.match('index.html')) ?? Response.error()));
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const hit = await cache.match(req, { ignoreSearch: true });
    const fresh = fetch(req).then((res) => {
      if (res.ok) cache.put(req, res.clone());
      return res;
    });
    if (hit) {
      event.waitUntil(fresh.catch(() => {}));
      return hit;
    }
    return fresh;
  })());
});
