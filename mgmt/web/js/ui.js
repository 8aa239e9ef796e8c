// Shared UI pieces: cards, badges, breadcrumbs, buttons with a loading state, messages,
// toasts, the pager and description lists. Forms are in form.js, dialogs in dialog.js.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';

export const STATUSES = ['pending', 'active', 'rejected', 'disabled'];
// Detection applications (桩平台检测): their own statuses, labels under dstatus.*.
export const DETECTION_STATUSES = ['draft', 'submitted', 'approved', 'rejected', 'testing', 'passed', 'failed'];

export function badge(status, extra) {
  const known = STATUSES.includes(status);
  return h(
    'span',
    { class: ['badge', `badge-${known ? status : 'unknown'}`, extra], 'data-test': 'status-badge', 'data-status': status },
    known ? t(`status.${status}`) : status,
  );
}

export function detectionBadge(status, extra) {
  const known = DETECTION_STATUSES.includes(status);
  return h(
    'span',
    { class: ['badge', `badge-d-${known ? status : 'unknown'}`, extra], 'data-test': 'status-badge', 'data-status': status },
    known ? t(`dstatus.${status}`) : status,
  );
}

export function card(title, body, opts = {}) {
  return h(
    'section',
    { class: ['card', opts.class], 'data-test': opts.test },
    title ? h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, title), opts.tools || null) : null,
    h('div', { class: 'card-body' }, body),
  );
}

/** items: [{label, href?}]; the last one is the current page. */
export function breadcrumbs(items) {
  const nav = h('nav', { class: 'breadcrumbs', 'aria-label': 'breadcrumb' });
  const ol = h('ol');
  items.forEach((it, i) => {
    const last = i === items.length - 1;
    ol.appendChild(
      h('li', null, it.href && !last ? h('a', { href: it.href }, it.label) : h('span', { 'aria-current': last ? 'page' : null }, it.label)),
    );
  });
  nav.appendChild(ol);
  return nav;
}

export function button(label, opts = {}) {
  return h(
    'button',
    {
      type: opts.type || 'button',
      class: ['btn', `btn-${opts.kind || 'default'}`, opts.small ? 'btn-small' : null, opts.class],
      'data-test': opts.test,
      on: opts.onClick ? { click: opts.onClick } : null,
    },
    label,
  );
}

/** Runs `fn` with `btn` disabled and showing `busyText` and a spinner; restores it after. */
export async function withLoading(btn, busyText, fn) {
  const saved = Array.from(btn.childNodes);
  btn.disabled = true;
  btn.classList.add('is-loading');
  btn.setAttribute('aria-busy', 'true');
  replace(btn, h('span', { class: 'spinner', 'aria-hidden': 'true' }), busyText || t('common.working'));
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.classList.remove('is-loading');
    btn.removeAttribute('aria-busy');
    replace(btn, saved);
  }
}

/** An inline message box: kind is info | success | warning | error. */
export function message(kind, text, test) {
  return h('div', { class: ['msg', `msg-${kind}`], role: kind === 'error' ? 'alert' : 'status', 'data-test': test }, text);
}

let toastHost = null;
export function toast(text, kind = 'success') {
  if (!toastHost) {
    toastHost = h('div', { class: 'toast-host', 'aria-live': 'polite' });
    document.body.appendChild(toastHost);
  }
  const el = h('div', { class: ['toast', `toast-${kind}`], role: 'status', 'data-test': 'toast' }, text);
  toastHost.appendChild(el);
  setTimeout(() => el.remove(), 4000);
}

/** Drops the toasts still showing (e.g. an admin's, when the admin logs out). */
export function clearToasts() {
  if (toastHost) toastHost.replaceChildren();
}

/** A definition list laid out as a two-column grid: rows [[label, value, test?], ...]. */
export function descList(rows) {
  const dl = h('dl', { class: 'desc' });
  for (const [label, value, test] of rows) {
    dl.appendChild(h('div', { class: 'desc-item' }, h('dt', null, label), h('dd', { 'data-test': test }, value ?? '—')));
  }
  return dl;
}

/** Paging bar: total, page size select, prev/next. onChange({page, pageSize}). */
export function pager({ total, page, pageSize, sizes = [10, 20, 50], onChange }) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const size = h(
    'select',
    { class: 'input input-small', 'aria-label': t('page.size'), 'data-test': 'page-size', on: { change: (e) => onChange({ page: 1, pageSize: Number(e.target.value) }) } },
    sizes.map((n) => h('option', { value: String(n), selected: n === pageSize }, t('page.size_unit', { n }))),
  );
  return h(
    'div',
    { class: 'pager', 'data-test': 'pager' },
    h('span', { class: 'pager-total', 'data-test': 'total' }, t('page.total', { total })),
    size,
    button(t('page.prev'), { small: true, test: 'page-prev', onClick: () => onChange({ page: page - 1, pageSize }) }),
    h('span', { class: 'pager-pos' }, t('page.of', { page, pages })),
    button(t('page.next'), { small: true, test: 'page-next', onClick: () => onChange({ page: page + 1, pageSize }) }),
  );
}

export function disablePager(bar, page, pages) {
  bar.querySelector('[data-test="page-prev"]').disabled = page <= 1;
  bar.querySelector('[data-test="page-next"]').disabled = page >= pages;
}

/** Text of an ApiError for a message box (not for field errors). */
export function apiErrorText(err) {
  if (!err || !err.code) return t('api.unknown', { status: '?' });
  if (err.code === 'conflict') {
    const st = (err.details || []).find((d) => d && d.status)?.status;
    if (st && STATUSES.includes(st)) return t('api.conflict_status', { status: t(`status.${st}`) });
    if (st && DETECTION_STATUSES.includes(st)) return t('api.conflict_status', { status: t(`dstatus.${st}`) });
  }
  const key = `api.${err.code}`;
  const text = t(key);
  return text === key ? t('api.unknown', { status: err.status }) : text;
}

/** GETs one page of a list for the table body `tbody`: the answer, or null when the request failed
 * (the body is emptied and the error shown in `errorHost`) or the view was left meanwhile. */
export async function fetchList(ctx, url, tbody, errorHost) {
  try {
    const data = await api.get(url);
    return ctx.alive() ? data : null;
  } catch (err) {
    if (ctx.alive()) {
      replace(tbody);
      replace(errorHost, message('error', apiErrorText(err)));
    }
    return null;
  }
}
