// Modal dialogs on the native <dialog> element: a confirmation, optionally with a reason
// textarea (required or not). The action runs inside the dialog, so its error shows there.

import { h, uid } from './dom.js';
import { t, fieldError } from './i18n.js';
import { button, withLoading, apiErrorText } from './ui.js';

/**
 * opts: {title, text, okText, danger, test,
 *        choice: {label, name, options: [[value, text]], required},   radio buttons, optional
 *        reason: {label, required, placeholder, maxlength, field},     field: the API detail
 *                                                                        name (default reason)
 *        action: async (reason, choice) => result}
 * Resolves to the action's result (true when it had none), or null when cancelled.
 */
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    let textarea = null;
    let reasonError = null;
    const generalError = h('div', { class: 'msg msg-error is-hidden', role: 'alert', 'data-test': 'dialog-error' });
    const body = h('div', { class: 'dialog-body' }, opts.text ? h('p', { class: 'dialog-text' }, opts.text) : null);
    let choiceBox = null;
    let choiceError = null;
    if (opts.choice) {
      const name = uid(`dlg-${opts.choice.name || 'choice'}`);
      const labelId = `${name}-label`;
      choiceError = h('div', { class: 'field-error', id: `${name}-err`, 'data-test': `error-${opts.choice.name || 'choice'}`, 'aria-live': 'polite' });
      choiceBox = h(
        'div',
        { class: 'choice-group', role: 'radiogroup', 'aria-labelledby': labelId, 'aria-describedby': `${name}-err`, 'data-test': 'dialog-choice' },
        opts.choice.options.map(([v, text]) =>
          h('label', { class: 'choice' }, h('input', { type: 'radio', name, value: v, 'data-test': `choice-${v}` }), h('span', null, text)),
        ),
      );
      choiceBox.addEventListener('change', () => {
        choiceError.textContent = '';
        choiceBox.removeAttribute('aria-invalid');
      });
      body.appendChild(
        h(
          'div',
          { class: 'form-row form-row-stacked' },
          h('div', { class: 'form-label' }, opts.choice.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null, h('span', { id: labelId }, opts.choice.label)),
          h('div', { class: 'form-control' }, choiceBox, choiceError),
        ),
      );
    }
    const reasonField = (opts.reason && opts.reason.field) || 'reason';
    if (opts.reason) {
      const id = uid('dlg-reason');
      textarea = h('textarea', {
        id,
        class: 'input',
        rows: 4,
        maxlength: opts.reason.maxlength || 500,
        placeholder: opts.reason.placeholder,
        'aria-required': opts.reason.required ? 'true' : null,
        'aria-describedby': `${id}-err`,
        'aria-labelledby': `${id}-label`,
        'data-test': 'dialog-reason',
      });
      reasonError = h('div', { class: 'field-error', id: `${id}-err`, 'data-test': 'error-reason', 'aria-live': 'polite' });
      body.appendChild(
        h(
          'div',
          { class: 'form-row form-row-stacked' },
          h('label', { class: 'form-label', for: id }, opts.reason.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null, h('span', { id: `${id}-label` }, opts.reason.label)),
          h('div', { class: 'form-control' }, textarea, reasonError),
        ),
      );
      textarea.addEventListener('input', () => {
        reasonError.textContent = '';
        textarea.removeAttribute('aria-invalid');
      });
    }
    body.appendChild(generalError);

    const ok = button(opts.okText || t('common.ok'), { kind: opts.danger ? 'danger' : 'primary', test: 'dialog-ok' });
    const cancel = button(t('common.cancel'), { test: 'dialog-cancel' });
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'data-test': opts.test || 'dialog' },
      h('div', { class: 'dialog-head' }, h('h3', { id: titleId }, opts.title)),
      body,
      h('div', { class: 'dialog-foot' }, cancel, ok),
    );
    let result = null;
    let busy = false;
    const close = () => {
      dlg.close();
    };
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    dlg.addEventListener('cancel', (e) => {
      if (busy) e.preventDefault();
    });
    cancel.addEventListener('click', close);
    ok.addEventListener('click', async () => {
      generalError.classList.add('is-hidden');
      const reason = textarea ? textarea.value.trim() : undefined;
      const picked = choiceBox ? choiceBox.querySelector('input:checked') : null;
      const choice = picked ? picked.value : undefined;
      if (choiceBox && opts.choice.required && !choice) {
        choiceError.textContent = fieldError(opts.choice.name || 'choice', 'required');
        choiceBox.setAttribute('aria-invalid', 'true');
        choiceBox.querySelector('input').focus();
        return;
      }
      if (textarea && opts.reason.required && !reason) {
        reasonError.textContent = fieldError(reasonField, 'required');
        textarea.setAttribute('aria-invalid', 'true');
        textarea.focus();
        return;
      }
      busy = true;
      cancel.disabled = true;
      try {
        // An empty answer (204) still means done: the caller sees true, never null.
        result = (await withLoading(ok, t('common.working'), () => opts.action(reason, choice))) ?? true;
        close();
      } catch (err) {
        const details = err.fieldDetails ? err.fieldDetails() : [];
        const fieldDetail = details.find((d) => d.field === reasonField);
        const choiceDetail = choiceBox ? details.find((d) => d.field === (opts.choice.name || 'choice')) : null;
        if (choiceDetail) choiceError.textContent = fieldError(choiceDetail.field, choiceDetail.code);
        if (fieldDetail && reasonError) {
          reasonError.textContent = fieldError(reasonField, fieldDetail.code);
        } else if (choiceDetail) {
          /* shown beside the choice */
        } else {
          generalError.textContent = apiErrorText(err);
          generalError.classList.remove('is-hidden');
        }
      } finally {
        busy = false;
        cancel.disabled = false;
      }
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    (choiceBox ? choiceBox.querySelector('input') : textarea || ok).focus();
  });
}

/**
 * A dialog that only shows `body` (a Node) with one close button: opts {title, body, test,
 * closeText, wide}. Resolves when it is closed.
 */
export function infoDialog(opts) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const closeBtn = button(opts.closeText || t('common.close'), { kind: 'primary', test: 'dialog-close' });
    const dlg = h(
      'dialog',
      { class: ['dialog', opts.wide ? 'dialog-wide' : null], 'aria-labelledby': titleId, 'data-test': opts.test || 'dialog' },
      h('div', { class: 'dialog-head' }, h('h3', { id: titleId }, opts.title)),
      h('div', { class: 'dialog-body' }, opts.body),
      h('div', { class: 'dialog-foot' }, closeBtn),
    );
    closeBtn.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve();
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    closeBtn.focus();
  });
}
