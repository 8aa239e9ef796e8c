// 充电桩详情 (#/piles/{equipment_id}): the pile's registered fields and connectors (GET
// /piles/{id}) and what the gateway knows of it (GET /piles/{id}/live): 在线状态, 设备信息 from
// its boot, 充电枪状态 (OCPP and T/CEC codes), 当前充电, 最近充电记录 and 协议违规 with the
// offending frames. 刷新 reloads the live part; it also reloads every 10 s while the page shows.
// The pile's operator and admins send 远程操作 from here; admins change its OCPP 设置
// (pile_commands.js) and start 一致性检测 (conformance runs, runs.js).

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { card, button, message, descList, apiErrorText, withLoading } from '../ui.js';
import { FIELDS, EDITABLE, recordBadge, enumLabel, dash } from './records_common.js';
import { commandsCard, settingsCard } from './pile_commands.js';
import { ocppCell, tcecCell } from './live_common.js';
import { pileRunsCard } from './runs.js';

const REFRESH_MS = 10000;

/** "2026-11-25 20:40:05": fmtTime with seconds, for the live data. */
function fmtSec(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${fmtTime(iso)}:${p(d.getSeconds())}`;
}

const kwh = (wh) => (wh === null || wh === undefined ? '—' : (Number(wh) / 1000).toFixed(2));


function table(head, rows, test, emptyText) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table table-compact', 'data-test': test },
      h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, emptyText))),
    ),
  );
}

function registeredCard(pile) {
  const f = (name) => {
    const meta = FIELDS.pile.find((m) => m.name === name) || {};
    const v = pile[name];
    return meta.kind === 'enum' ? enumLabel(name, v) : dash(v);
  };
  const rows = [
    [t('rf.pile.equipment_id'), h('span', { class: 'mono' }, pile.equipment_id), 'info-equipment-id'],
    [t('rf.pile.station_id'), h('span', null, pile.station_name ? `${pile.station_name} ` : '', h('span', { class: 'mono muted' }, dash(pile.station_id)))],
    [t('rf.pile.equipment_type'), f('equipment_type')],
    [t('rf.pile.protocol'), f('protocol')],
    [t('rf.pile.power'), f('power')],
    [t('rf.pile.production_date'), f('production_date')],
    [t('rf.pile.manufacturer_name'), f('manufacturer_name')],
    [t('rf.pile.manufacturer_id'), f('manufacturer_id')],
    [t('rf.pile.equipment_model'), f('equipment_model')],
    [t('rl.status'), recordBadge(pile.status)],
    [t('os.boot_status'), h('span', { 'data-test': 'pd-boot-status', 'data-value': pile.boot_status || '' }, pile.boot_status ? t(`os.boot.${pile.boot_status}`) : '—')],
    [t('os.security_profile'), h('span', { 'data-test': 'pd-security-profile', 'data-value': String(pile.security_profile ?? '') }, pile.security_profile ? t(`os.profile.${pile.security_profile}`) : '—')],
  ];
  const cols = ['connector_id', 'connector_name', 'connector_type', 'voltage_upper_limits', 'voltage_lower_limits', 'current', 'power', 'park_no', 'national_standard'];
  const enumCols = new Set(FIELDS.connector.filter((m) => m.kind === 'enum').map((m) => m.name));
  const conns = (pile.connectors || []).slice().sort((a, b) => (a.ocpp_connector_id || 0) - (b.ocpp_connector_id || 0));
  const connTable = table(
    [t('rf.connector.ocpp_connector_id'), ...cols.map((c) => t(`rf.connector.${c}`))],
    conns.map((c) =>
      h(
        'tr',
        { 'data-test': 'reg-connector' },
        h('td', { class: 'num' }, dash(c.ocpp_connector_id)),
        cols.map((name) => h('td', { class: name === 'connector_id' ? 'mono' : null }, enumCols.has(name) ? enumLabel(name, c[name]) : dash(c[name]))),
      ),
    ),
    'reg-connectors',
    t('pl.conn_none'),
  );
  return card(t('pd.registered'), [descList(rows), h('h3', { class: 'pd-subtitle' }, t('pl.sec_connectors')), connTable], { test: 'pd-registered' });
}

function liveCards(live) {
  const online = Boolean(live.online);
  const status = card(
    t('pd.status'),
    descList([
      [t('pl.online'), h('span', { 'data-test': 'pd-online', 'data-online': online ? 'true' : 'false' }, h('span', { class: ['online-dot', online ? 'is-online' : null] }), online ? t('pl.online_yes') : t('pl.online_no'))],
      [t('pd.last_seen'), fmtSec(live.last_seen_at), 'pd-last-seen'],
      [t('pd.protocol'), live.protocol ? enumLabel('protocol', live.protocol) : '—', 'pd-protocol'],
      [t('pd.violations'), h('span', { class: live.violations ? 'pd-bad' : null }, String(live.violations ?? 0)), 'pd-violation-count'],
    ]),
    { test: 'pd-status' },
  );
  const b = live.boot;
  const boot = card(
    t('pd.boot'),
    b
      ? descList([
          [t('pd.vendor'), dash(b.vendor), 'pd-vendor'],
          [t('pd.model'), dash(b.model), 'pd-model'],
          [t('pd.serial'), h('span', { class: 'mono' }, dash(b.serial)), 'pd-serial'],
          [t('pd.firmware'), h('span', { class: 'mono' }, dash(b.firmware)), 'pd-firmware'],
          [t('pd.boot_reason'), dash(b.reason), 'pd-boot-reason'],
          [t('pd.boot_at'), fmtSec(b.at), 'pd-boot-at'],
        ])
      : h('p', { class: 'muted', 'data-test': 'pd-no-boot' }, t('pd.no_boot')),
    { test: 'pd-boot' },
  );
  const conns = table(
    [t('pd.connector'), t('pd.ocpp_status'), t('pd.tcec_status'), t('pd.error_code'), t('pd.updated_at')],
    (live.connectors || []).map((c) =>
      h(
        'tr',
        { 'data-test': 'live-connector', 'data-connector': String(c.connector_id) },
        h('td', { class: 'mono' }, String(c.connector_id), c.evse_connector_id ? h('span', { class: 'muted' }, ` / ${c.evse_connector_id}`) : null),
        h('td', null, ocppCell(c.status)),
        h('td', null, tcecCell(c.tcec_status)),
        h('td', { class: ['mono', c.error_code && c.error_code !== 'NoError' ? 'pd-bad' : null] }, dash(c.error_code)),
        h('td', null, fmtSec(c.updated_at)),
      ),
    ),
    'live-connectors',
    t('pd.no_connectors'),
  );
  const connCard = card(t('pd.connectors'), [conns, h('p', { class: 'form-hint' }, t('pd.connector_hint'))], { test: 'pd-connectors' });

  const tx = live.open_transaction;
  const open = card(
    t('pd.open_tx'),
    tx
      ? descList([
          [t('pd.tx_id'), h('span', { class: 'mono' }, dash(tx.transaction_ref || tx.transaction_id)), 'pd-open-tx-id'],
          [t('pd.connector'), dash(tx.connector_id)],
          [t('pd.id_tag'), h('span', { class: 'mono' }, dash(tx.id_tag))],
          [t('pd.started_at'), fmtSec(tx.started_at)],
          [t('pd.meter_start'), kwh(tx.meter_start_wh)],
        ])
      : h('p', { class: 'muted', 'data-test': 'pd-no-open-tx' }, t('pd.no_open_tx')),
    { test: 'pd-open-tx' },
  );
  const txs = table(
    [t('pd.tx_id'), t('pd.connector'), t('pd.id_tag'), t('pd.started_at'), t('pd.stopped_at'), t('pd.energy'), t('pd.stop_reason')],
    (live.transactions || []).map((x) =>
      h(
        'tr',
        { 'data-test': 'pd-tx', 'data-tx': String(x.transaction_id) },
        h('td', { class: 'mono' }, dash(x.transaction_ref || x.transaction_id)),
        h('td', { class: 'num' }, dash(x.connector_id)),
        h('td', { class: 'mono' }, dash(x.id_tag)),
        h('td', null, fmtSec(x.started_at)),
        h('td', null, x.stopped_at ? fmtSec(x.stopped_at) : h('span', { class: 'live-state live-state-busy' }, t('pd.in_progress'))),
        h('td', { class: 'num' }, kwh(x.energy_wh)),
        h('td', null, dash(x.stop_reason)),
      ),
    ),
    'pd-transactions',
    t('pd.no_tx'),
  );
  const viols = live.recent_violations || [];
  const violBody = [
    h('p', { class: live.violations ? 'pd-viol-count pd-bad' : 'pd-viol-count muted', 'data-test': 'pd-viol-total' }, t('pd.violations_total', { n: live.violations ?? 0 })),
    viols.length
      ? h(
          'ol',
          { class: 'pd-viol-list' },
          viols.map((v) =>
            h(
              'li',
              { class: 'pd-viol', 'data-test': 'pd-violation' },
              descList([
                [t('pd.viol_at'), fmtSec(v.at)],
                [t('pd.viol_code'), h('span', { class: 'mono' }, dash(v.code))],
                [t('pd.viol_path'), h('code', null, dash(v.path))],
                [t('pd.viol_reason'), dash(v.reason)],
              ]),
              h('div', { class: 'pd-frame-label muted' }, t('pd.viol_frame')),
              h('pre', { class: 'pd-frame', 'data-test': 'pd-frame', tabindex: '0' }, v.frame || ''),
            ),
          ),
        )
      : null,
  ];
  return [
    h('div', { class: 'pd-grid' }, status, boot),
    connCard,
    open,
    card(t('pd.recent_tx'), txs, { test: 'pd-recent-tx' }),
    card(t('pd.violations_title'), violBody, { test: 'pd-violations' }),
  ];
}

export async function pileDetailView(ctx) {
  const key = decodeURIComponent(ctx.params[0]);
  const isAdmin = ctx.state.account && ctx.state.account.role === 'admin';
  ctx.crumbs(isAdmin ? [{ label: t('nav.access_review'), href: '#/admin/access' }, { label: t('pd.title') }] : [{ label: t('nav.access') }, { label: t('pl.title'), href: '#/piles' }, { label: t('pd.title') }]);
  const pile = await api.get(`/piles/${encodeURIComponent(key)}`);
  if (!ctx.alive()) return null;

  const liveHost = h('div', { class: 'stack', 'data-test': 'pd-live', 'aria-live': 'polite' }, message('info', t('common.loading')));
  const stamp = h('span', { class: 'muted', 'data-test': 'pd-refreshed' });
  const refreshBtn = button(t('pd.refresh'), { test: 'pd-refresh' });
  let timer = null;
  let busy = false;

  async function load() {
    if (busy) return;
    busy = true;
    try {
      const live = await api.get(`/piles/${encodeURIComponent(key)}/live`);
      if (!ctx.alive()) return;
      replace(liveHost, liveCards(live));
      stamp.textContent = t('pd.refreshed_at', { at: fmtSec(new Date().toISOString()) });
    } catch (err) {
      if (!ctx.alive()) return;
      replace(liveHost, message('error', apiErrorText(err), 'pd-live-error'));
    } finally {
      busy = false;
    }
  }
  function tick() {
    // navigating away (another route renders) ends the timer
    if (!ctx.alive() || !document.body.contains(refreshBtn)) {
      clearInterval(timer);
      timer = null;
      return;
    }
    if (!document.hidden) load();
  }
  refreshBtn.addEventListener('click', () => withLoading(refreshBtn, t('pd.refreshing'), load));
  timer = setInterval(tick, REFRESH_MS);
  const stop = () => {
    if (ctx.alive()) return;
    clearInterval(timer);
    timer = null;
    window.removeEventListener('hashchange', stop);
  };
  window.addEventListener('hashchange', stop);
  load();

  const back = isAdmin ? null : h('a', { href: '#/piles', class: 'link-back' }, `‹ ${t('common.back')}`);
  // the registered fields are on this page: a link to the form only where they can be changed
  const edit = !isAdmin && EDITABLE.includes(pile.status) ? h('a', { class: 'btn btn-default', href: `#/piles/${encodeURIComponent(key)}/edit`, 'data-test': 'pd-edit' }, t('common.edit')) : null;
  // remote operations: the pile's operator and admins, once it is accessed and speaks OCPP
  const mine = ctx.state.account && pile.account_id === ctx.state.account.id;
  const ocpp = pile.protocol === 'ocpp1.6' || pile.protocol === 'ocpp2.0.1';
  const commands = (isAdmin || mine) && ocpp && pile.status === 'accessed' ? commandsCard(pile) : null;
  // 一致性检测: the same people and piles
  const runs = (isAdmin || mine) && ocpp && pile.status === 'accessed' ? pileRunsCard(ctx, pile) : null;
  const regHost = h('div', null, registeredCard(pile));
  const settings = isAdmin && ocpp ? settingsCard(pile, (p) => replace(regHost, registeredCard(p))) : null;
  return h(
    'div',
    { class: 'stack', 'data-test': 'pile-detail' },
    h('div', { class: 'toolbar' }, back),
    h(
      'div',
      { class: 'page-head pd-head' },
      h('div', null, h('h1', { class: 'page-title' }, t('pd.title'), ' ', h('span', { class: 'mono pd-id' }, key)), h('p', { class: 'page-sub' }, t('pd.intro'))),
      h('div', { class: 'card-tools' }, stamp, refreshBtn, edit),
    ),
    liveHost,
    runs,
    commands,
    settings,
    regHost,
  );
}
