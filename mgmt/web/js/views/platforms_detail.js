// 平台互联 → one platform (#/platforms/{operator_id}): its registration (GET
// /tcec/platforms/{id}), the last contact in each direction, refusals counted by reason, and
// the exchange log (GET .../exchanges) with filters in the hash (direction, interface, failed,
// reason, page, page_size). A row expands to show the decoded request and response, as text in
// a <pre>: payloads are the platform's data and never become markup.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { field } from '../form.js';
import { card, button, descList, pager, disablePager, fetchList } from '../ui.js';
import { fmtSec, reasonLabel, retCell, dirTag } from './platforms.js';

const SIZES = [10, 20, 50];
const INTERFACES = [
  'query_token',
  'notification_stationInfo',
  'notification_stationStatus',
  'notification_charge_order_info',
  'query_stations_info',
  'query_station_status',
  'query_station_stats',
];

function readQuery(query) {
  const size = Number(query.get('page_size'));
  const dir = query.get('direction');
  const word = (v, max) => (v && v.length <= max && /^[A-Za-z0-9_]+$/.test(v) ? v : '');
  return {
    direction: dir === 'in' || dir === 'out' ? dir : '',
    iface: word(query.get('interface'), 64),
    reason: word(query.get('reason'), 32),
    failed: query.get('failed') === '1',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(id, f) {
  const p = new URLSearchParams();
  if (f.direction) p.set('direction', f.direction);
  if (f.iface) p.set('interface', f.iface);
  if (f.reason) p.set('reason', f.reason);
  if (f.failed) p.set('failed', '1');
  p.set('page', String(f.page));
  p.set('page_size', String(f.pageSize));
  return `#/platforms/${encodeURIComponent(id)}?${p}`;
}

/** A payload as text: JSON pretty-printed, a stored string as it is. */
function payloadText(v) {
  if (v === null || v === undefined) return t('pf.no_payload');
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

function resultCell(x) {
  if (!x.failed) return h('span', { class: 'pf-ok', 'data-test': 'result' }, t('pf.success'));
  return h('span', { class: 'pf-bad', 'data-test': 'result', 'data-reason': x.reason || '' }, reasonLabel(x.reason || 'ret'));
}

function infoCard(p, admin) {
  const detHref = admin ? `#/admin/detections/${p.detection_id}` : `#/detections/${p.detection_id}`;
  return card(
    t('pf.info'),
    descList([
      [t('pf.operator_id'), h('span', { class: 'mono' }, p.operator_id), 'pf-operator-id'],
      [t('pf.platform_name'), p.platform_name || '—', 'pf-platform-name'],
      [t('pf.company'), p.company_name || '—', 'pf-company'],
      [t('pf.base_url'), h('span', { class: 'mono' }, p.base_url || '—'), 'pf-base-url'],
      [t('pf.detection'), h('a', { href: detHref }, `#${p.detection_id}`)],
      [t('pf.issued_at'), fmtSec(p.issued_at)],
    ]),
    { test: 'pf-info' },
  );
}

function contactBox(x, dir) {
  const title = t(`pf.last_${dir}_title`);
  const body = x
    ? descList([
        [t('pf.at'), fmtSec(x.at), `pf-last-${dir}-at`],
        [t('pf.interface'), h('span', { class: 'mono' }, x.interface || '—'), `pf-last-${dir}-interface`],
        [t('pf.peer'), h('span', { class: 'mono' }, x.peer || '—')],
        [t('pf.ret'), retCell(x.ret), `pf-last-${dir}-ret`],
        [t('pf.result'), resultCell({ failed: Boolean(x.reason) || x.ret !== 0, reason: x.reason })],
        [t('pf.duration'), `${Number(x.duration_ms) || 0} ms`],
      ])
    : h('p', { class: 'muted', 'data-test': `pf-last-${dir}-none` }, t('pf.never'));
  return h('div', { class: 'pf-contact', 'data-test': `pf-last-${dir}` }, h('h3', { class: 'pf-subtitle' }, title), body);
}

function reasonTable(rows, dir, onPick) {
  const head = [t('pf.reason'), t('pf.count'), t('pf.count_today'), t('pf.last_at'), t('common.actions')];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table table-compact', 'data-test': `refusals-${dir}` },
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        rows.length
          ? rows.map((r) =>
              h(
                'tr',
                { 'data-test': 'refusal-row', 'data-reason': r.reason },
                h('td', null, h('span', { 'data-test': 'refusal-label' }, reasonLabel(r.reason)), h('span', { class: 'mono muted pf-code' }, ` ${r.reason}`)),
                h('td', { class: 'num', 'data-test': 'refusal-count' }, String(r.count)),
                h('td', { class: 'num' }, String(r.today)),
                h('td', null, fmtSec(r.last_at)),
                h('td', { class: 'cell-actions' }, button(t('pf.show_these'), { kind: 'pf-link', small: true, test: 'refusal-show', onClick: () => onPick(dir, r.reason) })),
              ),
            )
          : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t(dir === 'in' ? 'pf.no_refusals' : 'pf.no_failures'))),
      ),
    ),
  );
}

