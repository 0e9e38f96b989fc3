// Offline: a patrol with no signal queues three reports, one with a photo, reloads the app (the
// service worker serves the shell; the photo waits in IndexedDB), and when the network returns
// the server gets each report, and the photo, exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, tapMapAt } from './lib/harness.mjs';
import { openCountry } from './lib/geo.mjs';
import { photoFile } from './lib/image.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

const items = (p, state) => p.locator(`.outbox-item${state ? `[data-state=${state}]` : ''}`);

test('three reports queued offline, one with a photo, survive a reload and reach the server exactly once, photo included', async () => {
  const fires = (await api('/api/fires')).data.features;
  // Three points in open country (no mine, dump or heap), far from fires and from each other.
  const points = await openCountry(api, { clearM: 300, n: 3 });
  assert.equal(points.length, 3);

  const { ctx, page: p, problems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 }, markers: true });
  // The service worker has installed and controls the page (the shell is cached).
  await p.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });

  await ctx.setOffline(true);
  await p.waitForFunction(() => !navigator.onLine);
  for (const [i, pt] of points.entries()) {
    await tapMapAt(p, pt, 14);
    await p.locator('.position-text[data-source=map]').waitFor();
    await p.click(`button[data-kind=${['coal_seam', 'waste_dump', 'gangue_heap'][i]}]`);
    await p.fill('input[name=temp_c]', String(100 + i));
    if (i === 1) {
      await p.setInputFiles('.report-form input[type=file]', photoFile('offline.png', { seed: 21 }));
      await p.locator('.report-form .photo-preview img[src^="blob:"]').waitFor();
    }
    await p.click('button.send-report');
    await p.waitForFunction((n) => document.querySelector('.tab[data-tab=outbox]')?.textContent.includes(String(n)), i + 1);
  }
  await p.click('.tab[data-tab=outbox]');
  assert.equal(await items(p, 'pending').count(), 3, 'three reports wait in the outbox');
  const ids = await items(p).evaluateAll((els) => els.map((e) => e.dataset.id));
  const withPhoto = p.locator('.outbox-item:has(.outbox-photos)');
  assert.equal(await withPhoto.count(), 1, 'one of them carries a photo');
  const photoFireId = await withPhoto.getAttribute('data-id');
  assert.equal(await withPhoto.locator('.outbox-photos').getAttribute('data-sent'), '0');

  // The draft of a half-typed fourth report survives the reload too, with its photo.
  await p.click('.tab[data-tab=report]');
  await p.fill('textarea[name=note]', '未完成的草稿');
  await p.locator('textarea[name=note]').dispatchEvent('input');
  await p.setInputFiles('.report-form input[type=file]', photoFile('draft.png', { seed: 22 }));
  await p.locator('.report-form .photo-preview').waitFor();

  const res = await p.reload();
  assert.ok(res?.fromServiceWorker(), 'the page came from the service worker');
  await p.waitForSelector('body[data-role=patrol]');
  assert.equal(await p.locator('.net.offline').count(), 1, 'the app says it is offline');
  assert.equal(await p.inputValue('textarea[name=note]'), '未完成的草稿');
  await p.waitForFunction(() => document.querySelector('.report-form .photo-preview img')?.naturalWidth > 0);
  await p.click('.tab[data-tab=outbox]');
  await items(p).first().waitFor();
  assert.equal(await items(p, 'pending').count(), 3, 'still three after the reload');
  // The photo is still on the device: its preview comes from IndexedDB.
  await p.waitForFunction(() => document.querySelector('.outbox-photo img[src^="blob:"]')?.naturalWidth > 0);
  assert.equal(await p.locator('.outbox-photo[data-state=pending]').count(), 1);
  assert.equal((await api('/api/fires')).data.features.length, fires.length, 'nothing reached the server while offline');

  await ctx.setOffline(false);
  await p.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state=sent]').length === 3, null, { timeout: 40_000 });
  assert.equal(await p.locator(`.outbox-item[data-id="${photoFireId}"] .outbox-photos`).getAttribute('data-sent'), '1', 'its photo went too');
  // A sent photo leaves the device; the draft's stays.
  const kept = await p.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('qingling');
    req.onsuccess = () => { const k = req.result.transaction('photos').objectStore('photos').getAllKeys(); k.onsuccess = () => resolve(k.result); };
  }));
  const draftPhotos = await p.evaluate(() => JSON.parse(localStorage.getItem('qingling.draft.report.patrol')).photos.map((x) => x.id));
  assert.deepEqual(kept, draftPhotos);

  // Send again on purpose: the server already has those ids, so nothing is added.
  await p.click('button.send-now');
  await p.reload();
  await p.waitForSelector('body[data-role=patrol]');
  await p.waitForTimeout(1000);

  const now = (await api('/api/fires')).data.features;
  assert.equal(now.length, fires.length + 3, 'exactly three new fires');
  const added = now.filter((f) => !fires.some((g) => g.id === f.id));
  assert.deepEqual(added.map((f) => f.id).sort(), [...ids].sort(), 'the queued ids are the fires\' ids');
  for (const f of added) {
    assert.equal(f.properties.position_source, 'map');
    assert.equal(f.properties.responsible.party, 'district');
    assert.equal(f.properties.responsible.district_code, '150303');
    const photos = (await api(`/api/fires/${f.id}`)).data.properties.photos;
    assert.equal(photos.length, f.id === photoFireId ? 1 : 0, `${f.properties.code}: photos`);
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});
