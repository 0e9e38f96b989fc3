// Starts the app: language, service worker, who is signed in, then one view per role.

import { loadLang, setLang, getLang, t } from './i18n.js';
import { get, post, setUnauthorizedHandler, clearCachedData } from './api.js';
import { loadLayers } from './layers.js';
import { loadRules } from './rules.js';
import { h, fill, toast } from './dom.js';
import { startTicker } from './ui/bits.js';
import { bell, startNotifications } from './ui/notifications.js';

const USER_KEY = 'qingling.user';
const VIEWS = {
  manager: () => import('./views/dashboard.js'),
  district: () => import('./views/dashboard.js'),
  owner: () => import('./views/owner.js'),
  patrol: () => import('./views/patrol.js'),
};

let user = null;
let current = null; // the mounted view's cleanup
let stopNotices = null; // the notification polling, while someone is signed in

const topbar = document.getElementById('topbar');
const view = document.getElementById('view');

/**
 * The signed-in user: from the server, or (offline) the last one seen on this device. With no
 * one seen since the last sign-out there is no session to ask about: the login screen comes
 * without a request the browser would log as a failed (401) load.
 */
async function whoAmI() {
  if (!localStorage.getItem(USER_KEY)) return null;
  try {
    const me = await get('/api/me', { quiet401: true });
    localStorage.setItem(USER_KEY, JSON.stringify(me));
    return me;
  } catch (e) {
    if (e.offline) {
      try { return JSON.parse(localStorage.getItem(USER_KEY)); } catch { return null; }
    }
    localStorage.removeItem(USER_KEY);
    return null;
  }
}

// The online/offline badge: one pair of listeners for the page's life, repainting whichever
// badge the top bar currently shows.
function paintNet() {
  const el = topbar.querySelector('.net');
  if (!el) return;
  el.textContent = navigator.onLine ? t('net.online') : t('net.offline');
  el.classList.toggle('offline', !navigator.onLine);
}
window.addEventListener('online', paintNet);
window.addEventListener('offline', paintNet);

function renderTopbar() {
  const other = getLang() === 'zh' ? 'en' : 'zh';
  const langBtn = h('button', {
    type: 'button', class: 'btn btn-ghost lang-switch', lang: other === 'zh' ? 'zh-CN' : 'en',
    on: { click: async () => { await setLang(other); await render(); } },
  }, t('lang.other'));
  fill(topbar,
    // The app's name is the page's one heading of level one once signed in (the login form has
    // its own).
    h('div', { class: 'brand' }, h(user ? 'h1' : 'span', { class: 'brand-name' }, t('app.name')), h('span', { class: 'brand-tag' }, t('app.tagline'))),
    h('div', { class: 'topbar-right' },
      h('span', { class: 'net', role: 'status' }),
      user ? bell() : null,
      user ? h('button', {
        type: 'button', class: 'btn btn-ghost who', title: t('who.title'),
        on: { click: async () => (await import('./ui/account.js')).openAccount(user) },
      },
        h('strong', {}, user.username), ' · ', t(`role.${user.role}`),
        user.holder ? ` · ${user.holder}` : '', user.district ? ` · ${t('who.district', { code: user.district })}` : '') : null,
      langBtn,
      user ? h('button', { type: 'button', class: 'btn btn-ghost logout', on: { click: signOut } }, t('login.signout')) : null));
  topbar.hidden = false;
  paintNet();
}

async function signOut() {
  try { await post('/api/logout', {}); } catch { /* offline: forget locally anyway */ }
  user = null;
  localStorage.removeItem(USER_KEY);
  await clearCachedData();
  await render();
}

async function render() {
  current?.();
  current = null;
  document.title = t('app.title');
  renderTopbar();
  document.body.dataset.role = user?.role ?? 'signed-out';
  if (user && !stopNotices) stopNotices = startNotifications();
  if (!user && stopNotices) { stopNotices(); stopNotices = null; }
  if (!user) {
    const { renderLogin } = await import('./views/login.js');
    renderLogin(view, { onLogin: async (u) => { user = u; localStorage.setItem(USER_KEY, JSON.stringify(u)); await render(); } });
    return;
  }
  const viewModule = VIEWS[user.role](); // loads meanwhile
  try {
    await Promise.all([loadLayers(), loadRules()]);
  } catch (e) {
    fill(view, h('p', { class: 'form-error' }, t('error.layers', { message: e.message })));
    return;
  }
  const mod = await viewModule;
  current = mod.render(view, user) ?? null;
}

async function boot() {
  await loadLang();
  setUnauthorizedHandler(() => {
    if (!user) return;
    user = null;
    localStorage.removeItem(USER_KEY);
    toast(t('login.expired'), 'error');
    render();
  });
  startTicker();
  user = await whoAmI();
  await render();
  // The service worker once the first screen is drawn: on a first visit its install (the shell
  // with the map library) would take the CPU from the map. Its updates later come in the same way.
  if ('serviceWorker' in navigator) {
    setTimeout(() => navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker', e)), 2000);
  }
}

boot();
