// 账号审核: the review queue with filters (status, keyword) and paging; the state lives in the
// hash (#/admin/accounts?status=pending&q=&page=1&page_size=10) so back/forward work.

import { h, replace } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { field } from '../form.js';
import { badge, card, button, pager, disablePager, STATUSES, fetchList } from '../ui.js';

const SIZES = [10, 20, 50];

function readQuery(query) {
  const status = query.has('status') ? query.get('status') : 'pending';
  const size = Number(query.get('page_size'));
  return {
    status: status === 'all' || STATUSES.includes(status) ? status : 'pending',
    q: query.get('q') || '',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(f) {
  const p = new URLSearchParams({ status: f.status, q: f.q, page: String(f.page), page_size: String(f.pageSize) });
  return `#/admin/accounts?${p}`;
}

export async function reviewListView(ctx) {
  ctx.crumbs([{ label: t('rev.title') }]);
  const f = readQuery(ctx.query);

  const statusField = field({
    name: 'status',
    label: t('field.status'),
    type: 'select',
    value: f.status,
    options: [['all', t('status.all')], ...STATUSES.map((st) => [st, t(`status.${st}`)])],
    test: 'filter-status',
  });
  const qField = field({ name: 'q', label: t('field.keyword'), value: f.q, placeholder: t('hint.keyword'), test: 'filter-q' });
  const queryBtn = button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' });
  const resetBtn = button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash({ status: 'pending', q: '', page: 1, pageSize: f.pageSize })) });
  const filters = h('form', { class: 'filter-bar', role: 'search', novalidate: true }, statusField.row, qField.row, h('div', { class: 'filter-actions' }, queryBtn, resetBtn));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(toHash({ ...f, status: statusField.input.value, q: qField.input.value.trim(), page: 1 }));
  });
  statusField.input.addEventListener('change', () => filters.requestSubmit());

  const head = [t('field.username'), t('field.company_name'), t('field.credit_code'), t('field.contact_name'), t('field.mobile'), t('field.submitted_at'), t('field.status'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'review-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const root = h('div', { class: 'stack' }, h('h1', { class: 'page-title' }, t('rev.title')), card(t('rev.list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'review-card' }));

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.status !== 'all') params.set('status', f.status);
  if (f.q) params.set('q', f.q);
  // The view is returned first and filled when the answer comes, so the filters show at once.
  (async () => {
    const data = await fetchList(ctx, `/admin/accounts?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((a) => {
            const org = a.organisation || {};
            return h(
              'tr',
              { 'data-test': 'review-row', 'data-username': a.username },
              h('td', null, a.username),
              h('td', null, org.company_name || '—'),
              h('td', { class: 'mono' }, org.credit_code || '—'),
              h('td', null, org.contact_name || '—'),
              h('td', null, org.mobile || '—'),
              h('td', null, fmtTime(a.submitted_at || a.created_at)),
              h('td', null, badge(a.status)),
              h('td', null, h('a', { href: `#/admin/accounts/${a.id}`, class: 'link-action', 'data-test': 'review-view' }, t('common.view'))),
            );
          })
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
