// 检测记录 (#/runs): conformance runs (docs/conformance.md, docs/api-runs.md) with filters (plan,
// state, target) and paging in the hash; operators see their own runs, admins every run. Also
// the pieces other pages use: the state and verdict badges, plan names, the 一致性检测 panel of
// the pile page and the 平台符合性检测 panel of a self detection. One run is run_detail.js.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, has, getLang } from '../i18n.js';
import { field } from '../form.js';
import { card, button, message, pager, disablePager, fetchList, apiErrorText, withLoading } from '../ui.js';

const SIZES = [10, 20, 50];
export const RUN_STATES = ['queued', 'running', 'passed', 'failed', 'error', 'cancelled'];
export const ACTIVE_STATES = ['queued', 'running'];
export const VERDICTS = ['pending', 'running', 'pass', 'fail', 'skipped', 'error'];
export const PLAN_NAMES = ['ocpp16-core', 'ocpp201-core', 'tcec102-platform'];

const RUN_TONE = { queued: 'wait', running: 'busy', passed: 'ok', failed: 'bad', error: 'err', cancelled: 'off' };
const VERDICT_TONE = { pending: 'wait', running: 'busy', pass: 'ok', fail: 'bad', skipped: 'off', error: 'err' };

/** Epoch seconds (or an ISO text) as "2026-11-25 20:40:05" in the browser's time zone. */
export function fmtEpoch(v) {
  if (v === null || v === undefined || v === '') return '—';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const planLabel = (plan) => (plan && has(`run.plan.${plan}`) ? t(`run.plan.${plan}`) : plan || '—');
export const runNo = (run) => `JL${String(run.id).padStart(6, '0')}`;

export function runStateBadge(state, extra) {
  const known = RUN_STATES.includes(state);
  return h(
    'span',
    { class: ['badge', `badge-run-${known ? RUN_TONE[state] : 'unknown'}`, extra], 'data-test': 'run-state', 'data-state': state || '' },
    known ? t(`run.state.${state}`) : state || '—',
  );
}

export function verdictBadge(verdict) {
  const known = VERDICTS.includes(verdict);
  return h(
    'span',
    { class: ['verdict-tag', `verdict-tag-${known ? VERDICT_TONE[verdict] : 'off'}`], 'data-test': 'check-verdict', 'data-verdict': verdict || '' },
    verdict === 'running' ? h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }) : null,
    known ? t(`run.verdict.${verdict}`) : verdict || '—',
  );
}

/** Checks done (decided) out of all, from a run's summary. */
export function progressOf(summary) {
  const s = summary || {};
  const total = Number(s.total) || 0;
  const done = total - (Number(s.pending) || 0) - (Number(s.running) || 0);
  return { total, done: Math.max(0, done), pct: total ? Math.round((Math.max(0, done) * 100) / total) : 0 };
}

/** A progress bar (a native <progress>: no style attribute under the CSP) with "n / N". */
export function progressBar(summary, test) {
  const p = progressOf(summary);
  return h(
    'div',
    { class: 'run-progress', 'data-test': test || 'run-progress', 'data-done': String(p.done), 'data-total': String(p.total) },
    h('progress', { class: 'run-progress-bar', max: String(p.total || 1), value: String(p.done), 'aria-label': t('run.progress') }),
    h('span', { class: 'run-progress-label', 'data-test': 'run-progress-label' }, t('run.progress_n', { done: p.done, total: p.total })),
  );
}

/** Where a run's target is shown: the pile page, or the platform page. */
export function targetLink(run) {
  const label = run.target_name ? `${run.target_name} ` : '';
  if (run.target_kind === 'pile') {
    return h('a', { href: `#/piles/${encodeURIComponent(run.target)}`, 'data-test': 'run-target' }, label, h('span', { class: 'mono' }, run.target));
  }
  return h('a', { href: `#/platforms/${encodeURIComponent(run.target)}`, 'data-test': 'run-target' }, label, h('span', { class: 'mono' }, run.target));
}

let plansCache = null;
/** GET /conformance-plans once per page load. */
export function loadPlans() {
  if (!plansCache) {
    plansCache = api.get('/conformance-plans').then((p) => (Array.isArray(p) ? p : (p && p.items) || []));
    plansCache.catch(() => {
      plansCache = null;
    });
  }
  return plansCache;
}

