// The patrol's dust tab: log a dust violation (kind, note, the position, photos) into the outbox
// with a client-made UUID, so it reaches the server exactly once whenever there is signal; the
// open violations nearest first, where a rectified one is verified or rejected; and the
// production restrictions in force, each with "record a compliance check" (compliant or not, a
// note, the patrol's position), also through the outbox. The position block and the draft
// belong to the patrol view (shared GPS and map tapping); this module draws the rest.

import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { getCached } from '../api.js';
import { distanceM } from '../geo.js';
import * as outbox from '../offline/outbox.js';
import * as devicePhotos from '../offline/photos.js';
import { photoField } from './photos.js';
import { field, errorBox, queuedToast } from './bits.js';
import { issueLayer } from './dust-map.js';
import { showIssue } from './dust-issue.js';
import { issueList, restrictionCard } from './dust-lists.js';
import { issueKinds, issueKindLabel, inForce } from '../dust.js';

export const emptyDustDraft = () => ({ position: null, kind: '', note: '', photos: [] });

/**
 * `draft()`: the dust draft ({position, kind, note, photos}); `save()` stores it; `rerender()`
 * redraws the tab; `positionBlock()` the shared position chooser; `positionOk()` whether the
 * position may be sent; `photoStore` keeps picks on the device.
 */
