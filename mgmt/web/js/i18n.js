// Every visible string of the UI: zh-CN first (the default), English second. The choice is
// remembered in localStorage. t('key', {name: value}) fills {name} placeholders.

import zh from './lang/zh.js';
import en from './lang/en.js';

const STORE_KEY = 'evgate.lang';
export const DEFAULT_SITE_NAME = '电动汽车充电设施智能服务平台';
const dicts = { zh, en };

function stored() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

let lang = stored() === 'en' ? 'en' : 'zh';

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
}

/** The text of `key` in the current language, {placeholders} filled from `params`. */
export function t(key, params) {
  let s = dicts[lang][key] ?? zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

export function has(key) {
  return key in dicts[lang] || key in zh;
}

/** Localised text for a validation detail {field, code}: a field-specific text when there is
 * one, else the generic text for the code with the field's label. */
export function fieldError(field, code) {
  const specific = `err.${field}.${code}`;
  if (has(specific)) return t(specific);
  const label = has(`field.${field}`) ? t(`field.${field}`) : field;
  if (code === 'required' && field === 'license') return t('err.required_file', { label });
  if (has(`err.${code}`)) return t(`err.${code}`, { label });
  return t('err.bad_format', { label });
}

/** The site name to show: the configured name, or its English rendering for the default. */
export function siteName(configured) {
  const name = configured || DEFAULT_SITE_NAME;
  if (lang === 'en' && name === DEFAULT_SITE_NAME) return t('site.name_en');
  return name;
}

/** "2026-11-25T20:40:00Z" → "2026-11-25 20:40" in the browser's time zone. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
