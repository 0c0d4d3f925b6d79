import { h } from './dom.js';

/**
 * Asks for confirmation in a modal <dialog>: showModal() makes the rest of the page inert, so Tab
 * stays inside the dialog, and Escape cancels it. Focus returns to the control that opened it.
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
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
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
    cancel.addEventListener('click', onCancel);
    dialog.showModal();
    (confirmLabel === '' ? cancel : cancel).focus();
  });
}
