// Deleting an IM app, asked once more in a modal dialog that names it. The API refuses while a workflow
// uses the app, and its answer names those workflows: shown in the dialog as it is.
import { api } from '../../api';
import { ConfirmAction } from '../../components/confirm-action';
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
  return (
    <ConfirmAction
      label={t('delete')}
      question={t('question', { name: app.name })}
      explain={t('explain')}
      confirm={t('confirm', { name: app.name })}
      keep={t('keep')}
      busy={t('deleting')}
      refused={t('refused')}
      action={() => api(`/api/im-apps/${encodeURIComponent(app.id)}`, { method: 'DELETE' })}
      onDone={onDeleted}
    />
  );
}
