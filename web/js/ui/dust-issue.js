// One dust violation in full: kind, status, who answers for it and by when, the note, its
// photos, the history of its life (open → rectifying → rectified → verified; a rejected
// rectification goes back to rectifying), and the actions this user may take now — which ones
// the server says (`allowed_actions`). "Rectified" takes photos of the work, uploaded to the
// violation once the action is in.

import { h, fill, toast } from '../dom.js';
import { t, num, pick } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { fmtDateTime } from '../time.js';
import { valueLabel, fieldTitle, layer } from '../layers.js';
import { field, partyText } from './bits.js';
import { gallery } from './photos.js';
import { sendingForm } from './actions.js';
import { issueKindLabel, issueStatusLabel } from '../dust.js';
import { issueBadge } from './dust-lists.js';

/** Actions whose forms take photos. */
const PHOTO_ACTIONS = ['rectified'];
/** Actions that need a note: what was done, or why it is rejected (the server insists too). */
const NOTE_REQUIRED = ['rectified', 'reject'];
const NOTE_LABEL = { rectified: 'dust.rectified_note', reject: 'dust.reject_reason' };

const layerTitle = (name) => pick(layer(name)?.title) || name;

const ft = (name, fallback) => {
  const s = fieldTitle('dust_issues', name);
  return s === name ? fallback : s;
};

function facts(p, coords) {
  const rows = [
    [ft('kind', t('dust.kind')), issueKindLabel(p.kind)],
    [ft('reported_at', t('dust.reported_at')), fmtDateTime(p.reported_at)],
    p.reported_by ? [ft('reported_by', t('dust.reported_by')), p.reported_by] : null,
    [ft('responsible_name', t('dust.responsible_col')), p.responsible ? partyText(p.responsible)
      : [p.responsible_party ? valueLabel('dust_issues', 'responsible_party', p.responsible_party) : null, p.responsible_name].filter(Boolean).join(' · ') || t('common.none')],
    p.responsible?.via ? [ft('via', t('dust.via')), t('fire.via', { layer: layerTitle(p.responsible.via.layer), name: p.responsible.via.name })] : null,
    [ft('deadline', t('col.deadline')), fmtDateTime(p.deadline)],
    p.rectified_at ? [ft('rectified_at', t('dust.rectified_at')), fmtDateTime(p.rectified_at)] : null,
    p.verified_at ? [ft('verified_at', t('dust.verified_at')), fmtDateTime(p.verified_at)] : null,
    coords ? [t('dust.position'), `${coords[1].toFixed(6)}, ${coords[0].toFixed(6)}${p.accuracy_m != null ? ` ±${num(p.accuracy_m)} m` : ''}`] : null,
    p.note ? [ft('note', t('form.note')), p.note] : null,
  ].filter(Boolean);
  return h('table', { class: 'facts' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function eventItem(e) {
  return h('li', { class: 'event' },
    h('div', { class: 'event-head' },
      h('strong', {}, t(`dust.issue_event.${e.action}`)),
      e.from && e.to && e.from !== e.to ? h('span', { class: 'event-move' }, `${issueStatusLabel(e.from)} → ${issueStatusLabel(e.to)}`) : null),
    h('div', { class: 'hint' }, `${fmtDateTime(e.at)} · ${e.actor ?? e.by ?? (e.role ? t(`role.${e.role}`) : '')}`),
    e.note ? h('div', { class: 'event-note' }, e.note) : null);
}

/** The form of one action on a violation; photos for "rectified". */
function actionForm(action, uuid, { onDone, onCancel }) {
  const noteOf = (form) => form.elements.note.value.trim();
  return sendingForm({
    cls: 'action-form issue-action-form',
    action,
    title: t(`dust.issue_action.${action}`),
    inputs: field(t(NOTE_LABEL[action] ?? 'form.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000, required: NOTE_REQUIRED.includes(action) })),
    photosTo: PHOTO_ACTIONS.includes(action) ? { path: `/api/dust/issues/${encodeURIComponent(uuid)}/photos` } : null,
    check: (form) => (NOTE_REQUIRED.includes(action) && !noteOf(form) ? t('dust.note_required') : null),
    act: (form) => {
      const note = noteOf(form);
      return post(`/api/dust/issues/${encodeURIComponent(uuid)}/events`, { action, ...(note ? { note } : {}) });
    },
    onDone,
    onCancel,
  });
}

/**
 * Renders a violation into `panel`. Options: `onClose()`, `onChanged()` after an action,
 * `only` (limit the buttons to these actions).
 */
export async function showIssue(panel, uuid, opts = {}) {
  fill(panel, h('p', { class: 'hint' }, t('common.loading')));
  let f;
  try {
    f = await get(`/api/dust/issues/${encodeURIComponent(uuid)}`);
  } catch (e) {
    fill(panel, h('p', { class: 'form-error' }, e instanceof ApiError ? e.message : String(e)),
      h('button', { type: 'button', class: 'btn', on: { click: () => opts.onClose?.() } }, t('common.close')));
    return null;
  }
  const p = f.properties;
  const coords = f.geometry?.coordinates ?? null;
  const formSlot = h('div', { class: 'form-slot' });
  const allowed = (p.allowed_actions ?? []).filter((a) => !opts.only || opts.only.includes(a));
  const buttons = h('div', { class: 'actions' }, allowed.map((a) => h('button', {
    type: 'button', class: ['btn', 'btn-action', `act-${a}`], dataset: { action: a },
    on: {
      click: () => fill(formSlot, actionForm(a, p.uuid ?? uuid, {
        onCancel: () => fill(formSlot),
        onDone: () => {
          toast(t('action.done', { action: t(`dust.issue_action.${a}`) }), 'ok');
          opts.onChanged?.();
          showIssue(panel, uuid, opts);
        },
      })),
    },
  }, t(`dust.issue_action.${a}`))));
  fill(panel, h('div', { class: 'issue-detail', dataset: { uuid: p.uuid ?? uuid, status: p.status } },
    h('div', { class: 'detail-head' },
      h('div', {}, h('h3', { class: 'issue-code' }, p.code ?? issueKindLabel(p.kind)), issueBadge(p.status), ' ', h('span', {}, issueKindLabel(p.kind)),
        p.overdue ? h('span', { class: 'overdue-flag' }, ' ', t('dust.overdue')) : null),
      h('button', { type: 'button', class: 'btn btn-close', 'aria-label': t('common.close'), on: { click: () => opts.onClose?.() } }, '×')),
    allowed.length ? h('section', {}, h('h4', {}, t('fire.actions')), buttons, formSlot) : null,
    h('section', {}, h('h4', {}, t('fire.facts')), facts(p, coords)),
    h('section', { class: 'photos' }, h('h4', {}, t('fire.photos', { n: p.photos?.length ?? 0 })), gallery(p.photos, coords, { subject: 'issue' })),
    h('section', {}, h('h4', {}, t('fire.timeline')), h('ol', { class: 'timeline' }, (p.events ?? []).map(eventItem)))));
  return f;
}
