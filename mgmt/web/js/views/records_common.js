// Pieces shared by 申请接入, 我的充电站, 我的充电桩 and 接入审核: the field rules of
// docs/api-records.md (labels, enums, limits), record status badges, the area picker
// (province → city → district from GET /areas), record forms whose 422 details go beside their
// fields with the server's suggestion one click away, the import problem table, and a paged
// table that loads itself.

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { t, has } from '../i18n.js';
import { field, Form } from '../form.js';
import { button, message, pager, disablePager, apiErrorText } from '../ui.js';

export const RECORD_STATUSES = ['draft', 'submitted', 'accessed', 'rejected'];
export const ACCESS_STATUSES = ['draft', 'submitted', 'approved', 'rejected'];
export const EDITABLE = ['draft', 'rejected'];
export const SIZES = [10, 20, 50];

// Enumerations (codes as the API has them; names under enum.<name>.<code>).
export const ENUMS = {
  station_type: ['1', '50', '100', '101', '102', '103', '255'],
  station_status: ['0', '1', '5', '6', '50'],
  construction: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '255'],
  support_order: ['0', '1'],
  equipment_type: ['1', '2', '3', '4', '5'],
  protocol: ['ocpp1.6', 'ocpp2.0.1', 'platform'],
  connector_type: ['1', '2', '3', '4', '5', '6'],
  national_standard: ['1', '2'],
};

// The fields of each kind in template order: kind text|int|dec|enum|date|area, max characters,
// min/max of numbers, wide/textarea for the form's layout.
export const FIELDS = {
  station: [
    { name: 'station_id', required: true, max: 20, mono: true },
    { name: 'name', required: true, max: 50 },
    { name: 'area_code', kind: 'area', required: true, wide: true },
    { name: 'address', required: true, max: 50, wide: true },
    { name: 'station_tel', max: 30 },
    { name: 'service_tel', required: true, max: 30 },
    { name: 'station_type', kind: 'enum', required: true },
    { name: 'station_status', kind: 'enum', required: true },
    { name: 'park_nums', kind: 'int', required: true, min: 0, maxv: 100000 },
    { name: 'construction', kind: 'enum', required: true },
    { name: 'lng', kind: 'dec', required: true, min: 73, maxv: 136 },
    { name: 'lat', kind: 'dec', required: true, min: 3, maxv: 54 },
    { name: 'site_guide', max: 100, wide: true },
    { name: 'business_hours', max: 100 },
    { name: 'payment', max: 20 },
    { name: 'electricity_fee', max: 256, wide: true, textarea: true },
    { name: 'service_fee', max: 256, wide: true, textarea: true },
    { name: 'park_fee', max: 100 },
    { name: 'support_order', kind: 'enum' },
    { name: 'remark', max: 100, wide: true, textarea: true },
  ],
  pile: [
    { name: 'equipment_id', required: true, max: 23, mono: true },
    { name: 'station_id', kind: 'station', required: true },
    { name: 'equipment_type', kind: 'enum', required: true },
    { name: 'protocol', kind: 'enum', required: true },
    { name: 'power', kind: 'dec', required: true, min: 0.1, maxv: 10000 },
    { name: 'production_date', kind: 'date' },
    { name: 'manufacturer_id', max: 9, mono: true },
    { name: 'manufacturer_name', max: 30 },
    { name: 'equipment_model', max: 20 },
    { name: 'lng', kind: 'dec', min: 73, maxv: 136 },
    { name: 'lat', kind: 'dec', min: 3, maxv: 54 },
  ],
  connector: [
    { name: 'connector_id', required: true, max: 26, mono: true },
    { name: 'connector_name', max: 30 },
    { name: 'connector_type', kind: 'enum', required: true },
    { name: 'voltage_upper_limits', kind: 'int', required: true, min: 1, maxv: 2000 },
    { name: 'voltage_lower_limits', kind: 'int', required: true, min: 1, maxv: 2000 },
    { name: 'current', kind: 'dec', required: true, min: 0.1, maxv: 2000 },
    { name: 'power', kind: 'dec', required: true, min: 0.1, maxv: 10000 },
    { name: 'park_no', max: 10 },
    { name: 'national_standard', kind: 'enum', required: true },
  ],
};

