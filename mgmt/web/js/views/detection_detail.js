// 桩平台检测 → 检测申请详情 (operator): status, 驳回原因 with 修改并重新提交, the verdict, every
// field, the materials, the audit history, and for an approved self application the T/CEC
// platform credentials (平台接入凭证), shown once in a dialog when issued, and its conformance
// runs (平台符合性检测, runs.js): started here when the application is approved or failed.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { card, button, message, descList, detectionBadge, toast } from '../ui.js';
import { confirmDialog, infoDialog } from '../dialog.js';
import { copyText } from './tokens.js';
import { detectionRunsCard } from './runs.js';
import { EDITABLE, CREDENTIAL_STATUSES, appNo, modeLabel, formPdfLink, materialsTable, infoCards, verdictBlock, detectionAudit, summaryRows } from './detection_common.js';

const CRED_FIELDS = ['operator_id', 'operator_secret', 'data_secret', 'data_secret_iv', 'sig_secret'];
const CRED_NAMES = { operator_id: 'OperatorID', operator_secret: 'OperatorSecret', data_secret: 'DataSecret', data_secret_iv: 'DataSecretIV', sig_secret: 'SigSecret' };

/** The dialog that shows a freshly issued credential set, each value with a copy button. */
function showCredentials(cred) {
  const rows = CRED_FIELDS.map((k) => {
    const input = h('input', { class: 'input mono cred-value', readonly: true, value: cred[k] || '', 'data-test': `cred-${k}`, 'aria-label': CRED_NAMES[k] });
    const copy = button(t('common.copy'), { small: true, test: `cred-copy-${k}` });
    copy.addEventListener('click', async () => {
      if (await copyText(cred[k] || '', input)) {
        copy.textContent = t('common.copied');
        setTimeout(() => { copy.textContent = t('common.copy'); }, 2000);
      }
    });
    return h('div', { class: 'cred-row' }, h('span', { class: 'cred-name mono' }, CRED_NAMES[k]), input, copy);
  });
  const all = button(t('det.cred.copy_all'), { kind: 'primary', small: true, test: 'cred-copy-all' });
  const text = CRED_FIELDS.map((k) => `${CRED_NAMES[k]}=${cred[k] || ''}`).join('\n');
  all.addEventListener('click', async () => {
    const area = h('textarea', { class: 'is-hidden' }, text);
    document.body.appendChild(area);
    const ok = await copyText(text, area);
    area.remove();
    if (ok) {
      all.textContent = t('common.copied');
      setTimeout(() => { all.textContent = t('det.cred.copy_all'); }, 2000);
    }
  });
  return infoDialog({
    title: t('det.cred.dialog_title'),
    wide: true,
    test: 'dialog-credentials',
    closeText: t('det.cred.saved'),
    body: h(
      'div',
      { class: 'cred-box' },
      h('div', { class: 'msg msg-warning', 'data-test': 'cred-once' }, t('det.cred.once')),
      rows,
      h('div', { class: 'cred-foot' }, h('span', { class: 'muted' }, t('det.cred.issued_at', { at: fmtTime(cred.issued_at) })), all),
    ),
  });
}

