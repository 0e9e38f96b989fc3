// The notification bell, for every signed-in user: the unread count in the top bar, a list of
// what concerns this user (new fires, fires assigned to it, re-ignitions, deadlines near or
// passed) whose entries open the fire, and "mark all read". The server derives the list from the
// events and deadlines (GET /api/notifications); it is asked again every minute while online.
//
// Opening a fire is left to the view on screen: the bell dispatches `qingling:open-fire` on
// window with `{ id }`, and each view listens (see onOpenFire).

import { h, fill, toast } from '../dom.js';
import { t, has } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { ago } from '../time.js';

const POLL_MS = 60_000;
const OPEN_FIRE = 'qingling:open-fire';
const OPEN_DUST = 'qingling:open-dust';

let data = null; // the last answer: { unread, items }
let open = false;
let el = null; // the bell in the top bar now
let timer = null;

/** Asks the view on screen to open a fire. */
export function openFire(id) {
  window.dispatchEvent(new CustomEvent(OPEN_FIRE, { detail: { id } }));
}

/** Asks the view on screen to show dust: `{ issue: code }` a violation, `{ warning: key }` the
 * warnings, `{ monitor: mn }` a monitor. */
export function openDust(what) {
  window.dispatchEvent(new CustomEvent(OPEN_DUST, { detail: what }));
}

/** Lets a view show the dust notices point at (a violation, a warning); returns the unsubscribe. */
export function onOpenDust(fn) {
  const listener = (e) => fn(e.detail);
  window.addEventListener(OPEN_DUST, listener);
  return () => window.removeEventListener(OPEN_DUST, listener);
}

/** Lets a view open the fires the bell points at; returns the unsubscribe. */
export function onOpenFire(fn) {
  const listener = (e) => fn(e.detail.id);
  window.addEventListener(OPEN_FIRE, listener);
  return () => window.removeEventListener(OPEN_FIRE, listener);
}

/** Fetches the list now (when online). */
export async function refresh() {
  if (!navigator.onLine) return;
  try {
    data = await get('/api/notifications');
  } catch { /* offline or signed out: keep what was shown */ }
  paint();
}

const poll = () => { if (document.visibilityState === 'visible') refresh(); };

/** Starts polling for the signed-in user; returns the stop (on sign-out). */
export function startNotifications() {
  clearInterval(timer);
  timer = setInterval(poll, POLL_MS);
  window.addEventListener('online', refresh);
  document.addEventListener('visibilitychange', poll);
  refresh();
  return () => {
    clearInterval(timer);
    timer = null;
    window.removeEventListener('online', refresh);
    document.removeEventListener('visibilitychange', poll);
    data = null;
    open = false;
  };
}

async function markRead() {
  try {
    await post('/api/notifications/read', {});
    await refresh();
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e), 'error');
  }
}

function setOpen(v) {
  open = v;
  paint();
  if (open) refresh();
}

// One pair of listeners for the page's life: a tap outside the panel or Escape closes it.
// (The path is taken at dispatch: the bell's own buttons are redrawn by their click.)
document.addEventListener('click', (e) => { if (open && el && !e.composedPath().includes(el)) setOpen(false); });
document.addEventListener('keydown', (e) => { if (open && e.key === 'Escape') setOpen(false); });

const kindLabel = (k) => (has(`notify.kind.${k}`) ? t(`notify.kind.${k}`) : k);

function entry(n) {
  return h('li', {},
    h('button', {
      type: 'button', class: ['notify-item', n.unread && 'unread', `kind-${n.kind}`], dataset: { key: n.key, fireId: n.fire, code: n.code, kind: n.kind },
      // A warning or a dust violation names no fire: the view shows its dust side instead.
      on: {
        click: () => {
          setOpen(false);
          if (n.fire) openFire(n.fire);
          else if (n.kind === 'new_dust_issue' || n.kind === 'dust_issue_overdue') openDust({ issue: n.code });
          else if (n.kind === 'warning') openDust({ warning: n.key });
          else if (n.kind === 'monitor_silent') openDust({ monitor: n.code });
        },
      },
    },
    h('span', { class: 'notify-kind' }, kindLabel(n.kind)),
    h('span', { class: 'fire-code' }, n.kind === 'warning' && has(`notify.level.${n.code}`) ? t(`notify.level.${n.code}`) : n.code),
    h('span', { class: 'notify-at hint', title: n.at }, ago(n.at))));
}

function panel() {
  const items = data?.items ?? [];
  return h('div', { class: 'notify-panel', role: 'dialog', 'aria-label': t('notify.title') },
    h('div', { class: 'notify-head' },
      h('strong', {}, t('notify.title')),
      h('button', { type: 'button', class: 'btn btn-small mark-read', disabled: !data?.unread, on: { click: markRead } }, t('notify.mark_read'))),
    !data ? h('p', { class: 'hint' }, navigator.onLine ? t('common.loading') : t('notify.offline'))
      : items.length ? h('ul', { class: 'notify-list' }, items.map(entry))
        : h('p', { class: 'hint' }, t('notify.empty')));
}

function bellIcon() {
  const s = (tag, attrs) => h(`svg:${tag}`, attrs);
  const svg = s('svg', { viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': 'true', class: 'bell-icon' });
  svg.append(
    s('path', { d: 'M12 2a6 6 0 0 0-6 6v4.5L4 16v1h16v-1l-2-3.5V8a6 6 0 0 0-6-6z', fill: 'currentColor' }),
    s('path', { d: 'M9.5 19a2.5 2.5 0 0 0 5 0z', fill: 'currentColor' }));
  return svg;
}

function paint() {
  if (!el) return;
  const unread = data?.unread ?? 0;
  fill(el,
    h('button', {
      type: 'button', class: ['btn', 'btn-ghost', 'bell', unread && 'has-unread'], 'aria-expanded': String(open),
      'aria-label': t('notify.bell', { n: unread }), title: t('notify.bell', { n: unread }), dataset: { unread: String(unread) },
      on: { click: () => setOpen(!open) },
    },
    bellIcon(),
    unread ? h('span', { class: 'bell-count' }, unread > 99 ? '99+' : String(unread)) : null),
    open ? panel() : null);
}

/** The bell for the top bar (made again each time the bar is drawn). */
export function bell() {
  el = h('div', { class: 'notify' });
  paint();
  return el;
}
