// Small DOM helpers: the app builds its views with these instead of a framework, so it needs
// no build step and every text node goes in through textContent (no HTML injection from data).
// Styles go in through the CSSOM (`el.style`), which the Content-Security-Policy allows, never
// as a style="" attribute, which it blocks.

/**
 * Creates an element. `attrs`: `class`, `dataset` (object), `on` (object of listeners), `style`
 * (CSS text, set through the CSSOM), `hidden`/`disabled`/boolean properties, anything else as
 * an attribute.
 * Children: nodes, strings (as text), arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Text as an element, for the map's tooltips and popups (MapLibre's `setHTML` would take a
 * string as HTML): a district or mine name must show literally, never run as markup.
 */
export const textEl = (text, attrs = {}) => h('span', attrs, String(text ?? ''));

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Shows a short message at the bottom of the screen (errors from the server, confirmations). */
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = `toast toast-${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}
