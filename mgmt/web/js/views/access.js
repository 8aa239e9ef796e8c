// 充电设施接入 → 申请接入: the operator's access applications (状态 badges, 新建申请 behind the
// access gate), the guide's import wizard
//   ① 上传充电站信息 (跳过此步>> when stations exist) → ② 上传充电桩信息 → ③ 确认提交,
// with upload progress, then "正在校验…", and on 422 import_failed the table of every bad cell;
// and an application's page: its records, its history and, once approved, 获取充电桩密码.

import { api, upload } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { field } from '../form.js';
import { card, button, message, pager, disablePager, apiErrorText, toast, withLoading, detectionBadge, descList, fetchList } from '../ui.js';
import { confirmDialog, infoDialog } from '../dialog.js';
import { progressBar } from './regfields.js';
import { detectionAudit } from './detection_common.js';
import { secretRow } from './piles.js';
import { copyText } from './tokens.js';
import { ACCESS_STATUSES, SIZES, accessNo, importProblems, stagedTables, loadAreas } from './records_common.js';

const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
const XLSX_ACCEPT = '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const TEMPLATES = {
  stations: { url: '/api/v1/templates/stations.xlsx', name: '1.先导入-充电站信息.xlsx' },
  piles: { url: '/api/v1/templates/piles.xlsx', name: '2.后导入-充电桩信息.xlsx' },
};

