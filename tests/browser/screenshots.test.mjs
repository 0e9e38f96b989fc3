// Screenshots of the manager, owner and patrol views at a tablet and a desktop size, for people
// to look at: the manager's clearance map and a fire's detail with its photos (one taken far
// from the fire), the owner's fires with the notification list open, the patrol's report with a
// photo; and the dust screens: the manager's monitors with a chart, a warning drawn on the map,
// the owner's restriction to acknowledge, the patrol's violation form. They go to
// test-results/screenshots/ (not tracked), or to the folder named by SCREENSHOTS, e.g.
// SCREENSHOTS=docs/screenshots to refresh the ones in the docs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useDemo, tapMapAt, clickMapAt, fitMap, ROOT, OWNER_HOLDER } from './lib/harness.mjs';
import { bbox } from './lib/geo.mjs';
import { scenePhoto, withExif, photoForm } from './lib/image.mjs';

const OUT = path.resolve(ROOT, process.env.SCREENSHOTS ?? 'test-results/screenshots');
const SIZES = [[1024, 768], [1440, 900]];

const demo = useDemo({ api: 'manager', setup });
const { api } = demo;

async function setup() {
  fs.mkdirSync(OUT, { recursive: true });
  // Photos on the fire whose detail is shown (the first overdue one): two taken at the fire, one
  // 600 m away, as a patrol's and an owner's phones would have tagged them.
  const fire = (await api('/api/clearance')).data.overdue[0];
  const [lon, lat] = (await api(`/api/fires/${fire.id}`)).data.geometry.coordinates;
  const ctx = await demo.context();
  const page = await ctx.newPage();
  await page.goto(`${demo.base}/`);
  const jpeg = async (seed, exif) => ({ name: `IMG_${seed}.jpg`, mimeType: 'image/jpeg', buffer: withExif(await scenePhoto(page, seed), exif) });
  const res = await api(`/api/fires/${fire.id}/photos`, {
    method: 'POST',
    body: photoForm(
      await jpeg(0, { time: '2026:11:20 09:12:40', position: [lon + 0.0001, lat] }),
      await jpeg(1, { time: '2026:11:22 15:03:10', position: [lon - 0.0002, lat + 0.0001] }),
      await jpeg(2, { time: '2026:11:24 10:47:55', position: [lon + 0.007, lat] }),
    ),
  });
  assert.equal(res.status, 201);
  await ctx.close();
}

async function shot(p, name) {
  await p.waitForTimeout(400); // let the map finish drawing
  const file = path.join(OUT, `${name}.png`);
  await p.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 20_000, `${name} has content`);
}

