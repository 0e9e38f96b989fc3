// The patrol's report form: GPS accuracy is enforced, a fire next to a known one becomes an
// inspection (its photos with it), a report the server refuses is kept as failed with the
// server's message, a photo upload cut off by the network waits and goes later, and a photo the
// server refuses is shown as such while the report itself is in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, tapMapAt } from './lib/harness.mjs';
import { openCountry as openCountryOf } from './lib/geo.mjs';
import { photoFile } from './lib/image.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

/** Points in open country in Wuda (no mine, dump or heap), away from fires and each other. */
const openCountry = (n) => openCountryOf(api, { clearM: 400, n });

/** A patrol's page at tablet size, the fires drawn. */
const patrolPage = (opts = {}) => demo.open('patrol', { viewport: { width: 1024, height: 768 }, markers: true, ...opts });

test('a GPS fix worse than 100 m cannot be sent until the point is placed on the map; a good fix is sent with its accuracy', async () => {
  const [pt] = await openCountry(1);
  const { ctx, page: p, problems } = await patrolPage({ permissions: ['geolocation'], geolocation: { longitude: pt[0], latitude: pt[1], accuracy: 250 } });
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

test('after a send the patrol is told it went, and the inspection list puts the burning fires nearest its last place first', async () => {
  const [pt] = await openCountry(1);
  const { ctx, page: p, problems } = await patrolPage();
  await p.click('button[data-kind=coal_seam]');
  await tapMapAt(p, pt, 15);
  await p.locator('.position-text[data-source=map]').waitFor();
  await p.click('button.send-report');
  // Online, the send goes at once: the message says so, not "saved, will send".
  await p.locator('.toast', { hasText: '已发送' }).waitFor();
  await p.click('.tab[data-tab=inspect]');
  await p.locator('.pick-list button.pick').first().waitFor();
  const open = (await api('/api/fires?status=burning&limit=500')).data.features;
  const d = (f) => Math.hypot((f.geometry.coordinates[0] - pt[0]) * Math.cos(pt[1] * Math.PI / 180), f.geometry.coordinates[1] - pt[1]);
  // The report just sent is at the place itself (listed once the fires reload): the others.
  const others = open.filter((f) => d(f) > 1e-7).sort((a, b) => d(a) - d(b));
  const ids = (await p.$$eval('.pick-list button.pick', (bs) => bs.map((b) => b.dataset.fireId))).filter((id) => others.some((f) => f.id === id) || !open.some((f) => f.id === id));
  assert.equal(ids[0], others[0].id, 'the burning fire nearest the last place, not the first by code');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a report within 50 m of a known fire offers an inspection instead, which reaches that fire with the report\'s photo', async () => {
  const before = (await api('/api/fires')).data.features;
  const known = before.find((f) => f.properties.status === 'treating');
  const [lon, lat] = known.geometry.coordinates;
  const { ctx, page: p, problems } = await patrolPage();
  await tapMapAt(p, [lon + 0.0002, lat], 16); // about 17 m east
  await p.click('button[data-kind=waste_dump]');
  await p.fill('input[name=temp_c]', '140');
  await p.locator('textarea[name=note]').fill('坡脚冒烟');
  const nearby = p.locator(`.nearby li[data-fire-id="${known.id}"]`);
  await nearby.waitFor();
  // Sending asks once more before making a new fire next to a known one.
  await p.click('button.send-report');
  await p.locator('.report-form .warn').waitFor();
  await p.setInputFiles('.report-form input[type=file]', photoFile('slope.png', { seed: 31 }));
  await p.locator('.report-form .photo-preview').waitFor();
  await nearby.locator('button.as-inspection').click();
  const form = p.locator(`form.inspect-form[data-fire-id="${known.id}"]`);
  await form.waitFor();
  assert.equal(await form.locator('input[name=temp_c]').inputValue(), '140', 'the readings carry over');
  assert.equal(await form.locator('.photo-preview').count(), 1, 'and the photo');
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
  const photos = (await api(`/api/fires/${known.id}`)).data.properties.photos;
  assert.equal(photos.filter((ph) => ph.uploaded_by === 'patrol').length, 1, 'the photo went to that fire');
  // The draft that became an inspection is gone, photo included.
  await p.click('.tab[data-tab=report]');
  assert.equal(await p.inputValue('input[name=temp_c]'), '');
  assert.equal(await p.locator('.report-form .photo-preview').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a report the server refuses (outside every district) is kept as failed with the server\'s message', async () => {
  const { ctx, page: p, problems } = await patrolPage();
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

test('a photo upload cut off by the network waits with the report already in, and goes when the network is back', async () => {
  const [pt] = await openCountry(1);
  const { ctx, page: p, problems } = await patrolPage();
  // The report goes through; the photo uploads fail as if the signal dropped in between.
  await ctx.route('**/api/fires/*/photos', (r) => r.abort('internetdisconnected'));
  await tapMapAt(p, pt, 15);
  await p.click('button[data-kind=waste_dump]');
  await p.setInputFiles('.report-form input[type=file]', [photoFile('one.png', { seed: 41 }), photoFile('two.png', { seed: 42 })]);
  await p.locator('.report-form .photo-preview').nth(1).waitFor();
  await p.click('button.send-report');
  await p.click('.tab[data-tab=outbox]');
  const item = p.locator('.outbox-item');
  await p.waitForFunction(() => document.querySelector('.outbox-item')?.textContent.includes('WH-'), null, { timeout: 15_000 });
  await p.locator('.outbox-item[data-state=pending] .outbox-photo[data-state=pending]').nth(1).waitFor();
  const id = await item.getAttribute('data-id');
  assert.equal(await item.locator('.outbox-photos').getAttribute('data-sent'), '0');
  const fire = (await api(`/api/fires/${id}`)).data.properties;
  assert.equal(fire.photos.length, 0, 'the report is in, the photos are not');

  await ctx.unroute('**/api/fires/*/photos');
  await p.click('button.send-now');
  await p.locator('.outbox-item[data-state=sent]').waitFor({ timeout: 15_000 });
  assert.equal(await item.locator('.outbox-photos').getAttribute('data-sent'), '2');
  assert.equal((await api(`/api/fires/${id}`)).data.properties.photos.length, 2);
  assert.equal((await api('/api/fires')).data.features.filter((f) => f.id === id).length, 1, 'the report once');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a photo the server refuses is marked refused with a readable message, while its report is in', async () => {
  const [pt] = await openCountry(1);
  const { ctx, page: p, problems } = await patrolPage();
  await tapMapAt(p, pt, 15);
  await p.click('button[data-kind=gangue_heap]');
  // Labelled a PNG, but not an image: only the server can tell.
  await p.setInputFiles('.report-form input[type=file]', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
  await p.locator('.report-form .photo-preview').waitFor();
  await p.click('button.send-report');
  await p.click('.tab[data-tab=outbox]');
  const failed = p.locator('.outbox-item[data-state=failed]');
  await failed.waitFor({ timeout: 15_000 });
  assert.equal(await failed.locator('.outbox-photo[data-state=failed]').count(), 1);
  const msg = (await failed.locator('.outbox-photos .form-error').textContent()).trim();
  assert.match(msg, /broken\.png/);
  assert.doesNotMatch(msg, /photo_type/, `a readable message: ${msg}`);
  const id = await failed.getAttribute('data-id');
  assert.equal((await api(`/api/fires/${id}`)).status, 200, 'the report itself is in');
  await failed.locator('button.outbox-discard').click();
  await p.waitForFunction(() => !document.querySelector('.outbox-item'));
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a file that is not a photo is refused when picked, before anything is queued', async () => {
  const { ctx, page: p, problems } = await patrolPage();
  await p.setInputFiles('.report-form input[type=file]', { name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4') });
  const err = p.locator('.report-form .photo-error');
  await err.waitFor();
  assert.match(await err.textContent(), /notes\.pdf/);
  assert.equal(await p.locator('.report-form .photo-preview').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});