export function dustPatrol({ map, draft, save, rerender, positionBlock, positionOk, photoStore, onStale }) {
  let sub = 'log';
  let issues = [];
  let restrictions = [];
  let openUuid = null;
  let checkTarget = null;
  let compliant = null;
  let checkNote = '';
  const layer = issueLayer(map, { onSelect: (f) => { sub = 'issues'; openUuid = f.properties.uuid; rerender(); } });

  async function load() {
    const [is, rs] = await Promise.allSettled([
      getCached('/api/dust/issues', { all: { key: 'features' } }),
      getCached('/api/dust/restrictions', { all: { key: 'restrictions' } }),
    ]);
    if (is.status === 'fulfilled') {
      issues = is.value.data.features ?? [];
      if (is.value.stale) onStale?.();
    }
    if (rs.status === 'fulfilled') {
      restrictions = rs.value.data.restrictions ?? [];
      if (rs.value.stale) onStale?.();
    }
    if (is.status === 'rejected' || rs.status === 'rejected') onStale?.();
    layer.set(issues.filter((f) => f.properties.status !== 'verified'));
    rerender();
  }

  const here = () => (draft().position ? [draft().position.lon, draft().position.lat] : null);
  const dist = (pos) => (here() && Array.isArray(pos) ? distanceM(here(), pos) : null);
  const byDistance = (list, posOf) => list
    .map((x) => ({ x, d: dist(posOf(x)) }))
    .sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity));

  // ---- log a violation ---------------------------------------------------------------------
  function logForm() {
    const d = draft();
    const canSend = Boolean(d.kind) && positionOk();
    const form = h('form', { class: 'issue-form', novalidate: true },
      h('section', {}, h('h3', {}, t('dust.kind')),
        h('div', { class: 'toggles', role: 'radiogroup', dataset: { name: 'dust_kind' } }, issueKinds().map((k) => h('button', {
          type: 'button', class: 'toggle', dataset: { dustKind: k }, 'aria-pressed': String(d.kind === k),
          on: { click: () => { d.kind = k; save(); rerender(); } },
        }, issueKindLabel(k))))),
      field(t('form.note'), h('textarea', { name: 'dust_note', rows: 2, maxlength: 2000, on: { input: (e) => { d.note = e.target.value; save(); } } }, d.note)),
      h('section', { class: 'issue-photos' }, h('h3', {}, t('photo.label')),
        photoField({ store: photoStore, initial: d.photos, onChange: (list) => { d.photos = list; save(); } })),
      h('div', { class: 'row send-row' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-big send-issue', disabled: !canSend }, t('dust.send_issue')),
        h('button', {
          type: 'button', class: 'btn',
          on: { click: () => { devicePhotos.drop(d.photos.map((x) => x.id)); Object.assign(d, emptyDustDraft(), { position: d.position }); save(); rerender(); } },
        }, t('patrol.clear'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!canSend) return;
      const p = d.position;
      const uuid = crypto.randomUUID();
      const props = { uuid, kind: d.kind, position_source: p.source };
      if (d.note.trim()) props.note = d.note.trim();
      if (p.source === 'gps' && p.accuracy_m != null) props.accuracy_m = p.accuracy_m;
      const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [+p.lon.toFixed(6), +p.lat.toFixed(6)] }, properties: props };
      queuedToast(await outbox.send({
        type: 'dust_issue', id: uuid, path: '/api/dust/issues', body: feature, photos: d.photos,
        photoPath: `/api/dust/issues/${uuid}/photos`, summary: { kind: d.kind },
      }));
      // The photos now belong to the outbox item; the position stays for the next one.
      Object.assign(d, emptyDustDraft(), { position: d.position });
      save();
      rerender();
    });
    return form;
  }

  // ---- violations ---------------------------------------------------------------------------
  function issuesView() {
    const open = issues.filter((f) => f.properties.status !== 'verified');
    const rows = byDistance(open, (f) => f.geometry?.coordinates).map(({ x }) => x);
    const panel = h('div', { class: 'issue-panel card' });
    if (openUuid) {
      showIssue(panel, openUuid, {
        only: ['verify', 'reject'],
        onClose: () => { openUuid = null; rerender(); },
        onChanged: () => { load(); },
      });
    }
    return [
      openUuid ? panel : null,
      h('p', { class: 'hint' }, t('dust.patrol_issues_hint')),
      issueList(rows, { onOpen: (f) => { openUuid = f.properties.uuid; rerender(); }, distanceOf: (f) => dist(f.geometry?.coordinates) }),
    ];
  }

  // ---- compliance checks ---------------------------------------------------------------------
  function checkForm(r) {
    const err = errorBox();
    const yesNo = h('div', { class: 'toggles', role: 'radiogroup', dataset: { name: 'compliant' } }, [['yes', true], ['no', false]].map(([k, v]) => h('button', {
      type: 'button', class: 'toggle', dataset: { compliant: k }, 'aria-pressed': String(compliant === v),
      on: { click: () => { compliant = v; rerender(); } },
    }, t(`dust.compliant_${k}`))));
    const note = h('textarea', { name: 'check_note', rows: 2, maxlength: 2000, on: { input: (e) => { checkNote = e.target.value; } } }, checkNote);
    const form = h('form', { class: 'check-form card', dataset: { restrictionId: String(r.id) } },
      h('h3', {}, t('dust.check_title', { mine: r.mine_name })),
      yesNo,
      field(t('form.note'), note),
      h('p', { class: 'hint' }, here() ? t('dust.check_position') : t('dust.check_no_position')),
      err,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-big send-check', disabled: compliant === null || !positionOk() }, t('dust.send_check')),
        h('button', { type: 'button', class: 'btn', on: { click: () => { checkTarget = null; compliant = null; checkNote = ''; rerender(); } } }, t('common.cancel'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (compliant === null || !positionOk()) { err.show(t('dust.check_incomplete')); return; }
      const clientId = crypto.randomUUID();
      const body = { compliant, position: here().map((v) => +v.toFixed(6)), client_id: clientId };
      if (checkNote.trim()) body.note = checkNote.trim();
      queuedToast(await outbox.send({
        type: 'dust_check', id: clientId, path: `/api/dust/restrictions/${r.id}/checks`, body,
        summary: { mine: r.mine_name, compliant },
      }));
      checkTarget = null;
      compliant = null;
      checkNote = '';
      rerender();
    });
    return form;
  }

  function checksView() {
    const now = Date.now();
    const live = restrictions.filter((r) => r.active ?? inForce(r, now));
    const rows = byDistance(live, (r) => r.position);
    return [
      checkTarget ? checkForm(checkTarget) : null,
      h('p', { class: 'hint' }, t('dust.patrol_checks_hint')),
      rows.length
        ? h('ul', { class: 'dust-list restriction-list' }, rows.map(({ x, d }) => restrictionCard(x, {
          distance: d,
          onCheck: (r) => { checkTarget = r; compliant = null; checkNote = ''; rerender(); },
        })))
        : h('p', { class: 'hint' }, t('dust.no_restrictions_in_force')),
    ];
  }

  function view() {
    const subs = [['log', t('dust.sub_log')], ['issues', t('dust.sub_issues')], ['checks', t('dust.sub_checks')]];
    return h('div', { class: 'dust-patrol' },
      positionBlock(),
      h('div', { class: 'segmented-buttons dust-subs', role: 'tablist' }, subs.map(([k, label]) => h('button', {
        type: 'button', role: 'tab', class: ['toggle-small', 'dust-sub', sub === k && 'active'], 'aria-selected': String(sub === k), dataset: { sub: k },
        on: { click: () => { sub = k; rerender(); } },
      }, label))),
      sub === 'log' ? logForm() : sub === 'issues' ? issuesView() : checksView());
  }

  return {
    view,
    load,
    show() { layer.group.addTo(map); load(); },
    hide() { layer.group.remove(); },
  };
}
