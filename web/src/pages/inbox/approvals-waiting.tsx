// The fake approvals waiting, and for each person who may act now a way to act as them: approve or reject
// with an optional comment. The fake then tells Signoff through the platform's real callback protocol.
import { type FormEvent, useId, useState } from 'react';
import type { ApiError } from '../../api';
import { Avatar } from '../../components/avatar';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useFormat, useT } from '../../i18n';
import { PlainText } from './markdown';
import { decide, type SandboxApproval, type SandboxPerson, type SandboxVendorState } from './sandbox-state';
import { TryIt } from './try-it';

const strings = defineStrings({
  en: {
    heading: 'Approvals waiting ({count})',
    none: 'Nothing waits for anyone in {platform}.',
    started: 'Started {ago}',
    waitingFor: 'Waiting for',
    form: 'The approval form',
    comment: 'Comment as {name} (optional)',
    approveAs: 'Approve as {name}',
    rejectAs: 'Reject as {name}',
    approved:
      '{name} approved “{title}” in {platform}. {platform} is telling Signoff through its callback, as the real platform does; the run goes on when Signoff hears of it.',
    rejected:
      '{name} rejected “{title}” in {platform}. {platform} is telling Signoff through its callback, as the real platform does; the run goes on when Signoff hears of it.',
    failed: '{platform} could not record the decision.',
  },
  'zh-CN': {
    heading: '待审批（{count}）',
    none: '{platform}中没有等待处理的审批。',
    started: '{ago}发起',
    waitingFor: '等待处理',
    form: '审批表单',
    comment: '以{name}的身份填写意见（可选）',
    approveAs: '以{name}的身份同意',
    rejectAs: '以{name}的身份拒绝',
    approved:
      '{name}在{platform}中同意了“{title}”。{platform}正通过回调通知 Signoff（与真实平台的协议相同），Signoff 收到后运行继续。',
    rejected:
      '{name}在{platform}中拒绝了“{title}”。{platform}正通过回调通知 Signoff（与真实平台的协议相同），Signoff 收到后运行继续。',
    failed: '{platform}未能记录该审批意见。',
  },
});

export function ApprovalsWaiting({
  vendor,
  onDecided,
}: {
  vendor: SandboxVendorState;
  /** Called after a decision was recorded (the page reads the state again). */
  onDecided: () => void;
}) {
  const t = useT(strings);
  const headingId = useId();
  const [status, setStatus] = useState<string>();
  const approvals = vendor.pending_approvals;
  return (
    <section className="inbox-section" aria-labelledby={headingId}>
      <h3 id={headingId}>{t('heading', { count: approvals.length })}</h3>
      <div role="status" className={status ? 'notice notice-ok' : undefined}>
        {status}
      </div>
      {approvals.length === 0 ? (
        <div className="notice notice-info">
          <p>{t('none', { platform: vendor.label })}</p>
          <TryIt vendor={vendor} what="approval" />
        </div>
      ) : (
        <ul className="plain-list inbox-approvals">
          {approvals.map((approval) => (
            <li key={approval.id}>
              <ApprovalCard
                vendor={vendor}
                approval={approval}
                onDecided={(person, decision) => {
                  setStatus(
                    t(decision === 'approve' ? 'approved' : 'rejected', {
                      name: person.name,
                      title: approval.title,
                      platform: vendor.label,
                    }),
                  );
                  onDecided();
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ApprovalCard({
  vendor,
  approval,
  onDecided,
}: {
  vendor: SandboxVendorState;
  approval: SandboxApproval;
  onDecided: (person: SandboxPerson, decision: 'approve' | 'reject') => void;
}) {
  const t = useT(strings);
  const { time, ago } = useFormat();
  return (
    <article className="card inbox-approval">
      <h4>{approval.title}</h4>
      <p className="hint">
        <time dateTime={approval.created_at} title={time(approval.created_at)}>
          {t('started', { ago: ago(approval.created_at) })}
        </time>{' '}
        · <code>{approval.id}</code>
      </p>
      {approval.form && (
        <blockquote className="inbox-form" aria-label={t('form')}>
          <PlainText text={approval.form} />
        </blockquote>
      )}
      <p className="inbox-label">{t('waitingFor')}</p>
      {approval.waiting_for.map((person) => (
        <DecideForm
          key={person.id}
          vendor={vendor}
          approval={approval}
          person={person}
          onDecided={(decision) => onDecided(person, decision)}
        />
      ))}
    </article>
  );
}

function DecideForm({
  vendor,
  approval,
  person,
  onDecided,
}: {
  vendor: SandboxVendorState;
  approval: SandboxApproval;
  person: SandboxPerson;
  onDecided: (decision: 'approve' | 'reject') => void;
}) {
  const t = useT(strings);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // The button pressed says which decision this is.
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value === 'reject' ? 'reject' : 'approve';
    setBusy(true);
    setError(undefined);
    try {
      await decide({ vendor: vendor.type, approval: approval.id, person: person.id, decision, comment });
      onDecided(decision);
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inbox-decide" onSubmit={submit}>
      <div className="inbox-person">
        <Avatar name={person.name} src={person.avatar ?? null} size={32} />
        <span>
          <strong>{person.name}</strong>
          <small className="hint"> {person.id}</small>
        </span>
      </div>
      <label className="field inbox-comment">
        <span>{t('comment', { name: person.name })}</span>
        <input value={comment} onChange={(event) => setComment(event.target.value)} maxLength={500} />
      </label>
      <div className="inbox-decide-buttons">
        <button type="submit" value="approve" className="button-primary" disabled={busy}>
          {t('approveAs', { name: person.name })}
        </button>
        <button type="submit" value="reject" className="button-danger" disabled={busy}>
          {t('rejectAs', { name: person.name })}
        </button>
      </div>
      <ErrorNotice error={error} title={t('failed', { platform: vendor.label })} />
    </form>
  );
}
