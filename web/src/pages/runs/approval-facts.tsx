// The facts an approval is shown with both on its run's page and in the list of approvals waiting: where
// it is decided, and its deadline (with how far off it is while the approval is still pending).
import type { ReactNode } from 'react';
import { defineStrings, useFormat, useT } from '../../i18n';
import { ApprovalKind } from './approval-kind';
import type { Approval } from './types';

const strings = defineStrings({
  en: {
    kind: 'Decided in',
    deadline: 'Deadline',
    deadlineLeft: '{time} ({ago})',
  },
  'zh-CN': {
    kind: '审批方式',
    deadline: '截止时间',
    deadlineLeft: '{time}（{ago}）',
  },
});

export function DecidedInFact({ approval }: { approval: Approval }) {
  const t = useT(strings);
  return (
    <div>
      <dt>{t('kind')}</dt>
      <dd>
        <ApprovalKind kind={approval.kind} />
      </dd>
    </div>
  );
}

/** Children follow the deadline in the same fact. */
export function DeadlineFact({ approval, children }: { approval: Approval; children?: ReactNode }) {
  const t = useT(strings);
  const format = useFormat();
  return (
    <div>
      <dt>{t('deadline')}</dt>
      <dd>
        <time dateTime={approval.deadline}>
          {approval.status === 'pending'
            ? t('deadlineLeft', { time: format.time(approval.deadline), ago: format.ago(approval.deadline) })
            : format.time(approval.deadline)}
        </time>
        {children}
      </dd>
    </div>
  );
}