const SHEET_KIND = { 充电站: 'station', 充电桩: 'pile', 充电枪: 'connector' };

export const fieldLabel = (kind, name) => t(`rf.${kind}.${name}`);
export const enumLabel = (name, code) => {
  const c = code === null || code === undefined ? '' : String(code);
  return has(`enum.${name}.${c}`) ? t(`enum.${name}.${c}`) : c || '—';
};
export const enumOptions = (name, blank) => [
  ...(blank ? [['', blank]] : []),
  ...ENUMS[name].map((c) => [c, name === 'protocol' ? enumLabel(name, c) : `${c}-${enumLabel(name, c)}`]),
];
export const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

export function recordBadge(status, extra) {
  const known = RECORD_STATUSES.includes(status);
  return h(
    'span',
    { class: ['badge', `badge-r-${known ? status : 'unknown'}`, extra], 'data-test': 'status-badge', 'data-status': status },
    known ? t(`rstatus.${status}`) : status,
  );
}

/** 申请编号 of an access application. */
export const accessNo = (app) => `JR${String(app.id).padStart(6, '0')}`;

/** The text of one problem (form or import) in the page's language, with the rule's numbers. */
export function problemText(kind, fieldName, code) {
  const meta = (FIELDS[kind] || []).find((f) => f.name === fieldName) || {};
  const specific = `rerr.${kind}.${fieldName}.${code}`;
  if (has(specific)) return t(specific);
  if (code === 'too_long' && meta.max) return t('rerr.too_long_n', { max: meta.max });
  if (code === 'out_of_range' && meta.maxv !== undefined) return t('rerr.out_of_range_n', { min: meta.min, max: meta.maxv });
  if (code === 'bad_format' && meta.kind === 'dec') return t(meta.name === 'lng' || meta.name === 'lat' ? 'rerr.bad_coord' : 'rerr.bad_decimal');
  if (code === 'bad_format' && meta.kind === 'int') return t('rerr.bad_int');
  if (code === 'bad_format' && meta.kind === 'area') return t('rerr.bad_area');
  if (code === 'bad_format' && meta.max && /_id$/.test(fieldName)) return t('rerr.bad_alnum', { max: meta.max });
  if (code === 'bad_format' && /tel$/.test(fieldName)) return t('rerr.bad_tel');
  if (code === 'bad_format' && meta.kind === 'date') return t('rerr.bad_date');
  return has(`rerr.${code}`) ? t(`rerr.${code}`) : t('rerr.other');
}

/** A cell value with its whitespace made visible: spaces as ·, full-width spaces as □, tabs as →. */
export function visibleValue(value, test) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, t('rf.empty_cell'));
  const parts = [];
  let run = '';
  for (const ch of String(value)) {
    const mark = ch === ' ' ? '·' : ch === '\u3000' ? '□' : ch === '\t' ? '→' : ch === '\u00a0' ? '°' : null;
    if (mark) {
      if (run) parts.push(run);
      run = '';
      parts.push(h('span', { class: 'ws-mark', title: t('rf.ws_title') }, mark));
    } else if (ch >= '\uff01' && ch <= '\uff5e') {
      // full-width digits and letters look like half-width ones: shaded so they can be told
      if (run) parts.push(run);
      run = '';
      parts.push(h('span', { class: 'fw-mark', title: t('rf.fw_title') }, ch));
    } else {
      run += ch;
    }
  }
  if (run) parts.push(run);
  return h('code', { class: 'cell-value', 'data-test': test, 'data-raw': String(value) }, parts);
}

// ---------- areas ----------

