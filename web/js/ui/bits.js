// Small shared pieces: the status badge, a live deadline countdown, the party label, a
// labelled form field.

import { h, fill, toast } from '../dom.js';
import { t } from '../i18n.js';
import { statusColour, statusLabel, textOn } from '../layers.js';
import { countdown } from '../time.js';

export function statusBadge(status) {
  const bg = statusColour(status);
  return h('span', { class: 'badge', style: `background:${bg};color:${textOn(bg)}`, dataset: { status } }, statusLabel(status));
}

/**
 * A countdown to a deadline that keeps itself current (see startTicker). Only burning fires tick.
 * With `at` (an ISO time: the end of an "as of" day) it is counted to that moment and stays.
 */
export function deadlineCountdown(iso, burning = true, at = null) {
  const el = h('span', { class: 'countdown' });
  if (!burning) {
    el.textContent = t('deadline.met');
    el.classList.add('done');
    return el;
  }
  el.dataset.deadline = iso ?? '';
  if (at) el.dataset.at = at;
  paint(el);
  return el;
}

function paint(el) {
  const c = countdown(el.dataset.deadline || null, el.dataset.at ? Date.parse(el.dataset.at) : Date.now());
  el.textContent = c.text;
  el.classList.toggle('overdue', c.overdue);
}

let ticker = null;
/** Repaints every visible countdown once a minute. */
export function startTicker() {
  if (ticker) return;
  ticker = setInterval(() => document.querySelectorAll('[data-deadline]').forEach(paint), 30_000);
}

/** "矿业权人 骆驼山…" / "属地政府 乌达区". */
export function partyText(r) {
  if (!r) return t('common.none');
  return `${t(`party.${r.party}`)} · ${r.name}`;
}

/** What became of an item handed to the outbox: sent at once, or kept to send later. */
export function queuedToast(state) {
  toast(t(state === 'sent' ? 'patrol.sent_now' : 'patrol.queued'), 'ok');
}

/** A label wrapping an input, with the label text from the tables. */
export function field(labelText, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, labelText), input, hint ? h('span', { class: 'hint' }, hint) : null);
}

/** A block for an error message from the server, hidden until set. */
export function errorBox() {
  const el = h('p', { class: 'form-error', role: 'alert', hidden: true });
  el.show = (msg) => { el.textContent = msg; el.hidden = !msg; };
  return el;
}

/**
 * The layout of a role's view: `top` (banners) above; the map pane (`map`: the map and what goes
 * over it); the side panel, `head` over its scrolling part (`side`) over the `detail`.
 */
export function viewLayout(root, { cls, top = null, map, head = null, side, detail = null }) {
  // The side panel comes before the map in the document, so the keyboard and screen readers
  // reach the lists and forms before the map's markers; the grid still draws the map first.
  fill(root, h('div', { class: cls },
    top,
    h('div', { class: 'side' }, head, h('div', { class: 'side-scroll' }, side), detail),
    h('div', { class: 'map-pane' }, map)));
}

/** The fires / dust switch: paints `bar` with `current` active; `pick(mode)` on another. */
export function modeTabs(bar, current, pick) {
  fill(bar, ['fires', 'dust'].map((k) => h('button', {
    type: 'button', role: 'tab', class: ['mode', current === k && 'active'], 'aria-selected': String(current === k), dataset: { mode: k },
    on: { click: () => { if (current !== k) pick(k); } },
  }, t(`mode.${k}`))));
}
