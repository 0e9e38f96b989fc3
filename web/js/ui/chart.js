// Small SVG charts, drawn by hand (no chart library to ship offline): the burn-down of the last
// days' counts, a fire's temperature readings against the control threshold, and a dust
// monitor's series (means or raw readings) against its limits.

import { h } from '../dom.js';
import { t, locale } from '../i18n.js';
import { ZONE } from '../time.js';

const W = 420;
const PAD = { l: 34, r: 10, t: 10, b: 22 };

const s = (tag, attrs, ...kids) => h(`svg:${tag}`, attrs, ...kids);

function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v);
}

function frame(height, yMax, yLabel) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'aria-label': yLabel });
  const y = (v) => PAD.t + (1 - v / yMax) * (height - PAD.t - PAD.b);
  for (const v of [0, yMax / 2, yMax]) {
    svg.append(
      s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'grid' }),
      s('text', { x: PAD.l - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, String(Math.round(v))),
    );
  }
  return { svg, y };
}

const shortDate = (d) => new Date(d).toLocaleDateString(locale(), { timeZone: ZONE, month: '2-digit', day: '2-digit' });

/** `days`: [{date, burning, not_cleared}] oldest first. */
export function burnDown(days, height = 190) {
  const yMax = niceMax(Math.max(1, ...days.map((d) => Math.max(d.burning, d.not_cleared))));
  const { svg, y } = frame(height, yMax, t('chart.burndown'));
  const n = Math.max(days.length - 1, 1);
  const x = (i) => PAD.l + (i / n) * (W - PAD.l - PAD.r);
  const line = (key) => days.map((d, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`).join('');
  if (days.length) {
    svg.append(
      s('path', { d: `${line('burning')}L${x(days.length - 1)},${y(0)}L${x(0)},${y(0)}Z`, class: 'area-burning' }),
      s('path', { d: line('not_cleared'), class: 'line-open' }),
      s('path', { d: line('burning'), class: 'line-burning' }),
    );
    // Days at dynamic zero get a green mark on the axis.
    days.forEach((d, i) => {
      if (d.burning === 0) svg.append(s('rect', { x: x(i) - 1.5, y: y(0) - 3, width: 3, height: 6, class: 'zero-mark' }));
    });
    for (const i of [0, Math.round(n / 2), days.length - 1]) {
      svg.append(s('text', { x: x(i), y: height - 6, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle' },
        shortDate(`${days[i].date}T12:00:00+08:00`)));
    }
  }
  return svg;
}

/** `points`: [{at, temp_c}] in time order; `threshold`: the control threshold, °C. */
export function readings(points, threshold, height = 160) {
  const yMax = niceMax(Math.max(threshold * 1.2, ...points.map((p) => p.temp_c)));
  const { svg, y } = frame(height, yMax, t('chart.readings'));
  const times = points.map((p) => new Date(p.at).getTime());
  const t0 = Math.min(...times);
  const span = Math.max(Math.max(...times) - t0, 1);
  const x = (tm) => PAD.l + (points.length > 1 ? (tm - t0) / span : 0.5) * (W - PAD.l - PAD.r);
  svg.append(
    s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(threshold), y2: y(threshold), class: 'threshold' }),
    s('text', { x: W - PAD.r, y: y(threshold) - 4, class: 'tick threshold-label', 'text-anchor': 'end' }, t('chart.threshold', { c: threshold })),
  );
  if (points.length > 1) {
    svg.append(s('path', { d: points.map((p, i) => `${i ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(p.temp_c).toFixed(1)}`).join(''), class: 'line-temp' }));
  }
  points.forEach((p, i) => {
    svg.append(s('circle', { cx: x(times[i]), cy: y(p.temp_c), r: 4, class: p.temp_c >= threshold ? 'dot-hot' : 'dot-cool' },
      s('title', {}, `${p.temp_c} °C`)));
  });
  if (points.length) {
    svg.append(
      s('text', { x: PAD.l, y: height - 6, class: 'tick' }, shortDate(points[0].at)),
      s('text', { x: W - PAD.r, y: height - 6, class: 'tick', 'text-anchor': 'end' }, shortDate(points[points.length - 1].at)),
    );
  }
  return svg;
}

const shortDateTime = (d) => new Date(d).toLocaleString(locale(), { timeZone: ZONE, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

/**
 * A time series of one quantity: `points` [{time, value, valid}] in time order (value null for a
 * gap); `limits` [{value, label}] drawn as dashed lines; a value over the lowest limit is a red
 * dot, a mean that is not valid (too few hours) a hollow grey one, left out of the line. `from`
 * and `to` (ms) fix the time axis; `days` labels it by date instead of date and time.
 */
export function series(points, { limits = [], label = '', from, to, days = false, height = 200 } = {}) {
  const vals = points.filter((p) => p.value !== null && p.value !== undefined);
  const yMax = niceMax(Math.max(1, ...vals.map((p) => p.value), ...limits.map((l) => l.value * 1.15)));
  const { svg, y } = frame(height, yMax, label);
  svg.classList.add('chart-series');
  const times = points.map((p) => new Date(p.time).getTime());
  const t0 = from ?? Math.min(...times);
  const t1 = to ?? Math.max(...times);
  const span = Math.max(t1 - t0, 1);
  const x = (tm) => PAD.l + ((tm - t0) / span) * (W - PAD.l - PAD.r);
  for (const l of limits) {
    svg.append(
      s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(l.value), y2: y(l.value), class: 'limit', dataset: { limit: String(l.value) } }),
      s('text', { x: PAD.l + 4, y: y(l.value) - 4, class: 'tick limit-label' }, l.label),
    );
  }
  // The line joins valid values that follow each other; a gap or an invalid mean breaks it.
  let d = '';
  let pen = false;
  points.forEach((p, i) => {
    const ok = p.value !== null && p.value !== undefined && p.valid !== false;
    if (ok) d += `${pen ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(p.value).toFixed(1)}`;
    pen = ok;
  });
  if (d) svg.append(s('path', { d, class: 'line-series' }));
  const lowest = limits.length ? Math.min(...limits.map((l) => l.value)) : Infinity;
  const dots = points.length <= 60;
  points.forEach((p, i) => {
    if (p.value === null || p.value === undefined) return;
    const invalid = p.valid === false;
    const over = !invalid && p.value > lowest;
    if (!dots && !invalid && !over) return;
    svg.append(s('circle', { cx: x(times[i]), cy: y(p.value), r: invalid ? 4.5 : 3.5, class: invalid ? 'dot-invalid' : over ? 'dot-over' : 'dot-series' },
      s('title', {}, `${shortDateTime(p.time)} · ${p.value}${invalid ? ` · ${t('chart.invalid')}` : ''}`)));
  });
  const tick = days ? shortDate : shortDateTime;
  svg.append(
    s('text', { x: PAD.l, y: height - 6, class: 'tick' }, tick(t0)),
    s('text', { x: W - PAD.r, y: height - 6, class: 'tick', 'text-anchor': 'end' }, tick(t1)),
  );
  svg.dataset.points = String(vals.length);
  return svg;
}
