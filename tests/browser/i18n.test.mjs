// Chinese and English: the two tables have the same keys, every key the code asks for exists,
// and every view renders in both languages with no raw key on screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useDemo, tapMapCentre, ROOT } from './lib/harness.mjs';

const table = (lang) => JSON.parse(fs.readFileSync(path.join(ROOT, 'web/i18n', `${lang}.json`), 'utf8'));
const zh = table('zh');
const en = table('en');

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.js') ? [fs.readFileSync(p, 'utf8')] : [];
  });
}

test('the Chinese and English tables have the same keys and no empty string', () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const [lang, tbl] of [['zh', zh], ['en', en]]) {
    for (const [k, v] of Object.entries(tbl)) assert.ok(typeof v === 'string' && v.trim(), `${lang}: ${k} is empty`);
    // The same placeholders in both languages.
    for (const k of Object.keys(zh)) {
      const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(ph(zh[k]), ph(en[k]), `placeholders of ${k}`);
    }
  }
});

test('every key the code looks up exists (literal keys, and some key for each dynamic prefix)', () => {
  const code = sources(path.join(ROOT, 'web/js')).join('\n');
  const literal = [...code.matchAll(/\bt\('([a-z0-9_.]+)'/g)].map((m) => m[1]);
  assert.ok(literal.length > 100, 'found the lookups');
  for (const k of literal) assert.ok(k in zh, `missing key ${k}`);
  const prefixes = [...code.matchAll(/\bt\(`([a-z0-9_.]+)\$\{/g)].map((m) => m[1]);
  for (const p of prefixes) assert.ok(Object.keys(zh).some((k) => k.startsWith(p)), `no key for ${p}…`);
});

const demo = useDemo();

// Anything on screen shaped like one of our keys (prefix.name) is an untranslated key.
const prefixes = [...new Set(Object.keys(zh).map((k) => k.split('.')[0]))];
const keyPattern = new RegExp(`\\b(?:${prefixes.join('|')})\\.[a-z_]+(?:\\.[a-z_]+)*\\b`, 'g');

async function screenText(p) {
  return p.evaluate(() => {
    const bits = [document.body.innerText, document.title];
    for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
      bits.push(el.getAttribute('placeholder') ?? '', el.getAttribute('title') ?? '', el.getAttribute('aria-label') ?? '');
    }
    for (const el of document.querySelectorAll('option')) bits.push(el.textContent);
    return bits.join('\n');
  });
}

/** Brings each role's view through its main states, collecting the text shown. */
async function tour(p, role) {
  const texts = [await screenText(p)];
  // The notification list, with its kinds and relative times.
  await p.click('.bell');
  await p.locator('.notify-panel .notify-list, .notify-panel .hint').first().waitFor();
  await p.waitForFunction(() => !document.querySelector('.notify-panel')?.textContent.includes('…'));
  texts.push(await screenText(p));
  await p.keyboard.press('Escape');
  if (role === 'manager' || role === 'district') {
    // The district officer has no district league (its own row is the counter).
    for (const tab of ['mines', 'districts', 'suspended', 'list', 'overdue']) {
      if (role === 'district' && tab === 'districts') continue;
      await p.click(`.tab[data-tab=${tab}]`);
      texts.push(await screenText(p));
    }
    await p.locator('.tabs-body button.link').first().click();
  } else if (role === 'owner') {
    await p.locator('.fire-card button').first().click();
  }
  if (role !== 'patrol') {
    await p.locator('.detail .timeline li').first().waitFor();
    texts.push(await screenText(p));
    for (const action of await p.$$eval('.detail .actions button', (bs) => bs.map((b) => b.dataset.action))) {
      await p.click(`.detail button[data-action=${action}]`);
      texts.push(await screenText(p));
    }
  } else {
    await tapMapCentre(p);
    await p.click('button[data-kind=gangue_heap]');
    texts.push(await screenText(p));
    await p.click('.tab[data-tab=inspect]');
    await p.locator('.pick').first().click();
    texts.push(await screenText(p));
    await p.click('.tab[data-tab=outbox]');
    texts.push(await screenText(p));
  }
  return texts.join('\n');
}

for (const lang of ['zh', 'en']) {
  test(`every view renders in ${lang === 'zh' ? 'Chinese' : 'English'} with no raw key`, async () => {
    const tbl = lang === 'zh' ? zh : en;
    for (const role of ['manager', 'district', 'owner', 'patrol']) {
      const { ctx, page: p, problems } = await demo.open(role, { lang, markers: true });
      assert.equal(await p.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en-GB');
      const text = await tour(p, role);
      const raw = [...new Set(text.match(keyPattern) ?? [])];
      assert.deepEqual(raw, [], `${role}/${lang}: raw keys on screen`);
      assert.ok(text.includes(tbl['login.signout']), `${role}/${lang}: the sign-out button is in ${lang}`);
      assert.deepEqual(problems, [], `${role}/${lang}`);
      await ctx.close();
    }
  });
}

test('the language switch changes the whole screen and is remembered', async () => {
  const { ctx, page: p } = await demo.open('manager', { lang: 'zh' });
  await p.waitForSelector('.burning-count');
  assert.match(await p.locator('.counter-label').textContent(), new RegExp(zh['clearance.burning']));
  await p.click('button.lang-switch');
  await p.waitForFunction((s) => document.querySelector('.counter-label')?.textContent === s, en['clearance.burning']);
  // Layer titles and status labels come from the server's layer files, in the same language.
  await p.waitForSelector('.legend-body');
  assert.match(await p.locator('.legend-body').textContent(), /Fire points/);
  await p.reload();
  await p.waitForSelector('.counter-label');
  assert.equal(await p.locator('.counter-label').textContent(), en['clearance.burning']);
  await ctx.close();
});
