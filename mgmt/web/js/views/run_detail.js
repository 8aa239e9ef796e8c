// 检测记录详情 (#/runs/{id}): one conformance run (GET /conformance-runs/{id}). The head names the plan, the
// target, the state, the progress and the counts by verdict; while the run is queued or running
// the page asks again every second (and stops when the run ends or the page is left), shows the
// check in progress with what it does and, when it needs a person (card, cable, anything else),
// what to do and 已完成此操作 (POST .../checks/{seq}/confirm); 取消检测 asks the engine to stop.
// Below, every check with its verdict and reason; a row opens to the exchanged frames, each
// pretty-printed as text in a <pre> (frames are the pile's or platform's data: never markup).
// 导出 PDF / JSON download the report.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { card, button, message, descList, apiErrorText, withLoading, toast } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import {
  ACTIVE_STATES,
  fmtEpoch,
  planLabel,
  runNo,
  runStateBadge,
  verdictBadge,
  progressBar,
  targetLink,
  loadPlans,
  checkTitle,
  runErrorText,
  reasonText,
} from './runs.js';

const POLL_MS = 1000;
const NEEDS = ['card', 'cable', 'person'];

/** The checks of `run` with the plan's titles, `what`, needs and timeout filled in where the
 * run's own rows lack them. */
function withPlan(run, plans) {
  const plan = (plans || []).find((p) => p.name === run.plan);
  const byId = new Map(((plan && plan.checks) || []).map((c) => [c.id, c]));
  return (run.checks || []).map((c) => {
    const p = byId.get(c.check_id) || {};
    return {
      ...c,
      title_zh: c.title_zh || p.title_zh,
      title_en: c.title_en || p.title_en,
      what: c.what || p.what,
      needs: Array.isArray(c.needs) ? c.needs : p.needs || [],
      timeout_s: c.timeout_s ?? p.timeout_s,
    };
  });
}

/** The check in progress: the running one, else (queued or between checks) none. */
const currentCheck = (checks) => checks.find((c) => c.verdict === 'running') || null;

/** JSON pretty-printed; an OCPP-J message keeps its head on one line: [2, "id", "Action", {…}]. */
function prettyFrame(v) {
  if (Array.isArray(v) && [2, 3, 4].includes(v[0]) && v.length >= 3) {
    const head = v.slice(0, -1).map((x) => JSON.stringify(x)).join(', ');
    return `[${head}, ${JSON.stringify(v[v.length - 1], null, 2)}]`;
  }
  return JSON.stringify(v, null, 2);
}

/** A frame's text pretty-printed when it is JSON, else as it came; with a one-line caption for
 * OCPP-J messages (CALL / CALLRESULT / CALLERROR, action, message id). */
function frameView(fr, i, kind) {
  let text = typeof fr.text === 'string' ? fr.text : JSON.stringify(fr.text);
  let caption = null;
  try {
    const v = JSON.parse(text);
    text = prettyFrame(v);
    if (Array.isArray(v) && [2, 3, 4].includes(v[0])) {
      const type = { 2: 'CALL', 3: 'CALLRESULT', 4: 'CALLERROR' }[v[0]];
      caption = h('span', { class: 'frame-caption mono' }, type, v[0] === 2 ? ` ${v[2]}` : v[0] === 4 ? ` ${v[2]}` : '', h('span', { class: 'muted' }, ` · ${t('run.frame_msgid')} ${v[1]}`));
    }
  } catch {
    /* not JSON (a cut frame, an HTTP line): shown as it is */
  }
  const dir = fr.dir === 'out' ? 'out' : 'in';
  return h(
    'li',
    { class: ['frame', `frame-${dir}`], 'data-test': 'frame', 'data-dir': dir },
    h(
      'div',
      { class: 'frame-head' },
      h('span', { class: ['frame-dir', `frame-dir-${dir}`], 'data-test': 'frame-dir' }, dir === 'out' ? '↑ ' : '↓ ', t(`run.dir.${kind}.${dir}`)),
      h('span', { class: 'frame-ms mono', 'data-test': 'frame-ms' }, `+${Number(fr.ms) || 0} ms`),
      caption,
      h('span', { class: 'frame-no muted' }, `#${i + 1}`),
    ),
    h('pre', { class: 'frame-text', 'data-test': 'frame-text', tabindex: '0' }, text),
    fr.cut ? h('div', { class: 'frame-cut', 'data-test': 'frame-cut' }, t('run.frame_cut', { bytes: fr.cut === true ? '?' : fr.cut })) : null,
  );
}

