// 充电设施接入 → 我的充电桩: the query page (area, 充电站, 状态, 设备类型, 接入协议, 在线状态; paging;
// 导出), 提交接入申请 of the selected draft piles, 重置密码 of accessed piles (shown once), and
// the pile form whose 充电枪 are edited in place in a table (numbered 1..n automatically).

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { t } from '../i18n.js';
import { field } from '../form.js';
import { card, button, message, pager, disablePager, apiErrorText, toast, withLoading, fetchList } from '../ui.js';
import { confirmDialog, infoDialog } from '../dialog.js';
import { copyText } from './tokens.js';
import { readRecordQuery, apiQuery, recordHash, commonFilters } from './stations.js';
import { connectorChips } from './live_common.js';
import { SIZES, EDITABLE, FIELDS, recordBadge, enumLabel, enumOptions, recordForm, formSections, dash, problemText, suggestionLine, typedValue, accessNo } from './records_common.js';

const MAX_CONNECTORS = 64;

export async function pileListView(ctx) {
  ctx.crumbs([{ label: t('nav.access') }, { label: t('pl.title') }]);
  const f = readRecordQuery(ctx.query, ['equipment_type', 'protocol', 'online', 'equipment_id']);
  const c = commonFilters(f);
  const sel = (name, label, options, value) => field({ name, label, type: 'select', value, options, test: `filter-${name}` });
  const type = sel('equipment_type', t('rf.pile.equipment_type'), enumOptions('equipment_type', t('status.all')), f.equipment_type);
  const proto = sel('protocol', t('rf.pile.protocol'), enumOptions('protocol', t('status.all')), f.protocol);
  const online = sel('online', t('pl.online'), [['', t('status.all')], ['true', t('pl.online_yes')], ['false', t('pl.online_no')]], f.online);
  const filters = h(
    'form',
    { class: 'filter-bar filter-bar-records', role: 'search', novalidate: true },
    c.areaRow,
    c.name.row,
    c.sid.row,
    c.status.row,
    type.row,
    proto.row,
    online.row,
    h(
      'div',
      { class: 'filter-actions' },
      button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' }),
      button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(`#/piles?page_size=${f.pageSize}`) }),
    ),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(
      recordHash('#/piles', {
        area: c.picker.value(),
        name: c.name.input.value.trim(),
        station_id: c.sid.input.value.trim(),
        status: c.status.input.value,
        equipment_type: type.input.value,
        protocol: proto.input.value,
        online: online.input.value,
        page: 1,
        pageSize: f.pageSize,
      }),
    );
  });
  const query = apiQuery(f, ['name', 'station_id', 'status', 'equipment_type', 'protocol', 'online', 'equipment_id']);
  const exportLink = h('a', { class: 'btn btn-default', href: `/api/v1/piles/export.xlsx?${query}`, download: t('pl.export_name'), 'data-test': 'piles-export' }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('rl.export'));
  const newBtn = h('a', { class: 'btn btn-primary', href: '#/piles/new', 'data-test': 'pile-new' }, h('span', { class: 'icon-plus', 'aria-hidden': 'true' }), t('pl.new'));
  const submitBtn = button(t('pl.submit'), { kind: 'warning', test: 'piles-submit' });
  submitBtn.disabled = true;
  const selInfo = h('span', { class: 'muted', 'data-test': 'selected-count' }, t('pl.select_hint'));

  const selectAll = h('input', { type: 'checkbox', 'aria-label': t('pl.select_all'), 'data-test': 'select-all' });
  const head = [t('rf.pile.equipment_id'), t('rl.station'), t('rf.pile.equipment_type'), t('rf.pile.power'), t('rf.pile.protocol'), t('rl.connectors'), t('pl.online'), t('rl.status'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length + 1), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'pile-table' }, h('thead', null, h('tr', null, h('th', { class: 'cell-check' }, selectAll), head.map((x) => h('th', { scope: 'col' }, x)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const boxes = [];
  function updateSelection() {
    const n = boxes.filter((b) => b.checked).length;
    submitBtn.disabled = n === 0;
    selInfo.textContent = n ? t('pl.selected', { n }) : t('pl.select_hint');
    selectAll.checked = boxes.length > 0 && n === boxes.length;
  }
  selectAll.addEventListener('change', () => {
    boxes.forEach((b) => { b.checked = selectAll.checked; });
    updateSelection();
  });
  submitBtn.addEventListener('click', async () => {
    const ids = boxes.filter((b) => b.checked).map((b) => b.value);
    const app = await confirmDialog({
      title: t('pl.submit'),
      text: t('pl.submit_confirm', { n: ids.length }),
      okText: t('pl.submit'),
      test: 'dialog-submit',
      action: () => api.post('/piles/submit', { equipment_ids: ids }),
    });
    if (app && app.id) {
      ctx.state.flash = { kind: 'success', text: t('pl.submitted', { no: accessNo(app), n: ids.length }) };
      ctx.navigate(`#/access/${app.id}`);
    }
  });

  async function remove(p) {
    const done = await confirmDialog({
      title: t('pl.delete_title'),
      text: t('pl.delete_confirm', { id: p.equipment_id }),
      okText: t('common.delete'),
      danger: true,
      test: 'dialog-delete',
      action: () => api.del(`/piles/${encodeURIComponent(p.equipment_id)}`),
    });
    if (done) {
      toast(t('pl.deleted'));
      ctx.navigate(location.hash);
    }
  }

  const root = h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, t('pl.title')), h('p', { class: 'page-sub' }, t('pl.intro'))),
    card(
      t('pl.list'),
      [filters, h('div', { class: 'list-toolbar' }, submitBtn, selInfo), errorHost, h('div', { class: 'table-wrap' }, table), pagerHost],
      { test: 'pile-card', tools: h('div', { class: 'card-tools' }, exportLink, newBtn) },
    ),
  );

  (async () => {
    const data = await fetchList(ctx, `/piles?${query}&page=${f.page}&page_size=${f.pageSize}`, tbody, errorHost);
    if (!data) return;
    const items = data.items || [];
    boxes.length = 0;
    replace(
      tbody,
      items.length
        ? items.map((p) => {
            const selectable = EDITABLE.includes(p.status);
            const box = selectable ? h('input', { type: 'checkbox', value: p.equipment_id, 'aria-label': t('pl.select_one', { id: p.equipment_id }), 'data-test': 'pile-select' }) : null;
            if (box) {
              boxes.push(box);
              box.addEventListener('change', updateSelection);
            }
            return h(
              'tr',
              { 'data-test': 'pile-row', 'data-key': p.equipment_id },
              h('td', { class: 'cell-check' }, box),
              h('td', { class: 'mono' }, h('a', { href: `#/piles/${encodeURIComponent(p.equipment_id)}`, 'data-test': 'pile-detail-link' }, p.equipment_id)),
              h('td', { class: 'cell-name' }, p.station_name || '', h('div', { class: 'muted mono sub-id' }, p.station_id)),
              h('td', null, enumLabel('equipment_type', p.equipment_type)),
              h('td', { class: 'num' }, dash(p.power)),
              h('td', null, enumLabel('protocol', p.protocol)),
              h('td', null, connectorChips(p)),
              h('td', null, h('span', { class: ['online-dot', p.online ? 'is-online' : null] }), p.online ? t('pl.online_yes') : t('pl.online_no')),
              h('td', null, recordBadge(p.status)),
              h(
                'td',
                { class: 'cell-actions' },
                h('a', { href: `#/piles/${encodeURIComponent(p.equipment_id)}`, class: 'link-action', 'data-test': 'pile-detail' }, t('pd.detail')),
                h('a', { href: `#/piles/${encodeURIComponent(p.equipment_id)}/edit`, class: 'link-action', 'data-test': 'pile-edit' }, selectable ? t('common.edit') : t('common.view')),
                p.status === 'accessed' ? button(t('pl.reset_password'), { kind: 'link-danger', small: true, test: 'pile-password', onClick: () => resetPassword(p) }) : null,
                p.status === 'draft' ? button(t('common.delete'), { kind: 'link-danger', small: true, test: 'pile-delete', onClick: () => remove(p) }) : null,
              ),
            );
          })
        : h('tr', null, h('td', { colspan: String(head.length + 1), class: 'empty' }, t('pl.empty'))),
    );
    selectAll.disabled = boxes.length === 0;
    updateSelection();
    const total = Number(data.total) || 0;
    const bar = pager({ total, page: f.page, pageSize: f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(recordHash('#/piles', { ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, f.page, Math.max(1, Math.ceil(total / f.pageSize)));
    replace(pagerHost, bar);
  })();
  return root;
}

/** One secret with a copy button, for the password dialogs. */
export function secretRow(value, test) {
  const input = h('input', { class: 'input mono cred-value', readonly: true, value, 'data-test': test, 'aria-label': t('pl.password') });
  const copy = button(t('common.copy'), { small: true, test: `${test}-copy` });
  copy.addEventListener('click', async () => {
    if (await copyText(value, input)) {
      copy.textContent = t('common.copied');
      setTimeout(() => { copy.textContent = t('common.copy'); }, 2000);
    }
  });
  return { input, copy };
}

async function resetPassword(p) {
  const res = await confirmDialog({
    title: t('pl.reset_password'),
    text: t('pl.reset_confirm', { id: p.equipment_id }),
    okText: t('pl.reset_password'),
    danger: true,
    test: 'dialog-reset-password',
    action: () => api.post(`/piles/${encodeURIComponent(p.equipment_id)}/password`),
  });
  if (!res || res === true) return;
  const { input, copy } = secretRow(res.password, 'pile-password-value');
  await infoDialog({
    title: t('pl.password_title'),
    wide: true,
    test: 'dialog-password',
    closeText: t('det.cred.saved'),
    body: h(
      'div',
      { class: 'cred-box' },
      h('div', { class: 'msg msg-warning' }, t('pl.password_once')),
      h('div', { class: 'cred-row' }, h('span', { class: 'cred-name' }, t('rf.pile.equipment_id')), h('code', null, res.equipment_id), h('span')),
      h('div', { class: 'cred-row' }, h('span', { class: 'cred-name' }, t('pl.password')), input, copy),
      h('p', { class: 'muted' }, t('pl.password_use', { id: res.equipment_id })),
    ),
  });
}

// ---------- the pile form ----------

const PILE_LAYOUT = [
  ['pl.sec_basic', ['equipment_id', 'station_id', 'equipment_type', 'protocol', 'power', 'production_date']],
  ['pl.sec_maker', ['manufacturer_id', 'manufacturer_name', 'equipment_model', 'lng', 'lat']],
];

/** The 充电枪 table: rows of inputs, 接口序号 1..n kept by the table. */
function connectorEditor(initial, disabled) {
  const cols = FIELDS.connector;
  const rows = [];
  const tbody = h('tbody');
  const labelId = uid('conn-label');
  const error = h('div', { class: 'field-error', 'data-test': 'error-connectors', 'aria-live': 'polite' });
  const addBtn = button(t('pl.conn_add'), { small: true, kind: 'primary', test: 'connector-add' });
  const emptyRow = h('tr', { class: 'conn-empty' }, h('td', { colspan: String(cols.length + 2), class: 'empty' }, t('pl.conn_none')));

  function renumber() {
    rows.forEach((r, i) => {
      r.num.textContent = String(i + 1);
      r.tr.setAttribute('data-index', String(i));
      for (const [name, c] of Object.entries(r.cells)) c.input.setAttribute('aria-label', `${t('pl.conn_n', { n: i + 1 })} ${t(`rf.connector.${name}`)}`);
      r.remove.setAttribute('aria-label', t('pl.conn_remove_n', { n: i + 1 }));
    });
    emptyRow.classList.toggle('is-hidden', rows.length > 0);
    addBtn.disabled = disabled || rows.length >= MAX_CONNECTORS;
  }

  function setCellError(r, name, text, suggestion) {
    const c = r.cells[name];
    c.error.textContent = text || '';
    c.td.classList.toggle('has-error', Boolean(text));
    if (text) c.input.setAttribute('aria-invalid', 'true');
    else c.input.removeAttribute('aria-invalid');
    c.td.querySelector('.suggest')?.remove();
    if (text && suggestion !== null && suggestion !== undefined && suggestion !== '') {
      const line = suggestionLine(suggestion, (s) => {
        c.input.value = s;
        setCellError(r, name, '');
        c.input.focus();
      }, `suggest-connectors-${name}`);
      c.error.after(line);
    }
  }

  function addRow(v, focus) {
    const value = v || {};
    const cells = {};
    const tds = cols.map((meta) => {
      const val = value[meta.name] === null || value[meta.name] === undefined ? '' : String(value[meta.name]);
      const input =
        meta.kind === 'enum'
          ? h('select', { class: 'input input-cell', disabled }, enumOptions(meta.name, t('rf.choose')).map(([k, txt]) => h('option', { value: k, selected: k === val }, txt)))
          : h('input', { class: ['input', 'input-cell', meta.mono ? 'mono' : null], type: 'text', value: val, disabled, inputmode: meta.kind === 'int' || meta.kind === 'dec' ? 'decimal' : null, 'data-test': `connector-${meta.name}` });
      if (meta.kind === 'enum') {
        input.setAttribute('data-test', `connector-${meta.name}`);
        const title = () => { input.title = input.selectedOptions[0] ? input.selectedOptions[0].textContent : ''; };
        input.addEventListener('change', title);
        title();
      }
      const errorEl = h('div', { class: 'field-error' });
      const td = h('td', { class: ['conn-cell', `conn-${meta.name}`] }, input, errorEl);
      cells[meta.name] = { input, error: errorEl, td, meta };
      return td;
    });
    const num = h('span', { class: 'conn-num' });
    const remove = button('×', { kind: 'link-danger', class: 'ip-remove', test: 'connector-remove' });
    remove.disabled = disabled;
    const tr = h('tr', { 'data-test': 'connector-row' }, h('td', { class: 'conn-num-cell' }, num), tds, h('td', null, remove));
    const r = { tr, num, cells, remove };
    for (const [name, c] of Object.entries(cells)) c.input.addEventListener(c.meta.kind === 'enum' ? 'change' : 'input', () => setCellError(r, name, ''));
    remove.addEventListener('click', () => {
      const i = rows.indexOf(r);
      rows.splice(i, 1);
      tr.remove();
      renumber();
      (rows[Math.min(i, rows.length - 1)]?.cells.connector_id.input || addBtn).focus();
    });
    rows.push(r);
    tbody.insertBefore(tr, emptyRow);
    renumber();
    error.textContent = '';
    if (focus) cells.connector_id.input.focus();
  }

  tbody.appendChild(emptyRow);
  (initial || []).slice().sort((a, b) => (a.ocpp_connector_id || 0) - (b.ocpp_connector_id || 0)).forEach((c) => addRow(c));
  addBtn.addEventListener('click', () => addRow(null, true));
  renumber();

  const head = [t('rf.connector.ocpp_connector_id'), ...cols.map((m) => h('span', null, m.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null, t(`rf.connector.${m.name}`))), t('common.actions')];
  const el = h(
    'fieldset',
    { class: 'form-section conn-section', 'data-test': 'connectors', 'aria-labelledby': labelId },
    h('legend', { id: labelId }, t('pl.sec_connectors')),
    h('p', { class: 'form-hint conn-hint' }, t('pl.conn_hint')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact conn-table', 'data-test': 'connector-table' }, h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))), tbody)),
    error,
    h('div', { class: 'conn-actions' }, addBtn),
  );
  return {
    el,
    count: () => rows.length,
    collect: () =>
      rows.map((r, i) => {
        const out = { ocpp_connector_id: i + 1 };
        for (const [name, c] of Object.entries(r.cells)) {
          const v = typedValue(c.meta, c.input.value);
          if (v !== undefined) out[name] = v;
        }
        return out;
      }),
    clear() {
      error.textContent = '';
      rows.forEach((r) => Object.keys(r.cells).forEach((n) => setCellError(r, n, '')));
    },
    /** Places connectors[i].field details; returns the ones it could not place. */
    apply(details) {
      const rest = [];
      for (const d of details) {
        const m = /^connectors\[(\d+)\]\.(\w+)$/.exec(d.field || '');
        if (m && rows[Number(m[1])] && rows[Number(m[1])].cells[m[2]]) {
          setCellError(rows[Number(m[1])], m[2], problemText('connector', m[2], d.code), d.suggestion);
        } else if (d.field === 'connectors' || (m && m[2] === 'ocpp_connector_id')) {
          error.textContent = problemText('pile', 'connectors', d.code);
        } else {
          rest.push(d);
        }
      }
      return rest;
    },
    /** Required cells filled, at least one connector. */
    validate() {
      let ok = rows.length > 0;
      if (!ok) error.textContent = t('rerr.no_connectors');
      for (const r of rows) for (const [name, c] of Object.entries(r.cells)) if (c.meta.required && c.input.value === '') {
        setCellError(r, name, t('rerr.required'));
        ok = false;
      }
      return ok;
    },
    focusFirst() {
      const bad = el.querySelector('.has-error .input');
      (bad || addBtn).focus();
    },
  };
}

/** 新增充电桩 (#/piles/new) and 编辑充电桩 (#/piles/{id}/edit). */
export async function pileFormView(ctx) {
  const key = ctx.params[0] ? decodeURIComponent(ctx.params[0]) : null;
  ctx.crumbs([{ label: t('nav.access') }, { label: t('pl.title'), href: '#/piles' }, { label: key ? t('pl.edit') : t('pl.new') }]);
  const [pile, stations] = await Promise.all([key ? api.get(`/piles/${encodeURIComponent(key)}`) : null, api.get('/stations?page=1&page_size=200')]);
  if (!ctx.alive()) return null;
  const editable = !pile || EDITABLE.includes(pile.status);
  const rf = recordForm('pile', pile || (ctx.query.get('station_id') ? { station_id: ctx.query.get('station_id') } : null), { stations: stations.items || [] });
  if (pile) rf.rows.get('equipment_id').input.readOnly = true;
  if (!editable) for (const f of rf.fields) f.input.disabled = true;
  const conns = connectorEditor(pile ? pile.connectors : [{}], !editable);
  const generalError = h('div', { class: 'form-message', 'data-test': 'form-error' });
  const saveBtn = button(t('pl.save'), { type: 'submit', kind: 'primary', class: 'btn-large', test: 'pile-save' });
  const cancel = h('a', { class: 'btn btn-default btn-large', href: '#/piles' }, t('common.back'));
  const noStations = !(stations.items || []).length && !pile;
  const form = h(
    'form',
    { class: 'record-form', novalidate: true, 'data-test': 'pile-form' },
    h('p', { class: 'form-intro' }, t('pl.form_intro'), h('span', { class: 'req-note' }, t('common.required_hint'))),
    noStations ? h('div', { class: 'msg msg-warning' }, t('pl.no_station_first'), ' ', h('a', { href: '#/stations/new' }, t('st.new'))) : null,
    generalError,
    formSections(rf, PILE_LAYOUT),
    conns.el,
    h('div', { class: 'wizard-actions' }, cancel, editable ? saveBtn : null),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(generalError);
    conns.clear();
    const ok = rf.validate() & conns.validate();
    if (!ok) {
      rf.form.focusFirstError();
      if (!document.activeElement || !form.contains(document.activeElement)) conns.focusFirst();
      replace(generalError, message('error', t('det.fix_marked')));
      return;
    }
    withLoading(saveBtn, t('det.saving'), async () => {
      try {
        const body = { ...rf.collect(), connectors: conns.collect() };
        if (pile) await api.put(`/piles/${encodeURIComponent(key)}`, body);
        else await api.post('/piles', body);
        ctx.state.flash = { kind: 'success', text: t('pl.saved', { id: body.equipment_id }) };
        ctx.navigate('#/piles');
      } catch (err) {
        const details = err.fieldDetails ? err.fieldDetails() : [];
        const rest = rf.applyDetails(conns.apply(details));
        if (details.length) {
          replace(generalError, message('error', rest.length ? rest.map((d) => `${d.field}: ${problemText('pile', d.field, d.code)}`).join('；') : t('det.fix_marked')));
          const first = form.querySelector('.has-error .input, .has-error select');
          if (first) first.focus();
        } else {
          replace(generalError, message('error', apiErrorText(err)));
        }
      }
    });
  });
  return h(
    'div',
    { class: 'stack' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/piles', class: 'link-back' }, `‹ ${t('common.back')}`)),
    card(pile ? t('pl.edit') : t('pl.new'), [!editable ? message('info', t('rl.readonly', { status: t(`rstatus.${pile.status}`) })) : null, form], { test: 'pile-form-card', tools: pile ? recordBadge(pile.status) : null }),
  );
}