function credentialsCard(ctx, app) {
  const issued = Boolean(app.credentials_issued_at);
  const take = async () => {
    const cred = await confirmDialog({
      title: issued ? t('det.cred.reissue') : t('det.cred.get'),
      text: issued ? t('det.cred.reissue_warn') : t('det.cred.get_text'),
      okText: issued ? t('det.cred.reissue') : t('det.cred.get'),
      danger: issued,
      test: issued ? 'dialog-reissue' : 'dialog-get-credentials',
      action: () => api.post(`/detections/${app.id}/credentials`),
    });
    if (!cred || cred === true) return;
    await showCredentials(cred);
    toast(t('det.cred.done'));
    ctx.navigate(location.hash); // re-render: the issue time, never the secrets
  };
  const btn = button(issued ? t('det.cred.reissue') : t('det.cred.get'), { kind: issued ? 'warning' : 'primary', test: 'credentials', onClick: take });
  return card(
    t('det.cred.title'),
    h(
      'div',
      { class: 'cred-panel' },
      h('p', { class: 'card-intro' }, t('det.cred.intro')),
      descList([
        ['OperatorID', h('span', { class: 'mono' }, (app.operator && app.operator.operator_id) || '—')],
        [t('det.cred.status'), issued ? t('det.cred.issued', { at: fmtTime(app.credentials_issued_at) }) : t('det.cred.not_issued'), 'cred-status'],
      ]),
      h('div', { class: 'status-actions cred-actions' }, btn, h('span', { class: 'muted' }, issued ? t('det.cred.reissue_hint') : t('det.cred.get_hint'))),
    ),
    { test: 'credentials-card' },
  );
}

export async function detectionDetailView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('nav.access') }, { label: t('det.title'), href: '#/detections' }, { label: t('det.detail') }]);
  const app = await api.get(`/detections/${id}`);
  if (!ctx.alive()) return null;

  const actions = [];
  if (EDITABLE.includes(app.status)) {
    actions.push(
      h('a', { class: 'btn btn-primary', href: `#/detections/${app.id}/edit?step=2`, 'data-test': app.status === 'rejected' ? 'resubmit' : 'edit' }, app.status === 'rejected' ? t('det.resubmit') : t('det.continue_edit')),
    );
  }
  actions.push(formPdfLink(app, { label: t('det.download') }));
  if (app.status === 'draft') {
    actions.push(
      button(t('common.delete'), {
        kind: 'danger',
        test: 'delete',
        onClick: async () => {
          const done = await confirmDialog({ title: t('det.delete_title'), text: t('det.delete_confirm', { no: appNo(app) }), okText: t('common.delete'), danger: true, action: () => api.del(`/detections/${app.id}`) });
          if (done) {
            toast(t('det.deleted'));
            ctx.navigate('#/detections');
          }
        },
      }),
    );
  }
  const summary = h(
    'div',
    { class: 'detail-summary' },
    h(
      'div',
      { class: 'detail-title' },
      h('h1', { class: 'page-title' }, `${t('det.app_no')} ${appNo(app)}`),
      h('span', { class: ['mode-tag', `mode-${app.mode}`] }, modeLabel(app.mode)),
      detectionBadge(app.status, 'badge-large'),
    ),
    h('div', { class: 'detail-actions', 'data-test': 'detail-actions' }, actions),
  );
  const statusText = t(`det.status_text.${app.status}`);
  return h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    h('div', { class: 'toolbar' }, h('a', { href: '#/detections', class: 'link-back' }, `‹ ${t('common.back')}`)),
    card(
      null,
      [
        summary,
        h('p', { class: 'status-text detail-status-text' }, statusText),
        app.status === 'rejected' && app.reject_reason
          ? h('div', { class: 'msg msg-warning reject-reason' }, h('strong', null, t('det.lbl', { label: t('det.reject_reason') })), h('span', { 'data-test': 'reject-reason' }, app.reject_reason))
          : null,
      ],
      { class: 'card-summary', test: 'status-card' },
    ),
    app.verdict ? card(t('det.verdict_title'), verdictBlock(app.verdict), { test: 'verdict-card' }) : null,
    app.mode === 'self' && CREDENTIAL_STATUSES.includes(app.status) ? credentialsCard(ctx, app) : null,
    app.mode === 'self' && CREDENTIAL_STATUSES.includes(app.status) ? detectionRunsCard(ctx, app, app.operator && app.operator.operator_id) : null,
    card(t('det.sec_app'), descList(summaryRows(app))),
    ...infoCards(app),
    card(t('det.materials'), materialsTable(app.materials), { test: 'materials-card' }),
    card(t('rev.sec_audit'), detectionAudit(app.audit), { test: 'audit-card' }),
  );
}
