// One fire in full: its facts, who answers for it and why, the deadline, its photos, the
// temperature readings, the timeline of events, and the actions this user may take now.

import { h, fill, toast } from '../dom.js';
import { t, pick, num, listOf } from '../i18n.js';
import { get, ApiError } from '../api.js';
import { fieldTitle, kindLabel, signLabel, statusLabel, layer, valueLabel } from '../layers.js';
import { fmtDateTime, fmtDate } from '../time.js';
import { rules, methodLabel } from '../rules.js';
import { statusBadge, deadlineCountdown, partyText } from './bits.js';
import { actionForm } from './actions.js';
import { readings } from './chart.js';
import { gallery } from './photos.js';

const ft = (name) => fieldTitle('fire_points', name);

/** Why this party answers for the fire: a manager's reassignment, else the geometry. */
function reasonFor(r, events) {
  const moved = events.filter((e) => e.action === 'reassign').at(-1);
  if (moved) return t('fire.via_reassigned', { at: fmtDateTime(moved.at), reason: moved.reason ?? '' });
  if (r.via) return t('fire.via', { layer: pick(layer(r.via.layer)?.title) || r.via.layer, name: r.via.name });
  return t('fire.via_none');
}

function responsibleBlock(r, events) {
  if (!r) return null;
  return h('div', { class: 'responsible' },
    h('div', { class: 'responsible-name' }, partyText(r)),
    h('div', { class: 'hint' }, reasonFor(r, events)),
    r.candidates?.length
      ? h('div', { class: 'candidates' }, h('span', { class: 'warn' }, t('fire.candidates')),
        h('ul', {}, r.candidates.map((c) => h('li', {}, `${c.name} — ${c.holder || t('party.none')}`))))
      : null);
}