function framesBlock(c, kind) {
  const frames = Array.isArray(c.frames) ? c.frames : [];
  return h(
    'div',
    { class: 'check-frames', 'data-test': 'check-frames' },
    c.what ? h('p', { class: 'check-what' }, h('strong', null, t('run.what'), '：'), h('span', { 'data-test': 'check-what' }, c.what)) : null,
    h(
      'p',
      { class: 'check-times muted' },
      t('run.check_times', { started: fmtEpoch(c.started_at), finished: fmtEpoch(c.finished_at) }),
      c.timeout_s ? ` · ${t('run.timeout', { s: c.timeout_s })}` : '',
      c.confirmed_at ? ` · ${t('run.confirmed_at', { at: fmtEpoch(c.confirmed_at) })}` : '',
    ),
    frames.length ? h('ol', { class: 'frame-list' }, frames.map((fr, i) => frameView(fr, i, kind))) : h('p', { class: 'muted', 'data-test': 'frames-none' }, c.verdict === 'pending' ? t('run.frames_pending') : t('run.frames_none')),
    c.frames_dropped ? h('div', { class: 'msg msg-warning frame-dropped', 'data-test': 'frames-dropped' }, t('run.frames_dropped', { n: c.frames_dropped })) : null,
  );
}

/** One check as a table row and its (hidden) frames row; update(c) redraws it in place, so an
 * opened row stays open while the page polls. The page polls without frames (?frames=0): an
 * opened row fetches its check's frames with `load(seq)`, again when the check changed. */
