// The outbox: reports and inspections wait here (IndexedDB) until the server has them, so a
// patrol with no signal loses nothing. Each item carries a client-made UUID in its body; the
// server applies an id once, so sending again after a lost answer is harmless and every item is
// applied exactly once.
//
// Outcomes: 200/201 → sent. No connection, a 5xx or a 401 (signed out) → stays pending and is
// retried. 409 → conflict (the server holds something else under this id, or the fire's state no
// longer allows the action): kept with the message for the user, not retried by itself. Any
// other 4xx → failed, with the server's message.

import { request } from '../api.js';
import { getAll, getOne, put, del, OUTBOX } from './idb.js';

const RETRY_MS = 15_000;
const listeners = new Set();
let owner = null; // only the signed-in user's own items are sent under their session
let flushing = null;
let timer = null;

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function notify() {
  const items = await list();
  for (const fn of listeners) fn(items);
}

/** This user's items, oldest first. */
export async function list() {
  const all = await getAll(OUTBOX);
  return all.filter((i) => i.user === owner).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Starts the outbox for a user: sends what is waiting, then again whenever the network returns. */
export function start(username) {
  owner = username;
  window.addEventListener('online', flush);
  timer ??= setInterval(() => { if (owner) flush(); }, RETRY_MS);
  flush();
  return () => {
    window.removeEventListener('online', flush);
    clearInterval(timer);
    timer = null;
    owner = null;
  };
}

/**
 * Queues a POST. `body` must already carry its client-made id (reports: `properties.id`,
 * events: `id`); the item is keyed by it. `summary` is what the queue list shows.
 */
export async function enqueue({ type, path, body, summary }) {
  const id = type === 'report' ? body.properties.id : body.id;
  await put(OUTBOX, { id, type, path, body, summary, user: owner, createdAt: new Date().toISOString(), state: 'pending', attempts: 0 });
  await notify();
  flush();
  return id;
}

export async function remove(id) {
  await del(OUTBOX, id);
  await notify();
}

/** Puts a failed or conflicting item back in line. */
export async function retry(id) {
  const item = await getOne(OUTBOX, id);
  if (!item) return;
  item.state = 'pending';
  await put(OUTBOX, item);
  await notify();
  flush();
}

/** Sends every pending item once, in order; one run at a time (across tabs too, where locks exist). */
export function flush() {
  flushing ??= (navigator.locks ? navigator.locks.request('qingling-outbox', sendAll) : sendAll())
    .finally(() => { flushing = null; });
  return flushing;
}

async function sendAll() {
  // 'sending' left over from a closed tab is resent: the server knows the id if it got it.
  for (const item of await list()) {
    if (item.state !== 'pending' && item.state !== 'sending') continue;
    if (!(await sendOne(item))) break; // offline or signed out: try the rest later
  }
}

async function sendOne(item) {
  item.state = 'sending';
  item.attempts += 1;
  await put(OUTBOX, item);
  await notify();
  let goOn = true;
  try {
    const { status, data } = await request('POST', item.path, item.body, { quiet401: true });
    const p = data?.properties ?? {};
    item.state = 'sent';
    item.sentAt = new Date().toISOString();
    item.result = { status, fireId: p.id, code: p.code, fireStatus: p.status, nearby: (p.nearby_open?.length ?? 0) + (p.nearby_cleared?.length ?? 0) };
    item.error = null;
  } catch (e) {
    item.error = e.message;
    if (e.status === 0 || e.status === 401 || e.status >= 500) {
      item.state = 'pending';
      item.waiting = e.status === 401 ? 'auth' : 'network';
      goOn = false;
    } else if (e.status === 409) {
      item.state = 'conflict';
    } else {
      item.state = 'failed';
    }
  }
  await put(OUTBOX, item);
  await notify();
  return goOn;
}
