// A modal dialog on the browser's own <dialog> (showModal): focus stays inside, Escape closes it, and the
// focus goes back to where it was when it closes.
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({ en: { close: 'Close' }, 'zh-CN': { close: '关闭' } });

export function Modal({
  title,
  onClose,
  children,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const t = useT(strings);
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    // Not dialog.close() here: its close event would arrive after a StrictMode re-mount and close it again.
    return () => opener?.focus();
  }, []);
  return (
    <dialog
      ref={ref}
      className="wf-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="wf-dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="button-small" onClick={onClose} aria-label={t('close')}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}
