// The manager's form to issue a heavy-pollution or weather warning (POST /api/dust/warnings):
// the level, the period (China time), the districts it covers and/or an area drawn on the map
// corner by corner, and a note. Every mine inside gets a production restriction; the answer
// says how many.

import { h, fill } from '../dom.js';
import { t, num } from '../i18n.js';
import { post, ApiError } from '../api.js';
import { ZONE } from '../time.js';
import { field, errorBox } from './bits.js';
import { areaDrawer } from './dust-map.js';
import { warningLevels, levelLabel, measureLabel, dustRules, LEVEL_COLOURS } from '../dust.js';

/** `ms` as a datetime-local value in China time ("2026-11-29T18:30"). */
function localInput(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** A datetime-local value, read as China time, in RFC 3339. */
const rfc3339 = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : '');

/**
 * The form. `districts`: [{code, name}]; `preset`: {level, districts} (a suggestion's);
 * `onDone(warning)` after the server issued it; `onCancel()`.
 */
export function warningForm({ map, districts, preset = {}, onDone, onCancel }) {
  const err = errorBox();
  const now = Date.now();
  const level = preset.level ?? 'yellow';
  const measures = h('ul', { class: 'measures' });
  const showMeasures = (l) => fill(measures, (dustRules().measures?.[l] ?? []).map((m) => h('li', { dataset: { measure: m } }, measureLabel(m))));
  const levelGroup = h('div', { class: 'segmented level-choice', role: 'radiogroup' }, warningLevels().map((l) => h('label', { class: 'level-option', dataset: { level: l } },
    h('input', { type: 'radio', name: 'level', value: l, checked: l === level, on: { change: () => showMeasures(l) } }),
    h('span', { class: 'swatch', style: `background:${LEVEL_COLOURS[l] ?? '#6a1b9a'}` }), levelLabel(l))));
  showMeasures(level);

  const checks = h('div', { class: 'district-checks' }, districts.map((d) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'districts', value: d.code, checked: (preset.districts ?? []).includes(d.code) }),
    `${d.name} (${d.code})`)));

  // The area tool: start, then click corners on the map; finish closes the polygon.
  const areaStatus = h('span', { class: 'hint area-status' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-small draw-start' }, t('dust.draw_start'));
  const finishBtn = h('button', { type: 'button', class: 'btn btn-small draw-finish' }, t('dust.draw_finish'));
  const undoBtn = h('button', { type: 'button', class: 'btn btn-small draw-undo' }, t('dust.draw_undo'));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small draw-clear' }, t('dust.draw_clear'));
  const drawer = areaDrawer(map, {
    onChange: ({ drawing, corners, finished }) => {
      areaStatus.textContent = finished ? t('dust.area_done', { n: corners })
        : drawing ? t('dust.area_drawing', { n: corners }) : t('dust.area_none');
      areaStatus.dataset.state = finished ? 'finished' : drawing ? 'drawing' : 'none';
      startBtn.hidden = drawing;
      finishBtn.hidden = !drawing;
      finishBtn.disabled = corners < 3;
      undoBtn.hidden = !drawing || !corners;
      clearBtn.hidden = !drawing && !finished;
    },
  });
  startBtn.addEventListener('click', () => drawer.start());
  finishBtn.addEventListener('click', () => drawer.finish());
  undoBtn.addEventListener('click', () => drawer.undo());
  clearBtn.addEventListener('click', () => drawer.clear());
  drawer.clear();

  const submit = h('button', { type: 'submit', class: 'btn btn-primary issue-warning' }, t('dust.issue_warning'));
  const form = h('form', { class: 'warning-form action-form', novalidate: true },
    h('h4', {}, t('dust.new_warning')),
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('dust.level')), levelGroup),
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('dust.measures')), measures),
    h('div', { class: 'row two' },
      field(t('dust.from'), h('input', { type: 'datetime-local', name: 'from', value: localInput(now) })),
      field(t('dust.to'), h('input', { type: 'datetime-local', name: 'to', value: localInput(now + 24 * 3600_000) }))),
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('dust.where')), h('p', { class: 'hint' }, t('dust.where_hint')), checks),
    h('div', { class: 'field area-tool' }, h('span', { class: 'field-label' }, t('dust.area')),
      h('div', { class: 'row' }, startBtn, finishBtn, undoBtn, clearBtn), areaStatus),
    field(t('form.note'), h('textarea', { name: 'note', rows: 2, maxlength: 2000 })),
    err,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'btn', on: { click: () => { drawer.destroy(); onCancel?.(); } } }, t('common.cancel'))));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    const chosen = [...form.querySelectorAll('input[name=districts]:checked')].map((i) => i.value);
    if (drawer.state().drawing) { err.show(t('dust.area_unfinished')); return; }
    const area = drawer.geometry();
    if (!chosen.length && !area) { err.show(t('dust.where_missing')); return; }
    const body = {
      level: form.elements.level.value,
      districts: chosen,
      from: rfc3339(form.elements.from.value),
      to: rfc3339(form.elements.to.value),
    };
    if (area) body.area = area;
    const note = form.elements.note.value.trim();
    if (note) body.note = note;
    submit.disabled = true;
    try {
      const w = await post('/api/dust/warnings', body);
      drawer.destroy();
      onDone?.(w);
    } catch (e2) {
      err.show(e2 instanceof ApiError ? e2.message : String(e2));
    } finally {
      submit.disabled = false;
    }
  });
  form.destroy = () => drawer.destroy();
  return form;
}

/** What the server did with a new warning: how many mines got restrictions. */
export const issuedText = (w) => t('dust.issued_result', { n: num((w.restrictions?.length ?? w.restrictions) || 0) });