function readQuery(query) {
  const status = query.get('status') || '';
  const size = Number(query.get('page_size'));
  return {
    status: ACCESS_STATUSES.includes(status) ? status : '',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
}

const listHash = (base, f) => `${base}?${new URLSearchParams({ status: f.status, page: String(f.page), page_size: String(f.pageSize) })}`;

/** The status filter and the table of applications, shared with 接入审核. */
export function accessTable(ctx, base, f, opts) {
  const status = field({
    name: 'status',
    label: t('det.status'),
    type: 'select',
    value: f.status,
    options: [['', t('status.all')], ...ACCESS_STATUSES.map((s) => [s, t(`dstatus.${s}`)])],
    test: 'filter-status',
  });
  const filters = h('form', { class: 'filter-bar', role: 'search', novalidate: true }, status.row, h('div', { class: 'filter-actions' }, button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' })));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(listHash(base, { ...f, status: status.input.value, page: 1 }));
  });
  status.input.addEventListener('change', () => filters.requestSubmit());
  const head = [t('acc.no'), ...(opts.admin ? [t('det.operator')] : []), t('acc.station_count'), t('acc.pile_count'), t('det.created_at'), t('field.submitted_at'), t('field.reviewed_at'), t('det.status'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': opts.test }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const params = new URLSearchParams({ page: String(f.page), page_size: String(f.pageSize) });
  if (f.status) params.set('status', f.status);
  (async () => {
    const data = await fetchList(ctx, `/access-applications?${params}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((a) =>
            h(
              'tr',
              { 'data-test': opts.rowTest, 'data-id': String(a.id) },
              h('td', { class: 'mono' }, h('a', { href: `${opts.detail}/${a.id}` }, accessNo(a))),
              opts.admin ? h('td', { class: 'cell-name' }, a.company_name || '—') : null,
              h('td', { class: 'num' }, String(a.station_count ?? 0)),
              h('td', { class: 'num' }, String(a.pile_count ?? 0)),
              h('td', null, fmtTime(a.created_at)),
              h('td', null, fmtTime(a.submitted_at)),
              h('td', null, fmtTime(a.reviewed_at)),
              h('td', null, detectionBadge(a.status)),
              h('td', { class: 'cell-actions' }, h('a', { href: `${opts.detail}/${a.id}`, class: 'link-action', 'data-test': `${opts.rowTest}-open` }, opts.actionText(a))),
            ),
          )
        : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, opts.empty)),
    );
    const total = Number(data.total) || 0;
    const bar = pager({ total, page: f.page, pageSize: f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(listHash(base, { ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, f.page, Math.max(1, Math.ceil(total / f.pageSize)));
    replace(pagerHost, bar);
  })();
  return [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost];
}

export async function accessListView(ctx) {
  ctx.crumbs([{ label: t('nav.access') }, { label: t('acc.title') }]);
  const f = readQuery(ctx.query);
  const newBtn = button(t('acc.new'), { kind: 'primary', test: 'access-new' });
  newBtn.prepend(h('span', { class: 'icon-plus', 'aria-hidden': 'true' }));
  newBtn.disabled = true;
  const gateHost = h('div', { class: 'gate', 'data-test': 'access-gate' });
  const reasonHost = h('span', { class: 'gate-inline muted', 'data-test': 'access-new-reason' });
  api
    .get('/access-gate')
    .then((g) => {
      if (!ctx.alive()) return;
      const ok = Boolean(g && g.allowed);
      newBtn.disabled = !ok;
      if (!ok) {
        newBtn.title = t('det.gate.denied_text');
        reasonHost.textContent = t('acc.new_denied');
      }
      replace(
        gateHost,
        h(
          'div',
          { class: ['gate-box', ok ? 'gate-ok' : 'gate-no'], role: 'status' },
          h('span', { class: 'gate-icon', 'aria-hidden': 'true' }, ok ? '✓' : '!'),
          h('strong', { class: 'gate-title' }, ok ? t('det.gate.allowed') : t('det.gate.denied')),
          h('span', { class: 'gate-text', title: (g && g.reason) || null }, ok ? t('acc.gate_ok') : t('det.gate.denied_text')),
          !ok ? h('a', { class: 'gate-link', href: '#/detections' }, t('acc.to_detection')) : null,
        ),
      );
    })
    .catch(() => {});
  newBtn.addEventListener('click', () =>
    withLoading(newBtn, t('common.working'), async () => {
      try {
        const app = await api.post('/access-applications');
        ctx.navigate(`#/access/${app.id}`);
      } catch (err) {
        toast(apiErrorText(err), 'error');
      }
    }),
  );
  return h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    h('div', { class: 'intro-band' }, h('div', { class: 'intro-text' }, h('h1', { class: 'page-title' }, t('acc.title')), h('p', { class: 'page-sub' }, t('acc.intro'))), gateHost),
    card(t('acc.list'), accessTable(ctx, '#/access', f, { test: 'access-table', rowTest: 'access-row', detail: '#/access', empty: t('acc.empty'), actionText: (a) => (a.status === 'draft' ? t('acc.continue') : t('common.view')) }), {
      test: 'access-card',
      tools: h('div', { class: 'card-tools' }, reasonHost, newBtn),
    }),
  );
}

// ---------- the import wizard ----------

const STEP_KEYS = ['acc.step.stations', 'acc.step.piles', 'acc.step.submit'];

function templateLink(kind) {
  const tpl = TEMPLATES[kind];
  return h('a', { class: 'doc-link', href: tpl.url, download: tpl.name, 'data-test': `template-${kind}` }, `《${tpl.name}》`);
}

/**
 * An upload area for `kind` (stations | piles): choosing a file sends it at once. The progress
 * bar covers the upload, then says 正在校验… until the server has checked every row.
 * onDone(answer) after a 200.
 */
function importArea(appId, kind, onDone) {
  const progress = progressBar();
  progress.el.classList.add('progress-inline');
  const resultHost = h('div', { 'data-test': `import-result-${kind}` });
  const input = h('input', { type: 'file', class: 'file-native', accept: XLSX_ACCEPT, id: uid(`import-${kind}`), 'data-test': `import-file-${kind}` });
  const zone = h(
    'label',
    { class: 'dropzone', for: input.id, 'data-test': `dropzone-${kind}` },
    h('span', { class: 'dropzone-icon', 'aria-hidden': 'true' }),
    h('span', { class: 'dropzone-title' }, t('acc.upload_choose')),
    h('span', { class: 'dropzone-hint' }, t('acc.upload_hint')),
  );
  const current = h('div', { class: 'upload-current muted', 'data-test': `upload-current-${kind}` });
  const area = h('div', { class: 'upload-block' }, h('div', { class: 'upload-label' }, t(`acc.upload_label.${kind}`)), input, zone, current, progress.el, resultHost);
  const label = progress.el.querySelector('.progress-label');

  async function send(file) {
    replace(resultHost);
    if (!/\.xlsx$/i.test(file.name)) {
      replace(resultHost, message('error', t('acc.not_xlsx')));
      return;
    }
    if (file.size > MAX_IMPORT_BYTES) {
      replace(resultHost, message('error', t('acc.too_large')));
      return;
    }
    current.textContent = t('acc.uploading_file', { name: file.name });
    zone.classList.add('is-busy');
    input.disabled = true;
    progress.el.classList.remove('is-validating');
    progress.set(0);
    const fd = new FormData();
    fd.append('file', file, file.name);
    try {
      const res = await upload(`/access-applications/${appId}/${kind}`, fd, (frac) => {
        if (frac >= 1) {
          progress.set(1);
          progress.el.classList.add('is-validating');
          label.textContent = t('acc.validating');
        } else {
          progress.set(frac);
        }
      });
      progress.reset();
      current.textContent = '';
      onDone(res, file);
    } catch (err) {
      progress.reset();
      current.textContent = t('acc.file_was', { name: file.name });
      if (err.code === 'import_failed') replace(resultHost, importProblems(err));
      else if (err.status === 413) replace(resultHost, message('error', t('acc.too_large')));
      else replace(resultHost, message('error', apiErrorText(err)));
    } finally {
      zone.classList.remove('is-busy');
      input.disabled = false;
      input.value = '';
    }
  }
  input.addEventListener('change', () => {
    if (input.files && input.files[0]) send(input.files[0]);
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('is-over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('is-over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('is-over');
    if (e.dataTransfer.files && e.dataTransfer.files[0]) send(e.dataTransfer.files[0]);
  });
  return area;
}

function accessWizard(ctx, app, hasStations) {
  const w = { app, step: 1, notice: null };
  const s = Number(ctx.query.get('step'));
  if ([1, 2, 3].includes(s)) w.step = s;
  else if (app.pile_count > 0) w.step = 3;
  else if (app.station_count > 0) w.step = 2;
  const stepsHost = h('div');
  const paneHost = h('div');
  const root = card(null, [stepsHost, paneHost], { class: 'wizard', test: 'access-wizard' });

  function show(n) {
    w.step = n;
    history.replaceState(null, '', `#/access/${w.app.id}?step=${n}`);
    replace(
      stepsHost,
      h(
        'ol',
        { class: 'steps steps-wizard', 'data-test': 'wizard-steps' },
        STEP_KEYS.map((k, i) => {
          const m = i + 1;
          const inner = [h('span', { class: 'step-num' }, m < n ? '✓' : String(m)), h('span', { class: 'step-name' }, t(k))];
          return h('li', { class: ['step', m < n ? 'is-done' : null, m === n ? 'is-current' : null], 'aria-current': m === n ? 'step' : null, 'data-test': `step-${m}` }, m !== n ? h('button', { type: 'button', class: 'step-link', on: { click: () => show(m) } }, inner) : inner);
        }),
      ),
    );
    replace(paneHost, n === 1 ? stepStations() : n === 2 ? stepPiles() : stepSubmit());
    const heading = paneHost.querySelector('h2');
    if (heading) heading.focus();
  }

  const notice = () => {
    const n = w.notice;
    w.notice = null;
    return n ? message('success', n, 'import-ok') : null;
  };

  function stepStations() {
    const a = w.app;
    const next = button(a.station_count > 0 ? t('det.next') : t('acc.skip'), { kind: a.station_count > 0 ? 'primary' : 'default', class: 'btn-large', test: a.station_count > 0 ? 'wizard-next' : 'wizard-skip', onClick: () => show(2) });
    const canSkip = a.station_count > 0 || hasStations;
    return h(
      'div',
      { class: 'step-pane', 'data-test': 'pane-stations' },
      h('div', { class: 'step-head' }, h('h2', { class: 'step-title', tabindex: '-1' }, t('acc.step1_title')), !a.station_count && hasStations ? h('button', { type: 'button', class: 'skip-link', 'data-test': 'skip-link', on: { click: () => show(2) } }, t('acc.skip')) : null),
      notice(),
      h(
        'ol',
        { class: 'guide-steps' },
        h('li', null, t('acc.guide_s1a'), templateLink('stations'), t('acc.guide_s1b')),
        h('li', null, t('acc.guide_s2')),
      ),
      h('div', { class: 'msg msg-warning guide-warning', 'data-test': 'guide-warning' }, h('strong', null, t('acc.note')), t('acc.spaces_note')),
      docPanel('stations'),
      a.station_count > 0 ? message('info', t('acc.staged_stations', { n: a.station_count }), 'staged-note') : null,
      importArea(a.id, 'stations', (res) => {
        w.app = res.application || { ...w.app, station_count: res.staged };
        w.notice = t('acc.stations_ok', { n: res.staged });
        show(2);
      }),
      h('div', { class: 'wizard-actions' }, canSkip ? next : h('span', { class: 'muted' }, t('acc.need_stations'))),
    );
  }

  function stepPiles() {
    const a = w.app;
    const prev = button(t('det.prev'), { class: 'btn-large', test: 'wizard-prev', onClick: () => show(1) });
    const next = button(t('det.next'), { kind: 'primary', class: 'btn-large', test: 'wizard-next', onClick: () => show(3) });
    next.disabled = !(a.pile_count > 0 || a.station_count > 0);
    return h(
      'div',
      { class: 'step-pane', 'data-test': 'pane-piles' },
      h('div', { class: 'step-head' }, h('h2', { class: 'step-title', tabindex: '-1' }, t('acc.step2_title'))),
      notice(),
      h('ol', { class: 'guide-steps' }, h('li', null, t('acc.guide_p1a'), templateLink('piles'), t('acc.guide_p1b')), h('li', null, t('acc.guide_p2'))),
      h('div', { class: 'msg msg-warning guide-warning' }, h('strong', null, t('acc.note')), t('acc.spaces_note')),
      docPanel('piles'),
      a.pile_count > 0 ? message('info', t('acc.staged_piles', { n: a.pile_count }), 'staged-note') : null,
      importArea(a.id, 'piles', (res) => {
        w.app = res.application || { ...w.app, pile_count: res.staged };
        w.notice = t('acc.piles_ok', { n: res.staged });
        show(3);
      }),
      h('div', { class: 'wizard-actions' }, prev, next),
    );
  }

  function stepSubmit() {
    const a = w.app;
    const errorHost = h('div', { class: 'form-message', 'data-test': 'submit-error' });
    const submitBtn = button(t('common.submit'), { kind: 'primary', class: 'btn-large', test: 'wizard-submit' });
    submitBtn.disabled = !(a.pile_count > 0 || a.station_count > 0);
    const prev = button(t('det.prev'), { class: 'btn-large', test: 'wizard-prev', onClick: () => show(2) });
    submitBtn.addEventListener('click', async () => {
      replace(errorHost);
      const done = await confirmDialog({
        title: t('acc.submit_title'),
        text: t('acc.submit_confirm', { stations: a.station_count, piles: a.pile_count }),
        okText: t('common.submit'),
        test: 'dialog-submit',
        action: () => api.post(`/access-applications/${a.id}/submit`),
      });
      if (done) {
        ctx.state.flash = { kind: 'success', text: t('acc.submitted') };
        ctx.navigate(`#/access/${a.id}?done=1`);
      }
    });
    const areasP = loadAreas().catch(() => null);
    const tablesHost = h('div', { class: 'stack' });
    areasP.then((areas) => {
      const tables = stagedTables(a.id, areas);
      replace(
        tablesHost,
        h('div', { class: 'summary-section' }, h('h3', { class: 'summary-title' }, t('acc.added_stations', { n: a.station_count })), tables.stations),
        h('div', { class: 'summary-section' }, h('h3', { class: 'summary-title' }, t('acc.added_piles', { n: a.pile_count })), tables.piles),
      );
    });
    return h(
      'div',
      { class: 'step-pane', 'data-test': 'pane-submit' },
      h('div', { class: 'step-head' }, h('h2', { class: 'step-title', tabindex: '-1' }, t('acc.step3_title'))),
      notice(),
      h('p', { class: 'step-intro' }, t('acc.submit_intro')),
      h(
        'div',
        { class: 'count-tiles', 'data-test': 'submit-counts' },
        h('div', { class: 'count-tile' }, h('span', { class: 'count-num', 'data-test': 'count-stations' }, String(a.station_count)), h('span', { class: 'count-label' }, t('acc.tile_stations'))),
        h('div', { class: 'count-tile' }, h('span', { class: 'count-num', 'data-test': 'count-piles' }, String(a.pile_count)), h('span', { class: 'count-label' }, t('acc.tile_piles'))),
      ),
      tablesHost,
      errorHost,
      h('div', { class: 'wizard-actions' }, prev, submitBtn),
    );
  }

  function docPanel(kind) {
    const tpl = TEMPLATES[kind];
    return h(
      'div',
      { class: 'doc-panel' },
      h('span', { class: 'doc-icon doc-icon-xlsx', 'aria-hidden': 'true' }, 'XLSX'),
      h('div', { class: 'doc-text' }, h('div', { class: 'doc-title' }, `《${tpl.name}》`), h('div', { class: 'doc-desc' }, t(`acc.tpl_desc.${kind}`))),
      h('a', { class: 'btn btn-default', href: tpl.url, download: tpl.name, 'data-test': `template-${kind}-btn` }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('acc.download_tpl')),
    );
  }

  show(w.step);
  return root;
}

/** All pile passwords of an approved application, once: a table with copy and CSV. */
function showPasswords(app, items) {
  const csv = `equipment_id,password\n${items.map((i) => `${i.equipment_id},${i.password}`).join('\n')}\n`;
  const url = URL.createObjectURL(new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' }));
  const rows = items.map((i) => {
    const { input, copy } = secretRow(i.password, 'pile-password-value');
    return h('tr', { 'data-test': 'password-row', 'data-key': i.equipment_id }, h('td', { class: 'mono' }, i.equipment_id), h('td', null, input), h('td', null, copy));
  });
  const all = button(t('det.cred.copy_all'), { small: true, test: 'passwords-copy-all' });
  all.addEventListener('click', async () => {
    const area = h('textarea', { class: 'is-hidden' }, csv);
    document.body.appendChild(area);
    const ok = await copyText(csv, area);
    area.remove();
    if (ok) {
      all.textContent = t('common.copied');
      setTimeout(() => { all.textContent = t('det.cred.copy_all'); }, 2000);
    }
  });
  const csvLink = h('a', { class: 'btn btn-primary btn-small', href: url, download: `${accessNo(app)}-充电桩密码.csv`, 'data-test': 'passwords-csv' }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('acc.pw_csv'));
  return infoDialog({
    title: t('acc.pw_title'),
    wide: true,
    test: 'dialog-passwords',
    closeText: t('det.cred.saved'),
    body: h(
      'div',
      { class: 'cred-box' },
      h('div', { class: 'msg msg-warning', 'data-test': 'passwords-once' }, t('acc.pw_once')),
      h('div', { class: 'table-wrap pw-table-wrap' }, h('table', { class: 'table table-compact', 'data-test': 'passwords-table' }, h('thead', null, h('tr', null, h('th', null, t('rf.pile.equipment_id')), h('th', null, t('pl.password')), h('th', null, t('common.actions')))), h('tbody', null, rows))),
      h('div', { class: 'cred-foot' }, h('span', { class: 'muted' }, t('pl.password_use_all')), h('div', { class: 'status-actions' }, all, csvLink)),
    ),
  }).then(() => URL.revokeObjectURL(url));
}

function passwordsCard(app) {
  const btn = button(t('acc.pw_get'), { kind: 'primary', test: 'pile-passwords' });
  btn.addEventListener('click', async () => {
    const res = await confirmDialog({
      title: t('acc.pw_get'),
      text: t('acc.pw_confirm', { n: app.pile_count }),
      okText: t('acc.pw_get'),
      danger: true,
      test: 'dialog-get-passwords',
      action: () => api.post(`/access-applications/${app.id}/pile-passwords`),
    });
    if (res && res.items) {
      await showPasswords(app, res.items);
      toast(t('acc.pw_done'));
    }
  });
  return card(t('acc.pw_card'), h('div', { class: 'cred-panel' }, h('p', { class: 'card-intro' }, t('acc.pw_intro')), h('div', { class: 'status-actions cred-actions' }, btn, h('span', { class: 'muted' }, t('acc.pw_hint')))), { test: 'passwords-card' });
}

/** The summary band of an application (operator and admin). */
export function accessSummary(app, actions) {
  return card(
    null,
    [
      h(
        'div',
        { class: 'detail-summary' },
        h('div', { class: 'detail-title' }, h('h1', { class: 'page-title' }, `${t('acc.no')} ${accessNo(app)}`), detectionBadge(app.status, 'badge-large')),
        h('div', { class: 'detail-actions', 'data-test': 'detail-actions' }, actions),
      ),
      h('p', { class: 'status-text detail-status-text' }, t(`acc.status_text.${app.status}`)),
      app.status === 'rejected' && app.reject_reason
        ? h('div', { class: 'msg msg-warning reject-reason' }, h('strong', null, t('det.lbl', { label: t('det.reject_reason') })), h('span', { 'data-test': 'reject-reason' }, app.reject_reason))
        : null,
      descList([
        [t('det.operator'), app.company_name || '—'],
        [t('acc.counts'), t('acc.counts_value', { stations: app.station_count ?? 0, piles: app.pile_count ?? 0 }), 'info-counts'],
        [t('det.created_at'), fmtTime(app.created_at)],
        [t('field.submitted_at'), fmtTime(app.submitted_at)],
        [t('field.reviewed_at'), fmtTime(app.reviewed_at)],
      ]),
    ],
    { class: 'card-summary', test: 'status-card' },
  );
}

export const accessStatusLabel = (st) => (ACCESS_STATUSES.includes(st) ? t(`dstatus.${st}`) : st);

/** #/access/{id}: the wizard while a draft, else the application's page. */
export async function accessView(ctx) {
  const id = ctx.params[0];
  ctx.crumbs([{ label: t('nav.access') }, { label: t('acc.title'), href: '#/access' }, { label: t('acc.detail') }]);
  const [app, mine] = await Promise.all([api.get(`/access-applications/${id}`), api.get('/stations?page=1&page_size=1').catch(() => ({ total: 0 }))]);
  if (!ctx.alive()) return null;
  const back = h('div', { class: 'toolbar' }, h('a', { href: '#/access', class: 'link-back' }, `‹ ${t('common.back')}`));
  if (app.status === 'draft') {
    return h(
      'div',
      { class: 'stack' },
      back,
      h('div', { class: 'page-head wizard-head' }, h('h1', { class: 'page-title' }, t('acc.wizard_title')), h('span', { class: 'wizard-meta muted', 'data-test': 'wizard-app-no' }, `${t('acc.no')} ${accessNo(app)}`, detectionBadge(app.status))),
      accessWizard(ctx, app, Number(mine.total) > (app.station_count || 0)),
    );
  }
  const areas = await loadAreas().catch(() => null);
  if (!ctx.alive()) return null;
  const tables = stagedTables(app.id, areas);
  return h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    back,
    accessSummary(app, app.status === 'rejected' ? [h('a', { class: 'btn btn-primary', href: '#/piles?status=rejected', 'data-test': 'fix-rejected' }, t('acc.fix_rejected'))] : []),
    app.status === 'approved' ? passwordsCard(app) : null,
    card(t('acc.sec_stations', { n: app.station_count ?? 0 }), tables.stations, { test: 'stations-card' }),
    card(t('acc.sec_piles', { n: app.pile_count ?? 0 }), tables.piles, { test: 'piles-card' }),
    card(t('rev.sec_audit'), detectionAudit(app.audit), { test: 'audit-card' }),
  );
}
