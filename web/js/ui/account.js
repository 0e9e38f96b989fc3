// The account dialog, opened from the user's name in the top bar. Everyone changes their own
// password here; managers also get the accounts (disable, enable, end sessions) and the audit
// log with its CSV export. The server decides who may do what; this only shows it.

import { h, fill, toast } from '../dom.js';
import { t, has } from '../i18n.js';
import { get, post, qs, ApiError } from '../api.js';
import { field, errorBox } from './bits.js';
import { fmtDateTime } from '../time.js';

const PAGE = 50;

/** Opens the dialog for `user` (the signed-in account). */
export function openAccount(user) {
  const body = h('div', { class: 'account-body' });
  const tabs = h('div', { class: 'account-tabs', role: 'tablist' });
  const dlg = h('dialog', { class: 'account card', 'aria-label': t('account.title') },
    h('div', { class: 'account-head' },
      h('h2', {}, t('account.title')),
      h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => dlg.close() } }, t('common.close'))),
    user.role === 'manager' ? tabs : null,
    body);
  const panes = { password: () => passwordForm(user, dlg), users: usersPane, audit: auditPane };
  const show = (key) => {
    fill(tabs, ['password', 'users', 'audit'].map((k) => h('button', {
      type: 'button', role: 'tab', class: ['mode', k === key && 'active'], 'aria-selected': String(k === key),
      on: { click: () => show(k) },
    }, t(`account.tab_${k}`))));
    fill(body, panes[key]());
  };
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  show('password');
  dlg.showModal();
}

function passwordForm(user, dlg) {
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('account.change'));
  const input = (name, auto) => h('input', { name, type: 'password', autocomplete: auto, required: true });
  const form = h('form', { class: 'account-password' },
    h('input', { type: 'hidden', name: 'username', autocomplete: 'username', value: user.username }),
    field(t('account.current'), input('current', 'current-password')),
    field(t('account.new'), input('new', 'new-password'), t('account.rules')),
    field(t('account.repeat'), input('repeat', 'new-password')),
    err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    err.show('');
    if (f.new.value !== f.repeat.value) { err.show(t('account.mismatch')); return; }
    submit.disabled = true;
    try {
      await post('/api/me/password', { current: f.current.value, new: f.new.value });
      toast(t('account.changed'));
      dlg.close();
    } catch (e2) {
      err.show(e2 instanceof ApiError ? e2.message : String(e2));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** A list that loads a page at a time: `load(offset)` → {rows, next}; `row(r, reload)` → a node. */
function pagedList(cls, head, load, row) {
  const tbody = h('tbody');
  const err = errorBox();
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, t('account.more'));
  let next = 0;
  const page = async (reset) => {
    if (reset) { next = 0; tbody.replaceChildren(); }
    err.show('');
    try {
      const { rows, next: n } = await load(next);
      // Each cell names its column, for the stacked layout on phones (app.css).
      const labels = head.map((k) => t('account.cell_label', { label: t(k) }));
      tbody.append(...rows.map((r) => {
        const tr = row(r, () => page(true));
        [...tr.children].forEach((td, i) => { td.dataset.label = labels[i]; });
        return tr;
      }));
      next = n;
      more.hidden = n === null || n === undefined;
    } catch (e) {
      err.show(e.message);
    }
  };
  more.addEventListener('click', () => page(false));
  page(true);
  return h('div', { class: cls },
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, head.map((k) => h('th', { scope: 'col' }, t(k))))), tbody)),
    err, more);
}

function usersPane() {
  const act = async (path, done) => {
    try { await post(path, {}); toast(done); return true; } catch (e) { toast(e.message, 'error'); return false; }
  };
  return pagedList('account-users',
    ['account.col_user', 'account.col_role', 'account.col_scope', 'account.col_last_login', 'account.col_state', 'account.col_actions'],
    async (offset) => {
      const d = await get(`/api/users${qs({ limit: PAGE, offset })}`);
      return { rows: d.users, next: d.next };
    },
    (u, reload) => {
      const name = encodeURIComponent(u.username);
      const toggle = u.disabled
        ? h('button', { type: 'button', class: 'btn btn-small', on: { click: async () => { if (await act(`/api/users/${name}/enable`, t('account.enabled'))) reload(); } } }, t('account.enable'))
        : h('button', { type: 'button', class: 'btn btn-small', on: { click: async () => { if (await act(`/api/users/${name}/disable`, t('account.disabled'))) reload(); } } }, t('account.disable'));
      const revoke = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => act(`/api/users/${name}/sessions/revoke`, t('account.revoked')) } }, t('account.revoke'));
      return h('tr', { class: u.disabled ? 'disabled' : null },
        h('td', {}, u.username),
        h('td', {}, t(`role.${u.role}`)),
        h('td', {}, u.holder ?? u.district ?? ''),
        h('td', {}, u.last_login_at ? fmtDateTime(u.last_login_at) : t('common.none')),
        h('td', {}, u.disabled ? t('account.state_disabled') : t('account.state_active')),
        h('td', { class: 'row-actions' }, toggle, revoke));
    });
}

/** An audit entry's action in words: account actions by name, other writes as method + route. */
function actionText(e) {
  if (e.action === 'request') return `${e.method} ${e.route ?? ''}`;
  return has(`account.action.${e.action}`) ? t(`account.action.${e.action}`) : e.action;
}

function auditPane() {
  const actor = h('input', { name: 'actor', autocomplete: 'off', autocapitalize: 'off' });
  const csv = h('a', { class: 'btn btn-small', href: '/api/audit.csv', download: 'audit.csv' }, t('account.audit_csv'));
  const holder = h('div');
  const list = () => pagedList('account-audit',
    ['account.col_when', 'account.col_user', 'account.col_address', 'account.col_action', 'account.col_status'],
    async (offset) => {
      const d = await get(`/api/audit${qs({ actor: actor.value.trim(), limit: PAGE, offset })}`);
      return { rows: d.entries, next: d.next };
    },
    (e) => h('tr', {},
      h('td', {}, fmtDateTime(e.at)),
      h('td', {}, e.actor ?? ''),
      h('td', {}, e.address ?? ''),
      h('td', {}, actionText(e), e.target ? ` · ${e.target}` : ''),
      h('td', {}, e.status ?? '')));
  const form = h('form', { class: 'account-filter' }, field(t('account.col_user'), actor),
    h('button', { type: 'submit', class: 'btn btn-small' }, t('account.filter')), csv);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    csv.href = `/api/audit.csv${qs({ actor: actor.value.trim() })}`;
    fill(holder, list());
  });
  fill(holder, list());
  return h('div', {}, form, holder);
}