/** A check's title in the current language. */
export function checkTitle(c) {
  const en = getLang() === 'en';
  return (en ? c.title_en || c.title_zh : c.title_zh || c.title_en) || c.check_id || c.id || '—';
}

/** A reason the server wrote in English, in Chinese where it is one of the fixed ones (db/runs.c,
 * the engine's dependency skips); anything else as it came. */
export function reasonText(reason) {
  if (reason === null || reason === undefined || reason === '') return null;
  if (getLang() === 'en') return reason;
  const fixed = { cancelled: 'run.reason.cancelled', 'cancelled before it started': 'run.reason.cancelled_queued', 'the gateway restarted': 'run.reason.restarted', 'the run ended before this check': 'run.reason.ended_before' };
  if (fixed[reason]) return t(fixed[reason]);
  let m = /^(\d+) required checks? did not pass$/.exec(reason);
  if (m) return t('run.reason.required_failed', { n: m[1] });
  m = /^needs ([a-z0-9.-]+), which did not pass$/.exec(reason);
  if (m) return t('run.reason.needs', { id: m[1] });
  return reason;
}

/** The text of a start error: a run-specific text for the code when there is one. */
export function runErrorText(err) {
  if (err && err.code && has(`run.err.${err.code}`)) return t(`run.err.${err.code}`);
  return apiErrorText(err);
}

/** The table of runs (items of GET /conformance-runs): compact for the panels, with target for the list. */
function runRows(items, opts = {}) {
  return items.map((r) =>
    h(
      'tr',
      { 'data-test': 'run-row', 'data-run': String(r.id), 'data-state': r.state || '' },
      h('td', { class: 'mono' }, h('a', { href: `#/runs/${r.id}`, 'data-test': 'run-link' }, runNo(r))),
      h('td', null, planLabel(r.plan)),
      opts.target ? h('td', { class: 'cell-name' }, targetLink(r)) : null,
      h('td', null, runStateBadge(r.state)),
      h('td', null, progressBar(r.summary, 'run-row-progress')),
      h('td', { class: 'nowrap' }, fmtEpoch(r.created_at)),
      h('td', { class: 'nowrap' }, fmtEpoch(r.finished_at)),
      h('td', { class: 'cell-actions' }, h('a', { href: `#/runs/${r.id}`, class: 'link-action', 'data-test': 'run-view' }, t('common.view'))),
    ),
  );
}

function runHead(opts = {}) {
  return [t('run.col.no'), t('run.col.plan'), opts.target ? t('run.col.target') : null, t('run.col.state'), t('run.col.progress'), t('run.col.created'), t('run.col.finished'), t('common.actions')].filter(Boolean);
}

