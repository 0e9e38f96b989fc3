// Paged lists in the web app (issue 11): the server answers a page at a time, so the views ask
// for the next pages. The pages here are made small (the requests' `limit` rewritten) so the
// demo's few fires and monitors take several.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, waitForMarkers } from './lib/harness.mjs';

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
  await page.waitForFunction((n) => document.querySelector('.fire-count')?.textContent.includes(`10 / 共 ${n}`), total);
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
  // Every fire is on the map: drawn from the tiles (all that match) or from the loaded list.
  await waitForMarkers(page, total);
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

test('the clearance lists come a page at a time and "more" adds the next page', async () => {
  const c = (await api('/api/clearance')).data;
  const overdue = c.pages.overdue.total;
  const mines = c.pages.by_mine.total;
  assert.ok(overdue > 2 && mines > 2, `${overdue} overdue fires, ${mines} mines with fires`);
  const ctx = await demo.context({ serviceWorkers: 'block' });
  await ctx.route(/\/api\/clearance(\?|$)/, (route) => {
    const u = new URL(route.request().url());
    for (const k of ['overdue_limit', 'mines_limit']) if (!u.searchParams.has(k)) u.searchParams.set(k, '2');
    return route.continue({ url: u.toString() });
  });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await signIn(page, demo.base, 'manager');
  // The totals are the lists' own, not the page's.
  await page.waitForFunction((n) => document.querySelector('.tabs .tab[data-tab="overdue"]')?.textContent.includes(String(n)), overdue);
  const rows = () => page.locator('.tabs-body tbody tr').count();
  for (const [tab, list, total] of [['overdue', 'overdue', overdue], ['mines', 'by_mine', mines]]) {
    await page.locator(`.tabs .tab[data-tab="${tab}"]`).click();
    assert.equal(await rows(), 2, tab);
    let shown = 2;
    while (await page.locator(`.more-rows[data-list="${list}"]`).count()) {
      await page.locator(`.more-rows[data-list="${list}"]`).click();
      shown = Math.min(shown + 2, total);
      await page.waitForFunction((n) => document.querySelectorAll('.tabs-body tbody tr').length === n, shown);
    }
    assert.equal(await rows(), total, `every row of ${tab}`);
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});
