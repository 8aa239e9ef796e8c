// Pieces shared by the operator's and the admin's detection pages (桩平台检测): labels of modes
// and protocols, the information cards of an application, the materials table, the verdict.

import { h } from '../dom.js';
import { t, fmtTime, fmtSize } from '../i18n.js';
import { card, descList, button, DETECTION_STATUSES } from '../ui.js';
import { auditTable } from './review_detail.js';

export const MODES = ['self', 'delegated'];
export const PROTOCOLS = ['ocpp1.6', 'ocpp2.0.1', 'platform'];
export const PROTOCOL_VERSIONS = ['T/CEC 102-2016'];
export const MAX_MATERIAL_BYTES = 10 * 1024 * 1024;
export const MAX_MATERIALS = 10;
/** Where the operator may change the application (PUT, materials). */
export const EDITABLE = ['draft', 'rejected'];
/** A self application whose platform may take its T/CEC credentials. */
export const CREDENTIAL_STATUSES = ['approved', 'testing', 'passed', 'failed'];

export const modeLabel = (mode) => (MODES.includes(mode) ? t(`det.mode.${mode}`) : mode || '—');
export const protocolLabel = (p) => (PROTOCOLS.includes(p) ? t(`det.proto.${p}`) : p);
export const detectionStatusLabel = (st) => (DETECTION_STATUSES.includes(st) ? t(`dstatus.${st}`) : st);
/** 申请编号: a stable, readable number. */
export const appNo = (app) => `JC${String(app.id).padStart(6, '0')}`;

/** The platform named in a row: its own, or the delegate's for a delegated application. */
export function platformName(app) {
  if (app.mode === 'delegated') return (app.delegate && app.delegate.platform_name) || '—';
  return (app.platform && app.platform.name) || '—';
}

export function formPdfUrl(app) {
  return `/api/v1/detections/${app.id}/form.pdf`;
}

export function formPdfName(app) {
  return app.mode === 'delegated' ? t('det.form_delegated') : t('det.form_self');
}

/** The pre-filled application form as a download link. */
export function formPdfLink(app, opts = {}) {
  const name = formPdfName(app);
  return h(
    'a',
    { class: ['btn', opts.kind ? `btn-${opts.kind}` : 'btn-default', opts.small ? 'btn-small' : null], href: formPdfUrl(app), download: `${name}.pdf`, 'data-test': 'form-pdf' },
    h('span', { class: 'icon-download', 'aria-hidden': 'true' }),
    opts.label || t('det.download_form', { name }),
  );
}

const dash = (v) => (v === null || v === undefined || v === '' ? '—' : v);

/** The sha256 shortened for a table, the whole of it in a tooltip. */
export function shortHash(sha) {
  if (!sha) return '—';
  return h('code', { class: 'hash', title: sha, 'data-test': 'material-sha256', 'data-sha256': sha }, `${sha.slice(0, 10)}…${sha.slice(-6)}`);
}

/** The materials: name, size, sha256, time, 预览 and (when onDelete) 删除. */
export function materialsTable(materials, opts = {}) {
  const list = materials || [];
  const head = [t('det.mat.name'), t('det.mat.size'), t('det.mat.sha256'), t('det.mat.uploaded'), t('common.actions')];
  const rows = list.map((m) => {
    const url = m.url || `/api/v1/files/${m.id}`;
    return h(
      'tr',
      { 'data-test': 'material-row', 'data-name': m.name },
      h('td', { class: 'cell-wrap' }, h('span', { class: ['file-icon', /\.pdf$/i.test(m.name || '') || m.mime === 'application/pdf' ? 'file-icon-pdf' : 'file-icon-img'], 'aria-hidden': 'true' }), m.name),
      h('td', null, typeof m.size === 'number' ? fmtSize(m.size) : '—'),
      h('td', null, shortHash(m.sha256)),
      h('td', null, fmtTime(m.created_at)),
      h(
        'td',
        { class: 'cell-actions' },
        h('a', { href: url, target: '_blank', rel: 'noopener', class: 'link-action', 'data-test': 'material-preview' }, t('det.mat.preview')),
        opts.onDelete ? button(t('common.delete'), { kind: 'link-danger', small: true, test: 'material-delete', onClick: () => opts.onDelete(m) }) : null,
      ),
    );
  });
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-test': 'materials-table' },
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: String(head.length), class: 'empty' }, opts.emptyText || t('det.mat.none')))),
    ),
  );
}

