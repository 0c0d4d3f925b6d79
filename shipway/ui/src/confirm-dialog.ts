import { h } from './dom.js';

const FOCUSABLE =
  'button:not([hidden]):not([disabled]), [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside the dialog (showModal makes the page inert, but Tab may still leave to the browser). */
function trapFocus(dialog: HTMLDialogElement, event: KeyboardEvent): void {
  if (event.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((item) => item.offsetParent !== null);
  const first = items[0];
  const last = items[items.length - 1];
  if (first === undefined || last === undefined) return;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * Asks for confirmation in a modal <dialog>: showModal() makes the rest of the page inert, Tab
 * cycles inside it, and Escape cancels it. Focus returns to the control that opened it.
 */
export function confirmAction(title: string, body: (Node | string)[], confirmLabel = 'Confirm'): Promise<boolean> {
  const dialog = document.getElementById('dialog') as HTMLDialogElement;
  const heading = document.getElementById('dialog-title') as HTMLElement;
  const content = document.getElementById('dialog-body') as HTMLElement;
  const ok = document.getElementById('dialog-ok') as HTMLButtonElement;
  const cancel = document.getElementById('dialog-cancel') as HTMLButtonElement;
  const opener = document.activeElement as HTMLElement | null;
  heading.textContent = title;
  content.replaceChildren(...body.map((part) => (typeof part === 'string' ? h('p', {}, part) : part)));
  ok.textContent = confirmLabel;
  ok.hidden = confirmLabel === '';
  cancel.textContent = confirmLabel === '' ? 'Close' : 'Cancel';
  return new Promise((resolve) => {
    const onKey = (event: KeyboardEvent) => trapFocus(dialog, event);
    const finish = (value: boolean) => {
      dialog.removeEventListener('keydown', onKey);
      dialog.removeEventListener('close', onClose);
      cancel.removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      opener?.focus();
      resolve(value);
    };
    const onClose = () => finish(dialog.returnValue === 'ok');
    const onCancel = () => {
      dialog.returnValue = '';
      finish(false);
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    dialog.addEventListener('keydown', onKey);
    cancel.addEventListener('click', onCancel);
    dialog.showModal();
    cancel.focus();
  });
}
