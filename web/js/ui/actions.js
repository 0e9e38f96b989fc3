// The forms for acting on a fire (POST /api/fires/{id}/events). Which buttons show is decided
// by the server's `allowed_actions` for this user and this fire; the forms only collect what
// each action needs, and the server's message is shown when it refuses. Treatment, progress,
// controlled and inspection forms take photos, uploaded to the fire once the action is in.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { post, getCached, ApiError } from '../api.js';
import { rules, methodLabel } from '../rules.js';
import { field, errorBox } from './bits.js';
import { photoField, memoryStore, uploadFormPhotos } from './photos.js';

/** The actions whose forms take photos (evidence of the fire and of the treatment). */
export const PHOTO_ACTIONS = ['start_treatment', 'progress', 'control', 'inspect'];

const numberInput = (name, attrs = {}) => h('input', { name, type: 'number', inputmode: 'decimal', step: 'any', ...attrs });
const textArea = (name, attrs = {}) => h('textarea', { name, rows: 2, maxlength: 2000, ...attrs });

/** Distinct holders (mines and heaps) and districts, for reassigning. */
async function parties() {
  const [mines, heaps, districts] = await Promise.all(
    ['mines', 'gangue_heaps', 'districts'].map((n) => getCached(`/collections/${n}/items?limit=10000`).then((r) => r.data.features).catch(() => [])),
  );
  const holders = [...new Set([...mines, ...heaps].map((f) => f.properties.holder).filter(Boolean))].sort();
  return { holders, districts: districts.map((f) => f.properties) };
}

/** The inputs of one action's form. */
function inputs(action, fire) {
  const p = fire.properties;
  switch (action) {
    case 'start_treatment':
      return [
        field(t('form.method'), h('select', { name: 'method', required: true },
          h('option', { value: '' }, t('form.choose')),
          rules().methods.map((m) => h('option', { value: m }, methodLabel(m))))),
        p.kind === 'coal_seam' ? field(t('form.plan_due'), h('input', { name: 'plan_due', type: 'date' }), t('form.plan_due_hint')) : null,
        field(t('form.note'), textArea('note')),
      ];
    case 'progress':
      return [field(t('form.progress_note'), textArea('note', { required: true }))];
    case 'control':
      return [
        field(t('form.temp_c'), numberInput('temp_c', { required: true, min: -60, max: 1500 }), t('form.control_hint', { c: rules().threshold_c })),
        field(t('form.note'), textArea('note')),
      ];
    case 'inspect':
      return [
        field(t('form.temp_c'), numberInput('temp_c', { min: -60, max: 1500 })),
        field(t('form.co_ppm'), numberInput('co_ppm', { min: 0 })),
        field(t('form.note'), textArea('note')),
        h('p', { class: 'hint' }, t('form.inspect_hint')),
      ];
    case 'dismiss': {
      const reason = field(t('form.reason'), textArea('reason'));
      const example = `${rules().code_prefix}-${new Date().getFullYear()}-0001`;
      const dup = field(t('form.duplicate_of'), h('input', { name: 'duplicate_of', type: 'text', placeholder: example, autocomplete: 'off' }));
      dup.hidden = true;
      const mode = h('div', { class: 'segmented', role: 'radiogroup' },
        ['false', 'duplicate'].map((m, i) => h('label', {}, h('input', {
          type: 'radio', name: 'dismiss_mode', value: m, checked: i === 0,
          on: { change: () => { reason.hidden = m !== 'false'; dup.hidden = m === 'false'; } },
        }), t(`form.dismiss_${m}`))));
      return [mode, reason, dup];
    }
    case 'reassign': {
      const holderSel = h('select', { name: 'holder' }, h('option', { value: '' }, t('form.choose')));
      const districtSel = h('select', { name: 'district_code' }, h('option', { value: '' }, t('form.choose')));
      const holderField = field(t('party.holder'), holderSel);
      const districtField = field(t('party.district'), districtSel);
      districtField.hidden = true;
      parties().then(({ holders, districts }) => {
        const first = (p.responsible?.candidates ?? []).map((c) => c.holder).filter(Boolean);
        for (const name of [...new Set([...first, ...holders])]) holderSel.append(h('option', { value: name }, name));
        for (const d of districts) districtSel.append(h('option', { value: d.code }, `${d.name} (${d.code})`));
      });
      const mode = h('div', { class: 'segmented', role: 'radiogroup' },
        ['holder', 'district'].map((m, i) => h('label', {}, h('input', {
          type: 'radio', name: 'party', value: m, checked: i === 0,
          on: { change: () => { holderField.hidden = m !== 'holder'; districtField.hidden = m !== 'district'; } },
        }), t(`party.${m}`))));
      return [mode, holderField, districtField, field(t('form.reason'), textArea('reason', { required: true }))];
    }
    default: // confirm, extinguish, clear
      return [field(t('form.note'), textArea('note'))];
  }
}

