// Modal dialogs on the native <dialog> element: a confirmation, optionally with a reason
// textarea (required or not). The action runs inside the dialog, so its error shows there.

import { h, uid } from './dom.js';
import { t, fieldError } from './i18n.js';
import { button, withLoading, apiErrorText } from './ui.js';

/**
 * opts: {title, text, okText, danger, test,
 *        reason: {label, required, placeholder, maxlength},
 *        action: async (reason) => result}
 * Resolves to the action's result (true when it had none), or null when cancelled.
 */
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    let textarea = null;
    let reasonError = null;
    const generalError = h('div', { class: 'msg msg-error is-hidden', role: 'alert', 'data-test': 'dialog-error' });
    const body = h('div', { class: 'dialog-body' }, opts.text ? h('p', { class: 'dialog-text' }, opts.text) : null);
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
      if (textarea && opts.reason.required && !reason) {
        reasonError.textContent = fieldError('reason', 'required');
        textarea.setAttribute('aria-invalid', 'true');
        textarea.focus();
        return;
      }
      busy = true;
      cancel.disabled = true;
      try {
        // An empty answer (204) still means done: the caller sees true, never null.
        result = (await withLoading(ok, t('common.working'), () => opts.action(reason))) ?? true;
        close();
      } catch (err) {
        const fieldDetail = err.fieldDetails ? err.fieldDetails().find((d) => d.field === 'reason') : null;
        if (fieldDetail && reasonError) {
          reasonError.textContent = fieldError('reason', fieldDetail.code);
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
    (textarea || ok).focus();
  });
}
