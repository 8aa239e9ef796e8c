// 接入审核 (admin): the queue of access applications (status filter, paging) and an
// application's review page — its staged stations and piles (paged), 通过 / 驳回 (a reason is
// required) behind confirmation dialogs, and the audit history.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { card, button, toast } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import { detectionAudit } from './detection_common.js';
import { accessTable, accessSummary } from './access.js';
import { ACCESS_STATUSES, SIZES, accessNo, stagedTables, loadAreas } from './records_common.js';

export async function accessReviewListView(ctx) {
  ctx.crumbs([{ label: t('arev.title') }]);
  const status = ctx.query.has('status') ? ctx.query.get('status') : 'submitted';
  const size = Number(ctx.query.get('page_size'));
  const f = {
    status: ACCESS_STATUSES.includes(status) ? status : '',
    page: Math.max(1, Number(ctx.query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
  return h(
    'div',
    { class: 'stack' },
    h('h1', { class: 'page-title' }, t('arev.title')),
    card(
      t('arev.list'),
      accessTable(ctx, '#/admin/access', f, {
        admin: true,
        test: 'access-review-table',
        rowTest: 'access-review-row',
        detail: '#/admin/access',
        empty: t('common.empty'),
        actionText: (a) => (a.status === 'submitted' ? t('drev.review') : t('common.view')),
      }),
      { test: 'access-review-card' },
    ),
  );
}

function decide(ctx, app, action) {
  const post = (body) => api.post(`/admin/access-applications/${app.id}/${action}`, body);
  const dialogs = {
    approve: {
      title: t('arev.approve_title'),
      text: t('arev.approve_confirm', { no: accessNo(app), company: app.company_name || '', stations: app.station_count, piles: app.pile_count }),
      okText: t('rev.approve'),
      action: () => post({}),
    },
    reject: {
      title: t('arev.reject_title'),
      text: t('arev.reject_text'),
      okText: t('rev.reject'),
      danger: true,
      reason: { label: t('det.reject_reason'), required: true, maxlength: 500 },
      action: (reason) => post({ reason }),
    },
  };
  return confirmDialog({ ...dialogs[action], test: `dialog-${action}` }).then((res) => {
    if (!res) return;
    toast(t(`drev.done.${action}`));
    ctx.navigate(location.hash);
  });
}

export async function accessReviewDetailView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('arev.title'), href: '#/admin/access' }, { label: t('arev.detail') }]);
  const [app, areas] = await Promise.all([api.get(`/access-applications/${id}`), loadAreas().catch(() => null)]);
  if (!ctx.alive()) return null;
  const actions =
    app.status === 'submitted'
      ? [
          button(t('rev.approve'), { kind: 'primary', test: 'approve', onClick: () => decide(ctx, app, 'approve') }),
          button(t('rev.reject'), { kind: 'warning', test: 'reject', onClick: () => decide(ctx, app, 'reject') }),
        ]
      : [h('span', { class: 'muted' }, t('rev.no_actions'))];
  const tables = stagedTables(app.id, areas, `&account_id=${app.account_id}`);
  return h(
    'div',
    { class: 'stack' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/admin/access', class: 'link-back' }, `‹ ${t('common.back')}`)),
    accessSummary(app, actions),
    card(t('acc.sec_stations', { n: app.station_count ?? 0 }), tables.stations, { test: 'stations-card' }),
    card(t('acc.sec_piles', { n: app.pile_count ?? 0 }), tables.piles, { test: 'piles-card' }),
    card(t('rev.sec_audit'), detectionAudit(app.audit), { test: 'audit-card' }),
  );
}
