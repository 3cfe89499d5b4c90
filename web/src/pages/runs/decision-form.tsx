// Approve or reject a native approval, with an optional comment. The caller says where the decision goes
// (the run's job, or the approval by id); the server's refusal is shown as it says it.
import { useId, useState } from 'react';
import { ApiError } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({
  en: {
    legend: 'Your decision',
    comment: 'Comment (optional)',
    commentHelp: 'Shown on the run with your decision.',
    approve: 'Approve',
    reject: 'Reject',
    sending: 'Sending…',
  },
  'zh-CN': {
    legend: '你的审批意见',
    comment: '审批意见（可选）',
    commentHelp: '与你的决定一起显示在运行记录中。',
    approve: '同意',
    reject: '拒绝',
    sending: '正在提交…',
  },
});

export type DecisionChoice = 'approve' | 'reject';

export function DecisionForm({
  submit,
  onDecided,
}: {
  submit: (decision: DecisionChoice, comment: string | undefined) => Promise<unknown>;
  onDecided: () => void;
}) {
  const t = useT(strings);
  const legendId = useId();
  const [comment, setComment] = useState('');
  const [sending, setSending] = useState<DecisionChoice>();
  const [error, setError] = useState<ApiError>();

  const decide = async (decision: DecisionChoice) => {
    setSending(decision);
    setError(undefined);
    try {
      await submit(decision, comment.trim() || undefined);
      setComment('');
      onDecided();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setSending(undefined);
    }
  };

  return (
    <fieldset className="runs-decision" aria-labelledby={legendId}>
      <legend id={legendId}>{t('legend')}</legend>
      <label className="field">
        <span>{t('comment')}</span>
        <textarea
          value={comment}
          maxLength={2000}
          rows={2}
          onChange={(event) => setComment(event.target.value)}
        />
        <small>{t('commentHelp')}</small>
      </label>
      <div className="runs-decision-actions">
        <button
          type="button"
          className="button-primary"
          disabled={sending !== undefined}
          onClick={() => decide('approve')}
        >
          {sending === 'approve' ? t('sending') : t('approve')}
        </button>
        <button
          type="button"
          className="button-danger"
          disabled={sending !== undefined}
          onClick={() => decide('reject')}
        >
          {sending === 'reject' ? t('sending') : t('reject')}
        </button>
      </div>
      <ErrorNotice error={error} />
    </fieldset>
  );
}
