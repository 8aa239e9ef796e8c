// 桩平台检测 → 新建 / 编辑检测申请: the guide's wizard with a step bar,
//   ① 选择接入方式 → ② 基本信息 → ③ 上传材料 → ④ 提交.
// One view lives through all four steps (the hash follows with history.replaceState, so a reload
// lands on the same step without a re-render in between). 保存草稿 and 下一步 save the draft
// (POST once, then PUT); completeness is the server's to judge on submit, and its 422 details
// ("contact.mobile", "platform.source_ips[1]", "materials") go beside their fields, the wizard
// returning to the step of the first one.

import { api, upload } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { t, fieldError, fmtSize } from '../i18n.js';
import { field, Form } from '../form.js';
import { card, button, message, withLoading, apiErrorText, toast, detectionBadge, descList } from '../ui.js';
import { confirmDialog } from '../dialog.js';
import { checkFormat, progressBar } from './regfields.js';
import {
  MODES,
  PROTOCOLS,
  PROTOCOL_VERSIONS,
  MAX_MATERIAL_BYTES,
  MAX_MATERIALS,
  EDITABLE,
  modeLabel,
  protocolLabel,
  appNo,
  formPdfLink,
  formPdfName,
  materialsTable,
  infoSections,
} from './detection_common.js';

const STEP_KEYS = ['det.step.mode', 'det.step.basic', 'det.step.materials', 'det.step.submit'];
const MAX_IPS = 32;
// [max characters] of the text fields (docs/api-detections.md); numbers and lists apart.
const MAX_LEN = {
  'commissioning_unit.name': 100,
  'commissioning_unit.credit_code': 18,
  'commissioning_unit.address': 200,
  'contact.name': 50,
  'contact.mobile': 11,
  'contact.email': 100,
  'platform.name': 100,
  'platform.base_url': 200,
  'platform.protocol_version': 32,
  delegation_scope: 200,
  'pile_summary.brands': 200,
  'pile_summary.models': 200,
};
const ACCEPT = '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png';

const chars = (s) => [...s].length;

// ---------- client-side checks (formats of what is filled; completeness is checked on submit) ----------

/** An IPv4 or IPv6 address, optionally with a CIDR prefix: null when good, else 'bad_format'. */
export function checkIp(value) {
  const parts = value.split('/');
  if (parts.length > 2 || !parts[0]) return 'bad_format';
  const [addr, prefix] = parts;
  if (prefix !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return 'bad_format';
  if (/^[0-9.]+$/.test(addr)) {
    const oct = addr.split('.');
    if (oct.length !== 4 || oct.some((o) => !/^(0|[1-9][0-9]{0,2})$/.test(o) || Number(o) > 255)) return 'bad_format';
    return prefix !== undefined && Number(prefix) > 32 ? 'bad_format' : null;
  }
  if (!addr.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(addr)) return 'bad_format';
  try {
    new URL(`http://[${addr}]/`); // the URL parser knows every IPv6 spelling
  } catch {
    return 'bad_format';
  }
  return prefix !== undefined && Number(prefix) > 128 ? 'bad_format' : null;
}

function checkUrl(value) {
  if (/\s/.test(value)) return 'bad_format';
  let u;
  try {
    u = new URL(value);
  } catch {
    return 'bad_format';
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.username || u.password) return 'bad_format';
  return null;
}

function checkCount(value) {
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) > 1000000) return 'bad_format';
  return null;
}

function checkText(name, value) {
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'bad_format';
  if (MAX_LEN[name] && chars(value) > MAX_LEN[name]) return 'too_long';
  switch (name) {
    case 'commissioning_unit.credit_code':
      return checkFormat('credit_code', value);
    case 'contact.mobile':
      return checkFormat('mobile', value);
    case 'contact.email':
      return checkFormat('email', value);
    case 'platform.base_url':
      return checkUrl(value);
    case 'pile_summary.ac_count':
    case 'pile_summary.dc_count':
      return checkCount(value);
    default:
      return null;
  }
}

/** The step (1–4) that holds the field of a validation detail. */
function stepOf(fieldPath) {
  if (fieldPath === 'mode') return 1;
  if (/^(commissioning_unit|contact|platform|delegate|delegation_scope|pile_summary)/.test(fieldPath)) return 2;
  if (/^materials/.test(fieldPath)) return 3;
  return 4;
}

// ---------- ② 基本信息 ----------

