// The single-page shell: header (site name, language switch, user menu), left navigation,
// breadcrumbs, footer, and a hash router (#/login, #/account, #/admin/accounts/7 …).

import { api, setCsrf, onUnauthenticated, ApiError } from './api.js';
import { h, s, replace } from './dom.js';
import { t, getLang, setLang, siteName } from './i18n.js';
import { breadcrumbs, message, clearToasts, apiErrorText } from './ui.js';
import { loginView } from './views/login.js';
import { registerView, registerDoneView } from './views/register.js';
import { accountView } from './views/account.js';
import { reviewListView } from './views/review_list.js';
import { reviewDetailView } from './views/review_detail.js';
import { detectionListView } from './views/detection_list.js';
import { detectionWizardView } from './views/detection_wizard.js';
import { detectionDetailView } from './views/detection_detail.js';
import { detectionReviewListView, detectionReviewDetailView } from './views/detection_review.js';
import { accessListView, accessView } from './views/access.js';
import { accessReviewListView, accessReviewDetailView } from './views/access_review.js';
import { stationListView, stationFormView } from './views/stations.js';
import { pileListView, pileFormView } from './views/piles.js';
import { pileDetailView } from './views/pile_detail.js';
import { platformListView } from './views/platforms.js';
import { platformDetailView } from './views/platforms_detail.js';
import { runListView } from './views/runs.js';
import { runDetailView } from './views/run_detail.js';
import { dashboardView } from './views/dashboard.js';

const state = { site: { site_name: null, version: null }, account: null, flash: null };
let renderSeq = 0;

const routes = [
  { re: /^\/login$/, view: loginView, auth: 'guest' },
  { re: /^\/register$/, view: registerView, auth: 'guest' },
  { re: /^\/register\/done$/, view: registerDoneView, auth: 'any' },
  { re: /^\/account$/, view: accountView, auth: 'user' },
  // 首页: the admins' dashboard, their home page (operators keep 我的账号)
  { re: /^\/dashboard$/, view: dashboardView, auth: 'admin' },
  { re: /^\/admin\/accounts$/, view: reviewListView, auth: 'admin' },
  { re: /^\/admin\/accounts\/(\d+)$/, view: reviewDetailView, auth: 'admin' },
  { re: /^\/admin\/detections$/, view: detectionReviewListView, auth: 'admin' },
  { re: /^\/admin\/detections\/(\d+)$/, view: detectionReviewDetailView, auth: 'admin' },
  // 充电设施接入 → 桩平台检测: active operators only.
  { re: /^\/detections$/, view: detectionListView, auth: 'operator' },
  { re: /^\/detections\/new$/, view: detectionWizardView, auth: 'operator' },
  { re: /^\/detections\/(\d+)\/edit$/, view: detectionWizardView, auth: 'operator' },
  { re: /^\/detections\/(\d+)$/, view: detectionDetailView, auth: 'operator' },
  // 充电设施接入 → 申请接入, 我的充电站, 我的充电桩; 接入审核 for admins.
  { re: /^\/access$/, view: accessListView, auth: 'operator' },
  { re: /^\/access\/(\d+)$/, view: accessView, auth: 'operator' },
  { re: /^\/stations$/, view: stationListView, auth: 'operator' },
  { re: /^\/stations\/new$/, view: stationFormView, auth: 'operator' },
  { re: /^\/stations\/([^/]+)\/edit$/, view: stationFormView, auth: 'operator' },
  { re: /^\/piles$/, view: pileListView, auth: 'operator' },
  { re: /^\/piles\/new$/, view: pileFormView, auth: 'operator' },
  { re: /^\/piles\/([^/]+)\/edit$/, view: pileFormView, auth: 'operator' },
  // 充电桩详情: the pile's owner, and admins (from 接入审核's pile tables).
  { re: /^\/piles\/([^/]+)$/, view: pileDetailView, auth: 'staff' },
  { re: /^\/admin\/access$/, view: accessReviewListView, auth: 'admin' },
  { re: /^\/admin\/access\/(\d+)$/, view: accessReviewDetailView, auth: 'admin' },
  // 平台互联 (T/CEC 102): an operator's own platforms, every platform for admins.
  { re: /^\/platforms$/, view: platformListView, auth: 'staff' },
  { re: /^\/platforms\/([A-Za-z0-9]{1,64})$/, view: platformDetailView, auth: 'staff' },
  // 检测记录 (conformance runs): an operator's own runs, every run for admins.
  { re: /^\/runs$/, view: runListView, auth: 'staff' },
  { re: /^\/runs\/(\d+)$/, view: runDetailView, auth: 'staff' },
];

const $ = (id) => document.getElementById(id);

const isActiveOperator = (a) => Boolean(a && a.role === 'operator' && a.status === 'active');

function homeHash() {
  if (!state.account) return '#/login';
  return state.account.role === 'admin' ? '#/dashboard' : '#/account';
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs || '') };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** After login (or GET /me): remembers the account and the CSRF token. */
function setSession(answer) {
  if (!answer) {
    state.account = null;
    setCsrf(null);
    return;
  }
  const account = answer.account || answer;
  state.account = { ...account, role: account.role || answer.role, status: account.status || answer.status };
  setCsrf(answer.csrf_token);
}

