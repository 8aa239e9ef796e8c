// 远程操作 and OCPP 设置 on the pile page (docs/api-commands.md). The operator of the pile or an
// admin picks an OCPP action of the pile's version, fills its form (or, for 其他指令, a JSON
// payload), and sends it: POST /piles/{id}/commands waits for the pile's answer, which is shown
// here, and the recent commands are listed below. Admins also set the pile's BootNotification
// answer and security profile (PUT /piles/{id}/ocpp-settings).

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { t, has } from '../i18n.js';
import { field, Form } from '../form.js';
import { card, button, message, descList, apiErrorText, withLoading, toast } from '../ui.js';
import { pagedTable, dash } from './records_common.js';

/* Each action's form: fields by payload path. kind: text | int | select | list (comma-separated
 * words -> array); label: an rc.f.* key when the path's own one does not fit. */
const TRIGGER_16 = ['BootNotification', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StatusNotification'];
const TRIGGER_201 = ['BootNotification', 'LogStatusNotification', 'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'SignChargingStationCertificate', 'SignV2GCertificate', 'StatusNotification', 'TransactionEvent', 'SignCombinedCertificate', 'PublishFirmwareStatusNotification'];
const ID_TOKEN_TYPES = ['Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress', 'NoAuthorization'];
const DATA_TRANSFER = [{ path: 'vendorId', required: true }, { path: 'messageId' }, { path: 'data', kind: 'textarea' }];

const ACTIONS = {
  'ocpp1.6': {
    Reset: [{ path: 'type', kind: 'select', required: true, options: ['Soft', 'Hard'], label: 'reset_type' }],
    RemoteStartTransaction: [{ path: 'idTag', required: true }, { path: 'connectorId', kind: 'int' }],
    RemoteStopTransaction: [{ path: 'transactionId', kind: 'int', required: true }],
    GetConfiguration: [{ path: 'key', kind: 'list', label: 'keys' }],
    ChangeConfiguration: [{ path: 'key', required: true }, { path: 'value', required: true }],
    TriggerMessage: [{ path: 'requestedMessage', kind: 'select', required: true, options: TRIGGER_16 }, { path: 'connectorId', kind: 'int' }],
    UnlockConnector: [{ path: 'connectorId', kind: 'int', required: true }],
    ChangeAvailability: [{ path: 'connectorId', kind: 'int', required: true }, { path: 'type', kind: 'select', required: true, options: ['Operative', 'Inoperative'], label: 'availability' }],
    ClearCache: [],
    DataTransfer: DATA_TRANSFER,
  },
  'ocpp2.0.1': {
    Reset: [{ path: 'type', kind: 'select', required: true, options: ['OnIdle', 'Immediate'], label: 'reset_type' }, { path: 'evseId', kind: 'int' }],
    RequestStartTransaction: [
      { path: 'idToken.idToken', required: true },
      { path: 'idToken.type', kind: 'select', required: true, options: ID_TOKEN_TYPES },
      { path: 'remoteStartId', kind: 'int', required: true },
      { path: 'evseId', kind: 'int' },
    ],
    RequestStopTransaction: [{ path: 'transactionId', required: true, label: 'transactionRef' }],
    GetVariables: [
      { path: 'getVariableData[0].component.name', required: true, label: 'component' },
      { path: 'getVariableData[0].variable.name', required: true, label: 'variable' },
    ],
    SetVariables: [
      { path: 'setVariableData[0].component.name', required: true, label: 'component' },
      { path: 'setVariableData[0].variable.name', required: true, label: 'variable' },
      { path: 'setVariableData[0].attributeValue', required: true, label: 'value' },
    ],
    TriggerMessage: [{ path: 'requestedMessage', kind: 'select', required: true, options: TRIGGER_201 }, { path: 'evse.id', kind: 'int', label: 'evseId' }, { path: 'evse.connectorId', kind: 'int', label: 'connectorId' }],
    UnlockConnector: [{ path: 'evseId', kind: 'int', required: true }, { path: 'connectorId', kind: 'int', required: true }],
    ChangeAvailability: [{ path: 'operationalStatus', kind: 'select', required: true, options: ['Operative', 'Inoperative'], label: 'availability' }, { path: 'evse.id', kind: 'int', label: 'evseId' }, { path: 'evse.connectorId', kind: 'int', label: 'connectorId' }],
    ClearCache: [],
    DataTransfer: DATA_TRANSFER,
  },
};
const OTHER = '__other';
const FINISHED = ['answered', 'error', 'timeout', 'failed'];

/** Sets `value` at "a.b[0].c" inside `obj`, creating objects and arrays on the way. */
function setPath(obj, path, value) {
  const parts = path.match(/[^.[\]]+/g);
  let o = obj;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    const key = /^\d+$/.test(p) ? Number(p) : p;
    if (last) {
      o[key] = value;
    } else {
      if (o[key] === undefined) o[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      o = o[key];
    }
  });
}

const fieldLabel = (spec) => t(`rc.f.${spec.label || spec.path.replace(/\[\d+\]/g, '')}`);
const actionLabel = (a) => (has(`rc.a.${a}`) ? t(`rc.a.${a}`) : a);

/** The localised text of a payload detail's JSON Schema keyword. */
function problem(code) {
  return has(`rc.err.${code}`) ? t(`rc.err.${code}`) : t('rc.err.invalid');
}

export function stateBadge(state) {
  const tone = { answered: 'ok', error: 'bad', timeout: 'warn', failed: 'bad', sent: 'busy', queued: 'busy' }[state] || 'off';
  return h('span', { class: ['live-state', `live-state-${tone}`], 'data-test': 'rc-state', 'data-state': state || '' }, has(`rc.state.${state}`) ? t(`rc.state.${state}`) : dash(state));
}

function errorText(cmd) {
  if (!cmd.error) return null;
  return has(`rc.error.${cmd.error}`) ? t(`rc.error.${cmd.error}`) : cmd.error;
}

/** One line about the pile's answer for the table: its status, or the error, or the JSON. */
function answerSummary(cmd) {
  const r = cmd.response;
  if (cmd.state === 'error' && r && r.code) return h('span', { class: 'mono pd-bad' }, r.code);
  if (r && typeof r === 'object' && typeof r.status === 'string') return h('span', { class: 'mono' }, r.status);
  if (cmd.error) return h('span', { class: 'pd-bad' }, errorText(cmd));
  if (r === null || r === undefined) return '—';
  const text = JSON.stringify(r);
  return h('span', { class: 'mono rc-json-cell', title: text }, text.length > 80 ? `${text.slice(0, 77)}…` : text);
}

function resultBox(cmd) {
  const done = FINISHED.includes(cmd.state);
  const kind = cmd.state === 'answered' ? 'success' : done ? 'error' : 'info';
  const rows = [
    [t('rc.col.state'), stateBadge(cmd.state)],
    [t('rc.col.action'), h('span', { class: 'mono' }, cmd.action)],
  ];
  if (cmd.error) rows.push([t('rc.reason'), h('span', { 'data-test': 'rc-error', 'data-error': cmd.error }, errorText(cmd), cmd.detail ? h('span', { class: 'muted' }, ` (${cmd.detail})`) : null)]);
  return h(
    'div',
    { class: ['rc-result', `rc-result-${kind}`], 'data-test': 'rc-result', role: 'status' },
    h('div', { class: 'rc-result-title' }, done ? t('rc.result_title') : t('rc.result_pending')),
    descList(rows),
    cmd.response !== null && cmd.response !== undefined
      ? [h('div', { class: 'pd-frame-label muted' }, cmd.state === 'error' ? t('rc.callerror') : t('rc.response')), h('pre', { class: 'pd-frame', 'data-test': 'rc-response', tabindex: '0' }, JSON.stringify(cmd.response, null, 2))]
      : null,
  );
}

/** The remote-operations card of `pile` (accessed, OCPP): form, answer and recent commands. */
export function commandsCard(pile) {
  const key = encodeURIComponent(pile.equipment_id);
  const catalogue = ACTIONS[pile.protocol] || {};
  const names = Object.keys(catalogue);
  const actionField = field({
    name: 'action',
    label: t('rc.action'),
    required: true,
    type: 'select',
    value: names[0],
    options: [...names.map((a) => [a, actionLabel(a)]), [OTHER, t('rc.other')]],
    hint: t('rc.action_hint', { protocol: pile.protocol }),
  });
  const fieldsHost = h('div', { class: 'rc-fields', 'data-test': 'rc-fields' });
  const preview = h('pre', { class: 'pd-frame rc-preview', 'data-test': 'rc-preview' });
  const formMsg = h('div', { class: 'form-message', 'data-test': 'rc-form-error' });
  const resultHost = h('div', { class: 'rc-result-host', 'aria-live': 'polite' });
  const sendBtn = button(t('rc.send'), { kind: 'primary', type: 'submit', test: 'rc-send' });
  let form = new Form([actionField]);
  let current = [];

  const other = () => actionField.input.value === OTHER;

  function render() {
    const action = actionField.input.value;
    let specs;
    if (action === OTHER) {
      specs = [
        field({ name: 'other_action', label: t('rc.other_action'), required: true, placeholder: 'GetDiagnostics', hint: t('rc.other_action_hint'), test: 'field-other-action' }),
        field({ name: 'payload', label: t('rc.payload'), type: 'textarea', rows: 6, value: '{}', hint: t('rc.payload_hint'), test: 'field-payload', wide: true }),
      ];
      specs[1].input.classList.add('mono');
      current = [];
    } else {
      current = catalogue[action] || [];
      specs = current.map((s) =>
        field({
          name: `payload.${s.path}`,
          label: fieldLabel(s),
          required: Boolean(s.required),
          type: s.kind === 'select' ? 'select' : s.kind === 'textarea' ? 'textarea' : 'text',
          options: s.kind === 'select' ? [...(s.required ? [] : [['', t('rc.not_set')]]), ...s.options.map((o) => [o, o])] : undefined,
          value: s.kind === 'select' && s.required ? s.options[0] : '',
          hint: has(`rc.h.${s.label || s.path}`) ? t(`rc.h.${s.label || s.path}`) : s.kind === 'int' ? t('rc.h.int') : s.kind === 'list' ? t('rc.h.list') : null,
          test: `field-payload.${s.path}`,
        }),
      );
    }
    form = new Form([actionField, ...specs]);
    form.clearOnInput();
    replace(fieldsHost, specs.length ? specs.map((f) => f.row) : h('p', { class: 'muted rc-no-fields', 'data-test': 'rc-no-fields' }, t('rc.no_fields')));
    specs.forEach((f) => f.input.addEventListener(f.type === 'select' ? 'change' : 'input', updatePreview));
    replace(formMsg);
    updatePreview();
  }

  /** {action, payload} from the form, or null with the field errors set. */
  function build(showErrors) {
    const errors = [];
    let action = actionField.input.value;
    let payload = {};
    if (action === OTHER) {
      action = form.value('other_action').trim();
      if (!action) errors.push(['other_action', t('rc.err.required')]);
      const text = form.value('payload').trim() || '{}';
      try {
        payload = JSON.parse(text);
        if (!payload || typeof payload !== 'object' || Array.isArray(payload)) errors.push(['payload', t('rc.err.object')]);
      } catch {
        errors.push(['payload', t('rc.err.json')]);
      }
    } else {
      for (const s of current) {
        const name = `payload.${s.path}`;
        const raw = form.value(name).trim();
        if (!raw) {
          if (s.required) errors.push([name, t('rc.err.required')]);
          continue;
        }
        if (s.kind === 'int') {
          if (!/^-?\d+$/.test(raw)) errors.push([name, t('rc.err.integer')]);
          else setPath(payload, s.path, Number(raw));
        } else if (s.kind === 'list') {
          setPath(payload, s.path, raw.split(/[\s,，]+/).filter(Boolean));
        } else {
          setPath(payload, s.path, raw);
        }
      }
    }
    if (showErrors) errors.forEach(([n, text]) => form.setError(n, text));
    return errors.length ? null : { action, payload };
  }

  function updatePreview() {
    const b = build(false);
    preview.textContent = b ? JSON.stringify(b.payload, null, 2) : t('rc.preview_incomplete');
  }

  /** 422 details beside their fields: "action", "payload.<path>"; in 其他指令 the path goes to
   * the JSON box. Returns how many were placed. */
  function placeDetails(err) {
    let placed = 0;
    for (const d of err.fieldDetails()) {
      const text = problem(d.code);
      if (d.field === 'action') {
        placed += form.setError(other() ? 'other_action' : 'action', t('rc.err.unknown_action')) ? 1 : 0;
      } else if (other() && d.field.startsWith('payload')) {
        placed += form.setError('payload', `${d.field.replace(/^payload\.?/, '') || '$'}：${text}`) ? 1 : 0;
      } else {
        placed += form.setError(d.field, text) ? 1 : 0;
      }
    }
    return placed;
  }

  const history = pagedTable({
    test: 'rc-history',
    rowTest: 'rc-row',
    compact: true,
    key: (c) => String(c.id),
    pageSize: 10,
    empty: t('rc.no_history'),
    columns: [
      [t('rc.col.time'), (c) => h('span', { class: 'nowrap' }, fmtSec(c.created_at))],
      [t('rc.col.action'), (c) => h('span', { class: 'mono' }, c.action)],
      [t('rc.col.state'), (c) => stateBadge(c.state)],
      [t('rc.col.answer'), (c) => answerSummary(c)],
      [t('rc.col.finished'), (c) => (c.finished_at ? fmtSec(c.finished_at) : '—')],
    ],
    load: (page, size) => api.get(`/piles/${key}/commands?page=${page}&page_size=${size}`),
  });

  async function send(e) {
    e.preventDefault();
    form.clearErrors();
    replace(formMsg);
    const b = build(true);
    if (!b) {
      form.focusFirstError();
      return;
    }
    replace(resultHost, message('info', t('rc.waiting'), 'rc-waiting'));
    await withLoading(sendBtn, t('rc.sending'), async () => {
      try {
        const cmd = await api.post(`/piles/${key}/commands`, b);
        replace(resultHost, resultBox(cmd));
      } catch (err) {
        replace(resultHost);
        if (err.status === 422 && placeDetails(err)) {
          replace(formMsg, message('error', t('api.validation_failed')));
          form.focusFirstError();
        } else {
          replace(formMsg, message('error', apiErrorText(err), 'rc-error-message'));
        }
      }
    });
    history.reload();
  }

  actionField.input.addEventListener('change', render);
  render();
  const formEl = h(
    'form',
    { class: 'rc-form', novalidate: true, 'data-test': 'rc-form', on: { submit: send } },
    h('p', { class: 'form-intro' }, t('rc.intro'), h('span', { class: 'req-note' }, t('common.required_hint'))),
    formMsg,
    h(
      'div',
      { class: 'rc-layout' },
      h('div', { class: 'rc-main' }, actionField.row, fieldsHost, h('div', { class: 'form-actions' }, sendBtn, h('span', { class: 'form-actions-aside' }, t('rc.send_aside')))),
      h('div', { class: 'rc-side' }, h('div', { class: 'pd-frame-label muted' }, t('rc.preview')), preview),
    ),
  );
  const refresh = button(t('pd.refresh'), { small: true, test: 'rc-history-refresh', onClick: () => history.reload() });
  return card(t('rc.title'), [formEl, resultHost, h('div', { class: 'rc-history-head' }, h('h3', { class: 'pd-subtitle' }, t('rc.history')), refresh), history.el], { test: 'pd-commands' });
}

/** OCPP 设置 (admins): what the gateway answers to the pile's BootNotification, and how the
 * pile must authenticate. onSaved(pile) gets the pile as the server answered. */
export function settingsCard(pile, onSaved) {
  const boot = field({
    name: 'boot_status',
    label: t('os.boot_status'),
    required: true,
    type: 'select',
    value: pile.boot_status || 'Accepted',
    options: ['Accepted', 'Pending', 'Rejected'].map((v) => [v, t(`os.boot.${v}`)]),
    hint: t('os.boot_hint'),
  });
  const profile = field({
    name: 'security_profile',
    label: t('os.security_profile'),
    required: true,
    type: 'select',
    value: String(pile.security_profile || 1),
    options: ['1', '2', '3'].map((v) => [v, t(`os.profile.${v}`)]),
    hint: t('os.profile_hint'),
  });
  const form = new Form([boot, profile]);
  form.clearOnInput();
  const msg = h('div', { class: 'form-message', 'data-test': 'os-error' });
  const save = button(t('os.save'), { kind: 'primary', type: 'submit', test: 'os-save' });
  async function submit(e) {
    e.preventDefault();
    form.clearErrors();
    replace(msg);
    await withLoading(save, t('common.submitting'), async () => {
      try {
        const p = await api.put(`/piles/${encodeURIComponent(pile.equipment_id)}/ocpp-settings`, {
          boot_status: form.value('boot_status'),
          security_profile: Number(form.value('security_profile')),
        });
        toast(t('os.saved'));
        if (onSaved) onSaved(p);
      } catch (err) {
        const placed = err.status === 422 ? err.fieldDetails().filter((d) => form.setError(d.field, problem(d.code))).length : 0;
        if (!placed) replace(msg, message('error', apiErrorText(err)));
      }
    });
  }
  return card(
    t('os.title'),
    h('form', { novalidate: true, 'data-test': 'os-form', on: { submit } }, h('p', { class: 'form-intro' }, t('os.intro')), msg, boot.row, profile.row, h('div', { class: 'form-actions' }, save)),
    { test: 'pd-ocpp-settings', class: 'os-card' },
  );
}

/** "2026-11-25 20:40:05" in the browser's time zone. */
function fmtSec(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
