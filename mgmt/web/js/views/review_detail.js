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
  return filePreview(license, t('rev.sec_license'));
}

/** An uploaded file shown inline: an image, or a PDF in a frame; with a link to a new tab. */
export function filePreview(file, title, test) {
  const url = file.url || `/api/v1/files/${file.id}`;
  const isPdf = file.mime === 'application/pdf' || /\.pdf$/i.test(file.name || '');
  const view = isPdf
    ? h('iframe', { class: 'license-frame', src: url, title, 'data-test': test ? `${test}-frame` : 'license-frame' })
    : h('img', { class: 'license-img', src: url, alt: title, 'data-test': test ? `${test}-img` : 'license-img' });
  return h('div', { class: 'license-preview' }, view, h('div', { class: 'license-meta' }, file.name, ' · ', h('a', { href: url, target: '_blank', rel: 'noopener' }, t('common.open_new'))));
}

// Audit rows: {at, actor, action: "account.approve" (or "approve", or "detection.submit"),
// detail: {status, reason, verdict, note} or a string or null}. Detection actions have their
// own texts (audit.detection.*) where the account's would be wrong.
function auditAction(action) {
  const full = String(action || '');
  if (has(`audit.${full}`)) return t(`audit.${full}`);
  const short = full.replace(/^(account|detection)\./, '');
  return has(`audit.${short}`) ? t(`audit.${short}`) : action;
}

const accountStatus = (st) => (STATUSES.includes(st) ? t(`status.${st}`) : st);

function auditDetail(detail, statusLabel) {
  if (detail === null || detail === undefined || detail === '') return '—';
  if (typeof detail !== 'object') return String(detail);
  const parts = [];
  if (detail.mode) parts.push(`${t('det.mode')}：${has(`det.mode.${detail.mode}`) ? t(`det.mode.${detail.mode}`) : detail.mode}`);
  if (detail.status) parts.push(t('audit.status_to', { status: statusLabel(detail.status) }));
  if (detail.verdict) parts.push(`${t('det.verdict')}：${has(`det.verdict.${detail.verdict}`) ? t(`det.verdict.${detail.verdict}`) : detail.verdict}`);
  if (detail.reason) parts.push(`${t('field.reason')}：${detail.reason}`);
  if (detail.note) parts.push(`${t('det.verdict_note')}：${detail.note}`);
  return parts.length ? parts.join('；') : '—';
}

/** The audit history table; statusLabel(status) names a status (account ones by default). */
export function auditTable(audit, statusLabel = accountStatus) {
  const rows = (audit || []).map((r) =>
    h(
      'tr',
      { 'data-test': 'audit-row' },
      h('td', null, fmtTime(r.at)),
      h('td', null, r.actor || '—'),
      h('td', null, auditAction(r.action)),
      h('td', { class: 'cell-wrap' }, auditDetail(r.detail, statusLabel)),
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
