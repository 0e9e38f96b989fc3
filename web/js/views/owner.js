// The mine owner's view: only the fires it answers for (the server filters them), on the map and
// as a list by deadline with a countdown; a banner while any of its mines is production-
// suspended (先灭火后生产); and the treatment actions (start, progress, controlled) in a fire's
// detail. Dust, behind the switch at the top: the production restrictions of warnings on its
// mines to acknowledge (a banner while one waits, flagged when overdue), its exceedance alerts,
// its dust violations (start, rectified with a note and photos), its monitors on the map.

import { h, fill } from '../dom.js';
import { t, num } from '../i18n.js';
import { get, getPages } from '../api.js';
import { kindLabel } from '../layers.js';
import { fmtDateTime } from '../time.js';
import { createMap, addAreas, scopeBounds, frame as frameMap } from '../ui/map.js';
import { fireLayer, addLegend } from '../ui/fire-map.js';
import { statusBadge, deadlineCountdown, modeTabs, viewLayout } from '../ui/bits.js';
import { showFire } from '../ui/fire-detail.js';
import { onOpenFire, onOpenDust } from '../ui/notifications.js';
import { monitorLayer, issueLayer, dustLegend } from '../ui/dust-map.js';
import { showMonitor } from '../ui/dust-monitor.js';
import { showIssue } from '../ui/dust-issue.js';
import { alertList, restrictionCard, acknowledge, acknowledgeAllBars, issueList } from '../ui/dust-lists.js';
import { loadDustRules, inForce } from '../dust.js';

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

