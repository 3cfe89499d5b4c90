// One run, live: read again every second until it has ended, so the page follows the run as it moves on
// (a job starts, output comes, someone decides, a message is delivered) without reloading.
import { useState } from 'react';
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { defineStrings, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link } from '../../router';
import { ApprovalPanel } from './approval-panel';
import { CancelRun } from './cancel-run';
import { RunLogs } from './run-logs';
import { RunNotifications } from './run-notifications';
import { RunSummary } from './run-summary';
import { RunTimeline } from './run-timeline';
import type { Run } from './types';
import { useMe } from './use-me';
import { useNow } from './use-now';
import './runs.css';

const strings = defineStrings({
  en: {
    title: 'Run {id}',
    loading: 'Loading the run…',
    approvals: 'Approvals',
    back: 'All runs',
  },
  'zh-CN': {
    title: '运行 {id}',
    loading: '正在读取运行…',
    approvals: '审批',
    back: '全部运行',
  },
});

export function RunPage({ id }: { id: string }) {
  const t = useT(strings);
  const me = useMe();
  // Until the first answer the run may be going; after its end nothing in it changes any more.
  const [ended, setEnded] = useState(false);
  const { data, error, reload } = usePoll(
    async (signal) => {
      const run = await api<Run>(`/api/runs/${encodeURIComponent(id)}`, { signal });
      setEnded(run.finished_at !== null);
      return { run, receivedAt: Date.now() };
    },
    [id],
    { live: !ended },
  );
  const now = useNow(!ended);
  const run = data?.run;
  const approvals = run?.stages.flatMap((stage) => stage.jobs).filter((job) => job.approval) ?? [];

  return (
    <Page
      title={run ? `${run.workflow} #${run.number}` : t('title', { id })}
      actions={
        <>
          <Link href="/runs" className="button">
            {t('back')}
          </Link>
          {run && !run.finished_at && <CancelRun run={run} onCancelled={reload} />}
        </>
      }
    >
      <ErrorNotice error={error} />
      {!run && !error && <p className="hint">{t('loading')}</p>}
      {run && data && (
        <div className="runs-page">
          <RunSummary run={run} receivedAt={data.receivedAt} now={now} />
          <RunTimeline run={run} receivedAt={data.receivedAt} now={now} />
          {approvals.length > 0 && (
            <section aria-labelledby="run-approvals-title">
              <h2 id="run-approvals-title">{t('approvals')}</h2>
              {approvals.map((job) => (
                <ApprovalPanel
                  key={job.id}
                  runId={run.id}
                  approval={job.approval!}
                  me={me}
                  onDecided={reload}
                />
              ))}
            </section>
          )}
          <RunLogs runId={run.id} jobs={run.stages.flatMap((stage) => stage.jobs)} />
          <RunNotifications runId={run.id} finished={run.finished_at !== null} />
        </div>
      )}
    </Page>
  );
}
