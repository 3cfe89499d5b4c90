// Everything waiting for a decision, soonest deadline first, live: which run and job, where it is decided,
// who must still act, since when and until when. Native approvals are decided right here by their approvers.
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { defineStrings, useFormat, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link } from '../../router';
import { DeadlineFact, DecidedInFact } from '../runs/approval-facts';
import { DecisionForm } from '../runs/decision-form';
import type { Approval, RunSummary } from '../runs/types';
import { useMe } from '../runs/use-me';
import { canDecide, waitingFor } from '../runs/who-decides';
import './approvals.css';

const strings = defineStrings({
  en: {
    title: 'Approvals',
    intro: 'Approvals waiting for a decision, the soonest deadline first.',
    none: 'Nothing is waiting for a decision.',
    noneHint: 'When a run reaches an approval job, it shows here until it is decided.',
    run: 'run {id}',
    who: 'Waiting for',
    nobody: '—',
    since: 'Waiting since',
    onTimeout: 'then {outcome}',
    approve: 'approved',
    reject: 'rejected',
    decideInApp: 'Decided in the IM approval app.',
  },
  'zh-CN': {
    title: '审批',
    intro: '等待审批的事项，按截止时间先后排列。',
    none: '当前没有等待审批的事项。',
    noneHint: '运行到达审批任务时会显示在这里，直到有人做出决定。',
    run: '运行 {id}',
    who: '待审批人',
    nobody: '—',
    since: '发起时间',
    onTimeout: '超时后{outcome}',
    approve: '自动通过',
    reject: '自动拒绝',
    decideInApp: '请在 IM 审批应用中处理。',
  },
});

interface Waiting {
  approvals: Approval[];
  /** Run numbers by run id (approvals name their run by id). */
  numbers: Map<number, number>;
}

const load = async (signal: AbortSignal): Promise<Waiting> => {
  // A run with a waiting approval is waiting for approval, or running when a job beside it still runs.
  const [{ approvals }, ...runLists] = await Promise.all([
    api<{ approvals: Approval[] }>('/api/approvals', { signal }),
    api<{ runs: RunSummary[] }>('/api/runs?status=waiting_for_approval&limit=500', { signal }),
    api<{ runs: RunSummary[] }>('/api/runs?status=running&limit=500', { signal }),
  ]);
  const numbers = new Map(runLists.flatMap(({ runs }) => runs.map((run) => [run.id, run.number] as const)));
  return { approvals, numbers };
};

export function ApprovalsPage() {
  const t = useT(strings);
  const format = useFormat();
  const me = useMe();
  const { data, error, reload } = usePoll(load, [], { live: true });

  return (
    <Page title={t('title')}>
      <p className="hint">{t('intro')}</p>
      <ErrorNotice error={error} />
      {data && data.approvals.length === 0 && (
        <div className="card approvals-empty">
          <p>
            <strong>{t('none')}</strong>
          </p>
          <p className="hint">{t('noneHint')}</p>
        </div>
      )}
      <ul className="approvals-list">
        {data?.approvals.map((approval) => {
          const number = data.numbers.get(approval.run_id);
          const runLabel = number !== undefined ? `#${number}` : t('run', { id: approval.run_id });
          const who = waitingFor(approval);
          const titleId = `approval-${approval.id}`;
          return (
            <li key={approval.id} className="card approvals-item">
              <h2 id={titleId} className="approvals-title">
                <Link href={`/runs/${approval.run_id}`}>
                  {approval.workflow} {runLabel}
                </Link>
                <span className="approvals-job">· {approval.job}</span>
              </h2>
              <dl className="approvals-facts">
                <DecidedInFact approval={approval} />
                <div>
                  <dt>{t('who')}</dt>
                  <dd>{who.length > 0 ? who.join(', ') : t('nobody')}</dd>
                </div>
                <div>
                  <dt>{t('since')}</dt>
                  <dd>
                    <time dateTime={approval.created_at} title={format.time(approval.created_at)}>
                      {format.ago(approval.created_at)}
                    </time>
                  </dd>
                </div>
                <DeadlineFact approval={approval}>
                  {' '}
                  <span className="hint">{t('onTimeout', { outcome: t(approval.timeout_outcome) })}</span>
                </DeadlineFact>
              </dl>
              {approval.description && <p className="approvals-description">{approval.description}</p>}
              {canDecide(approval, me) ? (
                <DecisionForm
                  submit={(decision, comment) =>
                    api(`/api/approvals/${approval.id}/decision`, {
                      method: 'POST',
                      body: { decision, ...(comment ? { comment } : {}) },
                    })
                  }
                  onDecided={reload}
                />
              ) : (
                approval.kind !== 'native' && <p className="hint">{t('decideInApp')}</p>
              )}
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