let areasPromise = null;
/** GET /areas once per page: {byCode: Map, children: Map(parent|'' → [area])}. */
export function loadAreas() {
  if (!areasPromise) {
    areasPromise = api
      .get('/areas')
      .then((data) => {
        const byCode = new Map();
        const children = new Map();
        for (const a of data.items || []) {
          byCode.set(a.code, a);
          const p = a.parent || '';
          if (!children.has(p)) children.set(p, []);
          children.get(p).push(a);
        }
        return { byCode, children };
      })
      .catch((err) => {
        areasPromise = null;
        throw err;
      });
  }
  return areasPromise;
}

/** "广东省 / 中山市" for a code, from the loaded table (or the code itself). */
export function areaPath(areas, code) {
  const names = [];
  let a = areas && areas.byCode.get(code);
  while (a) {
    if (a.name !== '市辖区' && a.name !== '县') names.unshift(a.name);
    a = a.parent ? areas.byCode.get(a.parent) : null;
  }
  return names.length ? names.join(' / ') : code || '—';
}

/**
 * Three selects province → city → district. opts: {value: code, exact: bool (a full district
 * code is needed — forms), onChange(code)}. value() gives the deepest chosen code (6 digits), or
 * for filters the prefix ('44', '4420', '442000'). Returns {el, selects, value(), ready}.
 */
export function areaPicker(opts = {}) {
  const mk = (level) => h('select', { class: 'input area-select', 'aria-label': t(`area.${level}`), 'data-test': `area-${level}` });
  const prov = mk('province');
  const city = mk('city');
  const dist = mk('district');
  const el = h('div', { class: 'area-picker', role: 'group' }, prov, city, dist);
  let areas = null;
  const fill = (sel, list, placeholder, chosen) => {
    replace(sel, h('option', { value: '' }, placeholder), (list || []).map((a) => h('option', { value: a.code, selected: a.code === chosen }, a.name)));
    sel.disabled = !list || !list.length;
    sel.classList.toggle('is-hidden', Boolean(opts.exact) && sel !== prov && (!list || !list.length) && sel.value === '');
  };
  function setFrom(code) {
    const chain = [];
    let a = code ? areas.byCode.get(code) : null;
    while (a) {
      chain.unshift(a.code);
      a = a.parent ? areas.byCode.get(a.parent) : null;
    }
    fill(prov, areas.children.get(''), t('area.province_ph'), chain[0]);
    fill(city, chain[0] ? areas.children.get(chain[0]) : null, t('area.city_ph'), chain[1]);
    fill(dist, chain[1] ? areas.children.get(chain[1]) : null, t('area.district_ph'), chain[2]);
  }
  const ready = loadAreas()
    .then((a) => {
      areas = a;
      setFrom(opts.value || '');
      return a;
    })
    .catch(() => {
      fill(prov, [], t('area.failed'));
    });
  prov.addEventListener('change', () => {
    fill(city, prov.value ? areas.children.get(prov.value) : null, t('area.city_ph'));
    fill(dist, null, t('area.district_ph'));
    opts.onChange?.(value());
  });
  city.addEventListener('change', () => {
    fill(dist, city.value ? areas.children.get(city.value) : null, t('area.district_ph'));
    opts.onChange?.(value());
  });
  dist.addEventListener('change', () => opts.onChange?.(value()));
  function value() {
    if (dist.value) return dist.value;
    if (city.value) {
      if (opts.exact) return areas.children.get(city.value)?.length ? '' : city.value;
      return areas.children.get(city.value)?.length ? city.value.slice(0, 4) : city.value;
    }
    if (prov.value) return opts.exact ? '' : prov.value.slice(0, 2);
    return '';
  }
  return { el, selects: [prov, city, dist], value, ready, set: (code) => ready.then(() => setFrom(code)) };
}

// ---------- record forms ----------

/** The JSON value of a form text for a field: numbers as numbers when they are plain numbers,
 * else the text as typed (the server names what is wrong and suggests the fix). */
