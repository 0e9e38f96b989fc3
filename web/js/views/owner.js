// The mine owner's view: only the fires it answers for (the server filters them), on the map and
// as a list by deadline with a countdown; a banner while any of its mines is production-
// suspended (先灭火后生产); and the treatment actions (start, progress, controlled) in a fire's
// detail.

import { h, fill } from '../dom.js';
import { t, num } from '../i18n.js';
import { get } from '../api.js';
import { kindLabel } from '../layers.js';
import { fmtDateTime } from '../time.js';
import { createMap, addAreas, fireLayer, addLegend } from '../ui/map.js';
import { statusBadge, deadlineCountdown } from '../ui/bits.js';
import { showFire } from '../ui/fire-detail.js';
import { onOpenFire } from '../ui/notifications.js';

const REFRESH_MS = 60_000;
const DONE = ['cleared', 'dismissed'];

/** The production-suspended banner: each mine, and the fires that keep it suspended (open them). */
function banner(c, onOpen) {
  if (!c?.suspended_mines?.length) return null;
  return h('div', { class: 'banner banner-danger', role: 'alert' },
    h('strong', {}, t('owner.suspended_title')),
    h('ul', {}, c.suspended_mines.map((m) => h('li', { class: 'suspended-mine', dataset: { licence: m.licence_no } },
      t('owner.suspended_mine', { name: m.name, n: m.burning }),
      (m.fires ?? []).length ? [t('owner.suspended_fires'), ' ', m.fires.map((f) => h('button', {
        type: 'button', class: 'link fire-link', dataset: { fireId: f.id }, on: { click: () => onOpen(f.id) },
      }, f.code))] : null))),
    h('p', {}, t('owner.suspended_why')));
}

function fireCard(f, onOpen) {
  const p = f.properties;
  return h('li', { class: ['fire-card', p.overdue && 'overdue'], dataset: { fireId: p.id } },
    h('button', { type: 'button', class: 'fire-card-btn', on: { click: () => onOpen(p.id) } },
      h('div', { class: 'fire-card-head' }, h('strong', { class: 'fire-code' }, p.code), statusBadge(p.status)),
      h('div', { class: 'fire-card-body' },
        h('span', {}, kindLabel(p.kind)),
        p.responsible?.via ? h('span', { class: 'hint' }, p.responsible.via.name) : null,
        h('span', { class: 'responsible-name' }, p.responsible?.name ?? '')),
      h('div', { class: 'fire-card-foot' }, h('span', { class: 'hint' }, t('owner.deadline', { at: fmtDateTime(p.deadline) })), deadlineCountdown(p.deadline, p.burning))));
}

export function render(root, user) {
  const mapEl = h('div', { class: 'map' });
  const bannerSlot = h('div', { class: 'banner-slot' });
  const summary = h('div', { class: 'owner-summary' });
  const openList = h('ul', { class: 'fire-list open-fires' });
  const waitList = h('ul', { class: 'fire-list waiting-fires' });
  const waitSection = h('section', {}, h('h3', {}, t('owner.waiting_fires')), waitList);
  const doneList = h('ul', { class: 'fire-list done-fires' });
  const doneCount = h('span');
  const detail = h('aside', { class: 'detail', hidden: true, 'aria-label': t('fire.detail') });

  fill(root, h('div', { class: 'layout layout-owner' },
    bannerSlot,
    h('div', { class: 'map-pane' }, mapEl),
    h('div', { class: 'side' },
      h('div', { class: 'side-scroll' },
        h('p', { class: 'scope-note' }, t('owner.scope', { holder: user.holder ?? '' })),
        summary,
        h('section', {}, h('h3', {}, t('owner.open_fires')), openList),
        waitSection,
        h('details', { class: 'done' }, h('summary', {}, t('owner.done_fires'), ' ', doneCount), doneList)),
      detail)));

  const map = createMap(mapEl);
  const fires = fireLayer(map, { onSelect: (f) => openFire(f.properties.id) });
  addLegend(map);
  // Frame its own mines and fires once both are there (some fires lie outside its mines).
  const areasReady = addAreas(map, { fit: 'mines' });
  let framed = false;
  async function frame() {
    const { groups } = await areasReady;
    const b = fires.group.getBounds();
    if (groups.mines?.getLayers().length) b.extend(groups.mines.getBounds());
    if (b.isValid()) map.fitBounds(b, { padding: [24, 24] });
    framed = true;
  }

  function openFire(id) {
    fires.select(id, true);
    detail.hidden = false;
    showFire(detail, id, {
      onClose: () => { detail.hidden = true; fires.select(null); },
      onChanged: () => load(),
    });
  }

  async function load() {
    try {
      const [fc, c] = await Promise.all([get('/api/fires'), get('/api/clearance')]);
      fires.set(fc.features);
      if (!framed) frame();
      // Burning first (they stop production), then those awaiting acceptance, then the closed.
      const open = fc.features.filter((f) => f.properties.burning);
      const waiting = fc.features.filter((f) => !f.properties.burning && !DONE.includes(f.properties.status));
      const done = fc.features.filter((f) => DONE.includes(f.properties.status));
      fill(openList, open.length ? open.map((f) => fireCard(f, openFire)) : h('li', { class: 'hint' }, t('owner.no_open')));
      fill(waitList, waiting.map((f) => fireCard(f, openFire)));
      waitSection.hidden = !waiting.length;
      fill(doneList, done.map((f) => fireCard(f, openFire)));
      doneCount.textContent = `(${done.length})`;
      fill(bannerSlot, banner(c, openFire));
      fill(summary,
        h('span', { class: ['big-number', c.burning ? 'burning' : 'zero'], dataset: { count: String(c.burning) } }, num(c.burning)),
        h('span', {}, c.burning ? t('clearance.burning') : t('clearance.zero')),
        h('span', { class: 'hint' }, t('owner.overdue', { n: c.overdue.length })));
    } catch (e) {
      fill(openList, h('li', { class: 'form-error' }, e.message));
    }
  }

  load();
  const unlisten = onOpenFire(openFire);
  const timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, REFRESH_MS);
  return () => { clearInterval(timer); unlisten(); map.remove(); };
}