function facts(p) {
  const rows = [
    [ft('kind'), kindLabel(p.kind)],
    [ft('reported_at'), fmtDateTime(p.reported_at)],
    p.reported_by ? [ft('reported_by'), p.reported_by] : null,
    [ft('temp_c'), p.temp_c == null ? t('common.none') : `${num(p.temp_c, 1)} °C`],
    [ft('max_temp_c'), p.max_temp_c == null ? t('common.none') : `${num(p.max_temp_c, 1)} °C`],
    [ft('area_m2'), p.area_m2 == null ? t('common.none') : `${num(p.area_m2)} m²`],
    [ft('signs'), p.signs?.length ? listOf(p.signs.map(signLabel)) : t('common.none')],
    [ft('position_source'), `${valueLabel('fire_points', 'position_source', p.position_source ?? 'gps')}${p.accuracy_m != null ? ` ±${num(p.accuracy_m)} m` : ''}`],
    p.reignitions ? [ft('reignitions'), String(p.reignitions)] : null,
    p.controlled_at ? [ft('controlled_at'), fmtDateTime(p.controlled_at)] : null,
    p.cleared_at ? [ft('cleared_at'), fmtDateTime(p.cleared_at)] : null,
    p.note ? [ft('note'), p.note] : null,
  ].filter(Boolean);
  return h('table', { class: 'facts' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function eventItem(e) {
  const bits = [
    e.temp_c != null ? t('event.temp', { c: num(e.temp_c, 1) }) : null,
    e.co_ppm != null ? t('event.co', { ppm: num(e.co_ppm, 1) }) : null,
    e.method ? t('event.method', { method: methodLabel(e.method) }) : null,
    e.plan_due ? t('event.plan_due', { date: e.plan_due }) : null,
    e.deadline ? t('event.deadline', { date: fmtDateTime(e.deadline) }) : null,
    e.responsible && e.action !== 'report' ? t('event.responsible', { party: partyText(e.responsible) }) : null,
    e.duplicate_of ? t('event.duplicate_of', { id: e.duplicate_of }) : null,
    e.reason ? t('event.reason', { reason: e.reason }) : null,
  ].filter(Boolean);
  return h('li', { class: ['event', e.reignited && 'reignited'] },
    h('div', { class: 'event-head' },
      h('strong', {}, t(`event.action.${e.action}`)),
      e.from && e.from !== e.to ? h('span', { class: 'event-move' }, `${statusLabel(e.from)} → ${statusLabel(e.to)}`) : null,
      e.reignited ? h('span', { class: 'warn' }, t('event.reignited')) : null),
    h('div', { class: 'hint' }, `${fmtDateTime(e.at)} · ${e.actor || t(`role.${e.role}`)}`),
    bits.length ? h('div', {}, bits.join(' · ')) : null,
    e.note ? h('div', { class: 'event-note' }, e.note) : null);
}

/**
 * Renders a fire into `panel`. Options: `onClose()`, `onChanged(feature)` after an action,
 * `send` (to route actions through the outbox), `only` (limit the buttons, e.g. the patrol's
 * inspect).
 */
export async function showFire(panel, id, opts = {}) {
  fill(panel, h('p', { class: 'hint' }, t('common.loading')));
  let fire;
  try {
    fire = await get(`/api/fires/${encodeURIComponent(id)}`);
  } catch (e) {
    fill(panel, h('p', { class: 'form-error' }, e instanceof ApiError ? e.message : String(e)),
      h('button', { class: 'btn', on: { click: () => opts.onClose?.() } }, t('common.close')));
    return null;
  }
  const p = fire.properties;
  const events = p.events ?? [];
  const temps = events.filter((e) => e.temp_c != null).map((e) => ({ at: e.at, temp_c: e.temp_c }));
  const formSlot = h('div', { class: 'form-slot' });
  const allowed = (p.allowed_actions ?? []).filter((a) => !opts.only || opts.only.includes(a));
  const buttons = h('div', { class: 'actions' }, allowed.map((a) => h('button', {
    type: 'button', class: ['btn', 'btn-action', `act-${a}`], dataset: { action: a },
    on: {
      click: () => fill(formSlot, actionForm(a, fire, {
        send: opts.send,
        onCancel: () => fill(formSlot),
        onDone: (res) => {
          toast(t('action.done', { action: t(`action.${a}`) }), 'ok');
          opts.onChanged?.(res);
          showFire(panel, id, opts);
        },
      })),
    },
  }, t(`action.${a}`))));

  fill(panel,
    h('div', { class: 'detail-head' },
      h('div', {},
        h('h3', { class: 'fire-code' }, p.code), statusBadge(p.status), ' ',
        h('span', { class: 'kind' }, kindLabel(p.kind))),
      h('button', { type: 'button', class: 'btn btn-close', 'aria-label': t('common.close'), on: { click: () => opts.onClose?.() } }, '×')),
    h('section', { class: 'deadline-box' },
      h('div', { class: 'hint' }, ft('deadline')),
      h('div', { class: 'deadline' }, fmtDateTime(p.deadline), ' ', deadlineCountdown(p.deadline, p.burning))),
    h('section', {}, h('h4', {}, ft('responsible_name')), responsibleBlock(p.responsible, events)),
    allowed.length ? h('section', {}, h('h4', {}, t('fire.actions')), buttons, formSlot) : null,
    h('section', { class: 'photos' }, h('h4', {}, t('fire.photos', { n: p.photos?.length ?? 0 })), gallery(p.photos, fire.geometry?.coordinates)),
    h('section', {}, h('h4', {}, t('fire.facts')), facts(p)),
    h('section', {}, h('h4', {}, t('chart.readings')),
      temps.length ? readings(temps, rules().threshold_c) : h('p', { class: 'hint' }, t('fire.no_readings'))),
    h('section', {}, h('h4', {}, t('fire.timeline')), h('ol', { class: 'timeline' }, events.map(eventItem))),
    p.watched ? h('p', { class: 'hint' }, t('fire.watched')) : null,
    h('p', { class: 'hint' }, t('fire.updated', { at: fmtDate(p.updated_at) })));
  return fire;
}
