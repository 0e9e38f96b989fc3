// The manager's decisions in a fire's detail: dismiss as a duplicate (by the original's code),
// the server's message when a reason is missing, and reassigning to a district; the photos as
// evidence, flagged when taken far from the fire; the "as of" date redrawing the map.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, waitForMarkers, markerIds, waitForMarkerIds, drawnFires, clickFire } from './lib/harness.mjs';
import { photoFile, photoForm } from './lib/image.mjs';
import { bbox as bboxOf } from './lib/geo.mjs';

// One manager's page for all the tests (closed with the browser).
let p;
let problems;
const demo = useDemo({
  api: 'manager',
  setup: async () => { ({ page: p, problems } = await demo.open('manager', { markers: true })); },
});
const { api } = demo;

async function open(fire) {
  await clickFire(p, fire.id);
  await p.locator('.detail .fire-code', { hasText: fire.properties.code }).waitFor();
}

test('a reported fire is dismissed as a duplicate of another, named by its code; without a reason the server\'s message shows', async () => {
  const fires = (await api('/api/fires?status=reported')).data.features;
  const [dup, orig] = fires;
  await open(dup);
  await p.click('.detail button[data-action=dismiss]');
  const form = p.locator('.detail form[data-action=dismiss]');
  await form.locator('button[type=submit]').click();
  const err = form.locator('.form-error');
  await err.waitFor();
  assert.ok((await err.textContent()).trim().length > 0, 'the 422 message is shown');
  await form.locator('input[value=duplicate]').check();
  await form.locator('input[name=duplicate_of]').fill(orig.properties.code);
  await form.locator('button[type=submit]').click();
  await p.locator('.detail .badge[data-status=dismissed]').waitFor();
  const events = (await api(`/api/fires/${dup.id}`)).data.properties.events;
  assert.equal(events.at(-1).action, 'dismiss');
  assert.equal(events.at(-1).duplicate_of, orig.id);
  assert.deepEqual(problems, []);
});

test('an overdue fire is urged from its detail, and the overdue list says who urged it and when', async () => {
  const { data: c } = await api('/api/clearance');
  const o = c.overdue.find((x) => ['reported', 'confirmed', 'treating', 'reignited'].includes(x.status) && !x.urged);
  assert.ok(o, 'the demo has an overdue fire');
  const fire = (await api(`/api/fires/${o.id}`)).data;
  await open(fire);
  await p.click('.detail button[data-action=urge]');
  const form = p.locator('.detail form[data-action=urge]');
  await form.locator('textarea[name=note]').fill('请三日内报送治理进度');
  await form.locator('button[type=submit]').click();
  await p.locator('.detail .btn-close').click();
  await p.locator('.tabs .tab[data-tab="overdue"]').click();
  await p.locator(`.tabs-body .urged[data-by="manager"]`).first().waitFor();
  const events = (await api(`/api/fires/${o.id}`)).data.properties.events;
  assert.equal(events.at(-1).action, 'urge');
  assert.equal(events.at(-1).note, '请三日内报送治理进度');
  assert.deepEqual(problems, []);
});

test('a holder\'s fire is reassigned to a district government with a reason, and the detail shows the new party', async () => {
  const fire = (await api('/api/fires?status=treating')).data.features.find((f) => f.properties.responsible.party === 'holder');
  await open(fire);
  await p.click('.detail button[data-action=reassign]');
  const form = p.locator('.detail form[data-action=reassign]');
  await form.locator('input[value=district]').check();
  await form.locator('select[name=district_code] option[value="150302"]').waitFor({ state: 'attached' });
  await form.locator('select[name=district_code]').selectOption('150302');
  await form.locator('textarea[name=reason]').fill('测试：矿权边界核查后属地负责');
  await form.locator('button[type=submit]').click();
  await p.locator('.detail .responsible', { hasText: '海勃湾区' }).waitFor();
  assert.match(await p.locator('.detail .responsible').textContent(), /矿权边界核查后属地负责/, 'says why: the manager\'s reason');
  const after = (await api(`/api/fires/${fire.id}`)).data.properties;
  assert.equal(after.responsible.party, 'district');
  assert.equal(after.responsible.district_code, '150302');
  assert.equal(after.events.at(-1).reason, '测试：矿权边界核查后属地负责');
  assert.deepEqual(problems, []);
});