function exchangeRows(x, cols) {
  let detail = null;
  const toggle = button(t('pf.expand'), { kind: 'pf-link', small: true, test: 'exchange-toggle' });
  toggle.setAttribute('aria-expanded', 'false');
  const row = h(
    'tr',
    { 'data-test': 'exchange-row', 'data-id': String(x.id), class: x.failed ? 'pf-row-failed' : null },
    h('td', null, fmtSec(x.at)),
    h('td', null, dirTag(x.direction)),
    h('td', { class: 'mono pf-itf', 'data-test': 'interface' }, x.interface),
    h('td', { class: 'mono pf-peer', title: x.peer || null }, x.peer || '—'),
    h('td', null, retCell(x.ret, true)),
    h('td', { class: 'pf-result' }, resultCell(x)),
    h('td', { class: 'num' }, `${Number(x.duration_ms) || 0} ms`),
    h('td', { class: 'cell-actions' }, toggle),
  );
  const holder = h('tr', { class: 'pf-detail-row is-hidden', 'data-test': 'exchange-detail' });
  toggle.addEventListener('click', () => {
    const open = holder.classList.contains('is-hidden');
    if (open && !detail) {
      detail = h(
        'td',
        { colspan: String(cols) },
        x.msg ? h('p', { class: 'pf-msg' }, h('strong', null, `${t('pf.msg')}：`), h('span', { 'data-test': 'exchange-msg' }, x.msg)) : null,
        h(
          'div',
          { class: 'pf-payloads' },
          h('div', null, h('div', { class: 'pf-frame-label' }, t('pf.request')), h('pre', { class: 'pf-pre', 'data-test': 'payload-request' }, payloadText(x.request))),
          h('div', null, h('div', { class: 'pf-frame-label' }, t('pf.response')), h('pre', { class: 'pf-pre', 'data-test': 'payload-response' }, payloadText(x.response))),
        ),
      );
      holder.appendChild(detail);
    }
    holder.classList.toggle('is-hidden', !open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    toggle.textContent = open ? t('pf.collapse') : t('pf.expand');
  });
  return [row, holder];
}

function exchangesCard(ctx, id, f) {
  const dirField = field({
    name: 'direction',
    label: t('pf.direction'),
    type: 'select',
    value: f.direction,
    options: [['', t('status.all')], ['in', t('pf.dir.in_long')], ['out', t('pf.dir.out_long')]],
    test: 'filter-direction',
  });
  const ifaces = INTERFACES.includes(f.iface) || !f.iface ? INTERFACES : [...INTERFACES, f.iface];
  const ifaceField = field({
    name: 'interface',
    label: t('pf.interface'),
    type: 'select',
    value: f.iface,
    options: [['', t('status.all')], ...ifaces.map((i) => [i, i])],
    test: 'filter-interface',
  });
  const failedBox = h('input', { type: 'checkbox', id: 'pf-failed-only', checked: f.failed, 'data-test': 'filter-failed' });
  const failedRow = h('div', { class: 'form-row pf-check-row' }, h('label', { class: 'pf-check', for: 'pf-failed-only' }, failedBox, t('pf.failed_only')));
  const go = (over) => ctx.navigate(toHash(id, { ...f, ...over, page: 1 }));
  const resetBtn = button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash(id, { direction: '', iface: '', reason: '', failed: false, page: 1, pageSize: f.pageSize })) });
  const filters = h(
    'form',
    { class: 'filter-bar pf-filter-bar', role: 'search', novalidate: true },
    dirField.row,
    ifaceField.row,
    failedRow,
    h('div', { class: 'filter-actions' }, button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' }), resetBtn),
  );
  const read = () => ({ direction: dirField.input.value, iface: ifaceField.input.value, failed: failedBox.checked });
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    go(read());
  });
  for (const el of [dirField.input, ifaceField.input, failedBox]) el.addEventListener('change', () => go(read()));
  const reasonTag = f.reason
    ? h(
        'div',
        { class: 'pf-reason-filter', 'data-test': 'reason-filter' },
        t('pf.reason_filter', { reason: reasonLabel(f.reason) }),
        ' ',
        button(t('pf.clear'), { kind: 'pf-link', small: true, test: 'reason-clear', onClick: () => go({ reason: '' }) }),
      )
    : null;

  const head = [t('pf.at'), t('pf.direction'), t('pf.interface'), t('pf.peer'), t('pf.ret'), t('pf.result'), t('pf.duration'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'exchange-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.direction) params.set('direction', f.direction);
  if (f.iface) params.set('interface', f.iface);
  if (f.reason) params.set('reason', f.reason);
  if (f.failed) params.set('failed', '1');
  (async () => {
    const data = await fetchList(ctx, `/tcec/platforms/${encodeURIComponent(id)}/exchanges?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    replace(tbody, items.length ? items.map((x) => exchangeRows(x, head.length)) : h('tr', null, h('td', { colspan: String(head.length), class: 'empty', 'data-test': 'exchange-empty' }, t('pf.no_exchanges'))));
    const total = Number(data.total) || 0;
    const pageSize = Number(data.page_size) || f.pageSize;
    const page = Number(data.page) || f.page;
    const bar = pager({ total, page, pageSize: SIZES.includes(pageSize) ? pageSize : f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(toHash(id, { ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, page, Math.max(1, Math.ceil(total / pageSize)));
    replace(pagerHost, bar);
  })();
  return card(t('pf.exchanges'), [h('p', { class: 'form-hint' }, t('pf.exchanges_hint')), filters, reasonTag, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'pf-exchanges' });
}

export async function platformDetailView(ctx) {
  const id = decodeURIComponent(ctx.params[0]);
  const admin = ctx.state.account.role === 'admin';
  ctx.crumbs([{ label: t('pf.title'), href: '#/platforms' }, { label: id }]);
  const p = await api.get(`/tcec/platforms/${encodeURIComponent(id)}`);
  if (!ctx.alive()) return null;
  ctx.crumbs([{ label: t('pf.title'), href: '#/platforms' }, { label: p.platform_name || id }]);
  const f = readQuery(ctx.query);
  const pick = (dir, reason) => ctx.navigate(toHash(id, { direction: dir, iface: '', reason, failed: true, page: 1, pageSize: f.pageSize }));
  const tot = p.totals || {};
  const refusals = p.refusals || { in: [], out: [] };
  return h(
    'div',
    { class: 'stack' },
    h(
      'div',
      { class: 'intro-band' },
      h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('pf.detail_title', { name: p.platform_name || id })), h('p', { class: 'page-sub' }, t('pf.detail_intro'))),
    ),
    infoCard(p, admin),
    card(
      t('pf.contacts'),
      [
        h('div', { class: 'pf-contacts' }, contactBox(p.last_in, 'in'), contactBox(p.last_out, 'out')),
        h('p', { class: 'form-hint', 'data-test': 'pf-totals' }, t('pf.totals', { in: tot.in ?? 0, refused: tot.refused_in ?? 0, out: tot.out ?? 0, failed: tot.failed_out ?? 0 })),
      ],
      { test: 'pf-contacts' },
    ),
    card(
      t('pf.refusals'),
      [
        h('h3', { class: 'pf-subtitle' }, t('pf.refusals_in')),
        reasonTable(refusals.in || [], 'in', pick),
        h('h3', { class: 'pf-subtitle' }, t('pf.refusals_out')),
        reasonTable(refusals.out || [], 'out', pick),
        h('p', { class: 'form-hint' }, t('pf.refusals_hint')),
      ],
      { test: 'pf-refusals' },
    ),
    exchangesCard(ctx, id, f),
  );
}