function checkRow(c0, kind, cols, load) {
  let c = c0;
  let open = false;
  let framesSig = '';
  let loading = 0;
  const toggle = button(t('run.frames_show'), { kind: 'pf-link', small: true, test: 'check-toggle' });
  toggle.setAttribute('aria-expanded', 'false');
  const verdictCell = h('td');
  const reasonCell = h('td', { class: 'check-reason', 'data-test': 'check-reason' });
  const countCell = h('span', { class: 'muted check-count', 'data-test': 'frame-count' });
  const titleCell = h('td', { class: 'check-title-cell' });
  const row = h(
    'tr',
    { 'data-test': 'check-row', 'data-seq': String(c.seq), 'data-check': c.check_id },
    h('td', { class: 'num' }, String(c.seq)),
    titleCell,
    h('td', null, c.required ? h('span', { class: 'req-tag', 'data-test': 'check-required' }, t('run.required')) : h('span', { class: 'opt-tag' }, t('run.optional'))),
    verdictCell,
    reasonCell,
    h('td', { class: 'cell-actions' }, toggle, countCell),
  );
  const detailCell = h('td', { colspan: String(cols) });
  const detail = h('tr', { class: 'pf-detail-row check-detail is-hidden', 'data-test': 'check-detail', 'data-seq': String(c.seq) }, detailCell);

  function draw() {
    row.classList.toggle('is-current', c.verdict === 'running');
    row.classList.toggle('check-failed', c.verdict === 'fail' || c.verdict === 'error');
    row.setAttribute('data-verdict', c.verdict || '');
    replace(
      titleCell,
      h('div', { class: 'check-title', 'data-test': 'check-title' }, checkTitle(c)),
      h('div', { class: 'mono muted check-id' }, c.check_id, (c.needs || []).filter((n) => NEEDS.includes(n)).map((n) => h('span', { class: 'need-tag' }, t(`run.need_tag.${n}`)))),
    );
    replace(verdictCell, verdictBadge(c.verdict));
    replace(reasonCell, reasonText(c.reason) || (c.verdict === 'running' ? t('run.in_progress') : '—'));
    const n = Array.isArray(c.frames) ? c.frames.length : Number(c.frames_count) || 0;
    countCell.textContent = n ? t('run.frames_n', { n: n + (Number(c.frames_dropped) || 0) }) : '';
    const sig = `${c.verdict}|${n}|${c.frames_dropped}|${c.confirmed_at}|${c.finished_at}`;
    if (open && sig !== framesSig) {
      framesSig = sig;
      showFrames();
    }
  }
  async function showFrames() {
    if (Array.isArray(c.frames)) {
      replace(detailCell, framesBlock(c, kind));
      return;
    }
    const mine = ++loading;
    try {
      const full = await load(c.seq);
      if (mine === loading && open) replace(detailCell, framesBlock(full, kind));
    } catch (err) {
      if (mine === loading) replace(detailCell, message('error', t('run.poll_error', { error: apiErrorText(err) })));
    }
  }
  toggle.addEventListener('click', () => {
    open = !open;
    if (open) {
      framesSig = '';
      draw();
    }
    detail.classList.toggle('is-hidden', !open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    toggle.textContent = open ? t('run.frames_hide') : t('run.frames_show');
  });
  draw();
  return {
    rows: [row, detail],
    update(next) {
      c = next;
      draw();
    },
  };
}

/** What the person at the pile (or platform) does for the current check, with the confirm
 * button; null when the check needs nobody. */
function needBox(run, c, onConfirm) {
  const needs = (c.needs || []).filter((n) => NEEDS.includes(n));
  if (!needs.length) return null;
  const text = needs.map((n) => t(`run.need.${n}`)).join(t('run.need_join'));
  const confirmed = Boolean(c.confirmed_at);
  const btn = confirmed ? null : button(t('run.confirm'), { kind: 'primary', test: 'run-confirm' });
  const error = h('div', { class: 'field-error', 'data-test': 'run-confirm-error', role: 'alert' });
  if (btn) {
    btn.addEventListener('click', () =>
      withLoading(btn, t('common.working'), async () => {
        error.textContent = '';
        try {
          await onConfirm(c.seq);
        } catch (err) {
          error.textContent = runErrorText(err);
        }
      }),
    );
  }
  return h(
    'div',
    { class: 'need-box', 'data-test': 'run-need', 'data-needs': needs.join(' ') },
    h('div', { class: 'need-icon', 'aria-hidden': 'true' }, '!'),
    h(
      'div',
      { class: 'need-body' },
      h('div', { class: 'need-text', 'data-test': 'run-need-text' }, text),
      h('div', { class: 'need-hint' }, t(confirmed ? 'run.need_confirmed' : 'run.need_hint', { s: c.timeout_s || '—', at: fmtEpoch(c.confirmed_at) })),
      h('div', { class: 'need-actions' }, btn, confirmed ? h('span', { class: 'need-done', 'data-test': 'run-confirmed' }, '✓ ', t('run.confirmed')) : null),
      error,
    ),
  );
}

function currentBox(run, checks, onConfirm) {
  if (run.state === 'queued') return message('info', t('run.queued_text'), 'run-queued');
  if (run.state !== 'running') return null;
  const c = currentCheck(checks);
  if (!c) return message('info', t('run.between'), 'run-between');
  return h(
    'div',
    { class: 'current-check', 'data-test': 'run-current', 'data-seq': String(c.seq), 'data-check': c.check_id },
    h(
      'div',
      { class: 'current-head' },
      h('span', { class: 'current-label' }, h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }), t('run.current')),
      h('span', { class: 'current-seq' }, t('run.check_no', { seq: c.seq, total: checks.length })),
      h('strong', { class: 'current-title', 'data-test': 'run-current-title' }, checkTitle(c)),
      h('span', { class: 'mono muted' }, c.check_id),
    ),
    c.what ? h('p', { class: 'current-what', 'data-test': 'run-current-what' }, c.what) : null,
    needBox(run, c, onConfirm),
  );
}

