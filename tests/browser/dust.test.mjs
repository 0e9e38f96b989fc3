// Dust in the web app: the manager's monitors coloured by their state with a chart against the
// limit, a warning for an area drawn on the map whose restriction the owner acknowledges, a
// patrol's compliance check, a violation logged offline with a photo that arrives once and is
// rectified by the owner and verified by the patrol, a district officer without the warning
// form, and every dust screen in Chinese and English with no raw key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useDemo, apiAs, tapMapAt, clickMapAt, centreMap, fitMap, tapMapCentre, OWNER_HOLDER, DISTRICT_CODE, ROOT } from './lib/harness.mjs';
import { pointsInside, inGeometry, bbox, dumpsAndHeaps } from './lib/geo.mjs';
import { photoFile } from './lib/image.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

const STATE_RGB = { ok: 'rgb(46, 125, 50)', near: 'rgb(255, 143, 0)', over: 'rgb(198, 40, 40)', stale: 'rgb(158, 158, 158)', none: 'rgb(158, 158, 158)' };

/** Switches the dashboard or the owner's view to dust. */
async function dustMode(p) {
  await p.click('.mode[data-mode=dust]');
  await p.locator('.mode.active[data-mode=dust]').waitFor();
}

/** The owner's mine (the demo owner's holder), as a GeoJSON Feature. */
async function ownerMine() {
  const mines = (await api('/collections/mines/items?limit=10000')).data.features;
  const mine = mines.find((m) => m.properties.holder === OWNER_HOLDER && m.properties.status !== 'ownerless');
  assert.ok(mine, 'the demo has a mine of the owner');
  return { mine, others: mines.filter((m) => m !== mine) };
}

