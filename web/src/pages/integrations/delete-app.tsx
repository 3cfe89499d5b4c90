// Deleting an IM app, asked once more in a modal dialog that names it. The API refuses while a workflow
// uses the app, and its answer names those workflows: shown in the dialog as it is.
import { useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import type { ImApp } from './types';

const strings = defineStrings({
  en: {
    delete: 'Delete',
    question: 'Delete the IM app {name}?',
    explain:
      'Workflows can no longer use it, and its callback URL stops answering: remove the URL from the platform’s console too. Runs already finished keep their history.',
    confirm: 'Yes, delete {name}',
    keep: 'No, keep it',
    deleting: 'Deleting…',
    refused: 'Not deleted.',
  },
  'zh-CN': {
    delete: '删除',
    question: '删除 IM 应用 {name}？',
    explain:
      '删除后工作流将无法再使用它，其回调地址也不再响应：请同时从平台后台移除该地址。已结束的运行记录会保留。',
    confirm: '确定删除 {name}',
    keep: '不，保留',
    deleting: '正在删除…',
    refused: '未删除。',
  },
});

export function DeleteApp({ app, onDeleted }: { app: ImApp; onDeleted: () => void }) {
  const t = useT(strings);
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();

  const open = () => {
    setError(undefined);
    dialog.current?.showModal();
  };
  const remove = async () => {
    setBusy(true);
    try {
      await api(`/api/im-apps/${encodeURIComponent(app.id)}`, { method: 'DELETE' });
      dialog.current?.close();
      onDeleted();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="button-danger" onClick={open}>
        {t('delete')}
      </button>
      <dialog ref={dialog} className="integrations-dialog" aria-labelledby="delete-app-title">
        <h2 id="delete-app-title">{t('question', { name: app.name })}</h2>
        <p>{t('explain')}</p>
        <ErrorNotice error={error} title={t('refused')} />
        <div className="integrations-dialog-actions">
          {/* The safe choice comes first, so the opened dialog focuses it and Enter does not delete. */}
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('keep')}
          </button>
          <button type="button" className="button-danger" onClick={remove} disabled={busy}>
            {busy ? t('deleting') : t('confirm', { name: app.name })}
          </button>
        </div>
      </dialog>
    </>
  );
}
