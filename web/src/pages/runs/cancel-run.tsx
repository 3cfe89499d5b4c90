// Cancelling a run stops its shell jobs and withdraws its approvals (at the vendor too): asked once more in
// a modal dialog before it happens, since it cannot be undone.
import { useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import type { Run } from './types';

const strings = defineStrings({
  en: {
    cancel: 'Cancel run',
    question: 'Cancel {run}?',
    explain:
      'Running jobs are stopped and waiting approvals are withdrawn, in the IM approval app too. This cannot be undone.',
    confirm: 'Yes, cancel the run',
    keep: 'No, keep it going',
    cancelling: 'Cancelling…',
  },
  'zh-CN': {
    cancel: '取消运行',
    question: '取消 {run}？',
    explain: '运行中的任务将被停止，等待中的审批将被撤回（IM 审批应用中的审批也会撤回）。此操作无法撤销。',
    confirm: '确定取消运行',
    keep: '不，继续运行',
    cancelling: '正在取消…',
  },
});

export function CancelRun({ run, onCancelled }: { run: Run; onCancelled: () => void }) {
  const t = useT(strings);
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();

  const open = () => {
    setError(undefined);
    dialog.current?.showModal();
  };
  const cancel = async () => {
    setBusy(true);
    try {
      await api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
      dialog.current?.close();
      onCancelled();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="button-danger" onClick={open}>
        {t('cancel')}
      </button>
      <dialog ref={dialog} className="runs-dialog" aria-labelledby="cancel-run-title">
        <h2 id="cancel-run-title">{t('question', { run: `${run.workflow} #${run.number}` })}</h2>
        <p>{t('explain')}</p>
        <ErrorNotice error={error} />
        <div className="runs-dialog-actions">
          {/* The safe choice comes first: showModal() focuses it, so Enter does not cancel by accident. */}
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('keep')}
          </button>
          <button type="button" className="button-danger" onClick={cancel} disabled={busy}>
            {busy ? t('cancelling') : t('confirm')}
          </button>
        </div>
      </dialog>
    </>
  );
}
