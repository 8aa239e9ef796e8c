// 账号详情 (admin): every registration field, the licence previewed inline, the audit history,
// and the decisions 通过 / 驳回 / 停用 / 启用, each behind a confirmation dialog.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, fmtTime, has } from '../i18n.js';
import { badge, card, button, descList, toast, STATUSES } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import { companyRows } from './account.js';

const ACTIONS = {
  pending: ['approve', 'reject', 'disable'],
  active: ['disable'],
  rejected: ['disable'],
  disabled: ['enable'],
};

function licensePreview(license) {
  if (!license) return h('p', { class: 'muted' }, t('rev.license_missing'));
  const url = license.url || `/api/v1/files/${license.id}`;
  const isPdf = license.mime === 'application/pdf' || /\.pdf$/i.test(license.name || '');
  const view = isPdf
    ? h('iframe', { class: 'license-frame', src: url, title: t('rev.sec_license'), 'data-test': 'license-frame' })
    : h('img', { class: 'license-img', src: url, alt: t('rev.sec_license'), 'data-test': 'license-img' });
  return h('div', { class: 'license-preview' }, view, h('div', { class: 'license-meta' }, license.name, ' · ', h('a', { href: url, target: '_blank', rel: 'noopener' }, t('common.open_new'))));
}

// Audit rows: {at, actor, action: "account.approve" (or "approve"), detail: {status, reason}
// or a string or null}.
function auditAction(action) {
  const short = String(action || '').replace(/^account\./, '');
  return has(`audit.${short}`) ? t(`audit.${short}`) : action;
}

function auditDetail(detail) {
  if (detail === null || detail === undefined || detail === '') return '—';
  if (typeof detail !== 'object') return String(detail);
  const parts = [];
  if (detail.status) parts.push(t('audit.status_to', { status: STATUSES.includes(detail.status) ? t(`status.${detail.status}`) : detail.status }));
  if (detail.reason) parts.push(`${t('field.reason')}：${detail.reason}`);
  return parts.length ? parts.join('；') : '—';
}

function auditTable(audit) {
  const rows = (audit || []).map((r) =>
    h(
      'tr',
      { 'data-test': 'audit-row' },
      h('td', null, fmtTime(r.at)),
      h('td', null, r.actor || '—'),
      h('td', null, auditAction(r.action)),
      h('td', { class: 'cell-wrap' }, auditDetail(r.detail)),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-test': 'audit-table' },
      h('thead', null, h('tr', null, [t('rev.audit_at'), t('rev.audit_actor'), t('rev.audit_action'), t('rev.audit_detail')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: '4', class: 'empty' }, t('common.empty')))),
    ),
  );
}

function runAction(ctx, acct, action) {
  const org = acct.organisation || {};
  const post = (body) => api.post(`/admin/accounts/${acct.id}/${action}`, body);
  const dialogs = {
    approve: { title: t('rev.approve'), text: t('rev.approve_confirm', { company: org.company_name || '', username: acct.username }), action: () => post({}) },
    reject: {
      title: t('rev.reject_title'),
      text: t('rev.reject_text'),
      danger: true,
      reason: { label: t('field.reject_reason'), required: true, maxlength: 500 },
      action: (reason) => post({ reason }),
    },
    disable: {
      title: t('rev.disable'),
      text: t('rev.disable_confirm', { username: acct.username }),
      danger: true,
      reason: { label: t('rev.disable_reason'), required: false, maxlength: 500 },
      action: (reason) => post(reason ? { reason } : {}),
    },
    enable: { title: t('rev.enable'), text: t('rev.enable_confirm', { username: acct.username }), action: () => post({}) },
  };
  return confirmDialog({ ...dialogs[action], okText: t(`rev.${action}`), test: `dialog-${action}` }).then((res) => {
    if (!res) return;
    toast(t(`rev.done.${action}`));
    ctx.navigate(location.hash); // re-render: new badge, new audit row
  });
}

export async function reviewDetailView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('rev.title'), href: '#/admin/accounts' }, { label: t('rev.detail') }]);
  const acct = await api.get(`/admin/accounts/${id}`);
  if (!ctx.alive()) return null;
  const org = acct.organisation;
  const actions = (ACTIONS[acct.status] || []).map((a) =>
    button(t(`rev.${a}`), { kind: a === 'approve' || a === 'enable' ? 'primary' : a === 'reject' ? 'warning' : 'danger', test: a, onClick: () => runAction(ctx, acct, a) }),
  );
  const summary = h(
    'div',
    { class: 'detail-summary' },
    h(
      'div',
      { class: 'detail-title' },
      h('h1', { class: 'page-title' }, org ? org.company_name : acct.username),
      badge(acct.status, 'badge-large'),
    ),
    h('div', { class: 'detail-actions', 'data-test': 'review-actions' }, actions.length ? actions : h('span', { class: 'muted' }, t('rev.no_actions'))),
  );
  const basic = [
    [t('field.username'), acct.username, 'detail-username'],
    [t('field.created_at'), fmtTime(acct.created_at)],
    [t('field.submitted_at'), fmtTime(acct.submitted_at)],
    [t('field.reviewed_at'), fmtTime(acct.reviewed_at)],
  ];
  if (acct.reject_reason) basic.push([t('field.reject_reason'), acct.reject_reason, 'detail-reject-reason']);
  return h(
    'div',
    { class: 'stack' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/admin/accounts', class: 'link-back' }, `‹ ${t('common.back')}`)),
    card(null, summary, { class: 'card-summary' }),
    card(t('acct.sec_basic'), descList(basic)),
    org ? card(t('acct.sec_company'), descList(companyRows(org, acct.license)), { test: 'company-card' }) : null,
    card(t('rev.sec_license'), licensePreview(acct.license), { test: 'license-card' }),
    card(t('rev.sec_audit'), auditTable(acct.audit), { test: 'audit-card' }),
  );
}