for (const [w, hgt] of SIZES) {
  test(`screenshots of the three views at ${w}×${hgt}`, async () => {
    const size = `${w}x${hgt}`;
    const viewport = { width: w, height: hgt };

    let { ctx, page: p } = await demo.open('manager', { viewport, markers: true });
    await p.waitForSelector('.chart');
    await shot(p, `manager-${size}`);
    await p.locator('.tabs-body button.link').first().click();
    await p.locator('.detail .timeline li').first().waitFor();
    await p.waitForFunction(() => [...document.querySelectorAll('.detail .gallery img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot(p, `manager-detail-${size}`);
    await ctx.close();

    ({ ctx, page: p } = await demo.open('owner', { viewport, markers: true }));
    await p.locator('.fire-card').first().waitFor();
    await shot(p, `owner-${size}`);
    await p.click('.bell');
    await p.locator('.notify-list').waitFor();
    await shot(p, `owner-notifications-${size}`);
    await ctx.close();

    // The patrol about to report next to a known fire: the nearby warning shows.
    const near = (await api('/api/fires?status=burning')).data.features[0].geometry.coordinates;
    ({ ctx, page: p } = await demo.open('patrol', { viewport, markers: true }));
    await tapMapAt(p, [near[0] + 0.0003, near[1]], 16);
    await p.click('button[data-kind=waste_dump]');
    await p.fill('input[name=temp_c]', '86');
    await p.click('button[data-signs=smoke]');
    await p.setInputFiles('.report-form input[type=file]', { name: 'IMG_3.jpg', mimeType: 'image/jpeg', buffer: await scenePhoto(p, 3) });
    await p.waitForFunction(() => document.querySelector('.report-form .photo-preview img')?.naturalWidth > 0);
    await p.locator('.nearby').waitFor();
    await p.evaluate(() => { document.querySelector('.side-scroll').scrollTop = 0; });
    await shot(p, `patrol-${size}`);
    await p.evaluate(() => { const el = document.querySelector('.side-scroll'); el.scrollTop = el.scrollHeight; });
    await shot(p, `patrol-photo-${size}`);
    await ctx.close();
  });
}

test('screenshots of the dust screens', async () => {
  const monitors = (await api('/api/dust/monitors')).data.monitors;
  const over = monitors.find((m) => m.state === 'over') ?? monitors.find((m) => m.latest);
  const mines = (await api('/collections/mines/items?limit=10000')).data.features;
  const mine = mines.find((m) => m.properties.holder === OWNER_HOLDER);
  const pad = 0.004;
  const box = bbox(mine.geometry).map((v, i) => (i < 2 ? v - pad : v + pad));

  // The manager: monitors by state with the gale suggestion, then one monitor's chart.
  let { ctx, page: p } = await demo.open('manager', { viewport: { width: 1440, height: 900 } });
  await p.click('.mode[data-mode=dust]');
  await p.locator('.monitor-icon').first().waitFor();
  await p.locator('.monitor-table').waitFor();
  await shot(p, 'dust-manager-1440x900');
  await p.locator(`.monitor-table tr[data-mn="${over.mn}"] .monitor-link`).click();
  await p.locator('.monitor-chart svg.chart-series').waitFor();
  await p.click('.monitor-detail button.interval[data-interval=day]');
  await p.locator('.monitor-chart svg.chart-series[data-interval=day]').waitFor();
  await shot(p, 'dust-chart-1440x900');

  // A warning over an area drawn around the owner's mine, just before it is issued.
  await p.click('.detail .btn-close');
  await p.click('.dust-tab[data-dust-tab=warnings]');
  await p.click('button.new-warning');
  await p.locator('.level-option[data-level=orange] input').check();
  await fitMap(p, box, 80);
  await p.click('button.draw-start');
  for (const corner of [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]) await clickMapAt(p, corner);
  await p.click('button.draw-finish');
  await p.fill('form.warning-form textarea[name=note]', '重污染天气橙色预警：骆驼山矿区');
  await p.evaluate(() => document.querySelector('.area-tool').scrollIntoView({ block: 'center' }));
  await shot(p, 'dust-warning-1440x900');
  await p.click('button.issue-warning');
  await p.locator('.issued-result').waitFor();
  await ctx.close();

  // The owner: the banner and the restriction to acknowledge.
  ({ ctx, page: p } = await demo.open('owner', { viewport: { width: 1440, height: 900 } }));
  await p.locator('.restriction-banner').waitFor();
  await p.click('.show-restrictions');
  await p.locator('.restriction-card button.acknowledge').first().waitFor();
  await shot(p, 'dust-owner-1440x900');
  await ctx.close();

  // The patrol logging a violation inside the owner's mine, with a photo.
  ({ ctx, page: p } = await demo.open('patrol', { viewport: { width: 1024, height: 768 } }));
  await p.click('.tab[data-tab=dust]');
  await tapMapAt(p, [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], 14);
  await p.click('button[data-dust-kind=open_stockpile]');
  await p.fill('textarea[name=dust_note]', '煤堆露天堆放，未覆盖防尘网');
  await p.setInputFiles('.issue-form input[type=file]', { name: 'IMG_5.jpg', mimeType: 'image/jpeg', buffer: await scenePhoto(p, 5) });
  await p.waitForFunction(() => document.querySelector('.issue-form .photo-preview img')?.naturalWidth > 0);
  await shot(p, 'dust-patrol-1024x768');
  await ctx.close();
});