/** The banner while restrictions wait for this owner's acknowledgement. */
function restrictionBanner(restrictions, onShow) {
  const waiting = restrictions.filter((r) => !r.acknowledged_at && new Date(r.to).getTime() > Date.now());
  if (!waiting.length) return null;
  const overdue = waiting.filter((r) => r.overdue).length;
  return h('div', { class: ['banner', overdue ? 'banner-danger' : 'banner-warn', 'restriction-banner'], role: 'alert', dataset: { n: String(waiting.length), overdue: String(overdue) } },
    h('strong', {}, t('owner.restrictions_waiting', { n: waiting.length })),
    overdue ? h('span', {}, ' ', t('owner.restrictions_overdue', { n: overdue })) : null,
    ' ',
    h('button', { type: 'button', class: 'btn btn-small show-restrictions', on: { click: onShow } }, t('owner.restrictions_show')));
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

  const dustBanner = h('div', { class: 'banner-slot' });
  const restrictionList = h('ul', { class: 'dust-list restriction-list' });
  const alertSlot = h('div', { class: 'owner-alerts' });
  const issueSlot = h('div', { class: 'owner-issues' });
  const fireSide = h('div', { class: 'fire-side' },
    summary,
    h('section', {}, h('h3', {}, t('owner.open_fires')), openList),
    waitSection,
    h('details', { class: 'done' }, h('summary', {}, t('owner.done_fires'), ' ', doneCount), doneList));
  const dustSide = h('div', { class: 'dust-side', hidden: true },
    h('section', {}, h('h3', {}, t('owner.restrictions')), h('p', { class: 'hint' }, t('owner.restrictions_hint')), restrictionList),
    h('section', {}, h('h3', {}, t('owner.dust_alerts')), alertSlot),
    h('section', {}, h('h3', {}, t('owner.dust_issues')), issueSlot));
  const modeBar = h('div', { class: 'mode-switch', role: 'tablist' });
  const scopeNote = h('p', { class: 'scope-note' });

  viewLayout(root, {
    cls: 'layout layout-owner',
    top: h('div', { class: 'banner-stack' }, bannerSlot, dustBanner),
    map: mapEl,
    side: [scopeNote, modeBar, fireSide, dustSide],
    detail,
  });

  const map = createMap(mapEl);
  const fires = fireLayer(map, { onSelect: (f) => openFire(f.properties.id) });
  const monitors = monitorLayer(map, {
    onSelect: (m) => {
      detail.setAttribute('aria-label', t('dust.monitor_detail'));
      detail.hidden = false;
      showMonitor(detail, m, { onClose: () => { detail.hidden = true; } });
    },
  });
  const issues = issueLayer(map, { onSelect: (f) => openIssue(f.properties.uuid) });

  let mode = 'fires';
  function setMode(m) {
    mode = m;
    modeTabs(modeBar, mode, setMode);
    detail.hidden = true;
    scopeNote.textContent = t(m === 'fires' ? 'owner.scope' : 'owner.scope_dust', { holder: user.holder ?? '' });
    fireSide.hidden = m !== 'fires';
    dustSide.hidden = m !== 'dust';
    if (m === 'fires') {
      monitors.group.remove(); issues.group.remove(); dustKey.remove();
      fires.group.addTo(map); fireLegend.addTo(map);
    } else {
      fires.group.remove(); fireLegend.remove();
      monitors.group.addTo(map); issues.group.addTo(map); dustKey.addTo(map);
      loadDust();
    }
  }

  function openIssue(uuid) {
    if (mode !== 'dust') setMode('dust');
    detail.setAttribute('aria-label', t('dust.issue_detail'));
    detail.hidden = false;
    showIssue(detail, uuid, { onClose: () => { detail.hidden = true; }, onChanged: () => loadDust() });
  }

  // Its restrictions, alerts, violations and monitors (the server gives only its own).
  async function loadDust() {
    const [rs, as, is, ms] = await Promise.allSettled([
      getPages('/api/dust/restrictions', 'restrictions'), getPages('/api/dust/alerts', 'alerts'),
      getPages('/api/dust/issues', 'features'), getPages('/api/dust/monitors', 'monitors'),
    ]);
    const err = (r) => h('p', { class: 'form-error' }, r.reason?.message ?? String(r.reason));
    if (rs.status === 'fulfilled') {
      // Those in force or still to acknowledge first; past ones after.
      const list = rs.value.restrictions.slice().sort((a, b) => Number(!!a.acknowledged_at) - Number(!!b.acknowledged_at) || b.id - a.id);
      fill(restrictionList, list.length
        ? [...acknowledgeAllBars(list, loadDust), ...list.map((r) => restrictionCard(r, { onAcknowledge: (x) => acknowledge(x, loadDust) }))]
        : h('li', { class: 'hint' }, t('owner.no_restrictions')));
      fill(dustBanner, restrictionBanner(list.filter((r) => inForce(r) || !r.acknowledged_at), () => setMode('dust')));
    } else fill(restrictionList, err(rs));
    if (as.status === 'fulfilled') fill(alertSlot, alertList(as.value.alerts, { user, onChanged: loadDust }));
    else fill(alertSlot, err(as));
    if (is.status === 'fulfilled') {
      issues.set(is.value.features);
      const active = is.value.features.filter((f) => f.properties.status !== 'verified');
      fill(issueSlot, issueList(active, { onOpen: (f) => openIssue(f.properties.uuid) }));
    } else fill(issueSlot, err(is));
    if (ms.status === 'fulfilled') monitors.set(ms.value.monitors);
  }
  const fireLegend = addLegend(map);
  const dustKey = dustLegend(map);
  setMode('fires');
  loadDustRules();
  addAreas(map);
  // Frame its own mines and fires once the fires are there (some lie outside its mines).
  let framed = false;
  async function frame(list) {
    framed = true;
    frameMap(map, await scopeBounds(user, list));
  }

  function openFire(id) {
    if (mode !== 'fires') setMode('fires');
    detail.setAttribute('aria-label', t('fire.detail'));
    fires.select(id, true);
    detail.hidden = false;
    showFire(detail, id, {
      onClose: () => { detail.hidden = true; fires.select(null); },
      onChanged: () => load(),
    });
  }

  async function load() {
    try {
      const [tiled, fc, c] = await Promise.all([fires.useTiles(''), getPages('/api/fires', 'features'), get('/api/clearance')]);
      if (!tiled) fires.set(fc.features);
      if (!framed) frame(fc.features);
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
  loadDust();
  const unlistenFire = onOpenFire(openFire);
  const unlistenDust = onOpenDust(({ issue }) => { if (issue) openIssue(issue); else setMode('dust'); });
  const unlisten = () => { unlistenFire(); unlistenDust(); };
  const timer = setInterval(() => { if (document.visibilityState === 'visible') { load(); loadDust(); } }, REFRESH_MS);
  return () => { clearInterval(timer); unlisten(); map.remove(); };
}