function typed(meta, text) {
  if (text === '') return undefined;
  if ((meta.kind === 'int' || meta.kind === 'dec') && /^-?[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
  if (meta.kind === 'enum' && /^[0-9]+$/.test(text)) return Number(text);
  return text;
}

/** A "建议改为：x [应用]" line under a field; apply(value) puts it in. */
export function suggestionLine(suggestion, apply, test) {
  const btn = button(t('rf.apply'), { small: true, kind: 'primary', class: 'suggest-apply', test: `${test}-apply` });
  btn.addEventListener('click', () => apply(suggestion));
  return h('div', { class: 'suggest', 'data-test': test }, h('span', null, t('rf.suggest')), visibleValue(suggestion), btn);
}

/**
 * A form of `kind` (station | pile) from FIELDS, filled from `values`. extra: {stations: [...]}
 * for the pile's station select. Returns {form, rows: Map(name → row), collect(), applyDetails(
 * details) → unplaced details, clear(), validate()}.
 */
export function recordForm(kind, values, extra = {}) {
  const v = values || {};
  const fields = [];
  let picker = null;
  for (const meta of FIELDS[kind]) {
    const label = fieldLabel(kind, meta.name);
    const val = v[meta.name] === null || v[meta.name] === undefined ? '' : String(v[meta.name]);
    const hint = has(`rh.${kind}.${meta.name}`) ? t(`rh.${kind}.${meta.name}`) : null;
    let f;
    if (meta.kind === 'enum') {
      f = field({ name: meta.name, label, required: meta.required, type: 'select', value: val, options: enumOptions(meta.name, t('rf.choose')), hint });
    } else if (meta.kind === 'station') {
      const list = extra.stations || [];
      const options = [['', list.length ? t('rf.choose') : t('rf.no_stations')], ...list.map((s) => [s.station_id, `${s.station_id} ${s.name}`])];
      if (val && !list.some((s) => s.station_id === val)) options.push([val, val]);
      f = field({ name: meta.name, label, required: meta.required, type: 'select', value: val, options, hint });
    } else if (meta.kind === 'area') {
      // The picker stands in for the input: a hidden text field keeps the Form contract.
      f = field({ name: meta.name, label, required: meta.required, value: val, hint: hint || t('rh.area') });
      f.input.type = 'hidden';
      picker = areaPicker({ value: val, exact: true, onChange: (code) => { f.input.value = code; form.clearError(meta.name); } });
      f.input.before(picker.el);
      const labelEl = f.row.querySelector('label');
      labelEl.setAttribute('for', picker.selects[0].id || (picker.selects[0].id = uid('area')));
      picker.selects.forEach((s) => s.setAttribute('aria-describedby', f.input.getAttribute('aria-describedby')));
      f.picker = picker;
    } else {
      f = field({
        name: meta.name,
        label,
        required: meta.required,
        type: meta.textarea ? 'textarea' : meta.kind === 'date' ? 'date' : 'text',
        value: val,
        maxlength: meta.max ? meta.max + 10 : undefined, // room to type a space too many: the server says which
        wide: meta.wide,
        hint,
      });
      if (meta.kind === 'int' || meta.kind === 'dec') f.input.setAttribute('inputmode', 'decimal');
      if (meta.mono) f.input.classList.add('mono');
    }
    if (meta.wide) f.row.classList.add('form-row-wide');
    if (meta.textarea) f.input.setAttribute('rows', '2');
    f.meta = meta;
    fields.push(f);
  }
  const form = new Form(fields);
  form.clearOnInput();
  const rows = new Map(fields.map((f) => [f.name, f]));

  function clear() {
    form.clearErrors();
    for (const f of fields) f.row.querySelector('.suggest')?.remove();
  }

  function setProblem(f, code, suggestion, setValue) {
    form.setError(f.name, problemText(kind, f.name, code));
    f.row.querySelector('.suggest')?.remove();
    if (suggestion !== null && suggestion !== undefined && suggestion !== '') {
      const line = suggestionLine(suggestion, (s) => {
        setValue(s);
        form.clearError(f.name);
        line.remove();
        f.input.focus();
      }, `suggest-${f.name}`);
      f.error.after(line);
    }
  }

  function applyDetails(details) {
    const unplaced = [];
    for (const d of details) {
      const f = rows.get(d.field);
      if (!f) {
        unplaced.push(d);
        continue;
      }
      setProblem(f, d.code, d.suggestion, (s) => {
        if (f.picker) {
          f.input.value = s;
          f.picker.set(s);
        } else {
          f.input.value = s;
        }
      });
    }
    return unplaced;
  }

  /** Required fields filled (the rest is the server's to judge). */
  function validate() {
    clear();
    let ok = true;
    for (const f of fields) {
      if (f.meta.required && form.value(f.name) === '') {
        form.setError(f.name, t('rerr.required'));
        ok = false;
      }
    }
    if (!ok) form.focusFirstError();
    return ok;
  }

  function collect() {
    const out = {};
    for (const f of fields) {
      const val = typed(f.meta, form.value(f.name));
      if (val !== undefined) out[f.name] = val;
    }
    return out;
  }
  return { form, rows, fields, collect, applyDetails, clear, validate, typed };
}

export { typed as typedValue };

/** Lays record form fields out in titled sections: [[titleKey, [names]]]. */
export function formSections(rf, layout) {
  return layout.map(([title, names]) =>
    h('fieldset', { class: 'form-section' }, h('legend', null, t(title)), h('div', { class: 'form-grid' }, names.map((n) => rf.rows.get(n).row))),
  );
}

// ---------- import problems ----------

/** The 422 import_failed table: 工作表, 行, 列, 当前值, 问题, 建议值. */
export function importProblems(err) {
  const details = err.details || [];
  const head = [t('imp.sheet'), t('imp.row'), t('imp.column'), t('imp.value'), t('imp.problem'), t('imp.suggestion')];
  const rows = details.map((d) => {
    const kind = SHEET_KIND[d.sheet] || '';
    return h(
      'tr',
      { 'data-test': 'import-problem', 'data-sheet': d.sheet || '', 'data-row': d.row === null || d.row === undefined ? '' : String(d.row), 'data-column': d.column || '', 'data-code': d.code || '' },
      h('td', null, dash(d.sheet)),
      h('td', { class: 'num' }, d.row === null || d.row === undefined ? '—' : String(d.row)),
      h('td', null, dash(d.column)),
      h('td', { class: 'cell-wrap' }, d.value === null || d.value === undefined ? h('span', { class: 'muted' }, t('rf.empty_cell')) : visibleValue(d.value, 'problem-value')),
      h('td', { class: 'cell-wrap', title: d.reason || null }, problemText(kind, d.field, d.code)),
      h('td', { class: 'cell-wrap' }, d.suggestion === null || d.suggestion === undefined ? '—' : visibleValue(d.suggestion, 'problem-suggestion')),
    );
  });
  const spaces = details.some((d) => d.code === 'spaces');
  return h(
    'div',
    { class: 'import-errors', 'data-test': 'import-errors', role: 'alert' },
    h(
      'div',
      { class: 'msg msg-error import-errors-head' },
      h('strong', null, t('imp.failed', { n: details.length + (err.truncated ? '+' : '') })),
      h('span', null, t('imp.failed_hint')),
    ),
    spaces ? message('warning', t('imp.spaces_warning'), 'spaces-warning') : null,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', { class: 'table table-compact', 'data-test': 'import-problems' }, h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', null, rows)),
    ),
    h('p', { class: 'muted import-legend' }, t('imp.legend')),
  );
}

