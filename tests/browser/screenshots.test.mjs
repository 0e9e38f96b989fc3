// Screenshots of the manager, owner and patrol views at a tablet and a desktop size, for people
// to look at: the manager's clearance map and a fire's detail with its photos (one taken far
// from the fire), the owner's fires with the notification list open, the patrol's report with a
// photo. They go to test-results/screenshots/ (not tracked), or to the folder named by
// SCREENSHOTS, e.g. SCREENSHOTS=docs/screenshots to refresh the ones in the docs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, newContext, signIn, apiAs, waitForMarkers, tapMapAt, ROOT } from './lib/harness.mjs';
import { scenePhoto, withExif, photoForm } from './lib/image.mjs';

const OUT = path.resolve(ROOT, process.env.SCREENSHOTS ?? 'test-results/screenshots');
const SIZES = [[1024, 768], [1440, 900]];

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  fs.mkdirSync(OUT, { recursive: true });
  // Photos on the fire whose detail is shown (the first overdue one): two taken at the fire, one
  // 600 m away, as a patrol's and an owner's phones would have tagged them.
  const api = await apiAs(server.base, 'manager');
  const fire = (await api('/api/clearance')).data.overdue[0];
  const [lon, lat] = (await api(`/api/fires/${fire.id}`)).data.geometry.coordinates;
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto(`${server.base}/`);
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
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

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

    let ctx = await newContext(browser, { viewport });
    let p = await ctx.newPage();
    await signIn(p, server.base, 'manager');
    await waitForMarkers(p);
    await p.waitForSelector('.chart');
    await shot(p, `manager-${size}`);
    await p.locator('.tabs-body button.link').first().click();
    await p.locator('.detail .timeline li').first().waitFor();
    await p.waitForFunction(() => [...document.querySelectorAll('.detail .gallery img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot(p, `manager-detail-${size}`);
    await ctx.close();

    ctx = await newContext(browser, { viewport });
    p = await ctx.newPage();
    await signIn(p, server.base, 'owner');
    await waitForMarkers(p);
    await p.locator('.fire-card').first().waitFor();
    await shot(p, `owner-${size}`);
    await p.click('.bell');
    await p.locator('.notify-list').waitFor();
    await shot(p, `owner-notifications-${size}`);
    await ctx.close();

    // The patrol about to report next to a known fire: the nearby warning shows.
    const api = await apiAs(server.base, 'manager');
    const near = (await api('/api/fires?status=burning')).data.features[0].geometry.coordinates;
    ctx = await newContext(browser, { viewport });
    p = await ctx.newPage();
    await signIn(p, server.base, 'patrol');
    await waitForMarkers(p);
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