function readQuery(query) {
  const size = Number(query.get('page_size'));
  const plan = query.get('plan');
  const state = query.get('state');
  const target = (query.get('target') || '').trim();
  return {
    plan: PLAN_NAMES.includes(plan) ? plan : '',
    state: RUN_STATES.includes(state) ? state : '',
    target: /^[A-Za-z0-9]{1,64}$/.test(target) ? target : '',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

function toHash(f) {
  const p = new URLSearchParams();
  if (f.plan) p.set('plan', f.plan);
  if (f.state) p.set('state', f.state);
  if (f.target) p.set('target', f.target);
  p.set('page', String(f.page));
  p.set('page_size', String(f.pageSize));
  return `#/runs?${p}`;
}

export async function runListView(ctx) {
  const admin = ctx.state.account.role === 'admin';
  ctx.crumbs([{ label: t('run.list_title') }]);
  const f = readQuery(ctx.query);

  const planField = field({ name: 'plan', label: t('run.col.plan'), type: 'select', value: f.plan, options: [['', t('status.all')], ...PLAN_NAMES.map((p) => [p, planLabel(p)])], test: 'filter-plan' });
  const stateField = field({ name: 'state', label: t('run.col.state'), type: 'select', value: f.state, options: [['', t('status.all')], ...RUN_STATES.map((s) => [s, t(`run.state.${s}`)])], test: 'filter-state' });
  const targetField = field({ name: 'target', label: t('run.col.target'), value: f.target, placeholder: t('run.target_ph'), maxlength: 64, test: 'filter-target' });
  const resetBtn = button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(toHash({ plan: '', state: '', target: '', page: 1, pageSize: f.pageSize })) });
  const filters = h(
    'form',
    { class: 'filter-bar run-filter-bar', role: 'search', novalidate: true },
    planField.row,
    stateField.row,
    targetField.row,
    h('div', { class: 'filter-actions' }, button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' }), resetBtn),
  );
  const read = () => ({ plan: planField.input.value, state: stateField.input.value, target: targetField.input.value.trim() });
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(toHash({ ...f, ...read(), page: 1 }));
  });
  for (const el of [planField.input, stateField.input]) el.addEventListener('change', () => ctx.navigate(toHash({ ...f, ...read(), page: 1 })));

  const head = runHead({ target: true });
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'run-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const root = h(
    'div',
    { class: 'stack', 'data-test': 'run-list' },
    h('div', { class: 'intro-band' }, h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('run.list_title')), h('p', { class: 'page-sub' }, t(admin ? 'run.list_intro_admin' : 'run.list_intro')))),
    card(t('run.list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'run-card' }),
  );

  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.plan) params.set('plan', f.plan);
  if (f.state) params.set('state', f.state);
  if (f.target) params.set('target', f.target);
  (async () => {
    const data = await fetchList(ctx, `/conformance-runs?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    const filtered = f.plan || f.state || f.target;
    replace(tbody, items.length ? runRows(items, { target: true }) : h('tr', null, h('td', { colspan: String(head.length), class: 'empty', 'data-test': 'run-empty' }, filtered ? t('common.empty') : t('run.empty'))));
    const total = Number(data.total) || 0;
    const pageSize = Number(data.page_size) || f.pageSize;
    const page = Number(data.page) || f.page;
    const bar = pager({ total, page, pageSize: SIZES.includes(pageSize) ? pageSize : f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(toHash({ ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, page, Math.max(1, Math.ceil(total / pageSize)));
    replace(pagerHost, bar);
  })();
  return root;
}

/** The recent runs of `target` (newest first) as a compact table, with a link to all of them. */
function recentRuns(ctx, query, filterFn, emptyText) {
  const head = runHead();
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const errorHost = h('div');
  const table = h('table', { class: 'table table-compact', 'data-test': 'recent-runs' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  (async () => {
    const data = await fetchList(ctx, `/conformance-runs?${query}`, tbody, errorHost);
    if (!data) return;
    const items = (data.items || []).filter(filterFn || (() => true));
    replace(tbody, items.length ? runRows(items) : h('tr', null, h('td', { colspan: String(head.length), class: 'empty', 'data-test': 'recent-runs-empty' }, emptyText)));
  })();
  return h('div', null, errorHost, h('div', { class: 'table-wrap' }, table));
}

/** The start row: a plan select (when more than one fits), 开始检测 and the error beside it. */
function startRow(plans, onStart, opts) {
  const error = h('div', { class: 'field-error run-start-error', 'data-test': 'run-start-error', role: 'alert' });
  const startBtn = button(opts.label || t('run.start'), { kind: 'primary', test: 'run-start' });
  let select = null;
  if (plans.length > 1) {
    select = field({ name: 'plan', label: t('run.col.plan'), type: 'select', value: plans[0].name, options: plans.map((p) => [p.name, planLabel(p.name)]), test: 'run-plan' });
  }
  const planText = (name) => {
    const p = plans.find((x) => x.name === name);
    return p ? t('run.plan_checks', { n: (p.checks || []).length, required: (p.checks || []).filter((c) => c.required).length }) : '';
  };
  const planInfo = h('span', { class: 'muted run-plan-info', 'data-test': 'run-plan-info' }, plans.length ? planText(plans[0].name) : '');
  if (select) select.input.addEventListener('change', () => { planInfo.textContent = planText(select.input.value); error.textContent = ''; });
  startBtn.addEventListener('click', () => {
    replace(error);
    const plan = select ? select.input.value : plans[0] && plans[0].name;
    withLoading(startBtn, t('run.starting'), async () => {
      try {
        await onStart(plan);
      } catch (err) {
        // run_active names the run that holds the target: a link to it
        const active = err.code === 'run_active' ? (err.details || []).find((d) => d && d.run_id) : null;
        replace(error, runErrorText(err), active ? [' ', h('a', { href: `#/runs/${Number(active.run_id)}`, 'data-test': 'run-active-link' }, t('run.see_active'))] : null);
      }
    });
  });
  return h(
    'div',
    { class: 'run-start' },
    select ? h('div', { class: 'run-start-plan' }, select.row) : h('div', { class: 'run-start-single' }, h('span', { class: 'run-start-label' }, t('run.col.plan'), '：'), h('strong', { 'data-test': 'run-plan-name' }, plans[0] ? planLabel(plans[0].name) : '—')),
    h('div', { class: 'run-start-actions' }, startBtn, planInfo),
    error,
  );
}

