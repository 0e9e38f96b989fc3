// The sign-in screen.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { post, ApiError } from '../api.js';
import { field, errorBox } from '../ui/bits.js';

export function renderLogin(root, { onLogin }) {
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big' }, t('login.submit'));
  const form = h('form', { class: 'login card', autocomplete: 'on' },
    h('h1', {}, t('app.name')),
    h('p', { class: 'hint' }, t('login.intro')),
    field(t('login.username'), h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off' })),
    field(t('login.password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    err,
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.show('');
    submit.disabled = true;
    try {
      const res = await post('/api/login', { username: form.elements.username.value.trim(), password: form.elements.password.value }, { quiet401: true });
      await onLogin(res.user);
    } catch (e2) {
      err.show(e2 instanceof ApiError ? e2.message : String(e2));
    } finally {
      submit.disabled = false;
    }
  });
  fill(root, h('div', { class: 'login-wrap' }, form));
  form.elements.username.focus();
}