test('the manager sees the monitors coloured by their state and opens a chart with the limit line', async () => {
  const monitors = (await api('/api/dust/monitors')).data.monitors;
  assert.ok(monitors.length >= 2, 'the demo has dust monitors');
  const placed = monitors.filter((m) => Array.isArray(m.position));
  const withData = placed.find((m) => m.latest) ?? assert.fail('a monitor with readings');

  const { ctx, page: p, problems } = await demo.open('manager');
  await dustMode(p);
  await p.waitForFunction((n) => document.querySelectorAll('.monitor-icon').length === n, placed.length);
  // Each square has the API's state and its colour.
  for (const m of placed) {
    const icon = p.locator(`.monitor-icon[data-mn="${m.mn}"]`);
    assert.equal(await icon.getAttribute('data-state'), m.state, `${m.mn}: state`);
    assert.equal(await icon.evaluate((e) => getComputedStyle(e).backgroundColor), STATE_RGB[m.state], `${m.mn}: colour`);
  }
  assert.equal(await p.locator('.monitor-table tbody tr').count(), monitors.length, 'one row per monitor in the panel');
  assert.equal(await p.evaluate(() => window.qingling.fires.count()), 0, 'the fires make way for dust');

  // A click: the popup with the latest values, and the chart in the side panel.
  await centreMap(p, withData.position, 13);
  await p.locator(`.monitor-icon[data-mn="${withData.mn}"]`).click();
  await p.locator(`.monitor-popup[data-mn="${withData.mn}"]`).waitFor();
  const chart = p.locator('.monitor-detail .monitor-chart svg.chart-series');
  await chart.waitFor();
  // It opens on the figure nearest its limit, as the map colours it.
  const rules = (await api('/api/dust/rules')).data.rules;
  const figures = [['hour', 'tsp', withData.hour?.tsp, rules.tsp_hour_ug],
    ...['pm10', 'pm25', 'tsp'].map((q) => ['day', q, withData.day?.invalid?.includes(q) ? null : withData.day?.[q], rules[`${q}_day_ug`]])]
    .filter(([, , v, l]) => v != null && l).sort((x, y) => y[2] / y[3] - x[2] / x[3]);
  const [worstInterval, worstPollutant] = figures[0] ?? ['hour', 'tsp'];
  assert.equal(await chart.getAttribute('data-interval'), worstInterval);
  assert.equal(await chart.getAttribute('data-pollutant'), worstPollutant);
  // Hourly TSP against the 1-hour limit.
  await p.click('.monitor-detail button.interval[data-interval=hour]');
  await p.click('.monitor-detail button.pollutant[data-pollutant=tsp]');
  await p.locator('.monitor-chart svg.chart-series[data-interval=hour][data-pollutant=tsp]').waitFor();
  assert.equal(await chart.getAttribute('data-interval'), 'hour');
  assert.equal(await chart.getAttribute('data-pollutant'), 'tsp');
  assert.ok(Number(await chart.getAttribute('data-points')) > 0, 'hourly means drawn');
  assert.equal(await chart.locator('line.limit').getAttribute('data-limit'), '1000', 'the 1-hour TSP limit');
  const gale = String((await api('/api/dust/rules')).data.rules.wind_suggest_ms);
  assert.equal(await p.locator(`.monitor-detail .wind-chart line.limit[data-limit="${gale}"]`).count(), 1, 'the wind against the gale threshold');

  // Daily means: the 24-hour limits, per pollutant; invalid days hollow.
  await p.click('.monitor-detail button.interval[data-interval=day]');
  await p.locator('.monitor-chart svg.chart-series[data-interval=day][data-pollutant=tsp]').waitFor();
  assert.equal(await p.locator('.monitor-chart line.limit').getAttribute('data-limit'), '300');
  await p.click('.monitor-detail button.pollutant[data-pollutant=pm10]');
  await p.locator('.monitor-chart svg.chart-series[data-pollutant=pm10]').waitFor();
  assert.equal(await p.locator('.monitor-chart line.limit').getAttribute('data-limit'), '150');
  const to = new Date();
  const from = new Date(to.getTime() - 30 * 86400e3);
  const days = (await api(`/api/dust/monitors/${withData.mn}/readings?interval=day&from=${from.toISOString()}&to=${to.toISOString()}`)).data.readings;
  const invalid = days.filter((d) => d.pm10 != null && (d.valid === false || d.invalid?.includes('pm10'))).length;
  assert.equal(await p.locator('.monitor-chart circle.dot-invalid').count(), invalid, 'each invalid daily mean drawn hollow');
  // Raw readings have no limit of their own.
  await p.click('.monitor-detail button.interval[data-interval=raw]');
  await p.locator('.monitor-chart svg.chart-series[data-interval=raw], .monitor-chart .hint').first().waitFor();
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a warning for an area drawn on the map restricts the owner\'s mine, and the owner acknowledges it', async () => {
  const { mine } = await ownerMine();
  const [x0, y0, x1, y1] = bbox(mine.geometry);
  const pad = Math.max(x1 - x0, y1 - y0) * 0.05 + 0.0005;
  const corners = [[x0 - pad, y0 - pad], [x1 + pad, y0 - pad], [x1 + pad, y1 + pad], [x0 - pad, y1 + pad]];

  const { ctx, page: p, problems } = await demo.open('manager');
  await dustMode(p);
  await p.click('.dust-tab[data-dust-tab=warnings]');
  await p.click('button.new-warning');
  const form = p.locator('form.warning-form');
  await form.waitFor();
  await form.locator('.level-option[data-level=orange] input').check();
  await fitMap(p, [x0 - pad, y0 - pad, x1 + pad, y1 + pad], 60);
  await form.locator('button.draw-start').click();
  for (const c of corners) await clickMapAt(p, c);
  assert.equal(await p.locator('.area-status').getAttribute('data-state'), 'drawing');
  assert.equal(await p.locator('.maplibregl-popup:not(.map-tooltip)').count(), 0, 'drawing opens no popups');
  await form.locator('button.draw-finish').click();
  assert.equal(await p.locator('.area-status').getAttribute('data-state'), 'finished');
  await form.locator('textarea[name=note]').fill('测试：画定范围的橙色预警');
  await form.locator('button.issue-warning').click();
  const result = p.locator('.issued-result');
  await result.waitFor();
  const warningId = Number(await result.getAttribute('data-warning-id'));

  const w = (await api('/api/dust/warnings')).data.warnings.find((x) => x.id === warningId);
  assert.ok(w, 'the warning is on the server');
  assert.equal(w.level, 'orange');
  assert.deepEqual(w.districts, []);
  assert.equal(w.area.type, 'Polygon');
  for (const c of corners) assert.ok(w.area.coordinates[0].some((q) => Math.abs(q[0] - c[0]) < 2e-4 && Math.abs(q[1] - c[1]) < 2e-4), 'a corner clicked is a corner drawn');
  const restrictions = (await api('/api/dust/restrictions')).data.restrictions.filter((r) => r.warning === warningId);
  assert.ok(restrictions.some((r) => r.mine === mine.properties.licence_no), 'the owner\'s mine got a restriction');
  assert.equal(w.restrictions, restrictions.length);
  const card = p.locator(`.warning-card[data-warning-id="${warningId}"]`);
  await card.waitFor();
  assert.equal(await card.locator('.count-restrictions').getAttribute('data-n'), String(restrictions.length));
  assert.equal(await card.locator('.count-acknowledged').getAttribute('data-n'), '0');

  // The owner: a banner, the restriction with its measures, acknowledged with one tap.
  const o = await demo.open('owner');
  const banner = o.page.locator('.restriction-banner');
  await banner.waitFor();
  await banner.locator('button.show-restrictions').click();
  const rc = o.page.locator(`.restriction-card[data-warning="${warningId}"][data-mine="${mine.properties.licence_no}"]`);
  await rc.waitFor();
  assert.ok(await rc.locator('.measures li').count() >= 3, 'the orange level\'s measures');
  await rc.locator('button.acknowledge').click();
  await o.page.locator(`.restriction-card.acknowledged[data-warning="${warningId}"][data-mine="${mine.properties.licence_no}"]`).waitFor();
  const mineR = (await api('/api/dust/restrictions')).data.restrictions.find((r) => r.warning === warningId && r.mine === mine.properties.licence_no);
  assert.ok(mineR.acknowledged_at, 'acknowledged on the server');
  assert.equal(mineR.acknowledged_by, 'owner');
  assert.deepEqual(o.problems, []);
  await o.ctx.close();

  // Back at the dashboard, the warning counts the acknowledgement.
  await p.click('.dust-tab[data-dust-tab=monitors]');
  await p.reload();
  await p.waitForSelector('body[data-role=manager]');
  await dustMode(p);
  await p.click('.dust-tab[data-dust-tab=warnings]');
  await p.locator(`.warning-card[data-warning-id="${warningId}"] .count-acknowledged[data-n="1"]`).waitFor();
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('an owner with several restricted mines acknowledges all of one warning with one tap', async () => {
  // Every district: the owner's mines are in more than one.
  const districts = (await api('/api/clearance')).data.by_district.map((d) => d.code);
  const w = (await api('/api/dust/warnings', { method: 'POST', body: {
    level: 'yellow', districts, from: new Date().toISOString(), to: new Date(Date.now() + 86_400_000).toISOString(),
  } })).data;
  const o = await demo.open('owner');
  await o.page.locator('.restriction-banner button.show-restrictions').click();
  const owner = await apiAs(demo.base, 'owner');
  const mine = (await owner('/api/dust/restrictions?limit=200')).data.restrictions.filter((r) => r.warning === w.id);
  assert.ok(mine.length > 1, `the owner has ${mine.length} restricted mines in the district`);
  const bar = o.page.locator(`.ack-all-bar[data-warning="${w.id}"]`);
  await bar.waitFor();
  assert.match(await bar.textContent(), new RegExp(String(mine.length)));
  await bar.locator('button.acknowledge-all').click();
  await bar.waitFor({ state: 'detached' });
  const after = (await owner('/api/dust/restrictions?limit=200')).data.restrictions.filter((r) => r.warning === w.id);
  assert.ok(after.every((r) => r.acknowledged_by === 'owner'), 'every restriction of the warning acknowledged');
  assert.equal(await o.page.locator(`.restriction-card.acknowledged[data-warning="${w.id}"]`).count(), mine.length);
  assert.deepEqual(o.problems, []);
  await o.ctx.close();
});

test('the patrol records a compliance check on a restricted mine, through the outbox', async () => {
  const { mine } = await ownerMine();
  const now = Date.now();
  const issued = await api('/api/dust/warnings', {
    method: 'POST',
    body: { level: 'yellow', districts: [mine.properties.district_code ?? DISTRICT_CODE], from: new Date(now - 60e3).toISOString(), to: new Date(now + 86400e3).toISOString(), note: '测试：巡查检查' },
  });
  assert.equal(issued.status, 201, JSON.stringify(issued.data));
  const r = issued.data.restrictions.find((x) => x.mine === mine.properties.licence_no) ?? assert.fail('a restriction on the owner\'s mine');
  const [pt] = pointsInside(mine.geometry, { n: 1 });

  const { ctx, page: p, problems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 } });
  await p.click('.tab[data-tab=dust]');
  await tapMapAt(p, pt, 15);
  await p.locator('.dust-patrol .position-text[data-source=map]').waitFor();
  await p.click('.dust-sub[data-sub=checks]');
  const card = p.locator(`.restriction-card[data-restriction-id="${r.id}"]`);
  await card.waitFor();
  await card.locator('button.record-check').click();
  const form = p.locator(`form.check-form[data-restriction-id="${r.id}"]`);
  await form.waitFor();
  assert.ok(await form.locator('button.send-check').isDisabled(), 'not before saying yes or no');
  await form.locator('button[data-compliant=no]').click();
  await p.fill('form.check-form textarea[name=check_note]', '测试：堆场未苫盖');
  await p.click('form.check-form button.send-check');
  await p.click('.tab[data-tab=outbox]');
  await p.locator('.outbox-item[data-state=sent]').waitFor({ timeout: 15_000 });

  const after = (await api('/api/dust/restrictions')).data.restrictions.find((x) => x.id === r.id);
  assert.equal(after.checks.length, 1);
  const c = after.checks[0];
  assert.equal(c.compliant, false);
  assert.equal(c.note, '测试：堆场未苫盖');
  assert.equal(c.by, 'patrol');
  assert.ok(Math.abs(c.position[0] - pt[0]) < 1e-4 && Math.abs(c.position[1] - pt[1]) < 1e-4, 'at the patrol\'s position');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a violation logged offline with a photo arrives once; the owner rectifies it and the patrol verifies it', async () => {
  const { mine, others } = await ownerMine();
  const existing = (await api('/api/dust/issues')).data.features;
  const [pt] = pointsInside(mine.geometry, {
    avoid: [...others.map((m) => m.geometry), ...(await dumpsAndHeaps(api))],
    away: existing.map((f) => f.geometry.coordinates),
    clearM: 60,
  });
  assert.ok(pt && inGeometry(pt, mine.geometry));

  const { ctx, page: p, problems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 } });
  await p.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
  await p.click('.tab[data-tab=dust]');
  await ctx.setOffline(true);
  await p.waitForFunction(() => !navigator.onLine);
  await tapMapAt(p, pt, 15);
  await p.locator('.dust-patrol .position-text[data-source=map]').waitFor();
  assert.ok(await p.locator('button.send-issue').isDisabled(), 'not before a kind is chosen');
  await p.click('button[data-dust-kind=open_stockpile]');
  await p.fill('textarea[name=dust_note]', '测试：煤堆未苫盖');
  await p.locator('textarea[name=dust_note]').dispatchEvent('input');
  await p.setInputFiles('.issue-form input[type=file]', photoFile('stockpile.png', { seed: 31 }));
  await p.locator('.issue-form .photo-preview img[src^="blob:"]').waitFor();
  await p.click('button.send-issue');
  await p.click('.tab[data-tab=outbox]');
  const item = p.locator('.outbox-item');
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'pending');
  const uuid = await item.getAttribute('data-id');
  assert.equal((await api('/api/dust/issues')).data.features.length, existing.length, 'nothing sent while offline');

  await ctx.setOffline(false);
  await p.locator(`.outbox-item[data-id="${uuid}"][data-state=sent]`).waitFor({ timeout: 40_000 });
  assert.equal(await p.locator(`.outbox-item[data-id="${uuid}"] .outbox-photos`).getAttribute('data-sent'), '1');
  // Sent again on purpose: still one.
  await p.click('button.send-now');
  await p.waitForTimeout(800);
  const now = (await api('/api/dust/issues')).data.features;
  assert.equal(now.length, existing.length + 1, 'exactly one new violation');
  const issue = (await api(`/api/dust/issues/${uuid}`)).data;
  assert.equal(issue.properties.kind, 'open_stockpile');
  assert.equal(issue.properties.note, '测试：煤堆未苫盖');
  assert.equal(issue.properties.position_source, 'map');
  assert.equal(issue.properties.photos.length, 1);
  assert.equal(issue.properties.responsible.name, OWNER_HOLDER);

  // The owner starts, then reports it rectified with a note and a photo.
  const o = await demo.open('owner');
  await dustMode(o.page);
  const card = o.page.locator(`.owner-issues .issue-card[data-uuid="${uuid}"]`);
  await card.waitFor();
  await card.locator('button').click();
  const detail = o.page.locator(`.issue-detail[data-uuid="${uuid}"]`);
  await detail.waitFor();
  await detail.locator('button[data-action=start]').click();
  await detail.locator('form[data-action=start] button[type=submit]').click();
  await o.page.locator(`.issue-detail[data-uuid="${uuid}"][data-status=rectifying]`).waitFor();
  await o.page.click('.issue-detail button[data-action=rectified]');
  await o.page.fill('.issue-detail form[data-action=rectified] textarea[name=note]', '测试：已全部苫盖');
  await o.page.setInputFiles('.issue-detail form[data-action=rectified] input[type=file]', photoFile('covered.png', { seed: 32 }));
  await o.page.locator('.issue-detail form[data-action=rectified] .photo-preview').waitFor();
  await o.page.click('.issue-detail form[data-action=rectified] button[type=submit]');
  await o.page.locator(`.issue-detail[data-uuid="${uuid}"][data-status=rectified]`).waitFor();
  const rectified = (await api(`/api/dust/issues/${uuid}`)).data.properties;
  assert.equal(rectified.status, 'rectified');
  assert.equal(rectified.photos.length, 2, 'the owner\'s photo joins the patrol\'s');
  assert.deepEqual(o.problems, []);
  await o.ctx.close();

  // The patrol verifies it from the list of violations.
  await p.click('.tab[data-tab=dust]');
  await p.click('.dust-sub[data-sub=issues]');
  const row = p.locator(`.issue-list .issue-card[data-uuid="${uuid}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'rectified');
  await row.locator('button').click();
  await p.locator(`.issue-detail[data-uuid="${uuid}"]`).waitFor();
  await p.click('.issue-detail button[data-action=verify]');
  await p.click('.issue-detail form[data-action=verify] button[type=submit]');
  await p.locator(`.issue-detail[data-uuid="${uuid}"][data-status=verified]`).waitFor();
  assert.equal((await api(`/api/dust/issues/${uuid}`)).data.properties.status, 'verified');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a district officer sees its dust panels but no warning form', async () => {
  const district = await apiAs(demo.base, 'district');
  const { ctx, page: p, problems } = await demo.open('district');
  await dustMode(p);
  const monitors = (await district('/api/dust/monitors')).data.monitors;
  await p.waitForFunction((n) => document.querySelectorAll('.monitor-table tbody tr').length === n, monitors.length);
  await p.click('.dust-tab[data-dust-tab=warnings]');
  await p.locator('.dust-body .hint').first().waitFor();
  assert.equal(await p.locator('button.new-warning').count(), 0);
  assert.equal(await p.locator('.suggestion').count(), 0, 'suggestions are for managers');
  await p.click('.dust-tab[data-dust-tab=alerts]');
  const alerts = (await district('/api/dust/alerts')).data.alerts.filter((a) => a.status !== 'closed');
  await p.waitForFunction((n) => document.querySelectorAll('.alert-card').length === n, alerts.length);
  assert.equal(await p.locator('.alert-card button[data-action=close]').count(), 0, 'only a manager closes');
  assert.deepEqual(problems, []);
  await ctx.close();
});

// ---- both languages ---------------------------------------------------------------------------

const zh = JSON.parse(fs.readFileSync(path.join(ROOT, 'web/i18n/zh.json'), 'utf8'));
const prefixes = [...new Set(Object.keys(zh).map((k) => k.split('.')[0]))];
const keyPattern = new RegExp(`\\b(?:${prefixes.join('|')})\\.[a-z_]+(?:\\.[a-z_]+)*\\b`, 'g');
const screenText = (p) => p.evaluate(() => {
  const bits = [document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) bits.push(el.getAttribute('placeholder') ?? '', el.getAttribute('title') ?? '', el.getAttribute('aria-label') ?? '');
  for (const el of document.querySelectorAll('option, svg text, svg title')) bits.push(el.textContent);
  return bits.join('\n');
});

for (const lang of ['zh', 'en']) {
  test(`the dust screens show no raw key in ${lang === 'zh' ? 'Chinese' : 'English'}`, async () => {
    const texts = [];
    // Manager: every dust tab, a monitor's chart, the warning form, a violation.
    let { ctx, page: p, problems } = await demo.open('manager', { lang });
    await dustMode(p);
    await p.locator('.monitor-icon').first().waitFor();
    for (const tab of ['monitors', 'alerts', 'warnings', 'issues']) {
      await p.click(`.dust-tab[data-dust-tab=${tab}]`);
      texts.push(await screenText(p));
    }
    await p.click('.dust-tab[data-dust-tab=warnings]');
    await p.click('button.new-warning');
    await p.click('button.draw-start');
    texts.push(await screenText(p));
    await p.click('.dust-tab[data-dust-tab=monitors]');
    await p.locator('.monitor-link').first().click();
    await p.locator('.monitor-chart svg, .monitor-chart .hint').first().waitFor();
    texts.push(await screenText(p));
    await p.click('.detail .monitor-detail .btn-close');
    await p.click('.dust-tab[data-dust-tab=issues]');
    const issue = p.locator('.issue-card button').first();
    if (await issue.count()) {
      await issue.click();
      await p.locator('.issue-detail').waitFor();
      texts.push(await screenText(p));
    }
    assert.deepEqual(problems, [], `manager/${lang}`);
    await ctx.close();

    // Owner: the dust side.
    ({ ctx, page: p, problems } = await demo.open('owner', { lang }));
    await dustMode(p);
    await p.locator('.restriction-list > *').first().waitFor();
    texts.push(await screenText(p));
    assert.deepEqual(problems, [], `owner/${lang}`);
    await ctx.close();

    // Patrol: the three parts of the dust tab, and the outbox.
    ({ ctx, page: p, problems } = await demo.open('patrol', { lang, viewport: { width: 1024, height: 768 } }));
    await p.click('.tab[data-tab=dust]');
    await tapMapCentre(p);
    await p.click('button[data-dust-kind=uncovered_truck]');
    texts.push(await screenText(p));
    for (const sub of ['issues', 'checks']) {
      await p.click(`.dust-sub[data-sub=${sub}]`);
      await p.waitForTimeout(300);
      texts.push(await screenText(p));
    }
    assert.deepEqual(problems, [], `patrol/${lang}`);
    await ctx.close();

    const raw = [...new Set(texts.join('\n').match(keyPattern) ?? [])];
    assert.deepEqual(raw, [], `raw keys on screen in ${lang}`);
  });
}
