// Dust lists shared by the views: exceedance alerts with the actions the user may take,
// production restrictions (acknowledge for the owner, a compliance check for the patrol, the
// checks made so far), warnings with how many mines got restrictions and how many acknowledged
// them, and violations by status.

import { h, fill, toast } from '../dom.js';
import { t, num, listOf } from '../i18n.js';
import { post, ApiError } from '../api.js';
import { fmtDateTime } from '../time.js';
import { textOn } from '../layers.js';
import { partyText, errorBox, field } from './bits.js';
import {
  pollutantLabel, alertStatusLabel, alertStatusColour, attributionText, alertActions, ug, levelLabel, measureLabel,
  LEVEL_COLOURS, issueKindLabel, issueStatusLabel, issueStatusColour, inForce,
} from '../dust.js';

export function badge(text, bg, data = {}) {
  return h('span', { class: 'badge', style: `background:${bg};color:${textOn(bg)}`, dataset: data }, text);
}

export const levelBadge = (level) => badge(levelLabel(level), LEVEL_COLOURS[level] ?? '#6a1b9a', { level });
export const issueBadge = (status) => badge(issueStatusLabel(status), issueStatusColour(status), { status });
const alertBadge = (status) => badge(alertStatusLabel(status), alertStatusColour(status), { status });

/**
 * A small form for an action that takes a note (and, with `extra`, more fields), posting `body`
 * built by `bodyOf(form)` to `path`; `onDone(answer)` once the server took it.
 */
