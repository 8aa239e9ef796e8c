// The registration fields, shared by 注册 (with username and password) and by 修改并重新提交
// (without them, licence optional); client-side checks mirror the server's rules.

import { h } from '../dom.js';
import { t, fieldError } from '../i18n.js';
import { field, Form } from '../form.js';
import { validateCreditCode } from '../creditcode.js';

export const MAX_LICENSE_BYTES = 10 * 1024 * 1024;
const TEXT_FIELDS = ['company_name', 'credit_code', 'legal_representative', 'contact_name', 'mobile', 'email', 'address'];
// [min, max] characters, as mgmt/validate.c counts them (code points).
const LIMITS = {
  username: [4, 32],
  password: [10, 128],
  company_name: [1, 100],
  legal_representative: [1, 50],
  contact_name: [1, 50],
  mobile: [1, 64],
  email: [3, 100],
  address: [1, 200],
};

const chars = (s) => [...s].length;

/** The field's own rule for a non-empty value, as mgmt/validate.c checks it: null when good,
 * else the validation code. Also used by the detection application form. */
export function checkFormat(name, val) {
  switch (name) {
    case 'username':
      return /^[A-Za-z0-9_]+$/.test(val) ? null : 'bad_format';
    case 'credit_code':
      return validateCreditCode(val);
    case 'mobile':
      return /^1[0-9]{10}$/.test(val) ? null : 'bad_format';
    case 'email': {
      const at = val.indexOf('@');
      let ok = at > 0 && val.indexOf('@', at + 1) < 0;
      const dot = val.lastIndexOf('.');
      ok = ok && dot > at + 1 && dot < val.length - 1 && !/[ ,;<>]/.test(val);
      return ok ? null : 'bad_format';
    }
    default:
      return null;
  }
}

/**
 * opts: {withAccount: bool, values: organisation object or null, licenseRequired: bool}
 * Returns {form, sections: [Node], validate(): bool, formData(): FormData}.
 */
export function registrationFields(opts) {
  const v = opts.values || {};
  const f = (name, extra) => field({ name, label: t(`field.${name}`), required: true, value: v[name], ...extra });
  const account = opts.withAccount
    ? [
        f('username', { hint: t('hint.username'), autocomplete: 'username', maxlength: 32 }),
        f('password', { type: 'password', hint: t('hint.password'), autocomplete: 'new-password', maxlength: 128 }),
        f('password_confirm', { type: 'password', autocomplete: 'new-password', maxlength: 128 }),
      ]
    : [];
  const company = [
    f('company_name', { maxlength: 100, wide: true }),
    f('credit_code', { hint: t('hint.credit_code'), maxlength: 18, autocomplete: 'off' }),
    f('legal_representative', { maxlength: 50 }),
  ];
  const contact = [
    f('contact_name', { maxlength: 50, autocomplete: 'name' }),
    f('mobile', { type: 'tel', maxlength: 11, autocomplete: 'tel' }),
    f('email', { type: 'email', maxlength: 100, autocomplete: 'email' }),
    f('address', { maxlength: 200, wide: true, autocomplete: 'street-address' }),
  ];
  const license = field({
    name: 'license',
    label: t('field.license'),
    type: 'file',
    required: opts.licenseRequired,
    accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png',
    hint: opts.licenseRequired ? t('hint.license') : t('hint.license_optional'),
    wide: true,
  });
  const all = [...account, ...company, ...contact, license];
  const form = new Form(all);
  form.clearOnInput();

  // The licence is checked as soon as it is chosen: too large is refused before any upload.
  license.input.addEventListener('change', () => {
    const file = form.value('license');
    if (file && file.size > MAX_LICENSE_BYTES) form.setError('license', fieldError('license', 'too_large'));
  });

  const section = (title, fields) =>
    h('fieldset', { class: 'form-section' }, h('legend', null, title), h('div', { class: 'form-grid' }, fields.map((x) => x.row)));
  const sections = [
    opts.withAccount ? section(t('reg.sec_account'), account) : null,
    section(t('reg.sec_company'), company),
    section(t('reg.sec_contact'), contact),
    section(t('reg.sec_files'), [license]),
  ].filter(Boolean);

  const text = (name) => form.value(name).trim();

  // The server's order of checks (mgmt/validate.c), so that both give the same code and thus
  // the same text: required, control characters, length, then the field's own rule.
  function check(name) {
    const val = name === 'password' || name === 'password_confirm' ? form.value(name) : text(name);
    if (!val) return 'required';
    if (/[\u0000-\u001f\u007f]/.test(val)) return 'bad_format';
    const [min, max] = LIMITS[name] || [1, 64];
    if (name !== 'credit_code') {
      if (chars(val) < min) return 'too_short';
      if (chars(val) > max) return 'too_long';
    }
    return checkFormat(name, val);
  }

  function validate() {
    form.clearErrors();
    let ok = true;
    const names = [...(opts.withAccount ? ['username', 'password'] : []), ...TEXT_FIELDS];
    for (const name of names) {
      const code = check(name);
      if (code) {
        form.setError(name, fieldError(name, code));
        ok = false;
      }
    }
    if (opts.withAccount && form.value('password') && form.value('password_confirm') !== form.value('password')) {
      ok = false;
      form.setError('password_confirm', t('err.mismatch'));
    } else if (opts.withAccount && !form.value('password_confirm')) {
      ok = false;
      form.setError('password_confirm', fieldError('password_confirm', 'required'));
    }
    const file = form.value('license');
    if (!file && opts.licenseRequired) {
      ok = false;
      form.setError('license', fieldError('license', 'required'));
    } else if (file && file.size > MAX_LICENSE_BYTES) {
      ok = false;
      form.setError('license', fieldError('license', 'too_large'));
    }
    if (!ok) form.focusFirstError();
    return ok;
  }

  function formData() {
    const fd = new FormData();
    if (opts.withAccount) {
      fd.append('username', text('username'));
      fd.append('password', form.value('password'));
    }
    for (const name of TEXT_FIELDS) fd.append(name, text(name));
    const file = form.value('license');
    if (file) fd.append('license', file, file.name);
    return fd;
  }

  return { form, sections, validate, formData };
}

/** A progress bar for uploads: {el, set(fraction), reset()}. */
export function progressBar() {
  const fill = h('div', { class: 'progress-fill' });
  const label = h('span', { class: 'progress-label' });
  const el = h(
    'div',
    { class: 'progress is-hidden', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0', 'data-test': 'upload-progress' },
    h('div', { class: 'progress-track' }, fill),
    label,
  );
  return {
    el,
    set(fraction) {
      const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      el.classList.remove('is-hidden');
      el.setAttribute('aria-valuenow', String(pct));
      fill.style.width = `${pct}%`; // CSSOM, allowed by the CSP (a style attribute would not be)
      label.textContent = t('reg.uploading', { percent: pct });
    },
    reset() {
      el.classList.add('is-hidden');
      fill.style.width = '0%';
    },
  };
}