function summaryTiles(run) {
  const s = run.summary || {};
  const tiles = [
    ['pass', s.pass],
    ['fail', s.fail],
    ['skipped', s.skipped],
    ['error', s.error],
    ['pending', (Number(s.pending) || 0) + (Number(s.running) || 0)],
  ];
  return h(
    'div',
    { class: 'run-tiles', 'data-test': 'run-summary' },
    tiles.map(([k, n]) => h('div', { class: ['run-tile', `run-tile-${k}`], 'data-test': `sum-${k}`, 'data-n': String(Number(n) || 0) }, h('span', { class: 'run-tile-num' }, String(Number(n) || 0)), h('span', { class: 'run-tile-label' }, t(`run.sum.${k}`)))),
  );
}

function resultText(run) {
  if (run.state === 'passed') return message('success', t('run.result.passed'), 'run-result');
  if (run.state === 'failed') return message('error', t('run.result.failed', { reason: reasonText(run.reason) || '' }), 'run-result');
  if (run.state === 'error') return message('error', t('run.result.error', { reason: reasonText(run.reason) || '—' }), 'run-result');
  if (run.state === 'cancelled') return message('warning', t('run.result.cancelled'), 'run-result');
  if (run.cancel_requested) return message('warning', t('run.cancelling'), 'run-cancelling');
  return null;
}

