// 充电设施接入 → 我的充电站: the query page (城市/区县, 名称, 编号, 状态; paging; 导出) and the
// add / edit form (every field of docs/api-records.md, errors and suggestions beside fields).
// Filters and paging live in the hash: #/stations?area=4420&name=&station_id=&status=&page=.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { field } from '../form.js';
import { card, button, message, pager, disablePager, apiErrorText, toast, withLoading } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import {
  RECORD_STATUSES,
  SIZES,
  EDITABLE,
  areaPicker,
  loadAreas,
  areaPath,
  recordBadge,
  enumLabel,
  enumOptions,
  recordForm,
  formSections,
  dash,
  problemText,
} from './records_common.js';

/** Reads the shared record filters (also used by 我的充电桩). */
export function readRecordQuery(query, extra = []) {
  const size = Number(query.get('page_size'));
  const f = {
    area: /^[0-9]{0,6}$/.test(query.get('area') || '') ? query.get('area') || '' : '',
    name: query.get('name') || '',
    station_id: query.get('station_id') || '',
    status: RECORD_STATUSES.includes(query.get('status')) ? query.get('status') : '',
    page: Math.max(1, Number(query.get('page')) || 1),
    pageSize: SIZES.includes(size) ? size : 10,
  };
  for (const k of extra) f[k] = query.get(k) || '';
  return f;
}

/** The API query of the filters (without paging). */
export function apiQuery(f, keys) {
  const p = new URLSearchParams();
  if (f.area) p.set('area_code', f.area);
  for (const k of keys) if (f[k]) p.set(k, f[k]);
  return p;
}

export function recordHash(base, f) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== '' && k !== 'page' && k !== 'pageSize') p.set(k, v);
  p.set('page', String(f.page));
  p.set('page_size', String(f.pageSize));
  return `${base}?${p}`;
}

/** The filter bar's common fields: area picker, 充电站名称, 充电站编号, 状态. */
export function commonFilters(f) {
  const picker = areaPicker({ value: f.area.length === 6 ? f.area : '' });
  // A prefix from the hash (44, 4420) selects the province / city it names.
  if (f.area && f.area.length < 6) picker.set(f.area.length === 2 ? `${f.area}0000` : `${f.area}00`);
  const areaRow = h('div', { class: 'form-row form-row-area' }, h('span', { class: 'form-label' }, t('rl.area')), h('div', { class: 'form-control' }, picker.el));
  const name = field({ name: 'name', label: t('rf.station.name'), value: f.name, test: 'filter-name' });
  const sid = field({ name: 'station_id', label: t('rf.station.station_id'), value: f.station_id, test: 'filter-station_id' });
  const status = field({
    name: 'status',
    label: t('rl.status'),
    type: 'select',
    value: f.status,
    options: [['', t('status.all')], ...RECORD_STATUSES.map((s) => [s, t(`rstatus.${s}`)])],
    test: 'filter-status',
  });
  return { picker, areaRow, name, sid, status };
}

export async function stationListView(ctx) {
  ctx.crumbs([{ label: t('nav.access') }, { label: t('st.title') }]);
  const f = readRecordQuery(ctx.query, ['station_type']);
  const c = commonFilters(f);
  const type = field({ name: 'station_type', label: t('rf.station.station_type'), type: 'select', value: f.station_type, options: enumOptions('station_type', t('status.all')), test: 'filter-station_type' });
  const filters = h(
    'form',
    { class: 'filter-bar filter-bar-records', role: 'search', novalidate: true },
    c.areaRow,
    c.name.row,
    c.sid.row,
    c.status.row,
    type.row,
    h(
      'div',
      { class: 'filter-actions' },
      button(t('common.query'), { type: 'submit', kind: 'primary', test: 'filter-submit' }),
      button(t('common.reset'), { test: 'filter-reset', onClick: () => ctx.navigate(`#/stations?page_size=${f.pageSize}`) }),
    ),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(recordHash('#/stations', { area: c.picker.value(), name: c.name.input.value.trim(), station_id: c.sid.input.value.trim(), status: c.status.input.value, station_type: type.input.value, page: 1, pageSize: f.pageSize }));
  });

  const query = apiQuery(f, ['name', 'station_id', 'status', 'station_type']);
  const exportLink = h('a', { class: 'btn btn-default', href: `/api/v1/stations/export.xlsx?${query}`, download: t('st.export_name'), 'data-test': 'stations-export' }, h('span', { class: 'icon-download', 'aria-hidden': 'true' }), t('rl.export'));
  const newBtn = h('a', { class: 'btn btn-primary', href: '#/stations/new', 'data-test': 'station-new' }, h('span', { class: 'icon-plus', 'aria-hidden': 'true' }), t('st.new'));

  const head = [t('rf.station.station_id'), t('rf.station.name'), t('rl.area'), t('rf.station.address'), t('rf.station.station_type'), t('rf.station.station_status'), t('rl.pile_count'), t('rl.status'), t('rl.updated_at'), t('common.actions')];
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('common.loading'))));
  const table = h('table', { class: 'table', 'data-test': 'station-table' }, h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const root = h(
    'div',
    { class: 'stack' },
    ctx.flash ? message(ctx.flash.kind, ctx.flash.text, 'flash') : null,
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, t('st.title')), h('p', { class: 'page-sub' }, t('st.intro'))),
    card(t('st.list'), [filters, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost], { test: 'station-card', tools: h('div', { class: 'card-tools' }, exportLink, newBtn) }),
  );

  async function remove(st) {
    const done = await confirmDialog({
      title: t('st.delete_title'),
      text: t('st.delete_confirm', { name: st.name, id: st.station_id }),
      okText: t('common.delete'),
      danger: true,
      test: 'dialog-delete',
      action: () => api.del(`/stations/${encodeURIComponent(st.station_id)}`),
    });
    if (done) {
      toast(t('st.deleted'));
      ctx.navigate(location.hash);
    }
  }

  (async () => {
    let data;
    let areas = null;
    try {
      [data, areas] = await Promise.all([api.get(`/stations?${query}&page=${f.page}&page_size=${f.pageSize}`), loadAreas().catch(() => null)]);
    } catch (err) {
      if (!ctx.alive()) return;
      replace(tbody);
      replace(errorHost, message('error', apiErrorText(err)));
      return;
    }
    if (!ctx.alive()) return;
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((s) =>
            h(
              'tr',
              { 'data-test': 'station-row', 'data-key': s.station_id },
              h('td', { class: 'mono' }, s.station_id),
              h('td', { class: 'cell-name' }, s.name),
              h('td', { class: 'cell-name' }, areaPath(areas, s.area_code)),
              h('td', { class: 'cell-name' }, s.address),
              h('td', null, enumLabel('station_type', s.station_type)),
              h('td', null, enumLabel('station_status', s.station_status)),
              h('td', { class: 'num' }, String(s.pile_count ?? 0)),
              h('td', null, recordBadge(s.status)),
              h('td', null, dash(s.updated_at ? s.updated_at.slice(0, 10) : '')),
              h(
                'td',
                { class: 'cell-actions' },
                h('a', { href: `#/stations/${encodeURIComponent(s.station_id)}/edit`, class: 'link-action', 'data-test': 'station-edit' }, EDITABLE.includes(s.status) ? t('common.edit') : t('common.view')),
                s.status === 'draft' ? button(t('common.delete'), { kind: 'link-danger', small: true, test: 'station-delete', onClick: () => remove(s) }) : null,
              ),
            ),
          )
        : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, t('st.empty'))),
    );
    const total = Number(data.total) || 0;
    const bar = pager({ total, page: f.page, pageSize: f.pageSize, sizes: SIZES, onChange: (p) => ctx.navigate(recordHash('#/stations', { ...f, page: p.page, pageSize: p.pageSize })) });
    disablePager(bar, f.page, Math.max(1, Math.ceil(total / f.pageSize)));
    replace(pagerHost, bar);
  })();
  return root;
}

