// 登录: the guest landing page, an introduction panel beside the login card.

import { api } from '../api.js';
import { h, s } from '../dom.js';
import { t, fieldError } from '../i18n.js';
import { field, Form } from '../form.js';
import { button, message, withLoading, apiErrorText } from '../ui.js';

function featureIcon(i) {
  const d = [
    'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8c0-3.3 3.1-6 7-6s7 2.7 7 6',
    'M4 5h16v11H4zM9 20h6M12 16v4M8 10l2.5 2.5L16 8',
    'M13 2 5 14h6l-1 8 8-12h-6z',
    'M4 20V9l8-5 8 5v11zM9 20v-6h6v6',
  ][i];
  return s('svg', { viewBox: '0 0 24 24', class: 'feature-icon', 'aria-hidden': 'true' }, s('path', { d }));
}

export function loginView(ctx) {
  const username = field({ name: 'username', label: t('field.username'), required: true, placeholder: t('login.username_ph'), autocomplete: 'username', test: 'login-username' });
  const password = field({ name: 'password', label: t('field.password'), type: 'password', required: true, placeholder: t('login.password_ph'), autocomplete: 'current-password', test: 'login-password' });
  const form = new Form([username, password]);
  form.clearOnInput();
  // The flash (e.g. 您已安全退出) sits in the message box, so the next attempt clears it.
  const errorBox = h('div', { class: 'form-message', 'data-test': 'login-error' }, ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null);
  const submit = button(t('login.submit'), { type: 'submit', kind: 'primary', class: 'btn-block btn-large', test: 'login-submit' });

  const el = h(
    'form',
    { class: 'login-form', novalidate: true, 'aria-label': t('login.title') },
    errorBox,
    username.row,
    password.row,
    submit,
    h('div', { class: 'login-foot' }, t('login.no_account'), ' ', h('a', { href: '#/register', 'data-test': 'to-register' }, t('login.register'))),
  );

  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    form.clearErrors();
    errorBox.replaceChildren();
    const body = { username: form.value('username').trim(), password: form.value('password') };
    let bad = false;
    for (const k of ['username', 'password']) {
      if (!body[k]) bad = form.setError(k, fieldError(k, 'required'));
    }
    if (bad) return form.focusFirstError();
    await withLoading(submit, t('login.submitting'), async () => {
      try {
        const answer = await api.post('/auth/login', body);
        ctx.setSession(answer);
        ctx.navigate(ctx.home());
      } catch (err) {
        let text;
        if (err.status === 401) text = t('login.err.invalid');
        else if (err.code === 'account_disabled') text = t('login.err.disabled');
        else if (err.status === 429) text = t('login.err.throttled', { minutes: Math.max(1, Math.ceil((err.retryAfter || 900) / 60)) });
        else if (form.applyApiError(err)) text = null;
        else text = apiErrorText(err);
        if (text) errorBox.replaceChildren(message('error', text));
        password.input.value = '';
        (text ? password.input : username.input).focus();
      }
    });
  });

  const intro = h(
    'div',
    { class: 'login-hero' },
    h('h1', { class: 'hero-title' }, t('login.welcome')),
    h('p', { class: 'hero-text' }, t('login.intro')),
    h(
      'ul',
      { class: 'hero-features' },
      [1, 2, 3, 4].map((i) => h('li', null, featureIcon(i - 1), h('span', null, t(`login.feature${i}`)))),
    ),
  );
  const cardEl = h(
    'section',
    { class: 'card login-card' },
    h('div', { class: 'login-card-head' }, h('h2', null, t('login.title'))),
    h('div', { class: 'card-body' }, el),
  );
  setTimeout(() => username.input.focus(), 0);
  return h('div', { class: 'login-page' }, intro, cardEl);
}