/** 一致性检测 on the pile page (an accessed OCPP pile, its operator or an admin): the plan of the
 * pile's protocol, 开始检测 (POST /conformance-runs, then the run page), and the pile's recent runs. */
export function pileRunsCard(ctx, pile) {
  const body = h('div', { class: 'run-panel' }, message('info', t('common.loading')));
  const id = pile.equipment_id;
  loadPlans()
    .then((all) => {
      if (!ctx.alive()) return;
      const plans = all.filter((p) => p.target_kind === 'pile' && p.protocol === pile.protocol);
      const start = plans.length
        ? startRow(plans, async (plan) => {
            const run = await api.post('/conformance-runs', { plan, equipment_id: id });
            ctx.navigate(`#/runs/${run.id}`);
          }, {})
        : message('warning', t('run.no_plan', { protocol: pile.protocol || '—' }), 'run-no-plan');
      replace(
        body,
        h('p', { class: 'card-intro' }, t('run.pile_intro')),
        start,
        h('div', { class: 'rc-history-head' }, h('h3', { class: 'pd-subtitle' }, t('run.recent')), h('a', { href: toHash({ plan: '', state: '', target: id, page: 1, pageSize: 10 }), 'data-test': 'run-all' }, t('run.all'))),
        recentRuns(ctx, new URLSearchParams({ target: id, page: '1', page_size: '5' }), null, t('run.none_pile')),
      );
    })
    .catch((err) => {
      if (ctx.alive()) replace(body, message('error', apiErrorText(err)));
    });
  return card(t('run.pile_title'), body, { test: 'pd-runs' });
}

/** 平台符合性检测 on a self detection (operator): start a tcec102-platform run when the
 * detection is approved or failed, and its runs. */
export function detectionRunsCard(ctx, app, operatorId) {
  const canStart = app.status === 'approved' || app.status === 'failed';
  const body = h('div', { class: 'run-panel' });
  const parts = [h('p', { class: 'card-intro' }, t('run.det_intro'))];
  if (canStart) {
    const plans = [{ name: 'tcec102-platform', checks: [] }];
    const row = startRow(plans, async () => {
      const run = await api.post('/conformance-runs', { plan: 'tcec102-platform', detection_id: app.id });
      ctx.navigate(`#/runs/${run.id}`);
    }, { label: app.status === 'failed' ? t('run.det_restart') : t('run.det_start') });
    parts.push(row);
    if (!app.credentials_issued_at) parts.push(h('p', { class: 'form-hint', 'data-test': 'run-cred-hint' }, t('run.det_cred_hint')));
    loadPlans()
      .then((all) => {
        const p = all.find((x) => x.name === 'tcec102-platform');
        const info = row.querySelector('[data-test="run-plan-info"]');
        if (p && info) info.textContent = t('run.plan_checks', { n: (p.checks || []).length, required: (p.checks || []).filter((c) => c.required).length });
      })
      .catch(() => {});
  } else if (app.status === 'testing') {
    parts.push(message('info', t('run.det_testing'), 'run-det-testing'));
  }
  if (operatorId) {
    parts.push(h('h3', { class: 'pd-subtitle' }, t('run.det_runs')));
    parts.push(recentRuns(ctx, new URLSearchParams({ plan: 'tcec102-platform', target: operatorId, page: '1', page_size: '20' }), (r) => !r.detection_id || r.detection_id === app.id, t('run.none_det')));
  }
  replace(body, parts);
  return card(t('run.det_title'), body, { test: 'detection-runs' });
}