test('the detail shows a fire\'s photos with their camera time, and flags one taken far from the fire', async () => {
  const fire = (await api('/api/fires?status=burning')).data.features.find((f) => !f.properties.photos?.length);
  const [lon, lat] = fire.geometry.coordinates;
  const res = await api(`/api/fires/${fire.id}/photos`, {
    method: 'POST',
    body: photoForm(
      photoFile('near.png', { seed: 51, exif: { time: '2026:11:21 09:15:00', position: [lon + 0.0003, lat] } }), // about 26 m east
      photoFile('far.png', { seed: 52, exif: { time: '2026:11:21 09:40:00', position: [lon, lat + 0.01] } }), // about 1.1 km north
      photoFile('plain.png', { seed: 53 }), // no EXIF at all
    ),
  });
  assert.equal(res.status, 201);
  const [near, far, plain] = res.data.photos;
  await open(fire);
  const item = (ph) => p.locator(`.detail .gallery-item[data-photo-id="${ph.id}"]`);
  await item(plain).waitFor();
  assert.equal(await p.locator('.detail .gallery-item').count(), 3);
  assert.match(await p.locator('.detail .photos h4').textContent(), /3/);
  assert.doesNotMatch(await item(near).getAttribute('class'), /\bfar\b/);
  assert.match(await item(near).textContent(), /2026-11-21 09:15/);
  assert.match(await item(near).locator('.photo-place').textContent(), /\b2[0-9]\b/);
  assert.match(await item(far).getAttribute('class'), /\bfar\b/, 'the far one is flagged');
  const farText = await item(far).locator('.photo-place').textContent();
  assert.ok(Number(farText.replace(/[^0-9]/g, '')) > 1000, farText);
  assert.equal(await item(plain).locator('.photo-far').count(), 0, 'no position, no flag');
  assert.match(await p.locator('.detail .photo-far-note').textContent(), /200/);
  // The far one full size, with the flag.
  await item(far).locator('button').click();
  await p.waitForFunction(() => document.querySelector('.lightbox img')?.naturalWidth > 0);
  assert.equal(await p.locator('.lightbox .photo-far').count(), 1);
  await p.click('.lightbox .btn-close');
  await p.locator('.lightbox').waitFor({ state: 'detached' });
  assert.deepEqual(problems, []);
});

test('the "as of" date redraws the map with the fires as they were that day, fewer early in 2026 than today', async () => {
  const now = (await api('/api/fires?status=open')).data.features;
  const then = (await api('/api/fires?status=open&at=2026-02-01')).data.features;
  assert.ok(then.length < now.length, `${then.length} then, ${now.length} now`);
  if (await p.locator('.detail:not([hidden])').count()) await p.click('.detail .btn-close'); // the side panel again
  await waitForMarkers(p, now.length);
  assert.equal((await markerIds(p)).length, now.length);
  await p.fill('input[name=as_of]', '2026-02-01');
  await p.locator('input[name=as_of]').dispatchEvent('change');
  await waitForMarkerIds(p, then.length);
  assert.deepEqual((await markerIds(p)).sort(), then.map((f) => f.id).sort(), 'the fires not yet cleared on that day');
  // Each marker has the status it had then.
  const shown = Object.fromEntries((await drawnFires(p)).map((f) => [f.id, f.status]));
  for (const f of then) assert.equal(shown[f.id], f.properties.status, f.properties.code);
  assert.match(await p.locator('.fire-count').textContent(), /2026-02-01/);
  assert.match(await p.locator('.as-of-note').textContent(), /2026-02-01/);
  // Back to today.
  await p.click('.as-of button');
  await waitForMarkerIds(p, now.length);
  assert.equal(await p.locator('.as-of-note').count(), 0);
  assert.deepEqual(problems, []);
});

test('"as of" stays inside the records: a day before them is explained, not shown as zero; overdue times are counted to that day', async () => {
  const c = (await api('/api/clearance')).data;
  assert.ok(c.data_since, 'the demo has records');
  const input = p.locator('input[name=as_of]');
  await p.waitForFunction((d) => document.querySelector('input[name=as_of]')?.min === d, c.data_since);
  const before = new Date(Date.parse(`${c.data_since}T12:00:00+08:00`) - 86_400_000).toISOString().slice(0, 10);
  await p.fill('input[name=as_of]', before);
  await input.dispatchEvent('change');
  await p.locator('.counter.before-records').waitFor();
  assert.equal(await p.locator('.burning-count').count(), 0, 'no zero shown for a day before the records');
  assert.match(await p.locator('.counter.before-records').textContent(), /\d{4}/);
  // A past day inside the records: overdue durations are counted to the end of that day.
  const day = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  await p.fill('input[name=as_of]', day);
  await input.dispatchEvent('change');
  await p.locator('.burning-count').waitFor();
  await p.locator('.tabs .tab[data-tab="overdue"]').click();
  const stamps = await p.$$eval('.tabs-body .countdown[data-deadline]', (els) => els.map((e) => e.dataset.at ?? null));
  assert.ok(stamps.every((a) => a === `${day}T23:59:59+08:00`), `countdowns counted to the day on screen: ${stamps}`);
  // A day after today is not an "as of": back to today.
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  await p.fill('input[name=as_of]', future);
  await input.dispatchEvent('change');
  await p.waitForFunction(() => !document.querySelector('.as-of-note'));
  assert.notEqual(await input.inputValue(), future);
  assert.deepEqual(problems, []);
});