// ---------- a paged table that loads itself ----------

/**
 * opts: {columns: [[header, (item) => cell, class?]], load: (page, pageSize) => Promise<list>,
 *        test, rowTest, empty, pageSize}. Returns {el, reload()}.
 */
export function pagedTable(opts) {
  const tbody = h('tbody');
  const table = h('table', { class: ['table', opts.compact ? 'table-compact' : null], 'data-test': opts.test }, h('thead', null, h('tr', null, opts.columns.map(([c]) => h('th', { scope: 'col' }, c)))), tbody);
  const pagerHost = h('div');
  const errorHost = h('div');
  const el = h('div', { class: 'paged-table' }, errorHost, h('div', { class: 'table-wrap' }, table), pagerHost);
  let page = 1;
  let pageSize = opts.pageSize || 10;
  const colspan = String(opts.columns.length);
  async function reload() {
    replace(tbody, h('tr', null, h('td', { colspan, class: 'empty' }, t('common.loading'))));
    let data;
    try {
      data = await opts.load(page, pageSize);
    } catch (err) {
      replace(tbody);
      replace(errorHost, message('error', apiErrorText(err)));
      return;
    }
    replace(errorHost);
    const items = data.items || [];
    replace(
      tbody,
      items.length
        ? items.map((it) => h('tr', { 'data-test': opts.rowTest, 'data-key': opts.key ? opts.key(it) : null }, opts.columns.map(([, cell, cls]) => h('td', { class: cls }, cell(it)))))
        : h('tr', null, h('td', { colspan, class: 'empty' }, opts.empty || t('common.empty'))),
    );
    const total = Number(data.total) || 0;
    const bar = pager({
      total,
      page,
      pageSize,
      sizes: SIZES,
      onChange: (p) => {
        page = Math.max(1, p.page);
        pageSize = p.pageSize;
        reload();
      },
    });
    disablePager(bar, page, Math.max(1, Math.ceil(total / pageSize)));
    replace(pagerHost, bar);
  }
  reload();
  return { el, reload };
}

