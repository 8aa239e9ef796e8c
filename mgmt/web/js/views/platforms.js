// 平台互联 (#/platforms): the T/CEC 102 operator platforms (GET /tcec/platforms) with their last
// contact in each direction and today's counts; admins see all and search by company or
// OperatorID, an operator sees its own. Paging in the hash (#/platforms?q=&page=&page_size=).
// One platform's page is platforms_detail.js; the labels shared by both are exported here.

import { h, replace } from '../dom.js';
import { t, fmtTime, has } from '../i18n.js';
import { field } from '../form.js';
import { card, button, pager, disablePager, fetchList } from '../ui.js';

const SIZES = [10, 20, 50];

/** Ret codes of T/CEC 102 (docs/tcec.md) with a label each. */
export const RET_CODES = [0, -1, 4001, 4002, 4003, 4004, 500];

/** "2026-11-25 20:40:05": fmtTime with seconds. */
export function fmtSec(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${fmtTime(iso)}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** The readable label of a reason code (signature, not_owner, …); unknown codes as they are. */
export function reasonLabel(code) {
  if (code === null || code === undefined || code === '') return '—';
  return has(`pf.reason.${code}`) ? t(`pf.reason.${code}`) : String(code);
}

/** The Ret code with its meaning: "4001 签名错误" (`compact`: the code, the meaning as its
 * title); null: no T/CEC answer. */
export function retCell(ret, compact) {
  if (ret === null || ret === undefined) return h('span', { class: 'pf-ret pf-ret-none', 'data-test': 'ret', 'data-ret': '' }, t('pf.ret.none'));
  const ok = ret === 0;
  const meaning = has(`pf.ret.${ret}`) ? t(`pf.ret.${ret}`) : null;
  return h(
    'span',
    { class: ['pf-ret', ok ? 'pf-ret-ok' : 'pf-ret-bad'], 'data-test': 'ret', 'data-ret': String(ret), title: compact ? meaning : null },
    h('span', { class: 'mono' }, String(ret)),
    meaning && !compact ? ` ${meaning}` : null,
  );
}

/** 接收 (the platform called evgate) / 发出 (evgate called the platform). */
export function dirTag(direction) {
  return h('span', { class: ['pf-dir', `pf-dir-${direction === 'out' ? 'out' : 'in'}`], 'data-test': 'direction', 'data-direction': direction }, t(`pf.dir.${direction === 'out' ? 'out' : 'in'}`));
}

function readQuery(query) {
  const size = Number(query.get('page_size'));
  return {
    q: (query.get('q') || '').slice(0, 100),
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(f) {
  const p = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.q) p.set('q', f.q);
  return `#/platforms?${p}`;
}

function countCell(n, test, bad) {
  const v = Number(n) || 0;
  return h('td', { class: ['num', bad && v > 0 ? 'pf-bad' : null], 'data-test': test }, String(v));
}

export async function platformListView(ctx) {
  const admin = ctx.state.account.role === 'admin';
  ctx.crumbs([{ label: t('pf.title') }]);
  const f = readQuery(ctx.query);

  let filters = null;
  if (admin) {
    const qField = field({ name: 'q', label: t('pf.q'), value: f.q, placeholder: t('pf.q_ph'), maxlength: 100, test: 'filter-q' });
    const queryBtn = button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' });
    const resetBtn = button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash({ q: '', page: 1, pageSize: f.pageSize })) });
    filters = h('form', { class: 'filter-bar', role: 'search', novalidate: true }, qField.row, h('div', { class: 'filter-actions' }, queryBtn, resetBtn));
    filters.addEventListener('submit', (e) => {
      e.preventDefault();
      ctx.navigate(toHash({ ...f, q: qField.input.value.trim(), page: 1 }));
    });
  }

  const head = [t('pf.operator_id'), t('pf.platform_name'), t('pf.company'), t('pf.last_in'), t('pf.last_out'), t('pf.today'), t('pf.refused_today'), t('pf.failed_out_today'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'platform-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const root = h(
    'div',
    { class: 'stack' },
    h('div', { class: 'intro-band' }, h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('pf.title')), h('p', { class: 'page-sub' }, t(admin ? 'pf.intro_admin' : 'pf.intro')))),
    card(t('pf.list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'platform-card' }),
  );

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (admin && f.q) params.set('q', f.q);
  (async () => {
    const data = await fetchList(ctx, `/tcec/platforms?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((p) => {
            const href = `#/platforms/${encodeURIComponent(p.operator_id)}`;
            return h(
              'tr',
              { 'data-test': 'platform-row', 'data-operator-id': p.operator_id },
              h('td', { class: 'mono' }, h('a', { href }, p.operator_id)),
              h('td', { class: 'cell-name' }, p.platform_name || '—'),
              h('td', { class: 'cell-name' }, p.company_name || '—'),
              h('td', { 'data-test': 'last-in-at' }, fmtSec(p.last_in_at)),
              h('td', { 'data-test': 'last-out-at' }, fmtSec(p.last_out_at)),
              countCell(p.exchanges_today, 'today'),
              countCell(p.refused_in_today, 'refused-today', true),
              countCell(p.failed_out_today, 'failed-out-today', true),
              h('td', { class: 'cell-actions' }, h('a', { href, class: 'link-action', 'data-test': 'platform-view' }, t('common.view'))),
            );
          })
        : h('tr', null, h('td', { colspan: String(head.length), class: 'empty', 'data-test': 'platform-empty' }, f.q ? t('common.empty') : t(admin ? 'pf.empty_admin' : 'pf.empty'))),
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
