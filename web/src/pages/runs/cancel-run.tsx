// Cancelling a run stops its shell jobs and withdraws its approvals (at the vendor too): asked once more in
// a modal dialog before it happens, since it cannot be undone.
import { api } from '../../api';
import { ConfirmAction } from '../../components/confirm-action';
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
  return (
    <ConfirmAction
      label={t('cancel')}
      question={t('question', { run: `${run.workflow} #${run.number}` })}
      explain={t('explain')}
      confirm={t('confirm')}
      keep={t('keep')}
      busy={t('cancelling')}
      action={() => api(`/api/runs/${run.id}/cancel`, { method: 'POST' })}
      onDone={onCancelled}
    />
  );
}
