// The service worker: keeps the app shell (HTML, CSS, modules, translations, the map library)
// so the app opens with no network. Data is not cached here: the page keeps the reference data
// it needs offline in its own cache ('qingling-data', see js/api.js), and queued reports and
// their photos live in IndexedDB. Photos from the server (/api/photos/…) are not kept here.
//
// Strategy: the page itself (navigations) network-first, so a deployment shows at once when
// online, falling back to the cached shell offline; other shell files stale-while-revalidate,
// so they load instantly in the field and refresh in the background. Bump VERSION when the
// shell's file list changes.

const VERSION = 'qingling-shell-v8';
const SHELL = [
  './',
  'index.html',
  'app.css',
  'manifest.webmanifest',
  'icon.svg',
  'i18n/zh.json',
  'i18n/en.json',
  'vendor/leaflet/leaflet-src.esm.js',
  'vendor/leaflet/leaflet.css',
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

// Only the shell is handled here; everything else (the API, tiles, config) goes to the network
// untouched, so no user data or map tile ends up in this cache.
const SHELL_PATHS = new Set(SHELL.map((p) => new URL(p, self.registration.scope).pathname));

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
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
