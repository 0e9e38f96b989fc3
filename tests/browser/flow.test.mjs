// A fire's life across roles: a patrol reports it with a point placed on the map inside a mine
// and a photo from the camera, the manager sees it with the mine's holder responsible and the
// photo, and confirms it, the owner starts treatment and reports it controlled with a photo of
// the work, and the manager's counts follow.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, waitForMarkers, drawnFires, tapMapAt, centreMap, clickMapAt, OWNER_HOLDER } from './lib/harness.mjs';
import { inOwnersPit } from './lib/geo.mjs';
import { photoFile } from './lib/image.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

const count = async (p, sel) => Number(await p.locator(sel).getAttribute('data-count'));

/** Waits for the manager's counter to show `n` burning (after a reload). */
async function expectBurning(p, n) {
  await p.reload();
  await p.waitForSelector('.burning-count');
  await p.waitForFunction((v) => document.querySelector('.burning-count')?.dataset.count === String(v), n, { timeout: 10_000 })
    .catch(async () => assert.fail(`burning count ${await count(p, '.burning-count')}, expected ${n}`));
}

test('a patrol report with a photo reaches the manager with its responsible party and the photo, and the owner\'s treatment moves the counts', async () => {
  // A point inside the owner's open-pit mine, outside every other polygon, away from every fire.
  const { mine: target, points: [point] } = await inOwnersPit(api, { clearM: 120 });
  assert.ok(point, 'found a free point in the mine');

  const before = (await api('/api/clearance')).data;

  // The manager's view first: the counter as it is.
  const { ctx: mctx, page: mp, problems: mProblems } = await demo.open('manager');
  await mp.waitForSelector('.burning-count');
  assert.equal(await count(mp, '.burning-count'), before.burning);

  // The patrol reports: point tapped on the map, kind, temperature, signs.
  const { ctx: pctx, page: pp, problems: pProblems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 }, markers: true });
  await tapMapAt(pp, point);
  await pp.locator('.position-text[data-source=map]').waitFor();
  assert.match(await pp.locator('.position .where').textContent(), new RegExp(target.properties.name), 'the form says which mine the point is in');
  await pp.click('button[data-kind=coal_seam]');
  await pp.fill('input[name=temp_c]', '320');
  await pp.fill('input[name=area_m2]', '150');
  await pp.click('button[data-signs=smoke]');
  await pp.click('button[data-signs=cracks]');
  await pp.fill('textarea[name=note]', '测试：煤层露头冒烟');
  // A photo from the camera, its EXIF position where the fire is; previewed before sending.
  await pp.setInputFiles('.report-form input[type=file]', photoFile('fire.png', { seed: 7, exif: { time: '2026:11:20 10:30:00', position: point } }));
  await pp.locator('.report-form .photo-preview img[src^="blob:"]').waitFor();
  assert.equal(await pp.locator('.report-form .photo-preview').count(), 1);
  assert.equal(await pp.locator('.nearby').count(), 0, 'no fire within 50 m');
  await pp.click('button.send-report');
  await pp.click('.tab[data-tab=outbox]');
  const sent = pp.locator('.outbox-item[data-state=sent]');
  await sent.waitFor({ timeout: 15_000 });
  const fireId = await sent.getAttribute('data-id');
  assert.equal(await sent.locator('.outbox-photos').getAttribute('data-sent'), '1', 'the queue shows the photo sent');

  const fire = (await api(`/api/fires/${fireId}`)).data.properties;
  assert.equal(fire.status, 'reported');
  assert.equal(fire.kind, 'coal_seam');
  assert.equal(fire.temp_c, 320);
  assert.deepEqual(fire.signs, ['smoke', 'cracks']);
  assert.equal(fire.position_source, 'map');
  assert.equal(fire.responsible.party, 'holder');
  assert.equal(fire.responsible.name, OWNER_HOLDER);
  assert.equal(fire.responsible.via.name, target.properties.name);
  assert.equal(fire.photos.length, 1, 'the photo is on the fire');
  assert.equal(fire.photos[0].exif_time, '2026-11-20 10:30:00');
  assert.deepEqual(fire.photos[0].exif_position.map((v) => Math.round(v * 1e4)), point.map((v) => Math.round(v * 1e4)));

  // The manager sees it on the map, with the right responsible party, and confirms it.
  await expectBurning(mp, before.burning + 1);
  await waitForMarkers(mp);
  const marker = (await drawnFires(mp)).find((f) => f.id === fireId);
  assert.ok(marker, 'the new fire is on the map');
  assert.equal(marker.status, 'reported');
  // A click on it where it is drawn.
  await centreMap(mp, point, 16);
  await clickMapAt(mp, point);
  await mp.locator('.detail .fire-code', { hasText: fire.code }).waitFor();
  const resp = await mp.locator('.detail .responsible').textContent();
  assert.match(resp, new RegExp(OWNER_HOLDER));
  assert.match(resp, new RegExp(target.properties.name), 'says why: the mining right it lies in');
  // The photo's thumbnail, served as JPEG; taken where the fire is, so not flagged.
  const thumb = mp.locator('.detail .gallery-item img');
  await thumb.waitFor();
  await mp.waitForFunction(() => document.querySelector('.detail .gallery-item img')?.naturalWidth > 0);
  const src = await thumb.getAttribute('src');
  assert.equal(src, fire.photos[0].thumb_url);
  const served = await mp.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type') }; }, src);
  assert.deepEqual(served, { status: 200, type: 'image/jpeg' });
  assert.equal(await mp.locator('.detail .gallery-item.far').count(), 0);
  const metres = Number((await mp.locator('.detail .photo-place').textContent()).match(/\d+/)[0]);
  assert.ok(metres <= 10, `taken ${metres} m from the fire (the tap lands within a pixel)`);
  // A tap opens the full image.
  await mp.click('.detail .gallery-thumb');
  await mp.waitForFunction(() => document.querySelector('.lightbox img')?.naturalWidth > 0);
  assert.equal(await mp.locator('.lightbox img').getAttribute('src'), fire.photos[0].url);
  await mp.keyboard.press('Escape');
  await mp.locator('.lightbox').waitFor({ state: 'detached' });
  await mp.click('.detail button[data-action=confirm]');
  await mp.click('.detail form[data-action=confirm] button[type=submit]');
  await mp.locator('.detail .badge[data-status=confirmed]').waitFor();

  // The owner starts treatment and reports it controlled.
  const { ctx: octx, page: op, problems: oProblems } = await demo.open('owner');
  const card = op.locator(`.fire-card[data-fire-id="${fireId}"]`);
  await card.waitFor();
  await card.locator('button').click();
  await op.locator('.detail .fire-code', { hasText: fire.code }).waitFor();
  const ownerActions = await op.$$eval('.detail .actions button', (bs) => bs.map((b) => b.dataset.action));
  assert.deepEqual(ownerActions, ['start_treatment']);
  await op.click('.detail button[data-action=start_treatment]');
  await op.selectOption('.detail select[name=method]', 'loess_cover');
  const due = new Date(Date.now() + 10 * 86400e3).toISOString().slice(0, 10);
  await op.fill('.detail input[name=plan_due]', due);
  await op.click('.detail form[data-action=start_treatment] button[type=submit]');
  await op.locator('.detail .badge[data-status=treating]').waitFor();

  // A temperature at the threshold is refused with the server's message.
  await op.click('.detail button[data-action=control]');
  await op.fill('.detail input[name=temp_c]', '55');
  await op.click('.detail form[data-action=control] button[type=submit]');
  const err = op.locator('.detail form[data-action=control] .form-error');
  await err.waitFor();
  assert.ok((await err.textContent()).length > 0);
  await op.fill('.detail input[name=temp_c]', '38');
  // With a photo of the work, previewed in the form and sent after the action.
  await op.setInputFiles('.detail form[data-action=control] input[type=file]', photoFile('covered.png', { seed: 8 }));
  await op.locator('.detail form[data-action=control] .photo-preview').waitFor();
  await op.click('.detail form[data-action=control] button[type=submit]');
  await op.locator('.detail .badge[data-status=controlled]').waitFor();
  await op.locator('.detail .gallery-item').nth(1).waitFor();

  const after = (await api(`/api/fires/${fireId}`)).data.properties;
  assert.equal(after.photos.length, 2, 'the owner\'s photo joined the patrol\'s');
  assert.equal(after.photos[1].uploaded_by, 'owner');
  assert.equal(after.photos[1].exif_position, null);
  assert.equal(after.status, 'controlled');
  assert.equal(after.deadline.slice(0, 10) <= due, true);
  assert.deepEqual(after.events.map((e) => e.action), ['report', 'confirm', 'start_treatment', 'control']);

  // The manager's counts: burning back where it was, one more not yet cleared.
  await expectBurning(mp, before.burning);
  assert.equal(await count(mp, '.burning-count'), before.burning);
  assert.equal(Number(await mp.locator('.not-cleared-count').textContent()), before.not_cleared + 1);

  for (const probs of [mProblems, pProblems, oProblems]) assert.deepEqual(probs, []);
  await Promise.all([mctx.close(), pctx.close(), octx.close()]);
});
