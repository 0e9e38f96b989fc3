// The outbox as the patrol sees it: every queued report, inspection, dust violation and
// compliance check with its state, its photos and how many of them the server has, the server's
// message when it was refused, and retry / discard for those.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { kindLabel, statusLabel } from '../layers.js';
import { fmtDateTime } from '../time.js';
import * as outbox from '../offline/outbox.js';
import * as devicePhotos from '../offline/photos.js';
import { photoError } from './photos.js';
import { issueKindLabel, issueStatusLabel } from '../dust.js';

function label(i) {
  switch (i.type) {
    case 'report': return t('outbox.report', { kind: kindLabel(i.summary.kind), temp: i.summary.temp_c ?? '—' });
    case 'dust_issue': return t('outbox.dust_issue', { kind: issueKindLabel(i.summary.kind) });
    case 'dust_check': return t(i.summary.compliant ? 'outbox.dust_check_ok' : 'outbox.dust_check_bad', { mine: i.summary.mine ?? '' });
    default: return t('outbox.inspection', { code: i.summary.code, temp: i.summary.temp_c ?? '—' });
  }
}

/** What the server made of a sent item: the fire's or violation's code and status. */
function sentAs(i) {
  if (!i.result?.code) return null;
  const status = i.type === 'dust_issue' ? issueStatusLabel(i.result.issueStatus) : statusLabel(i.result.fireStatus);
  return h('div', {}, t('outbox.sent_as', { code: i.result.code, status }));
}

/** One small picture per photo, marked with its state: the device's copy, or the server's once sent. */
function photoChip(p) {
  const img = h('img', { alt: p.name });
  if (p.state === 'sent' && p.result?.thumb_url) img.src = p.result.thumb_url;
  else {
    const u = devicePhotos.url(p.id);
    if (typeof u === 'string') img.src = u;
    else u.then((s) => { if (s) img.src = s; });
  }
  return h('li', { class: ['outbox-photo', `photo-${p.state}`], dataset: { state: p.state }, title: t(`outbox.photo_state.${p.state}`) },
    img, h('span', { class: 'photo-state' }, t(`outbox.photo_state.${p.state}`)));
}

function photos(i) {
  const list = i.photos ?? [];
  if (!list.length) return null;
  const sent = list.filter((p) => p.state === 'sent').length;
  const refused = list.filter((p) => p.state === 'failed');
  return h('div', { class: 'outbox-photos', dataset: { sent: String(sent), total: String(list.length) } },
    h('div', { class: 'hint' }, t('outbox.photos', { sent, n: list.length })),
    h('ul', {}, list.map(photoChip)),
    refused.map((p) => h('div', { class: 'form-error' }, p.lost ? t('outbox.photo_lost', { name: p.name }) : `${p.name}: ${photoError(p.error, p.code)}`)));
}

function item(i) {
  const stuck = i.state === 'failed' || i.state === 'conflict';
  const photoTrouble = stuck && i.result && (i.photos ?? []).some((p) => p.state === 'failed');
  return h('li', { class: ['outbox-item', `state-${i.state}`], dataset: { state: i.state, id: i.id } },
    h('div', { class: 'outbox-head' }, h('strong', {}, label(i)), h('span', { class: 'state' }, t(`outbox.state.${i.state}`))),
    h('div', { class: 'hint' }, t('outbox.queued_at', { at: fmtDateTime(i.createdAt), n: i.attempts })),
    sentAs(i),
    photos(i),
    i.state === 'pending' && i.waiting ? h('div', { class: 'hint' }, t(`outbox.waiting.${i.waiting}`)) : null,
    stuck && !photoTrouble ? h('div', { class: 'form-error' }, i.error) : null,
    stuck ? h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn btn-small outbox-retry', on: { click: () => outbox.retry(i.id) } }, t('outbox.retry')),
      h('button', { type: 'button', class: 'btn btn-small outbox-discard', on: { click: () => outbox.remove(i.id) } }, photoTrouble ? t('outbox.discard_photos') : t('outbox.discard'))) : null);
}

/** `items`: the outbox, oldest first (shown newest first). */
export function outboxList(items) {
  const sent = items.filter((i) => i.state === 'sent');
  return h('section', { class: 'outbox' },
    h('p', { class: 'hint' }, t('outbox.explain')),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn btn-big send-now', on: { click: () => outbox.flush() } }, t('outbox.send_now')),
      sent.length ? h('button', { type: 'button', class: 'btn', on: { click: async () => { for (const i of sent) await outbox.remove(i.id); } } }, t('outbox.clear_sent')) : null),
    items.length ? h('ul', { class: 'outbox-list' }, items.slice().reverse().map(item)) : h('p', { class: 'hint' }, t('outbox.empty')));
}
