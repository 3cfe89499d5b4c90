// One approval job of a run: where it is decided, how many approvals it needs, until when, what the
// approvers are asked, and each approver's decision, comment and time. A listed approver who has not
// decided a native approval decides it here.
import { api } from '../../api';
import { Avatar } from '../../components/avatar';
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import { DeadlineFact, DecidedInFact } from './approval-facts';
import { DecisionForm } from './decision-form';
import { jobSectionId } from './run-timeline';
import type { Approval, Decision, Me } from './types';
import { VendorProgress } from './vendor-progress';
import { canDecide } from './who-decides';

const strings = defineStrings({
  en: {
    title: 'Approval: {job}',
    needed: 'Approvals needed',
    neededValue: '{needed} of {count}',
    onTimeout: 'If nobody decides in time',
    timeoutApprove: 'approved',
    timeoutReject: 'rejected',
    asked: 'Waiting since',
    decided: 'Decided',
    approvers: 'Approvers',
    noDecision: 'no decision',
    asAdmin: 'as admin',
    you: '(you)',
  },
  'zh-CN': {
    title: '审批：{job}',
    needed: '所需同意人数',
    neededValue: '{count} 人中 {needed} 人',
    onTimeout: '超时未审批时',
    timeoutApprove: '自动通过',
    timeoutReject: '自动拒绝',
    asked: '发起时间',
    decided: '决定时间',
    approvers: '审批人',
    noDecision: '未审批',
    asAdmin: '以管理员身份',
    you: '（你）',
  },
});

export function ApprovalPanel({
  runId,
  approval,
  me,
  onDecided,
}: {
  runId: number;
  approval: Approval;
  me: Me | undefined;
  onDecided: () => void;
}) {
  const t = useT(strings);
  const format = useFormat();
  const titleId = `approval-title-${approval.job}`;
  const submit = (decision: 'approve' | 'reject', comment: string | undefined) =>
    api(`/api/runs/${runId}/jobs/${encodeURIComponent(approval.job)}/decision`, {
      method: 'POST',
      body: { decision, ...(comment ? { comment } : {}) },
    });

  return (
    <section className="card runs-approval" id={jobSectionId(approval.job)} aria-labelledby={titleId}>
      <h3 id={titleId} className="runs-approval-title">
        <span>{t('title', { job: approval.job })}</span> <StatusBadge status={approval.status} />
      </h3>
      <dl className="runs-facts">
        <DecidedInFact approval={approval} />
        <div>
          <dt>{t('needed')}</dt>
          <dd>{t('neededValue', { needed: approval.needed, count: approval.approvers.length })}</dd>
        </div>
        <div>
          <dt>{t('asked')}</dt>
          <dd>
            <time dateTime={approval.created_at}>{format.time(approval.created_at)}</time>
          </dd>
        </div>
        <DeadlineFact approval={approval} />
        <div>
          <dt>{t('onTimeout')}</dt>
          <dd>{approval.timeout_outcome === 'approve' ? t('timeoutApprove') : t('timeoutReject')}</dd>
        </div>
        {approval.decided_at && (
          <div>
            <dt>{t('decided')}</dt>
            <dd>
              <time dateTime={approval.decided_at}>{format.time(approval.decided_at)}</time>
            </dd>
          </div>
        )}
      </dl>
      {approval.description && <p className="runs-description">{approval.description}</p>}
      {approval.vendor ? (
        <VendorProgress vendor={approval.vendor} />
      ) : (
        <NativeApprovers approval={approval} me={me} />
      )}
      {canDecide(approval, me) && <DecisionForm submit={submit} onDecided={onDecided} />}
    </section>
  );
}

/** Each listed approver with their decision, then anyone who decided as an admin without being listed. */
function NativeApprovers({ approval, me }: { approval: Approval; me: Me | undefined }) {
  const t = useT(strings);
  const format = useFormat();
  const byUser = new Map(approval.decisions.map((decision) => [decision.user_id, decision]));
  const listed = new Set(approval.approvers.map((approver) => approver.user_id));
  const people: { user_id: string; name: string; decision: Decision | undefined }[] = [
    ...approval.approvers.map((approver) => ({ ...approver, decision: byUser.get(approver.user_id) })),
    ...approval.decisions
      .filter((decision) => !listed.has(decision.user_id))
      .map((decision) => ({ user_id: decision.user_id, name: decision.user_name, decision })),
  ];
  return (
    <ul className="runs-people" aria-label={t('approvers')}>
      {people.map(({ user_id, name, decision }) => (
        <li key={user_id} className="runs-person">
          <Avatar name={name} size={32} />
          <div className="runs-person-body">
            <div className="runs-person-head">
              <strong>{name}</strong>
              {me?.id === user_id && <span className="hint">{t('you')}</span>}
              {decision ? (
                <StatusBadge status={decision.decision === 'approve' ? 'approved' : 'rejected'} />
              ) : approval.status === 'pending' ? (
                <StatusBadge status="pending" />
              ) : (
                <span className="hint">{t('noDecision')}</span>
              )}
              {decision?.as_admin && <span className="hint">{t('asAdmin')}</span>}
              {decision && (
                <time className="hint" dateTime={decision.decided_at}>
                  {format.time(decision.decided_at)}
                </time>
              )}
            </div>
            {decision?.comment && <p className="runs-comment">{decision.comment}</p>}
          </div>
        </li>
      ))}
    </ul>
  );
}