export async function runDetailView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('run.list_title'), href: '#/runs' }, { label: t('run.detail') }]);
  // polled without frames: a check's frames are fetched when its row is opened
  const runUrl = `/conformance-runs/${encodeURIComponent(id)}`;
  const [first, plans] = await Promise.all([api.get(`${runUrl}?frames=0`), loadPlans().catch(() => [])]);
  if (!ctx.alive()) return null;
  let run = first;
  const kind = run.target_kind === 'platform' ? 'platform' : 'pile';
  ctx.crumbs([{ label: t('run.list_title'), href: '#/runs' }, { label: runNo(run) }]);

  const stateHost = h('span', { class: 'run-state-host' });
  const headInfo = h('div');
  const progressHost = h('div', { class: 'run-progress-host' });
  const tilesHost = h('div');
  const resultHost = h('div', { 'aria-live': 'polite' });
  const currentHost = h('div', { class: 'run-current-host', 'aria-live': 'polite' });
  const pollError = h('div', { 'data-test': 'run-poll-error' });
  const cancelBtn = button(t('run.cancel'), { kind: 'danger', test: 'run-cancel' });
  const base = `/api/v1/conformance-runs/${encodeURIComponent(id)}`;
  const pdf = h('a', { class: 'btn btn-default', href: `${base}/report.pdf`, download: `${t('run.report_name')}-${runNo(run)}.pdf`, 'data-test': 'run-export-pdf' }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('run.export_pdf'));
  const json = h('a', { class: 'btn btn-default', href: `${base}/report.json`, download: `${t('run.report_name')}-${runNo(run)}.json`, 'data-test': 'run-export-json' }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('run.export_json'));

  const cols = 6;
  const head = [t('run.col.seq'), t('run.col.check'), t('run.col.required'), t('run.col.verdict'), t('run.col.reason'), t('run.col.frames')];
  const tbody = h('tbody');
  const rows = new Map();
  let checks = withPlan(run, plans);
  for (const c of checks) {
    const r = checkRow(c, kind, cols, (seq) => api.get(`${runUrl}/checks/${seq}`));
    rows.set(c.seq, r);
    r.rows.forEach((x) => tbody.appendChild(x));
  }
  const table = h('table', { class: 'table table-compact check-table', 'data-test': 'check-table' }, h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))), tbody);

  let currentSig = null;
  let timer = null;
  let stopped = false;

  async function confirm(seq) {
    await api.post(`/conformance-runs/${encodeURIComponent(id)}/checks/${seq}/confirm`);
    toast(t('run.confirm_done'));
    await poll();
  }

  function draw() {
    replace(stateHost, runStateBadge(run.state, 'badge-large'));
    replace(
      headInfo,
      descList([
        [t('run.col.plan'), h('span', { 'data-test': 'run-plan' }, planLabel(run.plan), ' ', h('span', { class: 'mono muted' }, run.plan))],
        [t('run.col.target'), targetLink(run)],
        [t('run.created'), fmtEpoch(run.created_at)],
        [t('run.started'), fmtEpoch(run.started_at), 'run-started'],
        [t('run.finished'), fmtEpoch(run.finished_at), 'run-finished'],
        [t('run.state_reason'), h('span', { 'data-test': 'run-reason' }, reasonText(run.reason) || '—')],
      ]),
    );
    replace(progressHost, progressBar(run.summary));
    replace(tilesHost, summaryTiles(run));
    replace(resultHost, resultText(run));
    const active = ACTIVE_STATES.includes(run.state);
    cancelBtn.classList.toggle('is-hidden', !active);
    cancelBtn.disabled = Boolean(run.cancel_requested);
    checks = withPlan(run, plans);
    for (const c of checks) rows.get(c.seq)?.update(c);
    const cur = currentCheck(checks);
    const sig = `${run.state}|${run.cancel_requested}|${cur ? `${cur.seq}|${cur.confirmed_at}` : ''}|${document.documentElement.lang}`;
    if (sig !== currentSig) {
      currentSig = sig;
      replace(currentHost, run.cancel_requested && active ? null : currentBox(run, checks, confirm));
    }
  }

  const left = () => !ctx.alive() || !document.body.contains(table);
  function stop() {
    stopped = true;
    clearTimeout(timer);
    timer = null;
  }
  async function poll() {
    if (stopped || left()) return stop();
    try {
      const next = await api.get(`${runUrl}?frames=0`);
      if (stopped || left()) return stop();
      run = next;
      replace(pollError);
      draw();
    } catch (err) {
      if (left()) return stop();
      replace(pollError, message('error', t('run.poll_error', { error: apiErrorText(err) })));
    }
    return undefined;
  }
  function schedule() {
    clearTimeout(timer);
    if (stopped) return;
    if (!ACTIVE_STATES.includes(run.state)) return stop();
    timer = setTimeout(async () => {
      if (!document.hidden) await poll();
      schedule();
    }, POLL_MS);
  }
  const onHash = () => {
    if (ctx.alive() && document.body.contains(table)) return;
    stop();
    window.removeEventListener('hashchange', onHash);
  };
  window.addEventListener('hashchange', onHash);

  cancelBtn.addEventListener('click', async () => {
    const done = await confirmDialog({
      title: t('run.cancel_title'),
      text: t('run.cancel_text', { no: runNo(run) }),
      okText: t('run.cancel'),
      danger: true,
      test: 'dialog-cancel-run',
      action: () => api.post(`/conformance-runs/${encodeURIComponent(id)}/cancel`),
    });
    if (!done) return;
    // a queued run ends at once; a running one when the engine sees the flag
    toast(done.state === 'cancelled' ? t('run.result.cancelled') : t('run.cancel_sent'));
    await poll();
    schedule();
  });

  draw();
  schedule();

  return h(
    'div',
    { class: 'stack', 'data-test': 'run-detail', 'data-run': String(run.id) },
    h('div', { class: 'toolbar' }, h('a', { href: '#/runs', class: 'link-back' }, `‹ ${t('run.back')}`)),
    card(
      null,
      [
        h(
          'div',
          { class: 'detail-summary' },
          h('div', { class: 'detail-title' }, h('h1', { class: 'page-title' }, t('run.title_no', { no: runNo(run) })), stateHost),
          h('div', { class: 'detail-actions', 'data-test': 'run-actions' }, cancelBtn, pdf, json),
        ),
        h('div', { class: 'run-overview' }, progressHost, tilesHost),
        resultHost,
        pollError,
        headInfo,
      ],
      { class: 'card-summary', test: 'run-head' },
    ),
    currentHost,
    card(t('run.checks'), [h('p', { class: 'form-hint' }, t('run.checks_hint')), h('div', { class: 'table-wrap' }, table)], { test: 'run-checks' }),
  );
}

