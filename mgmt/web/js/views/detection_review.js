// 检测审核 (admin): the queue (submitted first by default; filters status, mode, keyword; paging
// in the hash) and the detail with the materials previewed inline, 通过 / 驳回 and, for a self
// application in approved/testing, 录入检测结论; the audit history.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, fmtTime, fmtSize } from '../i18n.js';
import { field } from '../form.js';
import { detectionBadge, card, button, pager, disablePager, toast, descList, DETECTION_STATUSES, fetchList } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import { filePreview } from './review_detail.js';
import { MODES, modeLabel, platformName, appNo, formPdfLink, materialsTable, infoCards, verdictBlock, detectionAudit, summaryRows, shortHash } from './detection_common.js';

const SIZES = [10, 20, 50];

function readQuery(query) {
  const status = query.has('status') ? query.get('status') : 'submitted';
  const mode = query.get('mode') || 'all';
  const size = Number(query.get('page_size'));
  return {
    status: status === 'all' || DETECTION_STATUSES.includes(status) ? status : 'submitted',
    mode: MODES.includes(mode) ? mode : 'all',
    q: query.get('q') || '',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(f) {
  const p = new URLSearchParams({ status: f.status, mode: f.mode, q: f.q, page: String(f.page), page_size: String(f.pageSize) });
  return `#/admin/detections?${p}`;
}

export async function detectionReviewListView(ctx) {
  ctx.crumbs([{ label: t('drev.title') }]);
  const f = readQuery(ctx.query);
  const statusField = field({
    name: 'status',
    label: t('det.status'),
    type: 'select',
    value: f.status,
    options: [['all', t('status.all')], ...DETECTION_STATUSES.map((st) => [st, t(`dstatus.${st}`)])],
    test: 'filter-status',
  });
  const modeField = field({ name: 'mode', label: t('det.mode'), type: 'select', value: f.mode, options: [['all', t('status.all')], ...MODES.map((m) => [m, modeLabel(m)])], test: 'filter-mode' });
  const qField = field({ name: 'q', label: t('field.keyword'), value: f.q, placeholder: t('drev.keyword_ph'), test: 'filter-q' });
  const filters = h(
    'form',
    { class: 'filter-bar filter-bar-3', role: 'search', novalidate: true },
    statusField.row,
    modeField.row,
    qField.row,
    h(
      'div',
      { class: 'filter-actions' },
      button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' }),
      button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash({ status: 'submitted', mode: 'all', q: '', page: 1, pageSize: f.pageSize })) }),
    ),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(toHash({ ...f, status: statusField.input.value, mode: modeField.input.value, q: qField.input.value.trim(), page: 1 }));
  });
  statusField.input.addEventListener('change', () => filters.requestSubmit());
  modeField.input.addEventListener('change', () => filters.requestSubmit());

  const head = [t('det.app_no'), t('det.operator'), t('det.mode'), t('det.platform_name'), t('det.unit'), t('field.submitted_at'), t('det.status'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'detection-review-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const root = h('div', { class: 'stack' }, h('h1', { class: 'page-title' }, t('drev.title')), card(t('drev.list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'detection-review-card' }));

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.status !== 'all') params.set('status', f.status);
  if (f.mode !== 'all') params.set('mode', f.mode);
  if (f.q) params.set('q', f.q);
  (async () => {
    const data = await fetchList(ctx, `/detections?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((a) =>
            h(
              'tr',
              { 'data-test': 'detection-review-row', 'data-id': String(a.id) },
              h('td', { class: 'mono' }, appNo(a)),
              h('td', { class: 'cell-name' }, (a.operator && a.operator.company_name) || '—'),
              h('td', null, h('span', { class: ['mode-tag', `mode-${a.mode}`] }, modeLabel(a.mode))),
              h('td', { class: 'cell-name' }, platformName(a)),
              h('td', { class: 'cell-name' }, (a.commissioning_unit && a.commissioning_unit.name) || '—'),
              h('td', null, fmtTime(a.submitted_at)),
              h('td', null, detectionBadge(a.status)),
              h('td', null, h('a', { href: `#/admin/detections/${a.id}`, class: 'link-action', 'data-test': 'detection-review-view' }, a.status === 'submitted' ? t('drev.review') : t('common.view'))),
            ),
          )
        : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.empty'))),
    );
    const total = Number(data.total) || 0;
    const pageSize = Number(data.page_size) || f.pageSize;
    const page = Number(data.page) || f.page;
    const bar = pager({ total, page, pageSize: SIZES.includes(pageSize) ? pageSize : f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(toHash({ ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, page, Math.max(1, Math.ceil(total / pageSize)));
    replace(pagerHost, bar);
  })();
  return root;
}

function runAction(ctx, app, action) {
  const post = (body) => api.post(`/admin/detections/${app.id}/${action}`, body);
  const company = (app.operator && app.operator.company_name) || '';
  const dialogs = {
    approve: { title: t('drev.approve_title'), text: t('drev.approve_confirm', { no: appNo(app), company }), okText: t('rev.approve'), action: () => post({}) },
    reject: {
      title: t('drev.reject_title'),
      text: t('drev.reject_text'),
      okText: t('rev.reject'),
      danger: true,
      reason: { label: t('det.reject_reason'), required: true, maxlength: 500 },
      action: (reason) => post({ reason }),
    },
    verdict: {
      title: t('drev.verdict_title'),
      text: t('drev.verdict_text', { no: appNo(app), platform: platformName(app) }),
      okText: t('drev.verdict_save'),
      choice: { label: t('det.verdict'), name: 'verdict', required: true, options: [['passed', t('det.verdict.passed')], ['failed', t('det.verdict.failed')]] },
      reason: { label: t('det.verdict_note'), required: true, maxlength: 500, field: 'note', placeholder: t('drev.note_ph') },
      action: (note, verdict) => post({ verdict, note }),
    },
  };
  return confirmDialog({ ...dialogs[action], test: `dialog-${action}` }).then((res) => {
    if (!res) return;
    toast(t(`drev.done.${action}`));
    ctx.navigate(location.hash);
  });
}

function materialPreviews(materials) {
  if (!materials || !materials.length) return h('p', { class: 'muted' }, t('det.mat.none'));
  return h(
    'div',
    { class: 'material-previews' },
    materials.map((m, i) =>
      h(
        'figure',
        { class: 'material-figure', 'data-test': 'material-figure' },
        h('figcaption', { class: 'material-caption' }, h('strong', null, `${i + 1}. ${m.name}`), h('span', { class: 'muted' }, typeof m.size === 'number' ? fmtSize(m.size) : ''), h('span', { class: 'muted' }, 'SHA-256 '), shortHash(m.sha256)),
        filePreview(m, m.name, 'material'),
      ),
    ),
  );
}

export async function detectionReviewDetailView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('drev.title'), href: '#/admin/detections' }, { label: t('drev.detail') }]);
  const app = await api.get(`/detections/${id}`);
  if (!ctx.alive()) return null;
  const acts = [];
  if (app.status === 'submitted') acts.push(['approve', 'primary'], ['reject', 'warning']);
  if (app.mode === 'self' && (app.status === 'approved' || app.status === 'testing')) acts.push(['verdict', 'primary']);
  const actions = acts.map(([a, kind]) => button(a === 'verdict' ? t('drev.verdict') : t(`rev.${a}`), { kind, test: a, onClick: () => runAction(ctx, app, a) }));
  const summary = h(
    'div',
    { class: 'detail-summary' },
    h(
      'div',
      { class: 'detail-title' },
      h('h1', { class: 'page-title' }, `${platformName(app)}`),
      h('span', { class: ['mode-tag', `mode-${app.mode}`] }, modeLabel(app.mode)),
      detectionBadge(app.status, 'badge-large'),
    ),
    h('div', { class: 'detail-actions', 'data-test': 'review-actions' }, actions.length ? actions : h('span', { class: 'muted' }, t('rev.no_actions')), formPdfLink(app, { label: t('drev.form') })),
  );
  return h(
    'div',
    { class: 'stack' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/admin/detections', class: 'link-back' }, `‹ ${t('common.back')}`)),
    card(
      null,
      [
        summary,
        h('div', { class: 'detail-sub muted' }, `${t('det.app_no')} ${appNo(app)} · ${(app.operator && app.operator.company_name) || ''}${app.operator && app.operator.operator_id ? t('det.paren', { text: `OperatorID ${app.operator.operator_id}` }) : ''}`),
        app.reject_reason ? h('div', { class: 'msg msg-warning reject-reason' }, h('strong', null, t('det.lbl', { label: t('det.reject_reason') })), h('span', { 'data-test': 'reject-reason' }, app.reject_reason)) : null,
      ],
      { class: 'card-summary' },
    ),
    app.verdict ? card(t('det.verdict_title'), verdictBlock(app.verdict), { test: 'verdict-card' }) : null,
    card(t('det.sec_app'), descList(summaryRows(app))),
    ...infoCards(app),
    card(t('det.materials'), [materialsTable(app.materials), materialPreviews(app.materials)], { test: 'materials-card' }),
    card(t('rev.sec_audit'), detectionAudit(app.audit), { test: 'audit-card' }),
  );
}
