// Photos in the app: the camera button with previews of what was picked (before anything is
// sent), and a fire's gallery — thumbnails that open the full image, with the camera's EXIF time
// and how far from the fire the camera was. A photo taken far from the fire is flagged: as
// evidence it shows something else, or the point was placed in the wrong spot.

import { h, fill } from '../dom.js';
import { t, has, num } from '../i18n.js';
import { uploadPhoto, uploadPhotoTo } from '../api.js';
import { distanceM } from '../geo.js';
import { fmtDateTime } from '../time.js';

// What the server takes (POST /api/fires/{id}/photos): checked here so a patrol hears of it at
// once rather than when the outbox sends, hours later.
export const ACCEPTED = ['image/jpeg', 'image/png', 'image/webp'];
export const MAX_MB = 15;
/** A photo whose EXIF position lies further than this from the fire is flagged. */
export const FAR_M = 200;

/** Why a file cannot be sent as a photo (a message), or null. */
export function refusal(file) {
  if (!ACCEPTED.includes(file.type)) return t('photo.bad_type', { name: file.name });
  if (file.size > MAX_MB * 1024 * 1024) return t('photo.too_big', { name: file.name, mb: MAX_MB });
  return null;
}

/** The server's message for a refused photo, or ours when it sent only its error code. */
export function photoError(message, code) {
  if (code && message === code && has(`photo.error.${code}`)) return t(`photo.error.${code}`);
  return message;
}

/** Photos held in memory until the form is sent (the forms that post at once, online). */
export function memoryStore() {
  const files = new Map();
  const urls = new Map();
  return {
    async add(file) {
      const id = crypto.randomUUID();
      files.set(id, file);
      return { id, name: file.name || 'photo', type: file.type, size: file.size };
    },
    async remove(meta) {
      files.delete(meta.id);
      if (urls.has(meta.id)) URL.revokeObjectURL(urls.get(meta.id));
      urls.delete(meta.id);
    },
    url(meta) {
      if (!urls.has(meta.id) && files.has(meta.id)) urls.set(meta.id, URL.createObjectURL(files.get(meta.id)));
      return urls.get(meta.id) ?? null;
    },
    file: (meta) => files.get(meta.id),
  };
}

const setSrc = (img, u) => {
  if (typeof u === 'string') img.src = u;
  else u?.then?.((s) => { if (s) img.src = s; });
};

/**
 * The camera button and the previews of the photos picked so far. `store` keeps the picks
 * (`add(file)` → description, `remove(description)`, `url(description)`): in memory, or on the
 * device for the outbox. `initial`: photos already picked; `onChange(list)` after each change.
 * The element's `photos()` gives the current list.
 */
export function photoField({ store, initial = [], onChange }) {
  let list = [...initial];
  const previews = h('ul', { class: 'photo-previews' });
  const count = h('span', { class: 'photo-count hint' });
  const err = h('p', { class: 'photo-error', role: 'alert', hidden: true });
  const input = h('input', {
    type: 'file', name: 'photo', accept: 'image/*', capture: 'environment', multiple: true, class: 'photo-input',
    on: { change: () => pick() },
  });

  async function pick() {
    const problems = [];
    for (const file of [...input.files]) {
      const why = refusal(file);
      if (why) problems.push(why);
      else list.push(await store.add(file));
    }
    input.value = '';
    err.textContent = problems.join(' ');
    err.hidden = !problems.length;
    paint();
    onChange?.(list);
  }

  function paint() {
    fill(previews, list.map((m) => {
      const img = h('img', { alt: m.name, class: 'photo-thumb' });
      setSrc(img, store.url(m));
      return h('li', { class: 'photo-preview', dataset: { photoId: m.id } }, img,
        h('button', {
          type: 'button', class: 'photo-remove', 'aria-label': t('photo.remove'), title: t('photo.remove'),
          on: {
            click: async () => {
              list = list.filter((x) => x.id !== m.id);
              await store.remove(m);
              paint();
              onChange?.(list);
            },
          },
        }, '×'));
    }));
    count.textContent = list.length ? t('photo.count', { n: list.length }) : t('photo.none_yet');
  }

  const el = h('div', { class: 'photo-field' },
    h('div', { class: 'row' },
      // The label opens the camera (or the file chooser on a desktop); the input itself is hidden.
      h('label', { class: 'btn btn-big photo-button' }, input, h('span', { class: 'camera-icon', 'aria-hidden': 'true' }), t('photo.take')),
      count),
    err,
    previews);
  el.photos = () => list;
  paint();
  return el;
}

/**
 * Uploads the photos of an online form to a fire (its id), or to `{ path }` (a dust violation's
 * photos), one by one, skipping those in `done` (a Set of ids, filled as they go).
 * `progress(i, n)` before each. Returns the messages of those refused or not sent.
 */
