// 注册: operator registration (multipart with the licence, upload progress), then the
// confirmation page that says the application awaits the administrator's approval.

import { upload } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { button, message, withLoading, apiErrorText } from '../ui.js';
import { registrationFields, progressBar } from './regfields.js';

function steps(current) {
  const names = [t('reg.title'), t('status.pending'), t('status.active')];
  return h(
    'ol',
    { class: 'steps' },
    names.map((n, i) => h('li', { class: ['step', i < current ? 'is-done' : null, i === current ? 'is-current' : null] }, h('span', { class: 'step-num' }, String(i + 1)), h('span', { class: 'step-name' }, n))),
  );
}

export function registerView(ctx) {
  ctx.crumbs([{ label: t('reg.title') }]);
  const reg = registrationFields({ withAccount: true, licenseRequired: true });
  const progress = progressBar();
  const errorBox = h('div', { class: 'form-message', 'data-test': 'register-error' });
  const submit = button(t('common.submit'), { type: 'submit', kind: 'primary', class: 'btn-large', test: 'register-submit' });
  const formEl = h(
    'form',
    { class: 'reg-form', novalidate: true, 'aria-label': t('reg.title') },
    h('p', { class: 'form-intro' }, t('reg.intro'), ' ', h('span', { class: 'req-note' }, h('span', { class: 'req' }, '*'), t('common.required_hint'))),
    reg.sections,
    errorBox,
    progress.el,
    h('div', { class: 'form-actions' }, submit, h('span', { class: 'form-actions-aside' }, t('reg.have_account'), ' ', h('a', { href: '#/login' }, t('reg.to_login')))),
  );
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorBox.replaceChildren();
    if (!reg.validate()) {
      errorBox.replaceChildren(message('error', t('reg.failed')));
      return;
    }
    const username = reg.form.value('username').trim();
    await withLoading(submit, t('common.submitting'), async () => {
      progress.set(0);
      try {
        await upload('/auth/register', reg.formData(), (f) => progress.set(f));
        ctx.state.registered = username;
        ctx.navigate('#/register/done');
      } catch (err) {
        progress.reset();
        const placed = reg.form.applyApiError(err);
        errorBox.replaceChildren(message('error', placed ? t('reg.failed') : apiErrorText(err)));
        reg.form.focusFirstError();
      }
    });
  });
  return h(
    'section',
    { class: 'card reg-card' },
    h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, t('reg.title'))),
    h('div', { class: 'card-body' }, steps(0), formEl),
  );
}

export function registerDoneView(ctx) {
  ctx.crumbs([{ label: t('reg.title'), href: '#/register' }, { label: t('reg.done_title') }]);
  const username = ctx.state.registered || '';
  return h(
    'section',
    { class: 'card reg-card', 'data-test': 'register-done' },
    h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, t('reg.title'))),
    h(
      'div',
      { class: 'card-body' },
      steps(1),
      h(
        'div',
        { class: 'result' },
        h('div', { class: 'result-icon', 'aria-hidden': 'true' }, '✓'),
        h('h3', { class: 'result-title' }, t('reg.done_title')),
        h('p', { class: 'result-text' }, t('reg.done_text', { username })),
        h('p', { class: 'result-hint' }, t('reg.done_hint')),
        h('a', { class: 'btn btn-primary btn-large', href: '#/login', 'data-test': 'done-login' }, t('reg.done_login')),
      ),
    ),
  );
}
