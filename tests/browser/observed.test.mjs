// Field times: a report queued offline is dated when the patrol pressed send, not when the tablet
// found a signal again — its observed_at is the queue time, its deadline runs from it, and the
// time the server received it is kept beside.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, tapMapAt } from './lib/harness.mjs';
import { openCountry } from './lib/geo.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

const seconds = (iso) => Math.floor(Date.parse(iso) / 1000);

test('a report queued offline keeps the time it was queued, not the time it synced', async () => {
  const [pt] = await openCountry(api, { clearM: 300, n: 1 });

  const { ctx, page: p, problems } = await demo.open('patrol', { viewport: { width: 1024, height: 768 }, markers: true });
  await ctx.setOffline(true);
  await p.waitForFunction(() => !navigator.onLine);
  await tapMapAt(p, pt, 14);
  await p.locator('.position-text[data-source=map]').waitFor();
  await p.click('button[data-kind=waste_dump]');
  await p.fill('input[name=temp_c]', '180');
  await p.click('button.send-report');
  await p.waitForFunction(() => document.querySelector('.tab[data-tab=outbox]')?.textContent.includes('1'));
  // What the outbox stored: the body carries the moment send was pressed.
  const queued = await p.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('qingling');
    req.onsuccess = () => {
      const g = req.result.transaction('outbox').objectStore('outbox').getAll();
      g.onsuccess = () => resolve(g.result[0]);
    };
  }));
  assert.equal(queued.body.properties.observed_at, queued.createdAt);

  // Out of signal for a while; then the network returns and the outbox syncs.
  await p.waitForTimeout(4000);
  await ctx.setOffline(false);
  await p.click('.tab[data-tab=outbox]');
  await p.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state=sent]').length === 1, null, { timeout: 40_000 });

  const f = (await api(`/api/fires/${queued.id}`)).data.properties;
  assert.equal(seconds(f.observed_at), seconds(queued.createdAt), 'observed at the queue time');
  assert.equal(f.reported_at, f.observed_at);
  assert.ok(seconds(f.received_at) - seconds(f.observed_at) >= 3, `received ${f.received_at} after observed ${f.observed_at}`);
  assert.equal(seconds(f.deadline) - seconds(f.observed_at), 72 * 3600, 'the deadline runs from the observed time');
  const report = f.events.find((e) => e.action === 'report');
  assert.equal(report.at, f.observed_at);
  assert.equal(report.received_at, f.received_at);
  assert.deepEqual(problems, []);
  await ctx.close();
});
