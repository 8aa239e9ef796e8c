// API 访问令牌: create (the token is shown once, with a copy button), list, revoke.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, fmtTime, fieldError } from '../i18n.js';
import { field, Form } from '../form.js';
import { card, button, message, withLoading, apiErrorText, toast } from '../ui.js';
import { confirmDialog } from '../dialog.js';

/** Copies `text`; falls back to selecting `input` and execCommand where the API is refused. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand && document.execCommand('copy');
  }
}

function createdBox(token) {
  const input = h('input', { class: 'input token-value', readonly: true, value: token.token, 'data-test': 'token-value', 'aria-label': t('tok.title') });
  const copy = button(t('common.copy'), { kind: 'primary', small: true, test: 'token-copy' });
  copy.addEventListener('click', async () => {
    if (await copyText(token.token, input)) {
      copy.textContent = t('common.copied');
      setTimeout(() => { copy.textContent = t('common.copy'); }, 2000);
    }
  });
  return h('div', { class: 'msg msg-success token-created' }, h('div', null, t('tok.created')), h('div', { class: 'token-row' }, input, copy));
}

export function tokensCard(ctx) {
  const nameField = field({ name: 'name', label: t('tok.name'), required: true, placeholder: t('tok.name_ph'), maxlength: 50, test: 'token-name' });
  const form = new Form([nameField]);
  form.clearOnInput();
  const createBtn = button(t('tok.create'), { type: 'submit', kind: 'primary', test: 'token-create' });
  const createdHost = h('div');
  const listHost = h('div', { class: 'table-wrap' });
  const errorHost = h('div');

  async function load() {
    try {
      const data = await api.get('/auth/tokens');
      renderList(data.items || []);
    } catch (err) {
      replace(listHost, message('error', apiErrorText(err)));
    }
  }

  function renderList(items) {
    const rows = items.length
      ? items.map((tok) =>
          h(
            'tr',
            { 'data-test': 'token-row' },
            h('td', null, tok.name),
            h('td', null, h('code', null, `${tok.prefix}…`)),
            h('td', null, fmtTime(tok.created_at)),
            h('td', null, tok.last_used_at ? fmtTime(tok.last_used_at) : t('tok.never')),
            h('td', null, button(t('tok.revoke'), { kind: 'link-danger', small: true, test: 'token-revoke', onClick: () => revoke(tok) })),
          ),
        )
      : [h('tr', null, h('td', { colspan: '5', class: 'empty' }, t('common.empty')))];
    replace(
      listHost,
      h(
        'table',
        { class: 'table', 'data-test': 'token-table' },
        h('thead', null, h('tr', null, [t('tok.name'), t('tok.prefix'), t('tok.created_at'), t('tok.last_used'), t('common.actions')].map((c) => h('th', null, c)))),
        h('tbody', null, rows),
      ),
    );
  }

  async function revoke(tok) {
    const done = await confirmDialog({
      title: t('tok.revoke'),
      text: t('tok.revoke_confirm', { name: tok.name }),
      okText: t('tok.revoke'),
      danger: true,
      action: () => api.del(`/auth/tokens/${tok.id}`),
    });
    if (done) {
      toast(t('tok.revoked'));
      replace(createdHost);
      load();
    }
  }

  const formEl = h('form', { class: 'inline-form', novalidate: true }, nameField.row, createBtn);
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    form.clearErrors();
    replace(errorHost);
    const name = form.value('name').trim();
    if (!name) return form.setError('name', fieldError('name', 'required'));
    await withLoading(createBtn, t('common.working'), async () => {
      try {
        const token = await api.post('/auth/tokens', { name });
        nameField.input.value = '';
        replace(createdHost, createdBox(token));
        load();
      } catch (err) {
        if (!form.applyApiError(err)) replace(errorHost, message('error', apiErrorText(err)));
      }
    });
  });
  load();
  return card(t('tok.title'), [h('p', { class: 'card-intro' }, t('tok.intro')), formEl, errorHost, createdHost, listHost], { test: 'tokens-card' });
}