async function logout() {
  try {
    await api.post('/auth/logout');
  } catch {
    /* the session is gone either way */
  }
  setSession(null);
  clearToasts();
  state.flash = { kind: 'success', text: t('login.logged_out') };
  navigate('#/login');
}

function renderBrand() {
  const name = siteName(state.site.site_name);
  $('brand-name').textContent = name;
  $('brand-sub').textContent = getLang() === 'en' ? '' : t('site.name_en');
  $('brand-sub').classList.toggle('is-hidden', getLang() === 'en');
  document.title = name;
}

function langSwitch() {
  const btn = (code, label) =>
    h(
      'button',
      {
        type: 'button',
        class: ['lang-btn', getLang() === code ? 'is-active' : null],
        'aria-pressed': getLang() === code ? 'true' : 'false',
        lang: code === 'en' ? 'en' : 'zh-CN',
        'data-test': `lang-${code}`,
        on: { click: () => { if (getLang() !== code) { setLang(code); render(); } } },
      },
      label,
    );
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.switch') }, btn('zh', t('lang.zh')), h('span', { class: 'sep', 'aria-hidden': 'true' }, '|'), btn('en', t('lang.en')));
}

function userMenu() {
  const a = state.account;
  const menu = h(
    'div',
    { class: 'user-menu-list is-hidden', role: 'menu' },
    h('a', { href: '#/account', role: 'menuitem', class: 'user-menu-item' }, t('nav.account')),
    h('button', { type: 'button', role: 'menuitem', class: 'user-menu-item', 'data-test': 'logout', on: { click: logout } }, t('nav.logout')),
  );
  const toggle = h(
    'button',
    { type: 'button', class: 'user-menu-toggle', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-test': 'user-menu' },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, a.username.slice(0, 1).toUpperCase()),
    h('span', { class: 'user-name' }, a.username),
    h('span', { class: 'caret', 'aria-hidden': 'true' }, '▾'),
  );
  const wrap = h('div', { class: 'user-menu' }, toggle, menu);
  const setOpen = (open) => {
    menu.classList.toggle('is-hidden', !open);
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  };
  toggle.addEventListener('click', (e) => {
    e.stopPropagation();
    setOpen(menu.classList.contains('is-hidden'));
  });
  wrap.addEventListener('keydown', (e) => { if (e.key === 'Escape') setOpen(false); });
  return wrap;
}

function renderHeaderTools() {
  replace($('topbar-tools'), langSwitch(), state.account ? userMenu() : null);
}

function navIcon(kind) {
  const paths = {
    account: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8c0-3.3 3.1-6 7-6s7 2.7 7 6',
    review: 'M5 4h10l4 4v12H5zM14 4v5h5M8 13l2.5 2.5L16 10',
    detect: 'M13 2 5 14h6l-1 8 8-12h-6z',
    audit: 'M4 5h16v11H4zM9 20h6M12 16v4M8 10l2.5 2.5L16 8',
    access: 'M5 3h9l5 5v13H5zM14 3v5h5M12 11v7M9 14l3-3 3 3',
    station: 'M4 21V9l8-5 8 5v12M9 21v-6h6v6M4 21h16',
    pile: 'M6 21V4h9v17M4 21h13M15 8h2a2 2 0 0 1 2 2v6a1.5 1.5 0 0 0 3 0V9l-2-2M9 8l-1.5 3h3L9 14',
    link: 'M4 6h6v5H4zM14 13h6v5h-6zM7 11v4h10M17 13V9H7',
    runs: 'M9 4h6v3H9zM7 5.5H5V21h14V5.5h-2M8 12l2 2 4-4M8 17h8',
    home: 'M4 20V10l8-6 8 6v10h-5v-6H9v6zM4 20h16',
  };
  return s('svg', { viewBox: '0 0 24 24', class: 'nav-icon', 'aria-hidden': 'true' }, s('path', { d: paths[kind] }));
}

function renderSidenav(path) {
  const nav = $('sidenav');
  if (!state.account) {
    nav.classList.add('is-hidden');
    replace(nav);
    return;
  }
  const items = [];
  if (state.account.role === 'admin') items.push({ href: '#/dashboard', label: t('nav.dashboard'), icon: 'home', test: 'nav-dashboard' });
  items.push({ href: '#/account', label: t('nav.account'), icon: 'account', test: 'nav-account' });
  if (state.account.role === 'admin') {
    items.push({ href: '#/admin/accounts', label: t('nav.review'), icon: 'review', test: 'nav-review' });
    items.push({ href: '#/admin/detections', label: t('nav.detection_review'), icon: 'audit', test: 'nav-detection-review' });
    items.push({ href: '#/admin/access', label: t('nav.access_review'), icon: 'access', test: 'nav-access-review' });
    items.push({ href: '#/platforms', label: t('nav.platforms'), icon: 'link', test: 'nav-platforms' });
    items.push({ href: '#/runs', label: t('nav.runs'), icon: 'runs', test: 'nav-runs' });
  }
  if (isActiveOperator(state.account)) {
    items.push({ heading: t('nav.access') });
    items.push({ href: '#/detections', label: t('nav.detection'), icon: 'detect', test: 'nav-detection', sub: true });
    items.push({ href: '#/access', label: t('nav.access_apply'), icon: 'access', test: 'nav-access', sub: true });
    items.push({ href: '#/stations', label: t('nav.stations'), icon: 'station', test: 'nav-stations', sub: true });
    items.push({ href: '#/piles', label: t('nav.piles'), icon: 'pile', test: 'nav-piles', sub: true });
    items.push({ href: '#/platforms', label: t('nav.platforms'), icon: 'link', test: 'nav-platforms', sub: true });
    items.push({ href: '#/runs', label: t('nav.runs'), icon: 'runs', test: 'nav-runs', sub: true });
  }
  const a = state.account;
  nav.classList.remove('is-hidden');
  replace(
    nav,
    h(
      'div',
      { class: 'sidenav-user' },
      h('span', { class: 'avatar avatar-large', 'aria-hidden': 'true' }, a.username.slice(0, 1).toUpperCase()),
      h('div', null, h('div', { class: 'sidenav-username' }, a.username), h('div', { class: 'sidenav-role' }, t(`role.${a.role}`))),
    ),
    h('div', { class: 'sidenav-title' }, t('nav.menu')),
    h(
      'nav',
      { 'aria-label': t('nav.menu') },
      h(
        'ul',
        null,
        items.map((it) =>
          it.heading ? h('li', { class: 'nav-group', role: 'presentation' }, it.heading) : h(
            'li',
            null,
            h(
              'a',
              { href: it.href, class: ['nav-link', it.sub ? 'nav-link-sub' : null, path.startsWith(it.href.slice(1)) ? 'is-active' : null], 'data-test': it.test, 'aria-current': path.startsWith(it.href.slice(1)) ? 'page' : null },
              navIcon(it.icon),
              it.label,
            ),
          ),
        ),
      ),
    ),
  );
}

function renderFooter() {
  const year = new Date().getFullYear();
  const parts = [h('div', null, t('site.footer', { year, site: siteName(state.site.site_name) }))];
  if (state.site.version) parts.push(h('div', { class: 'footer-version' }, t('site.version', { version: state.site.version })));
  replace($('footer'), h('div', { class: 'footer-inner' }, parts));
}

async function render() {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  let route = null;
  let params = [];
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      route = r;
      params = m.slice(1);
      break;
    }
  }
  if (!route) return navigate(homeHash());
  if (route.auth === 'guest' && state.account) return navigate(homeHash());
  if ((route.auth === 'user' || route.auth === 'admin' || route.auth === 'operator' || route.auth === 'staff') && !state.account) return navigate('#/login');
  if (route.auth === 'admin' && state.account.role !== 'admin') return navigate(homeHash());
  if (route.auth === 'operator' && !isActiveOperator(state.account)) return navigate(homeHash());
  if (route.auth === 'staff' && state.account.role !== 'admin' && !isActiveOperator(state.account)) return navigate(homeHash());

  renderBrand();
  renderHeaderTools();
  renderSidenav(path);
  renderFooter();
  document.body.classList.toggle('is-guest', !state.account);

  const content = $('content');
  const crumbHost = h('div', { class: 'crumb-host' });
  const viewHost = h('div', { class: 'view' });
  replace(content, crumbHost, viewHost);
  const flash = state.flash;
  state.flash = null;
  const ctx = {
    state,
    params,
    query,
    flash,
    navigate,
    setSession,
    home: homeHash,
    alive: () => seq === renderSeq,
    crumbs: (items) => replace(crumbHost, breadcrumbs([{ label: t('nav.home'), href: homeHash() }, ...items])),
    refreshChrome: () => { renderHeaderTools(); renderSidenav(path); },
  };
  try {
    const node = await route.view(ctx);
    if (ctx.alive() && node) replace(viewHost, node);
  } catch (err) {
    if (ctx.alive()) {
      const text = err instanceof ApiError ? apiErrorText(err) : `${t('err.page_title')}: ${err && err.message}`;
      replace(viewHost, message('error', text, 'view-error'));
    }
  }
  window.scrollTo(0, 0);
}

// One listener closes any open user menu on a click elsewhere.
document.addEventListener('click', () => {
  document.querySelectorAll('.user-menu-list:not(.is-hidden)').forEach((m) => {
    m.classList.add('is-hidden');
    m.previousElementSibling?.setAttribute('aria-expanded', 'false');
  });
});

onUnauthenticated(() => {
  if (!state.account) return;
  setSession(null);
  state.flash = { kind: 'warning', text: t('login.expired') };
  navigate('#/login');
});

async function boot() {
  const [site, me] = await Promise.all([api.get('/site').catch(() => null), api.get('/me').catch(() => null)]);
  if (site) state.site = site;
  if (me) setSession(me);
  window.addEventListener('hashchange', render);
  await render();
  document.body.classList.add('is-ready');
}

boot();
