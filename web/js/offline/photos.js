// Photos waiting on this device: chosen for the report draft or an inspection, then queued with
// it in the outbox until the server has them. Each is a Blob in IndexedDB under its own id (the
// draft and the outbox items hold only `{id, name, type, size}`), so nothing is lost when the
// tab is closed or the tablet sleeps. A photo is deleted here once the server has it.

import { put, getOne, del, getAll, PHOTOS, OUTBOX } from './idb.js';

const urls = new Map(); // id → object URL for the previews

/** Keeps a picked file for `user`; returns its description. */
export async function keep(file, user) {
  const meta = { id: crypto.randomUUID(), name: file.name || 'photo', type: file.type, size: file.size };
  await put(PHOTOS, { ...meta, user, blob: file, keptAt: new Date().toISOString() });
  return meta;
}

/** The photo's bytes, or null when it is no longer on this device. */
export async function blobOf(id) {
  return (await getOne(PHOTOS, id))?.blob ?? null;
}

/** An object URL for a preview: at once when already made (a string), else a promise. */
export function url(id) {
  if (urls.has(id)) return urls.get(id);
  return blobOf(id).then((b) => {
    if (!b) return null;
    if (!urls.has(id)) urls.set(id, URL.createObjectURL(b));
    return urls.get(id);
  }).catch(() => null);
}

/** Deletes photos from the device. */
export async function drop(ids) {
  for (const id of ids) {
    await del(PHOTOS, id);
    if (urls.has(id)) URL.revokeObjectURL(urls.get(id));
    urls.delete(id);
  }
}

/**
 * Deletes this user's photos that nothing refers to any more (a form closed without sending, a
 * tab closed between an upload and its bookkeeping): everything but `keepIds` and the photos of
 * the user's outbox items that the server does not have yet.
 */
export async function sweep(user, keepIds = []) {
  const keepSet = new Set(keepIds);
  for (const item of await getAll(OUTBOX)) {
    for (const p of item.photos ?? []) if (p.state !== 'sent') keepSet.add(p.id);
  }
  const stale = (await getAll(PHOTOS)).filter((p) => p.user === user && !keepSet.has(p.id)).map((p) => p.id);
  if (stale.length) await drop(stale);
}

/** A store for the photo field (ui/photos.js) that keeps the picks on this device for `user`. */
export function deviceStore(user) {
  return {
    add: (file) => keep(file, user),
    remove: (meta) => drop([meta.id]),
    url: (meta) => url(meta.id),
  };
}
