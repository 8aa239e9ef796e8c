// 充电设施接入 → 桩平台检测 → 我的检测申请: the access-gate notice, filters (status, mode) and
// paging in the hash (#/detections?status=&mode=&page=&page_size=), 新建申请.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { field } from '../form.js';
import { detectionBadge, card, button, message, pager, disablePager, toast, DETECTION_STATUSES, fetchList } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import { MODES, modeLabel, platformName, appNo } from './detection_common.js';

const SIZES = [10, 20, 50];

function readQuery(query) {
  const status = query.get('status') || 'all';
  const mode = query.get('mode') || 'all';
  const size = Number(query.get('page_size'));
  return {
    status: DETECTION_STATUSES.includes(status) ? status : 'all',
    mode: MODES.includes(mode) ? mode : 'all',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(f) {
  const p = new URLSearchParams({ status: f.status, mode: f.mode, page: String(f.page), page_size: String(f.pageSize) });
  return `#/detections?${p}`;
}

/** 可以申请接入 / 尚不能申请接入: reason — from GET /access-gate. */
function gateNotice() {
  const host = h('div', { class: 'gate', 'data-test': 'access-gate' });
  api
    .get('/access-gate')
    .then((g) => {
      const ok = Boolean(g && g.allowed);
      replace(
        host,
        h(
          'div',
          { class: ['gate-box', ok ? 'gate-ok' : 'gate-no'], role: 'status' },
          h('span', { class: 'gate-icon', 'aria-hidden': 'true' }, ok ? '✓' : '!'),
          h('strong', { class: 'gate-title' }, ok ? t('det.gate.allowed') : t('det.gate.denied')),
          // The server's reason is English prose; the UI says the same in the page's language.
          h('span', { class: 'gate-text', title: (g && g.reason) || null, 'data-test': 'access-gate-reason' }, ok ? t('det.gate.allowed_text') : t('det.gate.denied_text')),
        ),
      );
    })
    .catch(() => replace(host));
  return host;
}

export async function detectionListView(ctx) {
  ctx.crumbs([{ label: t('nav.access') }, { label: t('det.title') }]);
  const f = readQuery(ctx.query);

  const statusField = field({
    name: 'status',
    label: t('det.status'),
    type: 'select',
    value: f.status,
    options: [['all', t('status.all')], ...DETECTION_STATUSES.map((st) => [st, t(`dstatus.${st}`)])],
    test: 'filter-status',
  });
  const modeField = field({
    name: 'mode',
    label: t('det.mode'),
    type: 'select',
    value: f.mode,
    options: [['all', t('status.all')], ...MODES.map((m) => [m, modeLabel(m)])],
    test: 'filter-mode',
  });
  const queryBtn = button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' });
  const resetBtn = button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash({ status: 'all', mode: 'all', page: 1, pageSize: f.pageSize })) });
  const filters = h('form', { class: 'filter-bar', role: 'search', novalidate: true }, statusField.row, modeField.row, h('div', { class: 'filter-actions' }, queryBtn, resetBtn));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(toHash({ ...f, status: statusField.input.value, mode: modeField.input.value, page: 1 }));
  });
  statusField.input.addEventListener('change', () => filters.requestSubmit());
  modeField.input.addEventListener('change', () => filters.requestSubmit());

  const head = [t('det.app_no'), t('det.mode'), t('det.platform_name'), t('det.unit'), t('field.submitted_at'), t('det.status'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'detection-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const newBtn = h('a', { class: 'btn btn-primary', href: '#/detections/new', 'data-test': 'detection-new' }, h('span', { class: 'icon-plus', 'aria-hidden': 'true' }), t('det.new'));

  const intro = h(
    'div',
    { class: 'intro-band' },
    h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('det.title')), h('p', { class: 'page-sub' }, t('det.intro'))),
    gateNotice(),
  );
  const root = h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    intro,
    card(t('det.my_list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'detection-card', tools: newBtn }),
  );

  async function remove(app) {
    const done = await confirmDialog({
      title: t('det.delete_title'),
      text: t('det.delete_confirm', { no: appNo(app) }),
      okText: t('common.delete'),
      danger: true,
      test: 'dialog-delete',
      action: () => api.del(`/detections/${app.id}`),
    });
    if (done) {
      toast(t('det.deleted'));
      ctx.navigate(location.hash);
    }
  }

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.status !== 'all') params.set('status', f.status);
  if (f.mode !== 'all') params.set('mode', f.mode);
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
              { 'data-test': 'detection-row', 'data-id': String(a.id) },
              h('td', { class: 'mono' }, h('a', { href: `#/detections/${a.id}` }, appNo(a))),
              h('td', null, h('span', { class: ['mode-tag', `mode-${a.mode}`] }, modeLabel(a.mode))),
              h('td', { class: 'cell-name' }, platformName(a)),
              h('td', { class: 'cell-name' }, (a.commissioning_unit && a.commissioning_unit.name) || '—'),
              h('td', null, fmtTime(a.submitted_at)),
              h('td', null, detectionBadge(a.status)),
              h(
                'td',
                { class: 'cell-actions' },
                h('a', { href: `#/detections/${a.id}`, class: 'link-action', 'data-test': 'detection-view' }, t('common.view')),
                a.status === 'draft' || a.status === 'rejected'
                  ? h('a', { href: `#/detections/${a.id}/edit?step=2`, class: 'link-action', 'data-test': 'detection-edit' }, t('common.edit'))
                  : null,
                a.status === 'draft' ? button(t('common.delete'), { kind: 'link-danger', small: true, test: 'detection-delete', onClick: () => remove(a) }) : null,
              ),
            ),
          )
        : h(
            'tr',
            null,
            h(
              'td',
              { colspan: String(head.length), class: 'empty' },
              f.status === 'all' && f.mode === 'all' ? [t('det.empty'), ' ', h('a', { href: '#/detections/new' }, t('det.start'))] : t('common.empty'),
            ),
          ),
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