export async function uploadAll(fireId, store, list, done, progress) {
  const send = typeof fireId === 'object' ? (b, n) => uploadPhotoTo(fireId.path, b, n) : (b, n) => uploadPhoto(fireId, b, n);
  const problems = [];
  const todo = list.filter((m) => !done.has(m.id));
  for (const [i, m] of todo.entries()) {
    progress?.(i + 1, todo.length);
    try {
      await send(store.file(m), m.name);
      done.add(m.id);
    } catch (e) {
      problems.push(`${m.name}: ${photoError(e.message, e.code)}`);
    }
  }
  return problems;
}

/**
 * After a form's action went through: uploads its photos (see `uploadAll`) while showing
 * progress. On failures it says so in `err`, turns `submit` into a retry and returns false.
 */
export async function uploadFormPhotos(target, store, photos, uploaded, { progress, err, submit }) {
  if (!photos?.photos().length) return true;
  progress.hidden = false;
  const problems = await uploadAll(target, store, photos.photos(), uploaded,
    (i, n) => { progress.textContent = t('photo.uploading', { i, n }); });
  progress.hidden = true;
  if (!problems.length) return true;
  err.show(t('photo.not_sent', { n: problems.length, message: problems.join('; ') }));
  submit.textContent = t('photo.retry');
  return false;
}

/** Where the camera was, against the fire: `{ m, far }`, or null without an EXIF position. */
export function offset(photo, firePos) {
  if (!photo.exif_position || !firePos) return null;
  const m = distanceM(photo.exif_position, firePos);
  return { m, far: m > FAR_M };
}

// The words for a photo of a fire, or (subject 'issue') of a dust violation.
const WORDS = {
  fire: { far: 'photo.far', near: 'photo.near', farNote: 'photo.far_note', title: 'photo.title' },
  issue: { far: 'photo.far_issue', near: 'photo.near_issue', farNote: 'photo.far_note_issue', title: 'photo.title_issue' },
};

function placeText(o, words = WORDS.fire) {
  if (!o) return t('photo.no_gps');
  return t(o.far ? words.far : words.near, { m: num(Math.round(o.m)) });
}

/** Shows one photo full size over the page, with its evidence; Escape or a tap outside closes it. */
export function viewPhoto(photo, firePos, words = WORDS.fire) {
  const o = offset(photo, firePos);
  const close = () => { box.remove(); document.removeEventListener('keydown', onKey); };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  const closeBtn = h('button', { type: 'button', class: 'btn btn-close', 'aria-label': t('common.close'), on: { click: close } }, '×');
  const box = h('div', {
    class: 'lightbox', role: 'dialog', 'aria-modal': 'true', 'aria-label': t(words.title),
    on: { click: (e) => { if (e.target === box) close(); } },
  },
  h('figure', {},
    h('img', { src: photo.url, alt: t(words.title), width: photo.width, height: photo.height }),
    h('figcaption', {},
      h('div', {}, photo.exif_time ? t('photo.taken', { at: photo.exif_time }) : t('photo.no_time')),
      h('div', { class: o?.far ? 'photo-far' : null }, placeText(o, words)),
      h('div', { class: 'hint' }, t('photo.uploaded', { who: photo.uploaded_by, at: fmtDateTime(photo.uploaded_at) })),
      closeBtn)));
  document.addEventListener('keydown', onKey);
  document.body.append(box);
  closeBtn.focus();
}

/**
 * A fire's photos as thumbnails (`photos` from GET /api/fires/{id}); `firePos`: [lon, lat].
 * `subject: 'issue'` words it for a dust violation's photos.
 */
export function gallery(photos, firePos, { subject = 'fire' } = {}) {
  if (!photos?.length) return h('p', { class: 'hint' }, t('photo.none'));
  const words = WORDS[subject] ?? WORDS.fire;
  const far = photos.filter((p) => offset(p, firePos)?.far).length;
  return [
    far ? h('p', { class: 'banner banner-warn photo-far-note' }, t(words.farNote, { n: far, m: FAR_M })) : null,
    h('ul', { class: 'gallery' }, photos.map((p) => {
      const o = offset(p, firePos);
      return h('li', { class: ['gallery-item', o?.far && 'far'], dataset: { photoId: String(p.id) } },
        h('button', { type: 'button', class: 'gallery-thumb', title: t('photo.open'), on: { click: () => viewPhoto(p, firePos, words) } },
          h('img', { src: p.thumb_url, alt: t(words.title), loading: 'lazy' })),
        h('div', { class: 'photo-meta' }, p.exif_time ? t('photo.taken', { at: p.exif_time.slice(0, 16) }) : t('photo.no_time')),
        h('div', { class: ['photo-meta', 'photo-place', o?.far && 'photo-far'] }, placeText(o, words)));
    })),
  ];
}