const STATION_LAYOUT = [
  ['st.sec_basic', ['station_id', 'name', 'area_code', 'address', 'station_type', 'station_status', 'construction', 'park_nums', 'lng', 'lat']],
  ['st.sec_service', ['service_tel', 'station_tel', 'business_hours', 'payment', 'support_order', 'park_fee', 'electricity_fee', 'service_fee', 'site_guide', 'remark']],
];

/** 新增充电站 (#/stations/new) and 编辑充电站 (#/stations/{id}/edit). */
export async function stationFormView(ctx) {
  const key = ctx.params[0] ? decodeURIComponent(ctx.params[0]) : null;
  ctx.crumbs([{ label: t('nav.access') }, { label: t('st.title'), href: '#/stations' }, { label: key ? t('st.edit') : t('st.new') }]);
  const station = key ? await api.get(`/stations/${encodeURIComponent(key)}`) : null;
  if (!ctx.alive()) return null;
  const editable = !station || EDITABLE.includes(station.status);
  const rf = recordForm('station', station);
  if (station) {
    rf.rows.get('station_id').input.readOnly = true;
  }
  if (!editable) for (const f of rf.fields) f.input.disabled = true;
  if (!editable && rf.rows.get('area_code').picker) rf.rows.get('area_code').picker.selects.forEach((s) => { s.disabled = true; });
  const generalError = h('div', { class: 'form-message', 'data-test': 'form-error' });
  const submitBtn = button(t('common.submit'), { type: 'submit', kind: 'primary', class: 'btn-large', test: 'station-submit' });
  const cancel = h('a', { class: 'btn btn-default btn-large', href: '#/stations' }, t('common.back'));
  const form = h(
    'form',
    { class: 'record-form', novalidate: true, 'data-test': 'station-form' },
    h('p', { class: 'form-intro' }, t('st.form_intro'), h('span', { class: 'req-note' }, t('common.required_hint'))),
    generalError,
    formSections(rf, STATION_LAYOUT),
    editable ? h('div', { class: 'wizard-actions' }, cancel, submitBtn) : h('div', { class: 'wizard-actions' }, cancel),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(generalError);
    if (!rf.validate()) return;
    withLoading(submitBtn, t('common.submitting'), async () => {
      try {
        const body = rf.collect();
        if (station) await api.put(`/stations/${encodeURIComponent(key)}`, body);
        else await api.post('/stations', body);
        ctx.state.flash = { kind: 'success', text: station ? t('st.saved') : t('st.created', { id: body.station_id }) };
        ctx.navigate('#/stations');
      } catch (err) {
        const details = err.fieldDetails ? err.fieldDetails() : [];
        const unplaced = rf.applyDetails(details);
        rf.form.focusFirstError();
        if (!details.length || unplaced.length) {
          replace(generalError, message('error', unplaced.length ? unplaced.map((d) => problemText('station', d.field, d.code)).join('；') : apiErrorText(err)));
        } else {
          replace(generalError, message('error', t('det.fix_marked')));
        }
      }
    });
  });
  return h(
    'div',
    { class: 'stack' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/stations', class: 'link-back' }, `‹ ${t('common.back')}`)),
    card(
      station ? t('st.edit') : t('st.new'),
      [!editable ? message('info', t('rl.readonly', { status: t(`rstatus.${station.status}`) })) : null, form],
      { test: 'station-form-card', tools: station ? recordBadge(station.status) : null },
    ),
  );
}
