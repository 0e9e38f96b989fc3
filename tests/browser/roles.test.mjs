// Each role signs in and sees what it may, and nothing else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, apiAs, waitForMarkers, markerIds, clickFire, OWNER_HOLDER, DISTRICT_CODE } from './lib/harness.mjs';
import { bbox as bboxOf } from './lib/geo.mjs';

const demo = useDemo({ api: 'manager' });
const manager = demo.api; // API client

test('a signed-out visitor gets the login screen, and a wrong password shows the server message', async () => {
  const ctx = await demo.context();
  const p = await ctx.newPage();
  await p.goto(`${demo.base}/`);
  await p.fill('input[name=username]', 'manager');
  await p.fill('input[name=password]', 'wrong');
  await p.click('form.login button[type=submit]');
  const err = p.locator('form.login .form-error');
  await err.waitFor();
  const text = await err.textContent();
  assert.ok(text.trim().length > 0, 'an error message is shown');
  assert.doesNotMatch(text, /bad_credentials/, 'the message, not the code');
  assert.equal(await p.locator('body[data-role=manager]').count(), 0);
  await ctx.close();
});

test('the login page opens with no error in the console (no session asked about after a sign-out)', async () => {
  const ctx = await demo.context();
  const p = await ctx.newPage();
  const errors = [];
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await p.goto(`${demo.base}/`);
  await p.locator('form.login').waitFor();
  await p.waitForLoadState('networkidle');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the manager sees every fire on the map, the city counts and the manager actions', async () => {
  const all = (await manager('/api/fires?status=open')).data.features;
  const clearance = (await manager('/api/clearance')).data;
  const { ctx, page: p, problems } = await demo.open('manager');
  await waitForMarkers(p, all.length);
  assert.deepEqual((await markerIds(p)).sort(), all.map((f) => f.id).sort(), 'the map shows every open fire');
  const count = await p.locator('.burning-count').getAttribute('data-count');
  assert.equal(Number(count), clearance.burning);
  assert.match(await p.locator('.who').textContent(), /manager/);
  // The detail of a reported fire offers the manager's actions, from allowed_actions.
  const reported = all.find((f) => f.properties.status === 'reported');
  await clickFire(p, reported.id);
  await p.locator('.detail .fire-code', { hasText: reported.properties.code }).waitFor();
  const actions = await p.$$eval('.detail .actions button', (bs) => bs.map((b) => b.dataset.action));
  assert.deepEqual(actions.sort(), [...reported.properties.allowed_actions].sort());
  assert.ok(actions.includes('confirm') && actions.includes('dismiss'));
  // "As of" a past day redraws the counts from the server's history.
  const past = (await manager('/api/clearance?at=2026-09-01')).data;
  assert.notEqual(past.burning, clearance.burning, 'the demo history differs then');
  await p.fill('input[name=as_of]', '2026-09-01');
  await p.locator('input[name=as_of]').dispatchEvent('change');
  await p.waitForFunction((n) => document.querySelector('.burning-count')?.dataset.count === String(n), past.burning);
  assert.ok(await p.locator('.as-of-note').isVisible());
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the owner sees only the fires its holder answers for, in the list and on the map, and another holder\'s fire is 404', async () => {
  const all = (await manager('/api/fires')).data.features;
  const own = all.filter((f) => f.properties.responsible.name === OWNER_HOLDER).map((f) => f.id).sort();
  const other = all.find((f) => f.properties.responsible.name !== OWNER_HOLDER);
  assert.ok(own.length > 0 && other);
  const { ctx, page: p, problems } = await demo.open('owner');
  await waitForMarkers(p, own.length);
  assert.deepEqual((await markerIds(p)).sort(), own, 'map: exactly its own fires');
  await p.locator('.fire-card').first().waitFor();
  const listed = await p.$$eval('.fire-card', (els) => els.map((e) => e.dataset.fireId));
  assert.deepEqual([...listed].sort(), own, 'list: exactly its own fires');
  for (const name of await p.$$eval('.fire-card .responsible-name', (els) => els.map((e) => e.textContent))) {
    assert.equal(name, OWNER_HOLDER);
  }
  // The burning ones come first, soonest deadline first.
  const burning = await p.$$eval('.open-fires .fire-card', (els) => els.map((e) => e.dataset.fireId));
  const expected = all.filter((f) => f.properties.responsible.name === OWNER_HOLDER && f.properties.burning)
    .sort((a, b) => a.properties.deadline.localeCompare(b.properties.deadline)).map((f) => f.id);
  assert.deepEqual(burning, expected);
  // Its mine is production-suspended while a fire burns: the banner says so.
  const suspended = (await manager('/api/clearance')).data.suspended_mines.filter((m) => m.holder === OWNER_HOLDER);
  assert.equal(await p.locator('.banner-danger .suspended-mine').count(), suspended.length);
  const status = await p.evaluate(async (id) => (await fetch(`/api/fires/${id}`)).status, other.id);
  assert.equal(status, 404, 'another holder\'s fire is not found for the owner');
  const ownStatus = await p.evaluate(async (id) => (await fetch(`/api/fires/${id}`)).status, own[0]);
  assert.equal(ownStatus, 200);
  assert.equal(await p.locator('.toolbar select[name=district]').count(), 0, 'no city-wide filters');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the district officer sees its district\'s fires only, with its own counts, and treats only the fires its government answers for', async () => {
  const all = (await manager('/api/fires?status=open')).data.features;
  const mine = all.filter((f) => f.properties.responsible.district_code === DISTRICT_CODE).map((f) => f.id).sort();
  const { ctx, page: p, problems } = await demo.open('district');
  await waitForMarkers(p, mine.length);
  assert.deepEqual((await markerIds(p)).sort(), mine);
  const byDistrict = (await manager('/api/clearance')).data.by_district.find((d) => d.code === DISTRICT_CODE);
  assert.equal(Number(await p.locator('.burning-count').getAttribute('data-count')), byDistrict.burning);
  assert.match(await p.locator('.scope-note').textContent(), new RegExp(DISTRICT_CODE));
  // Its district by name, no league of one, and the map on its district.
  await p.waitForFunction((name) => document.querySelector('.scope-note')?.textContent.includes(name), byDistrict.name);
  assert.equal(await p.locator('.tabs .tab[data-tab="districts"]').count(), 0, 'no one-row district league');
  const d = (await manager(`/collections/districts/items?code=${DISTRICT_CODE}`)).data.features[0];
  const [dw, ds, de, dn] = bboxOf(d.geometry);
  const view = await p.evaluate(() => window.qingling.map.getBounds().toArray());
  const [[vw, vs], [ve, vn]] = view;
  assert.ok(vw < de && ve > dw && vs < dn && vn > ds, `the view ${view} shows the district`);
  // Fitted: the district fills the view one way (the other follows the screen's shape).
  assert.ok(Math.min((ve - vw) / (de - dw), (vn - vs) / (dn - ds)) < 1.4, `the view ${view} is framed on the district, not the city`);
  // Treatment actions only on fires its government answers for; on a holder's fire, inspect only.
  const asDistrict = await apiAs(demo.base, 'district');
  const own = (await asDistrict('/api/fires?status=burning')).data.features;
  const govFire = own.find((f) => f.properties.responsible.party === 'district' && f.properties.status === 'treating');
  const holderFire = own.find((f) => f.properties.responsible.party === 'holder');
  assert.ok(govFire && holderFire, 'the demo has both kinds in the district');
  for (const [f, expected] of [[govFire, ['inspect', 'progress', 'control']], [holderFire, ['inspect']]]) {
    await clickFire(p, f.id);
    await p.locator('.detail .fire-code', { hasText: f.properties.code }).waitFor();
    const shown = await p.$$eval('.detail .actions button', (bs) => bs.map((b) => b.dataset.action));
    assert.deepEqual(shown.sort(), [...f.properties.allowed_actions].sort());
    for (const a of expected) assert.ok(shown.includes(a), `${f.properties.code}: ${a}`);
    if (f === holderFire) assert.ok(!shown.includes('start_treatment') && !shown.includes('control'));
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the patrol gets the report form and sees open or watched fires only', async () => {
  const all = (await manager('/api/fires')).data.features;
  const visible = all.filter((f) => ['reported', 'confirmed', 'treating', 'controlled', 'extinguished', 'reignited'].includes(f.properties.status)
    || (f.properties.status === 'cleared' && f.properties.watched)).map((f) => f.id).sort();
  const { ctx, page: p, problems } = await demo.open('patrol');
  await waitForMarkers(p, visible.length);
  assert.deepEqual((await markerIds(p)).sort(), visible);
  assert.ok(await p.locator('form.report-form').isVisible());
  assert.equal(await p.locator('.burning-count').count(), 0, 'no clearance dashboard');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('signing out returns to the login screen and the session is gone', async () => {
  const { ctx, page: p } = await demo.open('owner');
  await p.click('button.logout');
  await p.locator('form.login').waitFor();
  const status = await p.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(status, 401);
  await ctx.close();
});
