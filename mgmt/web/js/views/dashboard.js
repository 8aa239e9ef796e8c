// 首页 (#/dashboard): the admins' home page, GET /admin/dashboard — cards with the figures
// (piles online, today's energy and sessions, reviews waiting), piles by protocol, connector
// statuses, the online piles of the last 24 hours as an inline SVG chart (with a title, a
// description and a table of its points for screen readers), the reviews waiting with links to
// their lists, and the newest violations. 刷新 reads it again.

import { api } from '../api.js';
import { h, s, replace, uid } from '../dom.js';
import { t, getLang, fmtTime, has } from '../i18n.js';
import { card, button, message, apiErrorText, withLoading } from '../ui.js';
import { ocppLabel, tcecLabel } from './live_common.js';
import { fmtSec, reasonLabel } from './platforms.js';

const PROTOCOL_LABEL = { 'ocpp1.6': 'OCPP 1.6J', 'ocpp2.0.1': 'OCPP 2.0.1', platform: null };

function fmtInt(n) {
  return new Intl.NumberFormat(getLang() === 'en' ? 'en-US' : 'zh-CN').format(Number(n) || 0);
}

function fmtKwh(n) {
  return new Intl.NumberFormat(getLang() === 'en' ? 'en-US' : 'zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(n) || 0);
}

const protocolLabel = (p) => PROTOCOL_LABEL[p] || t(`dash.protocol.${p}`);

/** One figure card: label, big value (with unit), and a line under it. */
function stat(label, value, unit, foot, test, kind) {
  return h(
    'section',
    { class: ['dash-stat', kind ? `dash-stat-${kind}` : null], 'data-test': test },
    h('h2', { class: 'dash-stat-label' }, label),
    h('div', { class: 'dash-stat-value' }, h('span', { class: 'dash-stat-num', 'data-test': `${test}-value` }, value), unit ? h('span', { class: 'dash-stat-unit' }, unit) : null),
    h('div', { class: 'dash-stat-foot' }, foot),
  );
}

function statsRow(d) {
  const p = d.piles;
  const pending = d.pending;
  const waiting = pending.accounts + pending.detections + pending.access_applications;
  return h(
    'div',
    { class: 'dash-stats' },
    stat(t('dash.online'), fmtInt(p.online), t('dash.unit_piles'), h('span', null, t('dash.online_foot', { accessed: fmtInt(p.accessed) }), ' · ', h('span', { 'data-test': 'dash-offline' }, t('dash.offline_n', { n: fmtInt(p.offline) }))), 'dash-online', 'blue'),
    stat(t('dash.energy'), fmtKwh(d.today.energy_kwh), 'kWh', t('dash.energy_foot'), 'dash-energy', 'green'),
    stat(t('dash.sessions'), fmtInt(d.today.sessions), t('dash.unit_sessions'), t('dash.sessions_foot', { n: fmtInt(d.today.finished) }), 'dash-sessions', 'gold'),
    stat(t('dash.pending'), fmtInt(waiting), t('dash.unit_items'), t('dash.pending_foot'), 'dash-pending-total', waiting > 0 ? 'red' : 'grey'),
  );
}

function protocolTable(d) {
  const head = [t('dash.protocol'), t('dash.accessed'), t('dash.col_online'), t('dash.col_offline'), t('dash.rate')];
  return h(
    'table',
    { class: 'table', 'data-test': 'dash-protocols' },
    h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      null,
      d.piles.by_protocol.map((r) =>
        h(
          'tr',
          { 'data-test': 'dash-protocol-row', 'data-protocol': r.protocol },
          h('th', { scope: 'row' }, protocolLabel(r.protocol)),
          h('td', { class: 'num', 'data-test': 'accessed' }, fmtInt(r.accessed)),
          h('td', { class: 'num dash-ok', 'data-test': 'online' }, fmtInt(r.online)),
          h('td', { class: 'num', 'data-test': 'offline' }, fmtInt(r.offline)),
          h('td', { class: 'num' }, r.accessed ? `${Math.round((r.online / r.accessed) * 100)}%` : '—'),
        ),
      ),
    ),
  );
}

const STATUS_KIND = { Available: 'ok', Charging: 'blue', Faulted: 'bad', Offline: 'off', Unavailable: 'off' };