export function noteForm({ title, path, bodyOf, onDone, onCancel, extra = null, submitLabel, noteRequired = false, after }) {
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel ?? title);
  const form = h('form', { class: 'action-form dust-action-form' },
    h('h4', {}, title),
    extra,
    field(t('form.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000, required: noteRequired })),
    err,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'btn', on: { click: () => onCancel?.() } }, t('common.cancel'))));
  let answer = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const note = form.elements.note.value.trim();
    if (noteRequired && !note) { err.show(t('dust.note_required')); return; }
    submit.disabled = true;
    try {
      if (!answer) answer = await post(path, bodyOf(form, note));
      if (after && !(await after(answer, err, submit))) return;
      onDone?.(answer);
    } catch (e2) {
      err.show(e2 instanceof ApiError ? e2.message : String(e2));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** One exceedance alert: pollutant and window, value against the limit, who answers and why. */
export function alertCard(a, { user, monitorName = (mn) => mn, onChanged }) {
  const slot = h('div', { class: 'form-slot' });
  const actions = alertActions(a, user);
  const pct = a.limit ? Math.round((a.value / a.limit) * 100) : null;
  return h('li', { class: ['dust-card', 'alert-card', `status-${a.status}`], dataset: { alertId: String(a.id), status: a.status, mn: a.mn } },
    h('div', { class: 'dust-card-head' },
      h('strong', {}, t('dust.alert_title', { pollutant: pollutantLabel(a.pollutant), window: t(`dust.window.${a.window === '24h' ? 'day' : 'hour'}`) })),
      alertBadge(a.status)),
    h('div', { class: 'alert-value' }, t('dust.value_vs_limit', { value: ug(a.value), limit: ug(a.limit), pct: pct ?? '—' })),
    h('div', { class: 'hint' }, t('dust.alert_where', { monitor: monitorName(a.mn), at: fmtDateTime(a.created_at) })),
    h('div', { class: 'responsible-line' }, t('dust.responsible', { party: partyText(a.responsible) })),
    attributionText(a.attribution) ? h('div', { class: 'attribution hint' }, attributionText(a.attribution)) : null,
    actions.length ? h('div', { class: 'actions' }, actions.map((act) => h('button', {
      type: 'button', class: ['btn', 'btn-small', `act-${act}`], dataset: { action: act },
      on: {
        click: () => fill(slot, noteForm({
          title: t(`dust.alert_action.${act}`),
          path: `/api/dust/alerts/${a.id}/events`,
          bodyOf: (_f, note) => ({ action: act, ...(note ? { note } : {}) }),
          onCancel: () => fill(slot),
          onDone: () => { toast(t('action.done', { action: t(`dust.alert_action.${act}`) }), 'ok'); onChanged?.(); },
        })),
      },
    }, t(`dust.alert_action.${act}`)))) : null,
    slot);
}

export function alertList(alerts, opts) {
  if (!alerts.length) return h('p', { class: 'hint' }, t('dust.no_alerts'));
  return h('ul', { class: 'dust-list alert-list' }, alerts.map((a) => alertCard(a, opts)));
}

/** The period of a warning or restriction. */
const period = (x) => t('dust.period', { from: fmtDateTime(x.from), to: fmtDateTime(x.to) });

/**
 * One production restriction. `onAcknowledge` (the owner) adds the button while it is not
 * acknowledged; `onCheck(r)` (patrol, manager) adds "record a compliance check".
 */
export function restrictionCard(r, { onAcknowledge, onCheck, distance } = {}) {
  const checks = r.checks ?? [];
  const last = checks.at(-1);
  return h('li', { class: ['dust-card', 'restriction-card', r.overdue && 'overdue', r.acknowledged_at && 'acknowledged'], dataset: { restrictionId: String(r.id), warning: String(r.warning), mine: r.mine } },
    h('div', { class: 'dust-card-head' }, h('strong', {}, r.mine_name), levelBadge(r.level)),
    h('div', { class: 'hint' }, r.holder ?? '', ' · ', r.mine),
    h('div', {}, period(r)),
    h('ul', { class: 'measures' }, (r.measures ?? []).map((m) => h('li', { dataset: { measure: m } }, measureLabel(m)))),
    r.acknowledged_at
      ? h('div', { class: 'ack ok-text' }, t('dust.acknowledged', { at: fmtDateTime(r.acknowledged_at), who: r.acknowledged_by ?? '' }))
      : h('div', { class: ['ack', r.overdue ? 'overdue-flag' : 'warn'] }, r.overdue ? t('dust.ack_overdue', { at: fmtDateTime(r.due) }) : t('dust.ack_due', { at: fmtDateTime(r.due) })),
    distance != null ? h('div', { class: 'hint' }, t('patrol.distance', { m: num(Math.round(distance)) })) : null,
    checks.length ? h('div', { class: 'checks hint' }, t('dust.checks', { n: checks.length }), ' · ',
      t(last.compliant ? 'dust.last_check_ok' : 'dust.last_check_bad', { at: fmtDateTime(last.at), who: last.by ?? '' })) : null,
    h('div', { class: 'actions' },
      onAcknowledge && !r.acknowledged_at ? h('button', { type: 'button', class: 'btn btn-primary acknowledge', on: { click: () => onAcknowledge(r) } }, t('dust.acknowledge')) : null,
      onCheck ? h('button', { type: 'button', class: 'btn record-check', on: { click: () => onCheck(r) } }, t('dust.record_check')) : null));
}

/** Acknowledges every waiting restriction one warning put on the owner's mines, then `onDone()`. */
export async function acknowledgeWarning(warning, onDone) {
  try {
    const res = await post(`/api/dust/warnings/${warning}/acknowledge`, {});
    toast(t('dust.acknowledged_all_toast', { n: res.acknowledged }), 'ok');
    onDone?.();
  } catch (e) {
    toast(e.message, 'error');
  }
}

/**
 * For each warning with more than one restriction waiting: one button that acknowledges them
 * all (an owner with many mines should not click each).
 */
export function acknowledgeAllBars(restrictions, onDone) {
  const waiting = new Map();
  for (const r of restrictions) if (!r.acknowledged_at) waiting.set(r.warning, [...(waiting.get(r.warning) ?? []), r]);
  return [...waiting].filter(([, rs]) => rs.length > 1).map(([warning, rs]) => h('li', { class: 'ack-all-bar', dataset: { warning: String(warning) } },
    h('span', {}, t('dust.ack_all_waiting', { n: rs.length, level: levelLabel(rs[0].level) })), ' ',
    h('button', { type: 'button', class: 'btn btn-primary acknowledge-all', on: { click: () => acknowledgeWarning(warning, onDone) } }, t('dust.acknowledge_all', { n: rs.length }))));
}

/** Acknowledges a restriction (the owner), then `onDone()`. */
export async function acknowledge(r, onDone) {
  try {
    await post(`/api/dust/restrictions/${r.id}/acknowledge`, {});
    toast(t('dust.acknowledged_toast', { mine: r.mine_name }), 'ok');
    onDone?.();
  } catch (e) {
    toast(e.message, 'error');
  }
}

/** One warning: level, period, where, measures, restrictions and how many were acknowledged. */
export function warningCard(w, { districtName = (c) => c, restrictions = [], onShow } = {}) {
  const active = w.active ?? inForce(w);
  const mine = restrictions.filter((r) => r.warning === w.id);
  return h('li', { class: ['dust-card', 'warning-card', active && 'active'], dataset: { warningId: String(w.id), level: w.level } },
    h('div', { class: 'dust-card-head' }, levelBadge(w.level), h('span', { class: active ? 'warn' : 'hint' }, active ? t('dust.in_force') : t('dust.not_in_force'))),
    h('div', {}, period(w)),
    h('div', { class: 'hint' }, [
      (w.districts ?? []).length ? t('dust.districts', { names: listOf(w.districts.map(districtName)) }) : null,
      w.area ? t('dust.drawn_area') : null,
    ].filter(Boolean).join(' · ')),
    w.note ? h('div', { class: 'event-note' }, w.note) : null,
    h('div', { class: 'warning-counts' },
      h('span', { class: 'count-restrictions', dataset: { n: String(w.restrictions ?? mine.length) } }, t('dust.restrictions_n', { n: w.restrictions ?? mine.length })),
      h('span', { class: 'count-acknowledged', dataset: { n: String(w.acknowledged ?? 0) } }, t('dust.acknowledged_n', { n: w.acknowledged ?? 0 })),
      h('span', { class: ['count-overdue', (w.overdue ?? 0) > 0 && 'overdue-flag'], dataset: { n: String(w.overdue ?? 0) } }, t('dust.overdue_n', { n: w.overdue ?? 0 }))),
    mine.length ? h('details', { class: 'warning-restrictions' },
      h('summary', {}, t('dust.show_restrictions')),
      h('ul', { class: 'dust-list' }, mine.map((r) => restrictionCard(r)))) : null,
    onShow && w.area ? h('button', { type: 'button', class: 'btn btn-small', on: { click: () => onShow(w) } }, t('dust.show_area')) : null,
    h('div', { class: 'hint' }, t('dust.issued', { who: w.issued_by ?? '', at: fmtDateTime(w.issued_at) })));
}

/** One violation in a list; `onOpen(feature)` opens its detail. */
export function issueRow(f, { onOpen, distance } = {}) {
  const p = f.properties;
  return h('li', { class: ['dust-card', 'issue-card', p.overdue && 'overdue'], style: `border-left-color:${issueStatusColour(p.status)}`, dataset: { uuid: p.uuid, status: p.status } },
    h('button', { type: 'button', class: 'issue-card-btn', on: { click: () => onOpen?.(f) } },
      h('div', { class: 'dust-card-head' }, h('strong', { class: 'issue-code' }, p.code ?? issueKindLabel(p.kind)), issueBadge(p.status)),
      h('div', {}, issueKindLabel(p.kind), distance != null ? h('span', { class: 'hint' }, ` · ${t('patrol.distance', { m: num(Math.round(distance)) })}`) : null),
      h('div', { class: 'hint responsible-name' }, p.responsible ? partyText(p.responsible) : p.responsible_name ?? ''),
      p.deadline ? h('div', {}, h('span', { class: p.overdue ? 'overdue-flag' : 'hint' }, t(p.overdue ? 'dust.deadline_passed' : 'dust.deadline', { at: fmtDateTime(p.deadline) }))) : null));
}

export function issueList(features, opts) {
  if (!features.length) return h('p', { class: 'hint' }, t('dust.no_issues'));
  return h('ul', { class: 'dust-list issue-list' }, features.map((f) => issueRow(f, { ...opts, distance: opts?.distanceOf?.(f) })));
}