test('picking a district moves the map to it; back to all, the map shows the fires again', async () => {
  const { data: c } = await api('/api/clearance');
  const district = c.by_district[c.by_district.length - 1];
  const d = (await api(`/collections/districts/items?code=${district.code}`)).data.features[0];
  const [dw, ds, de, dn] = bboxOf(d.geometry);
  await p.selectOption('select[name=district]', district.code);
  await p.waitForFunction(([w, s, e, n]) => {
    const b = window.qingling.map.getBounds();
    const [cx, cy] = [(b.getWest() + b.getEast()) / 2, (b.getSouth() + b.getNorth()) / 2];
    return cx > w && cx < e && cy > s && cy < n;
  }, [dw, ds, de, dn]);
  const [[vw, vs], [ve, vn]] = await p.evaluate(() => window.qingling.map.getBounds().toArray());
  assert.ok(Math.min((ve - vw) / (de - dw), (vn - vs) / (dn - ds)) < 1.6, 'framed on the district');
  await p.selectOption('select[name=district]', '');
  const all = (await api('/api/fires?status=open')).data.features;
  await p.waitForFunction((pts) => {
    const b = window.qingling.map.getBounds();
    return pts.every(([x, y]) => b.contains([x, y]));
  }, all.map((f) => f.geometry.coordinates));
  assert.deepEqual(problems, []);
});

test('the export says which filters it takes, district included, and its buttons do not overlap', async () => {
  const { data: c } = await api('/api/clearance');
  const district = c.by_district[0];
  await p.selectOption('select[name=district]', district.code);
  await p.locator('.tabs .tab[data-tab="export"]').click();
  const gj = p.locator('.export-links a[data-format="GeoJSON"]');
  await gj.waitFor();
  assert.match(await gj.getAttribute('href'), new RegExp(`where=district_code%3D${district.code}`));
  assert.match(await p.locator('.export-applied').textContent(), new RegExp(district.name));
  const fc = await p.evaluate(async (u) => (await fetch(u)).json(), await gj.getAttribute('href'));
  assert.ok(fc.features.length > 0 && fc.features.every((f) => f.properties.district_code === district.code), 'only that district');
  const boxes = await p.$$eval('.export-links a', (as) => as.map((a) => a.getBoundingClientRect().toJSON()));
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      const overlap = a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      assert.ok(!overlap, `buttons ${i} and ${j} overlap`);
    }
  }
  await p.selectOption('select[name=district]', '');
  await p.locator('.tabs .tab[data-tab="overdue"]').click();
  assert.deepEqual(problems, []);
});

test('the export tab downloads the fire ledger and GIS files with the filters on screen; only managers have it', async () => {
  await p.locator('.tabs .tab[data-tab="export"]').click();
  const xlsx = p.locator('.export-links a[data-format="XLSX"]');
  await xlsx.waitFor();
  const href = await xlsx.getAttribute('href');
  assert.match(href, /^\/api\/export\?layer=fire_points&format=XLSX/);
  assert.match(href, /where=status%3Dopen/, 'the status filter on screen goes with it');
  // The same-origin session cookie authorises the download.
  const res = await p.evaluate(async (u) => {
    const r = await fetch(u);
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get('content-type'), zip: b[0] === 0x50 && b[1] === 0x4b };
  }, href);
  assert.equal(res.status, 200);
  assert.ok(res.zip, `an XLSX is a zip file (${res.type})`);
  await p.selectOption('select[name="export_layer"]', 'mines');
  assert.equal(await p.locator('.export-links a[data-format="XLSX"]').count(), 0, 'the ledger is for fires');
  const gj = await p.locator('.export-links a[data-format="GeoJSON"]').getAttribute('href');
  const mines = await p.evaluate(async (u) => (await fetch(u)).json(), gj);
  assert.equal(mines.type, 'FeatureCollection');
  assert.ok(mines.features.length > 0);

  const { ctx: owner, page: op } = await demo.open('owner');
  await op.locator('.bell').waitFor();
  assert.equal(await op.locator('.tabs .tab[data-tab="export"]').count(), 0);
  const denied = await op.evaluate(async () => (await fetch('/api/export?layer=fire_points&format=GeoJSON')).status);
  assert.equal(denied, 403);
  await owner.close();
  assert.deepEqual(problems, []);
});
