// Notifications: a patrol reports a fire in the owner's mine, and the owner's bell counts it; the
// list names the fire and opens it; "mark all read" clears the count; the bell asks again every
// minute, so the next new fire shows without a reload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, apiAs, watch, waitForMarkers, OWNER_HOLDER } from './lib/harness.mjs';
import { inOwnersPit } from './lib/geo.mjs';

let patrol;
let points;
const demo = useDemo({
  api: 'manager',
  setup: async () => {
    patrol = await apiAs(demo.base, 'patrol');
    // Points inside the owner's open-pit mine, clear of the other polygons and of every fire.
    ({ points } = await inOwnersPit(demo.api, { clearM: 120, n: 3 }));
    assert.equal(points.length, 3);
  },
});

/** A patrol's report at `point`, as the tablet's outbox sends it; returns the new fire. */
async function report(point, temp) {
  const body = {
    type: 'Feature', geometry: { type: 'Point', coordinates: point },
    properties: { id: crypto.randomUUID(), kind: 'coal_seam', position_source: 'map', temp_c: temp },
  };
  const res = await patrol('/api/fires', { method: 'POST', body });
  assert.equal(res.status, 201);
  assert.equal(res.data.properties.responsible.name, OWNER_HOLDER);
  return res.data.properties;
}

const unread = async (p) => Number(await p.locator('.bell').getAttribute('data-unread'));

test('a fire reported in the owner\'s mine rings the owner\'s bell; the entry opens the fire; mark all read clears it; the next one comes by polling', async () => {
  const first = await report(points[0], 260);

  const ctx = await demo.context();
  const p = await ctx.newPage();
  const problems = watch(p);
  await p.clock.install(); // time runs as usual; the test jumps it ahead to the next poll
  await signIn(p, demo.base, 'owner');
  await waitForMarkers(p);
  await p.waitForFunction(() => Number(document.querySelector('.bell')?.dataset.unread) >= 1);
  const n = await unread(p);
  assert.ok(n >= 1);
  assert.equal(await p.locator('.bell-count').textContent(), n > 99 ? '99+' : String(n));

  // The list: the new fire first (newest first), unread, with its code; a tap opens it.
  await p.click('.bell');
  const entry = p.locator(`.notify-item[data-code="${first.code}"]`);
  await entry.waitFor();
  assert.equal(await entry.getAttribute('data-kind'), 'new_fire');
  assert.match(await entry.getAttribute('class'), /\bunread\b/);
  assert.equal(await p.locator('.notify-item').first().getAttribute('data-code'), first.code);
  await entry.click();
  await p.locator('.detail .fire-code', { hasText: first.code }).waitFor();
  assert.equal(await p.locator('.notify-panel').count(), 0, 'the panel closes');

  // Mark all read: the count goes, the entries stay, read.
  await p.click('.bell');
  await p.click('.notify-panel button.mark-read');
  await p.waitForFunction(() => document.querySelector('.bell')?.dataset.unread === '0');
  assert.equal(await p.locator('.bell-count').count(), 0);
  await p.locator(`.notify-item[data-code="${first.code}"]`).waitFor();
  assert.equal(await p.locator('.notify-item.unread').count(), 0);
  assert.equal((await (await apiAs(demo.base, 'owner'))('/api/notifications')).data.unread, 0, 'the server keeps it read');
  await p.keyboard.press('Escape');
  await p.locator('.notify-panel').waitFor({ state: 'detached' });

  // Another fire: the bell hears of it at the next minute's poll, without a reload.
  const second = await report(points[1], 240);
  await p.clock.fastForward(61_000);
  await p.waitForFunction(() => document.querySelector('.bell')?.dataset.unread === '1');
  await p.click('.bell');
  await p.locator(`.notify-item.unread[data-code="${second.code}"]`).waitFor();
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a patrol and a manager have the bell too; the manager hears of every new fire', async () => {
  const fire = await report(points[2], 200);
  for (const role of ['manager', 'patrol']) {
    const { ctx, page: p, problems } = await demo.open(role, { viewport: { width: 1024, height: 768 } });
    await p.locator('.bell').waitFor();
    await p.click('.bell');
    await p.locator('.notify-panel').waitFor();
    if (role === 'manager') {
      assert.ok(await unread(p) >= 1);
      await p.locator(`.notify-item[data-code="${fire.code}"][data-kind=new_fire]`).waitFor();
    }
    assert.deepEqual(problems, []);
    await ctx.close();
  }
});
