// The outbox: reports, inspections, dust violations and compliance checks wait here (IndexedDB)
// until the server has them, so a patrol with no signal loses nothing. Each item carries a
// client-made UUID in its body; the server applies an id once, so sending again after a lost
// answer is harmless and every item is applied exactly once.
//
// Outcomes: 200/201 → sent. No connection, a 5xx or a 401 (signed out) → stays pending and is
// retried. 409 → conflict (the server holds something else under this id, or the fire's state no
// longer allows the action): kept with the message for the user, not retried by itself. Any
// other 4xx → failed, with the server's message.
//
// Photos travel with their item: the report or event goes first, then each photo is uploaded to
// the fire (or the dust violation), one request per photo (their Blobs wait in the photos
// store). The server keeps one record per photo's bytes on its subject, so an upload repeated
// after a lost answer is harmless. A photo upload that meets no connection (or a 5xx, or a 401)
// stays pending, and the item with it; one the server refuses (not an image, too large) is
// marked failed with the message. The item is sent when the report and all its photos are.
//
// Each item is stamped with `observed_at`, the moment the patrol pressed send (not when it
// syncs): the server dates the report, its deadline and its place in the history from it. The
// stamp is in the stored body, so every resend carries the same time and stays a retry.

import { request, uploadPhoto, uploadPhotoTo } from '../api.js';
import { getAll, getOne, put, del, OUTBOX } from './idb.js';
import * as photos from './photos.js';

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
 * events: `id`, others: pass it as `id`); the item is keyed by it. `summary` is what the queue
 * list shows. `photos`: descriptions of photos already kept on the device (offline/photos.js),
 * uploaded once the POST went through to `photoPath`, or else to the fire `fireId` (a report's
 * own id by default).
 */
export async function enqueue({ type, path, body, summary, photos: pics = [], fireId, id: given, photoPath }) {
  const id = given ?? (type === 'report' ? body.properties.id : body.id);
  const createdAt = new Date().toISOString();
  stamp(type, body, createdAt);
  await put(OUTBOX, {
    id, type, path, body, summary, user: owner, createdAt, state: 'pending', attempts: 0,
    fireId: fireId ?? (type === 'report' ? body.properties.id : null),
    photoPath: photoPath ?? null,
    photos: pics.map((p) => ({ id: p.id, name: p.name, size: p.size, state: 'pending' })),
  });
  await notify();
  flush();
  return id;
}

/**
 * Queues an item as `enqueue` does and waits a moment for the send it starts: `'sent'` when it
 * went through at once, else its state (`'pending'` offline…), so the screen says what happened.
 */
export async function send(args) {
  const id = await enqueue(args);
  await Promise.race([flush(), new Promise((r) => { setTimeout(r, 3000); })]);
  return (await getOne(OUTBOX, id))?.state ?? 'pending';
}

/** Puts the observed time where each kind of item carries it: a Feature's properties (reports,
 * dust violations) or the body (inspections and other events, compliance checks). */
function stamp(type, body, at) {
  const target = type === 'report' || type === 'dust_issue' ? body.properties : body;
  target.observed_at ??= at;
}

/** Drops an item, and its photos still on the device. */
export async function remove(id) {
  const item = await getOne(OUTBOX, id);
  await photos.drop((item?.photos ?? []).filter((p) => p.state !== 'sent').map((p) => p.id));
  await del(OUTBOX, id);
  await notify();
}

/** Puts a failed or conflicting item back in line, with its refused photos. */
export async function retry(id) {
  const item = await getOne(OUTBOX, id);
  if (!item) return;
  item.state = 'pending';
  for (const p of item.photos ?? []) if (p.state === 'failed' && !p.lost) p.state = 'pending';
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

/** Try again later: no connection, the server failing, or signed out. */
const transient = (e) => e.status === 0 || e.status === 401 || e.status >= 500;

async function save(item) {
  await put(OUTBOX, item);
  await notify();
}

async function sendOne(item) {
  item.state = 'sending';
  item.attempts += 1;
  await save(item);
  let goOn = true;
  try {
    // The report or event: skipped when an earlier run got it through and only photos remain.
    if (!item.result) {
      const { status, data } = await request('POST', item.path, item.body, { quiet401: true });
      const p = data?.properties ?? {};
      item.result = { status, fireId: p.id, code: p.code, fireStatus: p.status, nearby: (p.nearby_open?.length ?? 0) + (p.nearby_cleared?.length ?? 0) };
      if (item.type === 'dust_issue') Object.assign(item.result, { fireId: null, uuid: p.uuid, issueStatus: p.status, fireStatus: null });
      item.error = null;
      await save(item);
    }
    await sendPhotos(item);
    const refused = (item.photos ?? []).filter((p) => p.state === 'failed');
    item.state = refused.length ? 'failed' : 'sent';
    item.error = refused.length ? refused[0].error : null;
    item.waiting = null;
    if (!refused.length) item.sentAt = new Date().toISOString();
  } catch (e) {
    item.error = e.message;
    if (transient(e)) {
      item.state = 'pending';
      item.waiting = e.status === 401 ? 'auth' : 'network';
      goOn = false;
    } else if (e.status === 409) {
      item.state = 'conflict';
    } else {
      item.state = 'failed';
    }
  }
  await save(item);
  return goOn;
}

/** Uploads the item's photos still waiting; rethrows a transient error (the rest wait too). */
async function sendPhotos(item) {
  const fireId = item.result?.fireId ?? item.fireId;
  for (const p of item.photos ?? []) {
    if (p.state === 'sent' || p.state === 'failed') continue;
    const blob = await photos.blobOf(p.id);
    if (!blob) {
      Object.assign(p, { state: 'failed', lost: true, error: null });
      await save(item);
      continue;
    }
    p.state = 'sending';
    await save(item);
    try {
      const rec = item.photoPath
        ? await uploadPhotoTo(item.photoPath, blob, p.name, { quiet401: true })
        : await uploadPhoto(fireId, blob, p.name, { quiet401: true });
      Object.assign(p, { state: 'sent', error: null, code: null, result: rec ? { id: rec.id, thumb_url: rec.thumb_url } : null });
      await save(item);
      await photos.drop([p.id]); // the server has it: free the tablet's storage
    } catch (e) {
      if (transient(e)) {
        p.state = 'pending';
        await save(item);
        throw e;
      }
      Object.assign(p, { state: 'failed', error: e.message, code: e.code });
      await save(item);
    }
  }
}
