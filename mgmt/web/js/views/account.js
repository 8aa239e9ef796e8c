// 我的账号: the account status (badge, reject reason), the registered company and licence,
// 修改并重新提交 while pending or rejected, and the API token section.

import { api, upload } from '../api.js';
import { h, replace } from '../dom.js';
import { t, fmtTime, fmtSize } from '../i18n.js';
import { badge, card, button, message, descList, withLoading, apiErrorText, toast } from '../ui.js';
import { registrationFields, progressBar } from './regfields.js';
import { tokensCard } from './tokens.js';

export function licenseLink(license) {
  if (!license) return t('rev.license_missing');
  return h(
    'span',
    { class: 'license-link' },
    h('span', { class: 'file-name has-file' }, t('file.chosen', { name: license.name, size: fmtSize(license.size) })),
    ' ',
    h('a', { href: license.url || `/api/v1/files/${license.id}`, target: '_blank', rel: 'noopener', 'data-test': 'license-link' }, t('acct.license_preview')),
  );
}

export function companyRows(org, license) {
  return [
    [t('field.company_name'), org.company_name, 'org-company_name'],
    [t('field.credit_code'), org.credit_code, 'org-credit_code'],
    [t('field.operator_id'), org.operator_id, 'org-operator_id'],
    [t('field.legal_representative'), org.legal_representative],
    [t('field.contact_name'), org.contact_name],
    [t('field.mobile'), org.mobile],
    [t('field.email'), org.email],
    [t('field.address'), org.address],
    [t('field.license'), licenseLink(license)],
  ];
}

function statusCard(acct, onEdit) {
  const editable = acct.role === 'operator' && (acct.status === 'pending' || acct.status === 'rejected');
  return card(
    t('acct.sec_status'),
    h(
      'div',
      { class: 'status-panel' },
      h('div', { class: 'status-line' }, h('span', { class: 'status-label' }, `${t('field.status')}：`), badge(acct.status, 'badge-large')),
      acct.role === 'operator' && t(`acct.${acct.status}_text`) !== `acct.${acct.status}_text` ? h('p', { class: 'status-text' }, t(`acct.${acct.status}_text`)) : null,
      acct.status === 'rejected' && acct.reject_reason
        ? h('div', { class: 'msg msg-warning reject-reason' }, h('strong', null, `${t('field.reject_reason')}：`), h('span', { 'data-test': 'reject-reason' }, acct.reject_reason))
        : null,
      editable ? h('div', { class: 'status-actions' }, button(t('acct.resubmit'), { kind: 'primary', test: 'resubmit-open', onClick: onEdit })) : null,
    ),
    { test: 'status-card' },
  );
}

function resubmitCard(ctx, acct, onDone, onCancel) {
  const reg = registrationFields({ withAccount: false, values: acct.organisation, licenseRequired: false });
  const progress = progressBar();
  const errorBox = h('div', { class: 'form-message' });
  const submit = button(t('common.submit'), { type: 'submit', kind: 'primary', test: 'resubmit-submit' });
  const formEl = h(
    'form',
    { class: 'reg-form', novalidate: true, 'aria-label': t('acct.resubmit_title') },
    h('p', { class: 'form-intro' }, h('span', { class: 'req-note' }, h('span', { class: 'req' }, '*'), t('common.required_hint'))),
    reg.sections,
    errorBox,
    progress.el,
    h('div', { class: 'form-actions' }, submit, button(t('common.cancel'), { onClick: onCancel })),
  );
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorBox.replaceChildren();
    if (!reg.validate()) return;
    await withLoading(submit, t('common.submitting'), async () => {
      progress.set(0);
      try {
        await upload('/me/registration', reg.formData(), (f) => progress.set(f));
        toast(t('acct.resubmitted'));
        onDone();
      } catch (err) {
        progress.reset();
        const placed = reg.form.applyApiError(err);
        errorBox.replaceChildren(message('error', placed ? t('reg.failed') : apiErrorText(err)));
      }
    });
  });
  return card(t('acct.resubmit_title'), formEl, { test: 'resubmit-card' });
}

export async function accountView(ctx) {
  ctx.crumbs([{ label: t('acct.title') }]);
  const me = await api.get('/me');
  if (!ctx.alive()) return null;
  ctx.setSession(me);
  ctx.refreshChrome();
  const acct = ctx.state.account;
  const root = h('div', { class: 'stack' });
  const editHost = h('div');
  const showEdit = () => {
    replace(editHost, resubmitCard(ctx, acct, () => ctx.navigate('#/account'), () => replace(editHost)));
    editHost.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };
  root.appendChild(h('h1', { class: 'page-title' }, t('acct.title')));
  root.appendChild(statusCard(acct, showEdit));
  if (acct.organisation) root.appendChild(card(t('acct.sec_company'), descList(companyRows(acct.organisation, acct.license)), { test: 'company-card' }));
  root.appendChild(editHost);
  root.appendChild(
    card(
      t('acct.sec_basic'),
      descList([
        [t('field.username'), acct.username, 'acct-username'],
        [t('field.role'), t(`role.${acct.role}`)],
        [t('field.created_at'), fmtTime(acct.created_at)],
        [t('field.submitted_at'), fmtTime(acct.submitted_at)],
        [t('field.reviewed_at'), fmtTime(acct.reviewed_at)],
      ]),
    ),
  );
  root.appendChild(tokensCard(ctx));
  return root;
}
