// The account dialog: a user changes their own password (the server's messages shown in the
// page's language, other sessions ended), and a manager disables an account and reads the audit
// log; other roles get no account or audit tabs, and the server refuses them anyway.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { useDemo, login, PASSWORDS, ROOT } from './lib/harness.mjs';

const demo = useDemo();
const SHOTS = path.resolve(ROOT, process.env.SCREENSHOTS ?? 'test-results/screenshots');

/** A screenshot for people to look at (test-results/screenshots, or SCREENSHOTS=folder). */
async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

test('an owner changes their password in the account dialog; other sessions end', async () => {
  const other = (await (await login(demo.base, 'owner', PASSWORDS.owner)).json()).token;
  const { ctx, page, problems: errors } = await demo.open('owner', { lang: 'zh', viewport: { width: 820, height: 1180 } });
  await page.click('button.who');
  const dlg = page.locator('dialog.account');
  await dlg.waitFor();
  assert.equal(await dlg.locator('.account-tabs').count(), 0, 'owners get no account or audit tabs');

  await dlg.locator('input[name=current]').fill('not-my-password');
  await dlg.locator('input[name=new]').fill('amber lantern seventeen');
  await dlg.locator('input[name=repeat]').fill('amber lantern seventeen');
  await dlg.locator('button[type=submit]').click();
  await dlg.locator('.form-error:not([hidden])').waitFor();
  assert.equal((await dlg.locator('.form-error').textContent()).trim(), '当前密码不正确');

  await dlg.locator('input[name=current]').fill(PASSWORDS.owner);
  await dlg.locator('input[name=new]').fill('owner1234567');
  await dlg.locator('input[name=repeat]').fill('owner1234567');
  await dlg.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('dialog.account .form-error')?.textContent.includes('用户名'));

  await dlg.locator('input[name=new]').fill('amber lantern seventeen');
  await dlg.locator('input[name=repeat]').fill('amber lantern seventeen');
  await shot(page, 'account-password-tablet');
  await dlg.locator('button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });

  const me = await fetch(`${demo.base}/api/me`, { headers: { Authorization: `Bearer ${other}` } });
  assert.equal(me.status, 401, 'the other session ended');
  assert.equal((await login(demo.base, 'owner', 'amber lantern seventeen')).status, 200);
  assert.equal((await page.evaluate(() => fetch('/api/me').then((r) => r.status))), 200, 'this one goes on');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a manager disables an account and reads the audit log in the dialog (phone size, English)', async () => {
  const { ctx, page, problems: errors } = await demo.open('manager', { lang: 'en', viewport: { width: 390, height: 844 } });
  await page.click('button.who');
  const dlg = page.locator('dialog.account');
  await dlg.locator('.account-tabs button', { hasText: 'Accounts' }).click();
  const row = dlg.locator('tr', { hasText: 'patrol' }).first();
  await row.waitFor();
  await row.locator('button', { hasText: 'Disable' }).click();
  await dlg.locator('tr.disabled', { hasText: 'patrol' }).waitFor();
  assert.equal((await login(demo.base, 'patrol', PASSWORDS.patrol)).status, 401, 'a disabled account cannot sign in');
  await shot(page, 'account-users-phone');
  await dlg.locator('tr.disabled', { hasText: 'patrol' }).locator('button', { hasText: 'Enable' }).click();
  await dlg.locator('tr:not(.disabled)', { hasText: 'patrol' }).locator('button', { hasText: 'Disable' }).waitFor();
  assert.equal((await login(demo.base, 'patrol', PASSWORDS.patrol)).status, 200);

  await dlg.locator('.account-tabs button', { hasText: 'Audit log' }).click();
  await dlg.locator('.account-audit tbody tr', { hasText: 'Account disabled' }).first().waitFor();
  await dlg.locator('input[name=actor]').fill('patrol');
  await dlg.locator('.account-filter button[type=submit]').click();
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.account-audit tbody tr')];
    return rows.length > 0 && rows.every((r) => r.children[1].textContent === 'patrol');
  });
  const csv = await dlg.locator('.account-filter a').getAttribute('href');
  assert.equal(csv, '/api/audit.csv?actor=patrol');
  const text = await page.evaluate((u) => fetch(u).then((r) => r.text()), csv);
  assert.match(text.split('\n')[1] ?? '', /patrol/);
  await shot(page, 'account-audit-phone');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the server refuses the account list and the audit log to everyone but managers', async () => {
  // The owner's password is the one the first test set.
  const now = { ...PASSWORDS, owner: 'amber lantern seventeen' };
  for (const role of ['district', 'owner', 'patrol']) {
    const { token } = await (await login(demo.base, role, now[role])).json();
    for (const p of ['/api/users', '/api/audit', '/api/audit.csv']) {
      const r = await fetch(`${demo.base}${p}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 403, `${role} ${p}`);
    }
  }
});
