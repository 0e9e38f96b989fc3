// Paged lists in the web app (issue 11): the server answers a page at a time, so the views ask
// for the next pages. The pages here are made small (the requests' `limit` rewritten) so the
// demo's few fires and monitors take several.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn } from './lib/harness.mjs';

const demo = useDemo({ api: 'manager' });
const { api } = demo;

/** A page signed in as `role` whose requests to `pattern` ask for `limit` items a page. */
async function withSmallPages(role, pattern, limit) {
  // Requests the service worker would make are not routed: keep it out of the way.
  const ctx = await demo.context({ serviceWorkers: 'block' });
  await ctx.route(pattern, (route) => {
    const u = new URL(route.request().url());
    if (u.searchParams.get('limit') === '500') u.searchParams.set('limit', String(limit));
    return route.continue({ url: u.toString() });
  });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await signIn(page, demo.base, role);
  return { ctx, page, problems };
}

test('the dashboard shows the first page of fires, says how many match, and "more" loads the rest', async () => {
  const total = (await api('/api/fires?status=open&limit=1000')).data.features.length;
  assert.ok(total > 20, `${total} open fires in the demo`);
  const { ctx, page, problems } = await withSmallPages('manager', /\/api\/fires\?/, 10);
  await page.waitForFunction(() => document.querySelectorAll('path.fire-marker').length === 10);
  assert.match(await page.locator('.fire-count').textContent(), new RegExp(`10 / 共 ${total}`));
  await page.locator('.tabs .tab[data-tab="list"]').click();
  const rows = () => page.locator('.tabs-body tbody tr').count();
  assert.equal(await rows(), 10);
  let shown = 10;
  while (await page.locator('.more-fires').count()) {
    await page.locator('.more-fires').click();
    shown = Math.min(shown + 10, total);
    await page.waitForFunction((n) => document.querySelectorAll('.tabs-body tbody tr').length === n, shown);
  }
  assert.equal(await rows(), total);
  assert.equal(await page.locator('path.fire-marker').count(), total, 'every loaded fire is on the map');
  assert.match(await page.locator('.fire-count').textContent(), new RegExp(`地图上 ${total} 处火点`));
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the dust panel follows the pages of monitors and violations to the end', async () => {
  const monitors = (await api('/api/dust/monitors')).data.numberMatched;
  const issues = (await api('/api/dust/issues')).data.numberMatched;
  assert.ok(monitors > 2 && issues > 2, `${monitors} monitors, ${issues} violations`);
  const { ctx, page, problems } = await withSmallPages('manager', /\/api\/dust\/(monitors|issues)\?/, 2);
  await page.locator('.mode[data-mode="dust"]').click();
  await page.waitForFunction((n) => document.querySelectorAll('.monitor-table tbody tr').length === n, monitors);
  assert.deepEqual(problems, []);
  await ctx.close();
});