function ipList(ips) {
  if (!ips || !ips.length) return '—';
  return h('ul', { class: 'plain-list' }, ips.map((ip) => h('li', null, h('code', null, ip))));
}

/** Rows of each section, for descList: [title, rows, test]. */
export function infoSections(app) {
  const cu = app.commissioning_unit || {};
  const ct = app.contact || {};
  const ps = app.pile_summary || {};
  const sections = [
    [
      t('det.sec_unit'),
      [
        [t('field.commissioning_unit.name'), dash(cu.name), 'info-unit-name'],
        [t('field.commissioning_unit.credit_code'), dash(cu.credit_code), 'info-unit-credit_code'],
        [t('field.commissioning_unit.address'), dash(cu.address)],
      ],
      'sec-unit',
    ],
    [
      t('det.sec_contact'),
      [
        [t('field.contact.name'), dash(ct.name)],
        [t('field.contact.mobile'), dash(ct.mobile), 'info-contact-mobile'],
        [t('field.contact.email'), dash(ct.email)],
      ],
      'sec-contact',
    ],
  ];
  if (app.mode === 'delegated') {
    const d = app.delegate || {};
    sections.push([
      t('det.sec_delegation'),
      [
        [t('field.delegate_detection_id'), d.platform_name ? t('det.platform_of', { platform: d.platform_name, company: d.company_name || '' }) : dash(app.delegate_detection_id)],
        [t('field.delegation_scope'), dash(app.delegation_scope)],
      ],
      'sec-delegation',
    ]);
  } else {
    const p = app.platform || {};
    sections.push([
      t('det.sec_platform'),
      [
        [t('field.platform.name'), dash(p.name), 'info-platform-name'],
        [t('field.platform.base_url'), p.base_url ? h('code', null, p.base_url) : '—'],
        [t('field.platform.protocol_version'), dash(p.protocol_version)],
        [t('field.platform.source_ips'), ipList(p.source_ips), 'info-source-ips'],
      ],
      'sec-platform',
    ]);
  }
  sections.push([
    t('det.sec_piles'),
    [
      [t('field.pile_summary.brands'), dash(ps.brands)],
      [t('field.pile_summary.models'), dash(ps.models)],
      [t('field.pile_summary.ac_count'), dash(ps.ac_count)],
      [t('field.pile_summary.dc_count'), dash(ps.dc_count)],
      [t('field.pile_summary.protocols'), ps.protocols && ps.protocols.length ? ps.protocols.map(protocolLabel).join('、') : '—'],
    ],
    'sec-piles',
  ]);
  return sections;
}

/** The information as one card per section. */
export function infoCards(app) {
  return infoSections(app).map(([title, rows, test]) => card(title, descList(rows), { test }));
}

/** The verdict (检测结论) of a self application, or null. */
export function verdictBlock(verdict) {
  if (!verdict) return null;
  const passed = verdict.result === 'passed';
  return h(
    'div',
    { class: ['verdict', passed ? 'verdict-passed' : 'verdict-failed'], 'data-test': 'verdict' },
    h('div', { class: 'verdict-mark', 'aria-hidden': 'true' }, passed ? '✓' : '✗'),
    h(
      'div',
      { class: 'verdict-body' },
      h('div', { class: 'verdict-title' }, t(`det.verdict.${verdict.result}`) || verdict.result),
      h(
        'div',
        { class: 'verdict-meta' },
        t('det.verdict_source', { source: t(`det.verdict_src.${verdict.source}`) }),
        verdict.at ? ` · ${fmtTime(verdict.at)}` : '',
        verdict.by ? ` · ${verdict.by}` : '',
      ),
      verdict.note ? h('p', { class: 'verdict-note' }, t('det.lbl', { label: t('det.verdict_note') }), verdict.note) : null,
    ),
  );
}

/** The audit history with the detection statuses named. */
export function detectionAudit(audit) {
  return auditTable(audit, detectionStatusLabel);
}

/** The key facts of an application for the summary band: number, mode, status, times. */
export function summaryRows(app) {
  return [
    [t('det.app_no'), h('span', { class: 'mono' }, appNo(app)), 'info-app-no'],
    [t('det.mode'), modeLabel(app.mode), 'info-mode'],
    [t('det.created_at'), fmtTime(app.created_at)],
    [t('field.submitted_at'), fmtTime(app.submitted_at)],
    [t('field.reviewed_at'), fmtTime(app.reviewed_at)],
    [t('det.operator'), (app.operator && app.operator.company_name) || '—'],
  ];
}
