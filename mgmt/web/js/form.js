// Form fields with a label (red * when required), a hint and an error line right beside the
// control; Form maps API validation details {field, code} onto those error lines.

import { h, uid } from './dom.js';
import { t, fieldError, fmtSize } from './i18n.js';

/**
 * opts: {name, label, required, type: text|password|email|tel|textarea|select|file,
 *        placeholder, hint, value, options: [[value, text]], autocomplete, maxlength, accept, wide}
 */
export function field(opts) {
  const id = uid(`f-${opts.name}`);
  const errId = `${id}-err`;
  const hintId = opts.hint ? `${id}-hint` : null;
  const labelId = `${id}-label`;
  // The accessible name is the label text alone, without the red * (aria-hidden anyway).
  const common = {
    id,
    name: opts.name,
    'aria-labelledby': labelId,
    class: 'input',
    'data-test': opts.test || `field-${opts.name}`,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    required: opts.required ? true : null,
    'aria-required': opts.required ? 'true' : null,
    placeholder: opts.placeholder,
    autocomplete: opts.autocomplete,
    maxlength: opts.maxlength,
  };
  let control;
  let input;
  let fileInfo = null;
  if (opts.type === 'textarea') {
    input = control = h('textarea', { ...common, rows: opts.rows || 3 }, opts.value || '');
  } else if (opts.type === 'select') {
    input = control = h(
      'select',
      common,
      opts.options.map(([v, text]) => h('option', { value: v, selected: v === opts.value }, text)),
    );
  } else if (opts.type === 'file') {
    input = h('input', { ...common, type: 'file', class: 'file-native', accept: opts.accept });
    fileInfo = h('span', { class: 'file-name', 'data-test': `file-name-${opts.name}` }, t('file.none'));
    input.addEventListener('change', () => {
      const f = input.files && input.files[0];
      fileInfo.textContent = f ? t('file.chosen', { name: f.name, size: fmtSize(f.size) }) : t('file.none');
      fileInfo.classList.toggle('has-file', Boolean(f));
    });
    control = h(
      'div',
      { class: 'file-box' },
      input,
      h('label', { for: id, class: 'btn btn-default btn-small file-button' }, t('file.choose')),
      fileInfo,
    );
  } else {
    input = control = h('input', { ...common, type: opts.type || 'text', value: opts.value || '' });
  }
  const error = h('div', { class: 'field-error', id: errId, 'data-test': `error-${opts.name}`, 'aria-live': 'polite' });
  const row = h(
    'div',
    { class: ['form-row', opts.wide ? 'form-row-wide' : null], 'data-field': opts.name },
    h(
      'label',
      { class: 'form-label', for: id },
      opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null,
      h('span', { id: labelId }, opts.label),
    ),
    h(
      'div',
      { class: 'form-control' },
      control,
      hintId ? h('div', { class: 'form-hint', id: hintId }, opts.hint) : null,
      error,
    ),
  );
  return { name: opts.name, row, input, error, fileInfo, type: opts.type || 'text' };
}

export class Form {
  constructor(fields) {
    this.fields = new Map(fields.map((f) => [f.name, f]));
  }

  get(name) {
    return this.fields.get(name);
  }

  value(name) {
    const f = this.fields.get(name);
    if (!f) return '';
    if (f.type === 'file') return f.input.files && f.input.files[0] ? f.input.files[0] : null;
    return f.input.value;
  }

  setError(name, text) {
    const f = this.fields.get(name);
    if (!f) return false;
    f.error.textContent = text;
    f.row.classList.add('has-error');
    f.input.setAttribute('aria-invalid', 'true');
    return true;
  }

  clearError(name) {
    const f = this.fields.get(name);
    if (!f) return;
    f.error.textContent = '';
    f.row.classList.remove('has-error');
    f.input.removeAttribute('aria-invalid');
  }

  clearErrors() {
    for (const name of this.fields.keys()) this.clearError(name);
  }

  /** Sets field errors from an ApiError. Returns how many were placed beside a field. */
  applyApiError(err) {
    let placed = 0;
    for (const d of err.fieldDetails ? err.fieldDetails() : []) {
      const code = d.code || (err.code === 'conflict' ? 'duplicate' : 'bad_format');
      if (this.setError(d.field, fieldError(d.field, code))) placed += 1;
    }
    if (!placed && this.fields.has('license')) {
      if (err.status === 415) placed += this.setError('license', fieldError('license', 'bad_type')) ? 1 : 0;
      if (err.status === 413) placed += this.setError('license', fieldError('license', 'too_large')) ? 1 : 0;
    }
    return placed;
  }

  focusFirstError() {
    for (const f of this.fields.values()) {
      if (f.row.classList.contains('has-error')) {
        f.input.focus();
        return;
      }
    }
  }

  /** Clears a field's error as soon as the user edits it. */
  clearOnInput() {
    for (const f of this.fields.values()) {
      const ev = f.type === 'file' || f.type === 'select' ? 'change' : 'input';
      f.input.addEventListener(ev, () => this.clearError(f.name));
    }
  }
}