/** The source IP list editor: rows added and removed, each checked as it is left. */
function ipEditor(values) {
  const name = 'platform.source_ips';
  const labelId = uid('ips-label');
  const hintId = uid('ips-hint');
  const errId = uid('ips-err');
  const list = h('div', { class: 'ip-list' });
  const rows = [];
  const error = h('div', { class: 'field-error', id: errId, 'data-test': `error-${name}`, 'aria-live': 'polite' });
  const addBtn = button(t('det.ip_add'), { small: true, test: 'ip-add', class: 'ip-add' });

  function renumber() {
    rows.forEach((r, i) => {
      r.input.setAttribute('aria-label', t('det.ip_n', { n: i + 1 }));
      r.input.setAttribute('data-test', `ip-${i}`);
      r.num.textContent = String(i + 1);
      r.remove.setAttribute('aria-label', t('det.ip_remove_n', { n: i + 1 }));
    });
    addBtn.disabled = rows.length >= MAX_IPS;
  }

  function setRowError(r, text) {
    r.error.textContent = text || '';
    r.wrap.classList.toggle('has-error', Boolean(text));
    if (text) r.input.setAttribute('aria-invalid', 'true');
    else r.input.removeAttribute('aria-invalid');
  }

  function addRow(value, focus) {
    const input = h('input', { class: 'input mono', type: 'text', value: value || '', maxlength: 64, placeholder: t('det.ip_ph'), autocomplete: 'off', spellcheck: 'false' });
    const num = h('span', { class: 'ip-num', 'aria-hidden': 'true' });
    const rowError = h('div', { class: 'field-error', 'aria-live': 'polite' });
    const remove = button('×', { kind: 'link-danger', class: 'ip-remove', test: 'ip-remove' });
    const wrap = h('div', { class: 'ip-row', 'data-test': 'ip-row' }, num, h('div', { class: 'ip-input' }, input, rowError), remove);
    const r = { wrap, input, num, error: rowError, remove };
    input.setAttribute('aria-describedby', `${hintId} ${errId}`);
    input.addEventListener('input', () => setRowError(r, ''));
    input.addEventListener('blur', () => {
      const v = input.value.trim();
      if (v && checkIp(v)) setRowError(r, fieldError(`${name}.item`, 'bad_format'));
    });
    remove.addEventListener('click', () => {
      if (rows.length === 1) {
        input.value = '';
        setRowError(r, '');
        input.focus();
        return;
      }
      const i = rows.indexOf(r);
      rows.splice(i, 1);
      wrap.remove();
      renumber();
      (rows[Math.min(i, rows.length - 1)] || {}).input?.focus();
    });
    rows.push(r);
    list.appendChild(wrap);
    renumber();
    if (focus) input.focus();
  }

  (values && values.length ? values : ['']).forEach((v) => addRow(v));
  addBtn.addEventListener('click', () => {
    if (rows.length < MAX_IPS) addRow('', true);
  });

  const group = h('div', { class: 'ip-editor', role: 'group', 'aria-labelledby': labelId, 'aria-describedby': `${hintId} ${errId}`, 'data-test': `field-${name}` }, list, addBtn);
  const row = h(
    'div',
    { class: 'form-row form-row-wide', 'data-field': name },
    h('div', { class: 'form-label', id: labelId }, h('span', { class: 'req', 'aria-hidden': 'true' }, '*'), t(`field.${name}`)),
    h('div', { class: 'form-control' }, group, h('div', { class: 'form-hint', id: hintId }, t('det.ip_hint', { max: MAX_IPS })), error),
  );

  return {
    name,
    row,
    input: group,
    error,
    type: 'group',
    values: () => rows.map((r) => r.input.value.trim()).filter(Boolean),
    /** Checks each filled row; returns false when one is bad or repeated. */
    validate() {
      let ok = true;
      const seen = new Set();
      rows.forEach((r) => {
        const v = r.input.value.trim();
        let code = v ? checkIp(v) : null;
        if (!code && v) {
          if (seen.has(v.toLowerCase())) code = 'duplicate';
          seen.add(v.toLowerCase());
        }
        setRowError(r, code ? fieldError(`${name}.item`, code) : '');
        if (code) ok = false;
      });
      return ok;
    },
    /** A server detail for entry i, counted among the filled rows as they were sent. */
    setItemError(i, code) {
      const filled = rows.filter((r) => r.input.value.trim());
      const r = filled[i] || rows[i];
      if (!r) return false;
      setRowError(r, fieldError(`${name}.item`, code));
      return true;
    },
    clearItems: () => rows.forEach((r) => setRowError(r, '')),
    focusFirst() {
      const r = rows.find((x) => x.wrap.classList.contains('has-error'));
      (r ? r.input : rows[0].input).focus();
    },
  };
}

