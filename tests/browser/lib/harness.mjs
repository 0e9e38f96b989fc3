// What every browser test needs: the real server binary on a free port with a fresh demo
// database, a headless Chromium, signing in through the login screen, and an API client.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.QINGLING_BIN ?? path.join(ROOT, 'target/debug/qingling');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const PASSWORDS = { manager: 'qingling-manager', district: 'qingling-district', owner: 'qingling-owner', patrol: 'qingling-patrol' };
export const OWNER_HOLDER = '骆驼山示例煤业有限公司';
/** The owner's open-pit mine, with fires and dust in the demo. */
export const OWNER_PIT = '骆驼山示例露天煤矿';
export const DISTRICT_CODE = '150303';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `qingling serve --demo` on a fresh database (serving the app in `web`); resolves once it answers HTTP. */
export async function startServer({ web = 'web' } = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qingling-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--demo', '--db', path.join(dir, 'demo.gpkg'), '--addr', `127.0.0.1:${port}`, '--web', web], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${base}/api/me`);
      if (res.status === 401 || res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error(`server did not start:\n${log}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Launches Chromium headless. `launch()` gives every run its own fresh temporary profile
 * (the user-data dir); each test opens its own contexts in it.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A new browser context (its own cookies, storage, service workers), in a UI language. */
export async function newContext(browser, { lang = 'zh', viewport = { width: 1440, height: 900 }, ...opts } = {}) {
  const ctx = await browser.newContext({ viewport, locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai', ...opts });
  await ctx.addInitScript((l) => { if (!localStorage.getItem('qingling.lang')) localStorage.setItem('qingling.lang', l); }, lang);
  return ctx;
}

/** Records page errors and i18n warnings so a test can assert there were none. */
export function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.text().startsWith('i18n: missing key')) problems.push(m.text()); });
  return problems;
}

/**
 * A new context and page signed in as `role` through the login screen, its problems watched
 * (see `watch`): `{ ctx, page, problems }`. `markers`: wait for the fires on the map too; the
 * other options go to `newContext`.
 */
export async function openAs(browser, base, role, { markers = false, ...opts } = {}) {
  const ctx = await newContext(browser, opts);
  const page = await ctx.newPage();
  const problems = watch(page);
  await signIn(page, base, role);
  if (markers) await waitForMarkers(page);
  return { ctx, page, problems };
}

/** Signs in through the login screen and waits for the role's view. */
export async function signIn(page, base, role) {
  await page.goto(`${base}/`);
  await page.locator('form.login').waitFor();
  await page.fill('input[name=username]', role);
  await page.fill('input[name=password]', PASSWORDS[role]);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector(`body[data-role=${role}]`);
  await page.waitForSelector('.maplibregl-map');
}

// The fires are drawn in WebGL (MapLibre), not as DOM elements: the app's test hook
// `window.qingling.fires` says what the map draws (see web/js/ui/fire-map.js). Drawn from a list
// (no tiles on the server, or a filter tiles cannot apply) every fire is there at once; drawn
// from tiles, single fires only close up and on screen, counts per cell further out.

/**
 * Waits until the fires on the map have been drawn: `min` of them at least, counting a cell's
 * fires where counts are drawn (from tiles, once every tile on screen is in: a patrol's counts
 * leave out the cleared fires still watched, which only close up shows one by one).
 */
export async function waitForMarkers(page, min = 1) {
  await page.waitForFunction((n) => {
    const { map, fires } = window.qingling ?? {};
    if (!fires?.mode()) return false;
    if (fires.count() >= n) return true;
    return fires.mode() === 'tiles' && fires.drawnNow() > 0 && map.areTilesLoaded() && !map.isMoving();
  }, min);
}

/**
 * The fires drawn on the map one by one, `[{ id, status }]`. From tiles: the user's frame walked
 * screen by screen at the zoom single fires show (closer where counts are still drawn), the map
 * put back where it was afterwards.
 */
export const drawnFires = (page) => page.evaluate(async () => {
  const { map, fires } = window.qingling;
  const list = () => fires.ids().map((id) => ({ id, status: fires.props(id)?.status }));
  if (fires.mode() !== 'tiles') return list();
  const settle = () => new Promise((resolve) => { map.once('idle', resolve); map.triggerRepaint(); });
  const saved = { center: map.getCenter(), zoom: map.getZoom() };
  const [[w, s], [e, n]] = fires.frame() ?? map.getBounds().toArray();
  const found = new Map();
  for (let zoom = fires.walkZoom; zoom <= 16; zoom++) {
    map.jumpTo({ center: [(w + e) / 2, (s + n) / 2], zoom });
    await settle();
    const b = map.getBounds();
    const dx = (b.getEast() - b.getWest()) * 0.9;
    const dy = (b.getNorth() - b.getSouth()) * 0.9;
    let counts = 0;
    for (let x = w + dx / 2; x - dx / 2 < e; x += dx) {
      for (let y = s + dy / 2; y - dy / 2 < n; y += dy) {
        map.jumpTo({ center: [x, y], zoom });
        await settle();
        for (const f of list()) found.set(f.id, f);
        counts += fires.clusters();
      }
    }
    if (!counts) break; // nothing left drawn as a count
  }
  map.jumpTo(saved);
  await settle();
  return [...found.values()];
});

/** The ids of the fires drawn on the map (see drawnFires). */
export const markerIds = async (page) => (await drawnFires(page)).map((f) => f.id);

/** Waits until exactly `n` fires are drawn (see drawnFires); their ids. */
export async function waitForMarkerIds(page, n, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const ids = await markerIds(page);
    if (ids.length === n) return ids;
    if (Date.now() > end) throw new Error(`${ids.length} fires drawn, not ${n}`);
    await page.waitForTimeout(250);
  }
}

/** Opens a fire as a click on it does (by its id), whether or not it is in view. */
export async function clickFire(page, id) {
  assert.ok(await page.evaluate((fid) => window.qingling.fires.click(fid), id), `fire ${id} is on the map`);
}

/** Moves the mouse over the first fire (or count) drawn on screen. */
export async function hoverFire(page) {
  const [pt] = await page.evaluate(() => window.qingling.fires.onScreen());
  assert.ok(pt, 'a fire on screen');
  const box = await page.locator('.maplibregl-map').boundingBox();
  await page.mouse.move(box.x + pt.x, box.y + pt.y);
}

/** `POST /api/login` with a user name and password: the server's Response. */
export function login(base, username, password) {
  return fetch(`${base}/api/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
}

/**
 * An API client for checking the server's side, signed in as `role` with a bearer token. A
 * FormData body (photos) goes as multipart, anything else as JSON.
 */
export async function apiAs(base, role) {
  const res = await login(base, role, PASSWORDS[role]);
  if (!res.ok) throw new Error(`login ${role}: ${res.status}`);
  const { token } = await res.json();
  return async (p, { method = 'GET', body } = {}) => {
    const multipart = body instanceof FormData;
    const r = await fetch(`${base}${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(multipart ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined || multipart ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, data: text ? JSON.parse(text) : null };
  };
}

/** Clicks the map at a lon/lat (the point must be in view). */
export async function clickMapAt(page, [lon, lat]) {
  const pt = await page.evaluate((ll) => window.qingling.map.project(ll), [lon, lat]);
  const box = await page.locator('.maplibregl-map').boundingBox();
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

/** Centres the map on a lon/lat at a (MapLibre) zoom, once it has drawn there. */
export async function centreMap(page, [lon, lat], zoom) {
  await page.evaluate(([ll, z]) => new Promise((resolve) => {
    const { map } = window.qingling;
    map.once('idle', resolve);
    map.jumpTo({ center: ll, zoom: z });
    map.triggerRepaint();
  }), [[lon, lat], zoom]);
}

/** Fits the map to a bbox [w, s, e, n] with some padding (pixels), once it has drawn there. */
export async function fitMap(page, [w, s, e, n], padding = 40) {
  await page.evaluate(([b, pad]) => new Promise((resolve) => {
    const { map } = window.qingling;
    map.once('idle', resolve);
    map.fitBounds(b, { padding: pad, animate: false });
    map.triggerRepaint();
  }), [[[w, s], [e, n]], padding]);
}

/** A tap on the map with no place in particular, at its centre (not on a fire: the tap carries no point). */
export const tapMapCentre = (page) => page.evaluate(() => {
  const { map } = window.qingling;
  map.fire('click', { lngLat: map.getCenter(), originalEvent: { target: map.getCanvas() } });
});

/** Centres the map on a lon/lat and taps it there, as a patrol placing a point by hand. */
export async function tapMapAt(page, [lon, lat], zoom = 16) {
  await centreMap(page, [lon, lat], zoom);
  await clickMapAt(page, [lon, lat]);
}

/**
 * The set-up most test files share, registered as their `before` and `after` hooks: the server
 * on a fresh demo database and Chromium (and, with `api`, an API client signed in as that role),
 * then the file's own `setup(demo)`; both stopped after the file's tests. Returns the file's
 * handle, filled in once `before` has run: `server`, `browser`, `base`, `api(path, opts)`,
 * `context(opts)` (see `newContext`) and `open(role, opts)` (see `openAs`).
 * A file's set-up goes in `setup`, not in another `before`: node 20 starts a file's top-level
 * `before` hooks without waiting for the ones before them.
 */
export function useDemo({ api: role = null, setup } = {}) {
  let client = null;
  const demo = {
    server: null,
    browser: null,
    get base() { return demo.server.base; },
    api: (p, opts) => client(p, opts),
    context: (opts) => newContext(demo.browser, opts),
    open: (who, opts) => openAs(demo.browser, demo.base, who, opts),
  };
  before(async () => {
    demo.server = await startServer();
    demo.browser = await launchBrowser();
    if (role) client = await apiAs(demo.server.base, role);
    await setup?.(demo);
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.stop();
  });
  return demo;
}
