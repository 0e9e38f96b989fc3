// The patrol's report form: GPS accuracy is enforced, a fire next to a known one becomes an
// inspection, and a report the server refuses is kept as failed with the server's message.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newContext, signIn, apiAs, watch, waitForMarkers, tapMapAt } from './lib/harness.mjs';
import { pointsInside } from './lib/geo.mjs';

let server;
let browser;
let api;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = await apiAs(server.base, 'manager');
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function patrolPage(opts = {}) {
  const ctx = await newContext(browser, { viewport: { width: 1024, height: 768 }, ...opts });
  const p = await ctx.newPage();
  const problems = watch(p);
  await signIn(p, server.base, 'patrol');
  await waitForMarkers(p);
  return { ctx, p, problems };
}

test('a GPS fix worse than 100 m cannot be sent until the point is placed on the map; a good fix is sent with its accuracy', async () => {
  const wuda = (await api('/collections/districts/items')).data.features.find((d) => d.properties.code === '150303');
  const all = async (c) => (await api(`/collections/${c}/items?limit=10000`)).data.features.map((f) => f.geometry);
  const fires = (await api('/api/fires')).data.features;
  const [pt] = pointsInside(wuda.geometry, {
    avoid: [...(await all('mines')), ...(await all('waste_dumps')), ...(await all('gangue_heaps'))],
    away: fires.map((f) => f.geometry.coordinates),
    clearM: 400,
  });
  const { ctx, p, problems } = await patrolPage({ permissions: ['geolocation'], geolocation: { longitude: pt[0], latitude: pt[1], accuracy: 250 } });
  await p.click('button[data-kind=gangue_heap]');
  await p.click('.position button.btn-big');
  await p.locator('.position-text[data-source=gps]').waitFor();
  assert.match(await p.locator('.position .form-error').textContent(), /250/);
  assert.ok(await p.locator('button.send-report').isDisabled(), 'a poor fix cannot be sent');

  await tapMapAt(p, pt, 15);
  await p.locator('.position-text[data-source=map]').waitFor();
  assert.equal(await p.locator('.position .form-error').count(), 0);
  assert.ok(await p.locator('button.send-report').isEnabled(), 'a point placed by hand can be sent');

  await ctx.setGeolocation({ longitude: pt[0], latitude: pt[1], accuracy: 8 });
  await p.click('.position button.btn-big');
  await p.locator('.position-text[data-source=gps]').waitFor();
  assert.ok(await p.locator('button.send-report').isEnabled());
  await p.click('button.send-report');
  await p.click('.tab[data-tab=outbox]');
  const sent = p.locator('.outbox-item[data-state=sent]');
  await sent.waitFor({ timeout: 15_000 });
  const fire = (await api(`/api/fires/${await sent.getAttribute('data-id')}`)).data.properties;
  assert.equal(fire.position_source, 'gps');
  assert.equal(fire.accuracy_m, 8);
  assert.equal(fire.kind, 'gangue_heap');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a report within 50 m of a known fire offers an inspection instead, which reaches that fire', async () => {
  const before = (await api('/api/fires')).data.features;
  const known = before.find((f) => f.properties.status === 'treating');
  const [lon, lat] = known.geometry.coordinates;
  const { ctx, p, problems } = await patrolPage();
  await tapMapAt(p, [lon + 0.0002, lat], 16); // about 17 m east
  await p.click('button[data-kind=waste_dump]');
  await p.fill('input[name=temp_c]', '140');
  await p.locator('textarea[name=note]').fill('坡脚冒烟');
  const nearby = p.locator(`.nearby li[data-fire-id="${known.id}"]`);
  await nearby.waitFor();
  // Sending asks once more before making a new fire next to a known one.
  await p.click('button.send-report');
  await p.locator('.report-form .warn').waitFor();
  await nearby.locator('button.as-inspection').click();
  const form = p.locator(`form.inspect-form[data-fire-id="${known.id}"]`);
  await form.waitFor();
  assert.equal(await form.locator('input[name=temp_c]').inputValue(), '140', 'the readings carry over');
  await form.locator('input[name=co_ppm]').fill('24');
  await form.locator('button[type=submit]').click();
  await p.click('.tab[data-tab=outbox]');
  await p.locator('.outbox-item[data-state=sent]').waitFor({ timeout: 15_000 });

  const after = (await api('/api/fires')).data.features;
  assert.equal(after.length, before.length, 'no new fire');
  const events = (await api(`/api/fires/${known.id}`)).data.properties.events;
  const last = events[events.length - 1];
  assert.equal(last.action, 'inspect');
  assert.equal(last.temp_c, 140);
  assert.equal(last.co_ppm, 24);
  assert.equal(last.note, '坡脚冒烟');
  // The draft that became an inspection is gone.
  await p.click('.tab[data-tab=report]');
  assert.equal(await p.inputValue('input[name=temp_c]'), '');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a report the server refuses (outside every district) is kept as failed with the server\'s message', async () => {
  const { ctx, p, problems } = await patrolPage();
  await tapMapAt(p, [106.40, 39.55], 12); // west of the city
  await p.click('button[data-kind=coal_seam]');
  await p.click('button.send-report');
  await p.click('.tab[data-tab=outbox]');
  const failed = p.locator('.outbox-item[data-state=failed]');
  await failed.waitFor({ timeout: 15_000 });
  const msg = (await failed.locator('.form-error').textContent()).trim();
  assert.ok(msg.length > 0 && !/outside_managed_area/.test(msg), `a readable message: ${msg}`);
  assert.equal(await failed.locator('button.outbox-retry').count(), 1);
  await failed.locator('button.outbox-discard').click();
  await p.waitForFunction(() => !document.querySelector('.outbox-item'));
  assert.deepEqual(problems, []);
  await ctx.close();
});