/** The 通信协议 check boxes. */
function protocolsField(values) {
  const name = 'pile_summary.protocols';
  const labelId = uid('proto-label');
  const errId = uid('proto-err');
  const boxes = PROTOCOLS.map((p) => h('input', { type: 'checkbox', value: p, checked: (values || []).includes(p), 'data-test': `proto-${p}` }));
  const group = h(
    'div',
    { class: 'check-group', role: 'group', 'aria-labelledby': labelId, 'aria-describedby': errId, 'data-test': `field-${name}` },
    boxes.map((b, i) => h('label', { class: 'check' }, b, h('span', null, protocolLabel(PROTOCOLS[i])))),
  );
  const error = h('div', { class: 'field-error', id: errId, 'data-test': `error-${name}`, 'aria-live': 'polite' });
  const row = h(
    'div',
    { class: 'form-row form-row-wide', 'data-field': name },
    h('div', { class: 'form-label', id: labelId }, h('span', { class: 'req', 'aria-hidden': 'true' }, '*'), t(`field.${name}`)),
    h('div', { class: 'form-control' }, group, h('div', { class: 'form-hint' }, t('det.proto_hint')), error),
  );
  return { name, row, input: group, error, type: 'group', values: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/**
 * The 基本信息 form for `mode`, filled from `app` (or, for a new one, from the operator's
 * registration). Returns {el, validate(), collect(), applyDetails(details) → unplaced, clear()}.
 */
function basicForm(mode, app, org, platforms) {
  const get = (path) => {
    const [obj, key] = path.split('.');
    if (!key) return app ? app[obj] : undefined;
    return app && app[obj] ? app[obj][key] : undefined;
  };
  const seed = app
    ? {}
    : {
        'commissioning_unit.name': org.company_name,
        'commissioning_unit.credit_code': org.credit_code,
        'commissioning_unit.address': org.address,
        'contact.name': org.contact_name,
        'contact.mobile': org.mobile,
        'contact.email': org.email,
      };
  const val = (name) => {
    const v = app ? get(name) : seed[name];
    return v === null || v === undefined ? '' : String(v);
  };
  const f = (name, extra) => field({ name, label: t(`field.${name}`), required: true, value: val(name), maxlength: MAX_LEN[name], ...extra });

  const unit = [
    f('commissioning_unit.name', { wide: true, placeholder: t('det.ph.unit_name') }),
    f('commissioning_unit.credit_code', { hint: t('hint.credit_code'), autocomplete: 'off' }),
    f('commissioning_unit.address', { wide: true }),
  ];
  const contact = [
    f('contact.name', { autocomplete: 'name' }),
    f('contact.mobile', { type: 'tel', autocomplete: 'tel', hint: t('det.hint.mobile') }),
    f('contact.email', { type: 'email', autocomplete: 'email' }),
  ];
  let platformFields = [];
  let ips = null;
  let delegateFields = [];
  if (mode === 'self') {
    const pv = val('platform.protocol_version') || PROTOCOL_VERSIONS[0];
    const versions = PROTOCOL_VERSIONS.includes(pv) ? PROTOCOL_VERSIONS : [pv, ...PROTOCOL_VERSIONS];
    ips = ipEditor(app && app.platform ? app.platform.source_ips : []);
    platformFields = [
      f('platform.name', { placeholder: t('det.ph.platform_name') }),
      field({ name: 'platform.protocol_version', label: t('field.platform.protocol_version'), required: true, type: 'select', value: pv, options: versions.map((v) => [v, v]) }),
      f('platform.base_url', { wide: true, type: 'url', placeholder: 'https://evcs.example.com/evcs/v1/', hint: t('det.hint.base_url'), autocomplete: 'off' }),
    ];
  } else {
    const list = platforms || [];
    const current = app && app.delegate_detection_id ? String(app.delegate_detection_id) : '';
    const options = [['', list.length ? t('det.ph.delegate') : t('det.no_platforms')], ...list.map((p) => [String(p.detection_id), t('det.platform_of', { platform: p.platform_name, company: p.company_name })])];
    if (current && !list.some((p) => String(p.detection_id) === current)) {
      options.push([current, app.delegate ? t('det.platform_of', { platform: app.delegate.platform_name, company: app.delegate.company_name }) : `#${current}`]);
    }
    delegateFields = [
      field({ name: 'delegate_detection_id', label: t('field.delegate_detection_id'), required: true, type: 'select', value: current, options, wide: true, hint: t('det.hint.delegate') }),
      field({ name: 'delegation_scope', label: t('field.delegation_scope'), type: 'textarea', value: val('delegation_scope'), maxlength: 200, wide: true, placeholder: t('det.ph.scope') }),
    ];
  }
  const protocols = protocolsField(app && app.pile_summary ? app.pile_summary.protocols : []);
  const piles = [
    f('pile_summary.brands', { placeholder: t('det.ph.brands') }),
    f('pile_summary.models', { placeholder: t('det.ph.models') }),
    f('pile_summary.ac_count', { inputmode: 'numeric', maxlength: 7, hint: t('det.hint.count') }),
    f('pile_summary.dc_count', { inputmode: 'numeric', maxlength: 7, hint: t('det.hint.count') }),
  ];
  piles.forEach((p) => p.input.setAttribute('inputmode', 'numeric'));

  const textFields = [...unit, ...contact, ...platformFields, ...delegateFields, ...piles];
  const form = new Form([...textFields, ...(ips ? [ips] : []), protocols]);
  form.clearOnInput();
  const section = (title, rows, test) => h('fieldset', { class: 'form-section', 'data-test': test }, h('legend', null, title), h('div', { class: 'form-grid' }, rows));
  const generalError = h('div', { class: 'form-message', 'data-test': 'basic-error' });
  const el = h(
    'div',
    { class: 'det-basic' },
    generalError,
    // The guide's order: 委托单位, 联调负责人, 平台信息 (self); 委托单位, 委托信息, 联调负责人 (delegated).
    section(t('det.sec_unit'), unit.map((x) => x.row), 'sec-unit'),
    mode === 'self' ? section(t('det.sec_contact'), contact.map((x) => x.row), 'sec-contact') : null,
    mode === 'self'
      ? section(t('det.sec_platform'), [...platformFields.map((x) => x.row), ips.row], 'sec-platform')
      : section(t('det.sec_delegation'), delegateFields.map((x) => x.row), 'sec-delegation'),
    mode === 'self' ? null : section(t('det.sec_contact'), contact.map((x) => x.row), 'sec-contact'),
    section(t('det.sec_piles'), [...piles.map((x) => x.row), protocols.row], 'sec-piles'),
  );

  const text = (name) => (form.value(name) || '').trim();

  function validate() {
    form.clearErrors();
    if (ips) ips.clearItems();
    let ok = true;
    for (const fl of textFields) {
      if (fl.type === 'select') continue;
      const v = text(fl.name);
      const code = v ? checkText(fl.name, v) : null;
      if (code) {
        form.setError(fl.name, fieldError(fl.name, code));
        ok = false;
      }
    }
    if (ips && !ips.validate()) ok = false;
    if (!ok) focusFirst();
    return ok;
  }

  function focusFirst() {
    for (const fl of form.fields.values()) {
      if (fl.row.classList.contains('has-error') || fl.row.querySelector('.ip-row.has-error')) {
        if (fl === ips) ips.focusFirst();
        else if (fl.type === 'group') fl.input.querySelector('input')?.focus();
        else fl.input.focus();
        fl.row.scrollIntoView({ block: 'center' });
        return;
      }
    }
  }

  function collect() {
    const obj = (names) => {
      const o = {};
      for (const name of names) {
        const v = text(name);
        if (!v) continue;
        const key = name.split('.')[1];
        o[key] = /_count$/.test(key) && /^[0-9]+$/.test(v) ? Number(v) : v;
      }
      return o;
    };
    const body = {
      commissioning_unit: obj(unit.map((x) => x.name)),
      contact: obj(contact.map((x) => x.name)),
    };
    if (mode === 'self') {
      body.platform = obj(platformFields.map((x) => x.name));
      const list = ips.values();
      if (list.length) body.platform.source_ips = list;
    } else {
      const d = text('delegate_detection_id');
      body.delegate_detection_id = d ? Number(d) : null;
      body.delegation_scope = text('delegation_scope');
    }
    body.pile_summary = obj(piles.map((x) => x.name));
    const protos = protocols.values();
    if (protos.length) body.pile_summary.protocols = protos;
    return body;
  }

  /** Places server details beside their fields; returns those that found no place. */
  function applyDetails(details) {
    const unplaced = [];
    for (const d of details) {
      const code = d.code || 'bad_format';
      const m = /^platform\.source_ips\[(\d+)\]$/.exec(d.field);
      if (m && ips && ips.setItemError(Number(m[1]), code)) continue;
      if (d.field === 'delegate' || d.field === 'delegate_detection_id') {
        if (form.setError('delegate_detection_id', fieldError('delegate_detection_id', code))) continue;
      }
      // "pile_summary" (e.g. no AC and no DC pile) lands on the AC count.
      if (d.field === 'pile_summary' && form.setError('pile_summary.ac_count', fieldError('pile_summary', code))) continue;
      if (form.setError(d.field, fieldError(d.field, code))) continue;
      unplaced.push(d);
    }
    return unplaced;
  }

  function showGeneral(node) {
    replace(generalError, node);
  }

  return { el, validate, collect, applyDetails, focusFirst, showGeneral, form };
}

// ---------- the wizard ----------

export async function detectionWizardView(ctx) {
  const id = ctx.params[0] ? Number(ctx.params[0]) : null;
  const w = { app: null, mode: null, step: 1, errors: [], basic: null, basicMode: null, platforms: null };
  if (id) {
    w.app = await api.get(`/detections/${id}`);
    if (!ctx.alive()) return null;
    if (!EDITABLE.includes(w.app.status)) {
      ctx.navigate(`#/detections/${id}`);
      return null;
    }
    w.mode = w.app.mode;
    const s = Number(ctx.query.get('step'));
    w.step = s >= 1 && s <= 4 ? s : 2;
  } else {
    const m = ctx.query.get('mode');
    w.mode = MODES.includes(m) ? m : null;
    w.step = w.mode && ctx.query.get('step') === '2' ? 2 : 1;
  }
  const org = (ctx.state.account && ctx.state.account.organisation) || {};
  const title = () => (w.app ? t('det.edit_title') : t('det.new_title'));
  const crumbs = () => ctx.crumbs([{ label: t('nav.access') }, { label: t('det.title'), href: '#/detections' }, { label: title() }]);
  crumbs();

  const stepsHost = h('div');
  const headHost = h('div');
  const body = h('div', { class: 'wizard-body' });
  const cardTitle = h('h2', { class: 'card-title' }, title());
  const root = h(
    'section',
    { class: 'card wizard', 'data-test': 'detection-wizard' },
    h('div', { class: 'card-head' }, cardTitle, headHost),
    h('div', { class: 'card-body' }, stepsHost, body),
  );

  function setHash() {
    const hash = w.app ? `#/detections/${w.app.id}/edit?step=${w.step}` : `#/detections/new${w.mode ? `?mode=${w.mode}&step=${w.step}` : ''}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function renderHead() {
    cardTitle.textContent = title();
    if (ctx.alive()) crumbs();
    replace(
      headHost,
      w.app
        ? h('div', { class: 'wizard-meta', 'data-test': 'wizard-meta' }, h('span', { class: 'muted' }, t('det.lbl', { label: t('det.app_no') })), h('span', { class: 'mono', 'data-test': 'wizard-app-no' }, appNo(w.app)), detectionBadge(w.app.status))
        : null,
    );
  }

  function canGo(step) {
    if (step === w.step) return false;
    if (step <= 2) return Boolean(w.mode) || step === 1;
    return Boolean(w.app);
  }

  function renderSteps() {
    replace(
      stepsHost,
      h(
        'ol',
        { class: 'steps steps-wizard', 'data-test': 'wizard-steps' },
        STEP_KEYS.map((k, i) => {
          const n = i + 1;
          const inner = [h('span', { class: 'step-num' }, n < w.step ? '✓' : String(n)), h('span', { class: 'step-name' }, t(k))];
          return h(
            'li',
            { class: ['step', n < w.step ? 'is-done' : null, n === w.step ? 'is-current' : null], 'aria-current': n === w.step ? 'step' : null, 'data-test': `step-${n}` },
            canGo(n) ? h('button', { type: 'button', class: 'step-link', on: { click: () => leaveTo(n) } }, inner) : inner,
          );
        }),
      ),
    );
  }

  function show(step) {
    w.step = step;
    setHash();
    renderHead();
    renderSteps();
    let node;
    if (step === 1) node = stepMode();
    else if (step === 2) node = stepBasic();
    else if (step === 3) node = stepMaterials();
    else node = stepSubmit();
    replace(body, node);
    window.scrollTo(0, 0);
  }

  /** Leaving step 2 saves it first (the same as 下一步); the other steps have nothing unsaved. */
  async function leaveTo(step, btn) {
    if (w.step === 2 && w.basic && (w.app || step > 2)) {
      const ok = btn ? await withLoading(btn, t('det.saving'), () => save()) : await save();
      if (!ok) return;
    }
    show(step);
  }

  // ① 选择接入方式
  function stepMode() {
    const locked = Boolean(w.app);
    const next = button(t('det.next'), { kind: 'primary', class: 'btn-large', test: 'wizard-next' });
    next.disabled = !w.mode;
    const cards = MODES.map((m) =>
      h(
        'button',
        {
          type: 'button',
          role: 'radio',
          'aria-checked': w.mode === m ? 'true' : 'false',
          class: ['mode-card', `mode-card-${m}`, w.mode === m ? 'is-selected' : null],
          disabled: locked && w.mode !== m,
          'data-test': `mode-${m}`,
          on: {
            click: () => {
              if (locked) return;
              w.mode = m;
              cards.forEach((c) => {
                const on = c.dataset.test === `mode-${m}`;
                c.classList.toggle('is-selected', on);
                c.setAttribute('aria-checked', on ? 'true' : 'false');
              });
              next.disabled = false;
              setHash();
              renderSteps();
            },
            dblclick: () => !locked && leaveTo(2),
          },
        },
        h('span', { class: 'mode-icon', 'aria-hidden': 'true' }),
        h('span', { class: 'mode-title' }, modeLabel(m)),
        h('span', { class: 'mode-desc' }, t(`det.mode_desc.${m}`)),
        h('span', { class: 'mode-note' }, t(`det.mode_note.${m}`)),
        h('span', { class: 'mode-check', 'aria-hidden': 'true' }, '✓'),
      ),
    );
    next.addEventListener('click', () => leaveTo(2));
    // A radio group: one tab stop, the arrow keys move the choice.
    const group = h('div', { class: 'mode-cards', role: 'radiogroup', 'aria-label': t('det.step.mode') }, cards);
    const tabStops = () => cards.forEach((c, i) => c.setAttribute('tabindex', (w.mode ? c.dataset.test === `mode-${w.mode}` : i === 0) ? '0' : '-1'));
    tabStops();
    group.addEventListener('click', tabStops);
    group.addEventListener('keydown', (e) => {
      const dir = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (!dir || locked) return;
      e.preventDefault();
      const i = cards.indexOf(document.activeElement);
      const to = cards[(i + dir + cards.length) % cards.length];
      to.click();
      to.focus();
    });
    return h(
      'div',
      { class: 'step-pane' },
      h('p', { class: 'step-intro' }, t('det.mode_intro')),
      group,
      locked ? h('p', { class: 'form-hint mode-locked' }, t('det.mode_locked')) : null,
      h('div', { class: 'wizard-actions' }, h('a', { class: 'btn btn-default btn-large', href: '#/detections' }, t('common.cancel')), next),
    );
  }

  // ② 基本信息
  function stepBasic() {
    const host = h('div', { class: 'step-pane' }, message('info', t('common.loading')));
    const ready = () => {
      if (!w.basic || w.basicMode !== w.mode) {
        w.basic = basicForm(w.mode, w.app, org, w.platforms);
        w.basicMode = w.mode;
      }
      const b = w.basic;
      const details = w.errors.filter((d) => stepOf(d.field) === 2);
      if (w.errors.length) {
        b.validate(); // clears stale marks
        const unplaced = b.applyDetails(details);
        const elsewhere = w.errors.filter((d) => stepOf(d.field) !== 2);
        b.showGeneral(submitErrorBox(unplaced, elsewhere));
        w.errors = w.errors.filter((d) => stepOf(d.field) !== 2);
        setTimeout(() => b.focusFirst(), 0);
      } else {
        b.showGeneral(null);
      }
      const saveBtn = button(t('det.save_draft'), { class: 'btn-large', test: 'wizard-save' });
      const next = button(t('det.next'), { kind: 'primary', class: 'btn-large', test: 'wizard-next' });
      const prev = button(t('det.prev'), { class: 'btn-large', test: 'wizard-prev', onClick: () => leaveTo(1) });
      saveBtn.addEventListener('click', async () => {
        const ok = await withLoading(saveBtn, t('det.saving'), () => save());
        if (ok) {
          toast(t('det.draft_saved'));
          renderHead();
          renderSteps();
        }
      });
      next.addEventListener('click', () => leaveTo(3, next));
      replace(
        host,
        h('p', { class: 'step-intro' }, t(`det.basic_intro.${w.mode}`), ' ', h('span', { class: 'req-note' }, h('span', { class: 'req' }, '*'), t('common.required_hint'))),
        h('div', { class: 'mode-banner' }, t('det.lbl', { label: t('det.mode') }), h('strong', null, modeLabel(w.mode))),
        b.el,
        h('div', { class: 'wizard-actions' }, prev, saveBtn, next),
      );
    };
    if (w.mode === 'delegated' && !w.platforms) {
      api
        .get('/platforms')
        .then((d) => {
          w.platforms = (d && d.items) || [];
        })
        .catch(() => {
          w.platforms = [];
        })
        .then(() => {
          if (ctx.alive() && w.step === 2) ready();
        });
    } else {
      ready();
    }
    return host;
  }

  /** Saves step 2: POST the first time, PUT after. Field errors go beside the fields. */
  async function save() {
    const b = w.basic;
    if (!b) return true;
    b.showGeneral(null);
    if (!b.validate()) {
      b.showGeneral(message('error', t('det.fix_marked')));
      return false;
    }
    const payload = b.collect();
    try {
      if (!w.app) {
        const created = await api.post('/detections', { mode: w.mode, ...payload });
        w.app = created && created.id ? created : await api.get(`/detections/${created.id}`);
      } else {
        const updated = await api.put(`/detections/${w.app.id}`, payload);
        w.app = updated && updated.id ? updated : await api.get(`/detections/${w.app.id}`);
      }
      setHash();
      return true;
    } catch (err) {
      const unplaced = b.applyDetails(err.fieldDetails ? err.fieldDetails() : []);
      const placedAny = (err.fieldDetails ? err.fieldDetails().length : 0) > unplaced.length;
      b.showGeneral(message('error', placedAny && !unplaced.length ? t('det.fix_marked') : apiErrorText(err)));
      b.focusFirst();
      return false;
    }
  }

  /** The message on top of step 2 after a refused submit: what was marked, and the rest. */
  function submitErrorBox(unplaced, elsewhere) {
    const lines = [...unplaced, ...elsewhere].map((d) => {
      const step = stepOf(d.field);
      const text = fieldError(d.field, d.code || 'bad_format');
      return h('li', null, step !== 2 ? t('det.lbl_value', { label: t(STEP_KEYS[step - 1]), value: text }) : text);
    });
    return h('div', { class: 'msg msg-error', role: 'alert', 'data-test': 'submit-errors' }, h('div', null, t('det.submit_failed')), lines.length ? h('ul', { class: 'msg-list' }, lines) : null);
  }

  // ③ 上传材料
  function stepMaterials() {
    const app = w.app;
    const progress = progressBar();
    progress.el.classList.add('progress-inline');
    const current = h('div', { class: 'upload-current muted' });
    const uploadError = h('div', { class: 'field-error upload-error', 'data-test': 'error-materials', 'aria-live': 'polite' });
    const tableHost = h('div', { 'data-test': 'materials' });
    const matErr = w.errors.find((d) => d.field === 'materials' || /^materials\[/.test(d.field));
    const area = h('div', { class: ['upload-block', matErr ? 'has-error' : null], 'data-field': 'materials' });
    if (matErr) uploadError.textContent = fieldError('materials', matErr.code || 'required');

    const input = h('input', { type: 'file', class: 'file-native', multiple: true, accept: ACCEPT, id: uid('materials'), 'data-test': 'material-input', 'aria-describedby': 'materials-hint' });
    const drop = h(
      'label',
      { class: 'dropzone', for: input.id, 'data-test': 'dropzone' },
      h('span', { class: 'dropzone-icon', 'aria-hidden': 'true' }),
      h('span', { class: 'dropzone-title' }, t('det.upload_choose')),
      h('span', { class: 'dropzone-hint', id: 'materials-hint' }, t('det.upload_hint', { max: MAX_MATERIALS })),
    );
    input.setAttribute('aria-label', t('det.upload_label'));

    function renderTable() {
      replace(tableHost, materialsTable(w.app.materials, { onDelete: removeMaterial, emptyText: t('det.mat.none_yet') }));
    }

    async function removeMaterial(m) {
      const done = await confirmDialog({
        title: t('det.mat.delete_title'),
        text: t('det.mat.delete_confirm', { name: m.name }),
        okText: t('common.delete'),
        danger: true,
        action: () => api.del(`/detections/${w.app.id}/materials/${m.id}`),
      });
      if (done) {
        w.app.materials = (w.app.materials || []).filter((x) => x.id !== m.id);
        toast(t('det.mat.deleted'));
        renderTable();
      }
    }

    function localProblem(file) {
      const okType = /\.(pdf|jpe?g|png)$/i.test(file.name) || ['application/pdf', 'image/jpeg', 'image/png'].includes(file.type);
      if (!okType) return fieldError('materials', 'bad_type');
      if (file.size > MAX_MATERIAL_BYTES) return fieldError('materials', 'too_large');
      return null;
    }

    async function uploadFiles(files) {
      uploadError.textContent = '';
      area.classList.remove('has-error');
      w.errors = w.errors.filter((d) => stepOf(d.field) !== 3);
      const problems = [];
      const list = Array.from(files);
      input.disabled = true;
      drop.classList.add('is-busy');
      for (let i = 0; i < list.length; i += 1) {
        const file = list[i];
        const bad = localProblem(file);
        if (bad) {
          problems.push(t('det.lbl_value', { label: file.name, value: bad }));
          continue;
        }
        if ((w.app.materials || []).length >= MAX_MATERIALS) {
          problems.push(t('det.lbl_value', { label: file.name, value: t('det.mat.too_many', { max: MAX_MATERIALS }) }));
          continue;
        }
        current.textContent = t('det.upload_n', { i: i + 1, n: list.length, name: file.name, size: fmtSize(file.size) });
        progress.set(0);
        const fd = new FormData();
        fd.append('file', file, file.name);
        try {
          const m = await upload(`/detections/${w.app.id}/materials`, fd, (f) => progress.set(f));
          w.app.materials = [...(w.app.materials || []), m];
          renderTable();
        } catch (err) {
          let text;
          if (err.status === 415) text = fieldError('materials', 'bad_type');
          else if (err.status === 413) text = fieldError('materials', 'too_large');
          else if (err.status === 409 && (w.app.materials || []).length >= MAX_MATERIALS) text = t('det.mat.too_many', { max: MAX_MATERIALS });
          else text = apiErrorText(err);
          problems.push(t('det.lbl_value', { label: file.name, value: text }));
        }
      }
      progress.reset();
      current.textContent = '';
      input.disabled = false;
      input.value = '';
      drop.classList.remove('is-busy');
      if (problems.length) {
        uploadError.textContent = problems.join('；');
        area.classList.add('has-error');
      }
    }

    input.addEventListener('change', () => {
      if (input.files && input.files.length) uploadFiles(input.files);
    });
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('is-over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('is-over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('is-over');
      if (e.dataTransfer && e.dataTransfer.files.length && !input.disabled) uploadFiles(e.dataTransfer.files);
    });

    area.append(
      h('div', { class: 'upload-label' }, h('span', { class: 'req', 'aria-hidden': 'true' }, '*'), t('det.materials')),
      input,
      drop,
      current,
      progress.el,
      uploadError,
      tableHost,
    );
    renderTable();
    const formName = formPdfName(app);
    const guide = h(
      'div',
      { class: 'doc-panel' },
      h('div', { class: 'doc-icon', 'aria-hidden': 'true' }, 'PDF'),
      h(
        'div',
        { class: 'doc-text' },
        h('div', { class: 'doc-title' }, t('det.doc_name', { name: formName })),
        h('div', { class: 'doc-desc' }, t('det.form_desc')),
      ),
      formPdfLink(app, { kind: 'primary', label: t('det.download') }),
    );
    const prev = button(t('det.prev'), { class: 'btn-large', test: 'wizard-prev', onClick: () => show(2) });
    const next = button(t('det.next'), { kind: 'primary', class: 'btn-large', test: 'wizard-next', onClick: () => show(4) });
    return h(
      'div',
      { class: 'step-pane' },
      h(
        'ol',
        { class: 'guide-steps' },
        h('li', null, t('det.guide1', { name: formName })),
        h('li', null, t('det.guide2')),
        h('li', null, t('det.guide3')),
      ),
      guide,
      area,
      h('div', { class: 'wizard-actions' }, prev, next),
    );
  }

  // ④ 提交
  function stepSubmit() {
    const app = w.app;
    const errorHost = h('div', { class: 'form-message', 'data-test': 'submit-error' });
    const leftover = w.errors.filter((d) => stepOf(d.field) === 4);
    if (leftover.length) replace(errorHost, submitErrorBox(leftover, []));
    const sections = infoSections(app).map(([title, rows, test]) => h('div', { class: 'summary-section', 'data-test': test }, h('h3', { class: 'summary-title' }, title), descList(rows)));
    const submitBtn = button(t('det.submit'), { kind: 'primary', class: 'btn-large', test: 'wizard-submit' });
    const prev = button(t('det.prev'), { class: 'btn-large', test: 'wizard-prev', onClick: () => show(3) });
    submitBtn.addEventListener('click', () =>
      withLoading(submitBtn, t('common.submitting'), async () => {
        replace(errorHost);
        try {
          await api.post(`/detections/${app.id}/submit`);
          ctx.state.flash = { kind: 'success', text: t('det.submitted') };
          ctx.navigate(`#/detections/${app.id}`);
        } catch (err) {
          const details = err.fieldDetails ? err.fieldDetails() : [];
          if (err.status === 422 && details.length) {
            w.errors = details;
            const target = Math.min(...details.map((d) => stepOf(d.field)));
            if (target === 4) replace(errorHost, submitErrorBox(details, []));
            else setTimeout(() => show(target), 0);
          } else {
            replace(errorHost, message('error', apiErrorText(err)));
          }
        }
      }),
    );
    return h(
      'div',
      { class: 'step-pane' },
      h('p', { class: 'step-intro' }, t('det.submit_intro')),
      h('div', { class: 'summary-head' }, descList([[t('det.mode'), modeLabel(app.mode)], [t('det.app_no'), appNo(app)]])),
      sections,
      h('div', { class: 'summary-section' }, h('h3', { class: 'summary-title' }, t('det.materials')), materialsTable(app.materials)),
      app.status === 'rejected' && app.reject_reason ? message('warning', t('det.lbl_value', { label: t('det.reject_reason'), value: app.reject_reason })) : null,
      errorHost,
      h('div', { class: 'wizard-actions' }, prev, submitBtn),
    );
  }

  const pieces = h('div', { class: 'stack' });
  if (w.app && w.app.status === 'rejected' && w.app.reject_reason) {
    pieces.appendChild(h('div', { class: 'msg msg-warning reject-reason' }, h('strong', null, t('det.lbl', { label: t('det.reject_reason') })), h('span', { 'data-test': 'reject-reason' }, w.app.reject_reason)));
  }
  pieces.appendChild(root);
  show(w.step);
  return pieces;
}
