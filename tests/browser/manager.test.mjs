// The manager's decisions in a fire's detail: dismiss as a duplicate (by the original's code),
// the server's message when a reason is missing, and reassigning to a district.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, signIn, apiAs, watch, waitForMarkers } from './lib/harness.mjs';

let server;
let browser;
let api;
let ctx;
let p;
let problems;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = await apiAs(server.base, 'manager');
  ctx = await newContext(browser);
  p = await ctx.newPage();
  problems = watch(p);
  await signIn(p, server.base, 'manager');
  await waitForMarkers(p);
});
after(async () => {
  await ctx?.close();
  await browser?.close();
  await server?.stop();
});

async function open(fire) {
  await p.evaluate((id) => document.querySelector(`path.fire-marker[data-fire-id="${id}"]`).dispatchEvent(new MouseEvent('click', { bubbles: true })), fire.id);
  await p.locator('.detail .fire-code', { hasText: fire.properties.code }).waitFor();
}

test('a reported fire is dismissed as a duplicate of another, named by its code; without a reason the server\'s message shows', async () => {
  const fires = (await api('/api/fires?status=reported')).data.features;
  const [dup, orig] = fires;
  await open(dup);
  await p.click('.detail button[data-action=dismiss]');
  const form = p.locator('.detail form[data-action=dismiss]');
  await form.locator('button[type=submit]').click();
  const err = form.locator('.form-error');
  await err.waitFor();
  assert.ok((await err.textContent()).trim().length > 0, 'the 422 message is shown');
  await form.locator('input[value=duplicate]').check();
  await form.locator('input[name=duplicate_of]').fill(orig.properties.code);
  await form.locator('button[type=submit]').click();
  await p.locator('.detail .badge[data-status=dismissed]').waitFor();
  const events = (await api(`/api/fires/${dup.id}`)).data.properties.events;
  assert.equal(events.at(-1).action, 'dismiss');
  assert.equal(events.at(-1).duplicate_of, orig.id);
  assert.deepEqual(problems, []);
});

test('a holder\'s fire is reassigned to a district government with a reason, and the detail shows the new party', async () => {
  const fire = (await api('/api/fires?status=treating')).data.features.find((f) => f.properties.responsible.party === 'holder');
  await open(fire);
  await p.click('.detail button[data-action=reassign]');
  const form = p.locator('.detail form[data-action=reassign]');
  await form.locator('input[value=district]').check();
  await form.locator('select[name=district_code] option[value="150302"]').waitFor({ state: 'attached' });
  await form.locator('select[name=district_code]').selectOption('150302');
  await form.locator('textarea[name=reason]').fill('测试：矿权边界核查后属地负责');
  await form.locator('button[type=submit]').click();
  await p.locator('.detail .responsible', { hasText: '海勃湾区' }).waitFor();
  assert.match(await p.locator('.detail .responsible').textContent(), /矿权边界核查后属地负责/, 'says why: the manager\'s reason');
  const after = (await api(`/api/fires/${fire.id}`)).data.properties;
  assert.equal(after.responsible.party, 'district');
  assert.equal(after.responsible.district_code, '150302');
  assert.equal(after.events.at(-1).reason, '测试：矿权边界核查后属地负责');
  assert.deepEqual(problems, []);
});