/** Staged/record tables of an application: stations and piles with the key columns. */
export function stationColumns(areas) {
  return [
    [t('rf.station.station_id'), (s) => s.station_id, 'mono'],
    [t('rf.station.name'), (s) => s.name, 'cell-name'],
    [t('rf.station.area_code'), (s) => (areas ? areaPath(areas, s.area_code) : s.area_name || s.area_code)],
    [t('rf.station.address'), (s) => s.address, 'cell-name'],
    [t('rf.station.station_type'), (s) => enumLabel('station_type', s.station_type)],
    [t('rf.station.service_tel'), (s) => dash(s.service_tel)],
    [t('rl.pile_count'), (s) => String(s.pile_count ?? 0), 'num'],
    [t('rl.status'), (s) => recordBadge(s.status)],
  ];
}

export function pileColumns() {
  return [
    [t('rf.pile.equipment_id'), (p) => h('a', { href: `#/piles/${encodeURIComponent(p.equipment_id)}`, 'data-test': 'pile-detail-link' }, p.equipment_id), 'mono'],
    [t('rl.station'), (p) => h('span', null, p.station_name || '', h('span', { class: 'muted mono sub-id' }, ` ${p.station_id}`)), 'cell-name'],
    [t('rf.pile.equipment_type'), (p) => enumLabel('equipment_type', p.equipment_type)],
    [t('rf.pile.power'), (p) => dash(p.power), 'num'],
    [t('rf.pile.protocol'), (p) => enumLabel('protocol', p.protocol)],
    [t('rl.connectors'), (p) => String((p.connectors || []).length), 'num'],
    [t('rl.status'), (p) => recordBadge(p.status)],
  ];
}

/** An application's stations and piles, for the wizard's last step and the admin's review. */
export function stagedTables(appId, areas, extraQuery = '') {
  const st = pagedTable({
    columns: stationColumns(areas),
    test: 'staged-stations',
    rowTest: 'staged-station',
    key: (s) => s.station_id,
    compact: true,
    load: (page, size) => api.get(`/stations?application_id=${appId}&page=${page}&page_size=${size}${extraQuery}`),
  });
  const pl = pagedTable({
    columns: pileColumns(),
    test: 'staged-piles',
    rowTest: 'staged-pile',
    key: (p) => p.equipment_id,
    compact: true,
    load: (page, size) => api.get(`/piles?application_id=${appId}&page=${page}&page_size=${size}${extraQuery}`),
  });
  return { stations: st.el, piles: pl.el };
}