function connectorPanel(d) {
  const c = d.connectors;
  const list = h(
    'ul',
    { class: 'dash-status-list', 'data-test': 'dash-connectors' },
    c.by_status.map((x) => {
      const label = x.status === 'Offline' ? t('dash.offline') : ocppLabel(x.status) || x.status;
      return h(
        'li',
        { class: ['dash-status', `dash-status-${STATUS_KIND[x.status] || 'other'}`], 'data-test': 'dash-connector-status', 'data-status': x.status },
        h('span', { class: 'dash-status-name' }, label, label !== x.status && x.status !== 'Offline' ? h('span', { class: 'dash-status-code', lang: 'en' }, x.status) : null),
        h('span', { class: 'dash-status-count', 'data-test': 'count' }, fmtInt(x.count)),
      );
    }),
  );
  const tcec = c.by_tcec_status.length
    ? h(
        'p',
        { class: 'dash-note', 'data-test': 'dash-tcec' },
        `${t('dash.tcec')}: `,
        c.by_tcec_status.map((x, i) => [i ? ' · ' : '', `${tcecLabel(x.tcec_status) || x.tcec_status} ${fmtInt(x.count)}`]),
      )
    : null;
  return [h('p', { class: 'dash-note' }, t('dash.connectors_note', { n: fmtInt(c.reported) })), list, tcec];
}

/** The chart's y scale: a round top (1, 2 or 5 times a power of ten per step) and its ticks. */
function yScale(max) {
  const top = Math.max(1, max);
  for (let p = 1; ; p *= 10) {
    for (const m of [1, 2, 5]) {
      const step = m * p;
      if (Math.ceil(top / step) <= 5) {
        const n = Math.ceil(top / step);
        return { top: n * step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
      }
    }
  }
}

const hhmm = (ms) => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

/** The online piles of the last 24 hours: a line with a dot per point, a break where samples
 * are missing (the gateway was down), and the same numbers in a table. */
function chart(series) {
  const pts = series.points.map((p) => ({ at: Date.parse(p.at), online: p.online }));
  const from = Date.parse(series.from_at);
  const to = Date.parse(series.to_at);
  const W = 760;
  const H = 240;
  const L = 48;
  const R = 16;
  const T = 14;
  const B = 30;
  const x = (ms) => L + ((ms - from) / Math.max(1, to - from)) * (W - L - R);
  const { top, ticks } = yScale(Math.max(0, ...pts.map((p) => p.online)));
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const values = pts.map((p) => p.online);
  const desc = pts.length
    ? t('dash.chart_desc', { n: pts.length, max: Math.max(...values), min: Math.min(...values), last: values[values.length - 1] })
    : t('dash.chart_empty');

  const grid = ticks.map((v) => [
    s('line', { class: 'chart-grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
    s('text', { class: 'chart-label', x: L - 8, y: y(v) + 4, 'text-anchor': 'end' }, String(v)),
  ]);
  const hours = [];
  const first = new Date(from);
  first.setMinutes(0, 0, 0);
  for (let ms = first.getTime() + 3600e3; ms <= to; ms += 3600e3) if (new Date(ms).getHours() % 4 === 0) hours.push(ms);
  const xTicks = hours.map((ms) => [
    s('line', { class: 'chart-tick', x1: x(ms), x2: x(ms), y1: H - B, y2: H - B + 5 }),
    s('text', { class: 'chart-label', x: x(ms), y: H - 8, 'text-anchor': 'middle' }, hhmm(ms)),
  ]);
  // one path, a new segment after a gap of more than three steps
  const gap = series.step_s * 3000;
  let d = '';
  pts.forEach((p, i) => {
    const move = i === 0 || p.at - pts[i - 1].at > gap;
    d += `${move ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.online).toFixed(1)} `;
  });
  const svg = s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, 'data-test': 'dash-chart', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: titleId }, t('dash.chart_title')),
    s('desc', { id: descId }, desc),
    grid,
    s('line', { class: 'chart-axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
    xTicks,
    d ? s('path', { class: 'chart-line', d: d.trim() }) : null,
    pts.map((p) => s('circle', { class: 'chart-point', cx: x(p.at).toFixed(1), cy: y(p.online).toFixed(1), r: 3, 'data-test': 'chart-point', 'data-online': p.online }, s('title', null, `${fmtTime(new Date(p.at).toISOString())} ${t('dash.chart_point', { n: p.online })}`))),
  );
  const table = h(
    'details',
    { class: 'dash-chart-data' },
    h('summary', null, t('dash.chart_table')),
    h(
      'table',
      { class: 'table', 'data-test': 'dash-chart-table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('dash.time')), h('th', { scope: 'col' }, t('dash.col_online')))),
      h('tbody', null, pts.map((p) => h('tr', null, h('td', null, fmtTime(new Date(p.at).toISOString())), h('td', { class: 'num' }, String(p.online))))),
    ),
  );
  return [
    h('div', { class: 'dash-chart-wrap' }, svg),
    pts.length ? null : h('p', { class: 'dash-note', 'data-test': 'dash-chart-empty' }, t('dash.chart_empty')),
    table,
  ];
}

function pendingPanel(p) {
  const rows = [
    ['accounts', '#/admin/accounts?status=pending', t('dash.pending_accounts')],
    ['detections', '#/admin/detections?status=submitted', t('dash.pending_detections')],
    ['access_applications', '#/admin/access?status=submitted', t('dash.pending_access')],
  ];
  return h(
    'ul',
    { class: 'dash-todo' },
    rows.map(([key, href, label]) =>
      h(
        'li',
        { class: ['dash-todo-item', p[key] > 0 ? 'has-items' : null] },
        h('a', { href, 'data-test': `dash-pending-${key}` }, h('span', { class: 'dash-todo-label' }, label), h('span', { class: 'dash-todo-count', 'data-test': 'count' }, fmtInt(p[key]))),
      ),
    ),
  );
}

function codeLabel(v) {
  if (v.kind === 'tcec_refused') return reasonLabel(v.code);
  if (v.kind === 'handshake_refused' && has(`dash.refusal.${v.code}`)) return t(`dash.refusal.${v.code}`);
  return v.code || '—';
}

function subjectCell(v) {
  if (!v.subject) return '—';
  if (v.kind === 'ocpp_violation') return h('a', { href: `#/piles/${encodeURIComponent(v.subject)}`, class: 'mono' }, v.subject);
  if (v.kind === 'tcec_refused') return h('a', { href: `#/platforms/${encodeURIComponent(v.subject)}`, class: 'mono' }, v.subject);
  return h('span', { class: 'mono' }, v.subject);
}

function violationsTable(list) {
  const head = [t('dash.time'), t('dash.kind'), t('dash.subject'), t('dash.code'), t('dash.detail')];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-test': 'dash-violations' },
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        list.length
          ? list.map((v) =>
              h(
                'tr',
                { 'data-test': 'dash-violation', 'data-kind': v.kind },
                h('td', { class: 'nowrap' }, fmtSec(v.at)),
                h('td', null, h('span', { class: ['dash-kind', `dash-kind-${v.kind}`] }, t(`dash.kind.${v.kind}`))),
                h('td', null, subjectCell(v)),
                h('td', { 'data-test': 'code' }, codeLabel(v)),
                h('td', { class: 'mono dash-detail' }, v.detail || '—'),
              ),
            )
          : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('dash.no_violations'))),
      ),
    ),
  );
}