/** The request body from a form's values. */
export function bodyOf(action, form, id) {
  const v = (n) => form.elements[n]?.value?.trim() ?? '';
  const n = (k) => (v(k) === '' ? undefined : Number(v(k)));
  const body = { action, id };
  if (v('note')) body.note = v('note');
  if (n('temp_c') !== undefined) body.temp_c = n('temp_c');
  if (n('co_ppm') !== undefined) body.co_ppm = n('co_ppm');
  if (action === 'start_treatment') {
    body.method = v('method');
    if (v('plan_due')) body.plan_due = v('plan_due');
  }
  if (action === 'dismiss') {
    if (form.elements.dismiss_mode.value === 'duplicate') body.duplicate_of = v('duplicate_of');
    else body.reason = v('reason');
  }
  if (action === 'reassign') {
    body.reason = v('reason');
    body.responsible = form.elements.party.value === 'holder'
      ? { party: 'holder', name: v('holder') }
      : { party: 'district', district_code: v('district_code') };
  }
  return body;
}

/**
 * The form for one action on a fire. `send(body)` defaults to posting it now; the patrol view
 * passes its outbox instead. `onDone(result)` runs after the server (or the outbox) took it.
 */
export function actionForm(action, fire, { onDone, onCancel, send } = {}) {
  // One id per opened form: a double tap or a retry after a lost answer is applied once.
  const id = crypto.randomUUID();
  return sendingForm({
    cls: 'action-form',
    action,
    title: t(`action.${action}`),
    inputs: inputs(action, fire),
    // Photos go straight to the server after the action (this form is for the online views).
    photosTo: !send && PHOTO_ACTIONS.includes(action) ? fire.properties.id : null,
    act: (form) => {
      const body = bodyOf(action, form, id);
      return send ? send(body) : post(`/api/fires/${encodeURIComponent(fire.properties.id)}/events`, body);
    },
    onDone,
    onCancel,
  });
}

/**
 * An action form that sends when submitted, a fire's or a dust violation's: its title, `inputs`,
 * a photo field when `photosTo` says where the photos go (a fire's id, or `{ path }`), the
 * server's message, the upload progress, and send and cancel. On submit, `check(form)` may return
 * a message that stops it; `act(form)` sends the action, once (sending again only retries the
 * photos not yet sent); then the photos go up and `onDone(result)` runs.
 */
export function sendingForm({ cls, action, title, inputs, photosTo = null, check, act, onDone, onCancel }) {
  const err = errorBox();
  const progress = h('p', { class: 'hint upload-progress', role: 'status', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, title);
  const store = photosTo ? memoryStore() : null;
  const photos = store ? photoField({ store }) : null;
  const form = h('form', { class: cls, dataset: { action } },
    h('h4', {}, title),
    inputs,
    photos ? h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('photo.label')), photos) : null,
    err,
    progress,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'btn', on: { click: () => onCancel?.() } }, t('common.cancel'))));
  let result = null; // the server's answer once the action is in: sending again only retries photos
  const uploaded = new Set();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const refusal = check?.(form);
    if (refusal) { err.show(refusal); return; }
    submit.disabled = true;
    try {
      if (!result) result = await act(form);
      if (!await uploadFormPhotos(photosTo, store, photos, uploaded, { progress, err, submit })) return;
      onDone?.(result);
    } catch (e2) {
      progress.hidden = true;
      err.show(e2 instanceof ApiError ? e2.message : String(e2));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