export async function dashboardView(ctx) {
  ctx.crumbs([]);
  const host = h('div', { class: 'stack' }, message('info', t('common.loading')));
  const updated = h('span', { class: 'dash-updated', 'data-test': 'dash-updated' });
  const refresh = button(t('dash.refresh'), { small: true, test: 'dash-refresh' });
  const root = h(
    'div',
    { class: 'stack dash' },
    h(
      'div',
      { class: 'intro-band' },
      h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('dash.title')), h('p', { class: 'page-sub' }, t('dash.intro'))),
      h('div', { class: 'dash-tools' }, updated, refresh),
    ),
    host,
  );

  async function load() {
    let d;
    try {
      d = await api.get('/admin/dashboard');
    } catch (err) {
      if (ctx.alive()) replace(host, message('error', apiErrorText(err), 'dash-error'));
      return;
    }
    if (!ctx.alive()) return;
    replace(updated, t('dash.updated', { time: fmtSec(d.generated_at) }));
    replace(
      host,
      statsRow(d),
      h(
        'div',
        { class: 'dash-grid' },
        card(t('dash.chart_title'), chart(d.online_24h), { test: 'dash-chart-card' }),
        card(t('dash.todo'), pendingPanel(d.pending), { test: 'dash-todo-card' }),
        card(t('dash.by_protocol'), h('div', { class: 'table-wrap' }, protocolTable(d)), { test: 'dash-protocol-card' }),
        card(t('dash.connectors'), connectorPanel(d), { test: 'dash-connector-card' }),
      ),
      card(t('dash.violations'), [h('p', { class: 'dash-note' }, t('dash.violations_note')), violationsTable(d.recent_violations)], { test: 'dash-violation-card' }),
    );
  }
  refresh.addEventListener('click', () => withLoading(refresh, t('common.loading'), load));
  load();
  return root;
}
