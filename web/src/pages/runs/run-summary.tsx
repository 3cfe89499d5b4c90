// The head of a run's page: how it stands and why, what it was started with, by whom, and when.
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import { Link } from '../../router';
import type { Run } from './types';
import { elapsed } from './use-now';

const strings = defineStrings({
  en: {
    summary: 'Run summary',
    workflow: 'Workflow',
    status: 'Status',
    reason: 'Reason',
    params: 'Params',
    noParams: 'none',
    triggeredBy: 'Triggered by',
    started: 'Started',
    finished: 'Finished',
    duration: 'Duration',
    notYet: 'not yet',
  },
  'zh-CN': {
    summary: '运行概要',
    workflow: '工作流',
    status: '状态',
    reason: '原因',
    params: '参数',
    noParams: '无',
    triggeredBy: '触发者',
    started: '开始时间',
    finished: '结束时间',
    duration: '耗时',
    notYet: '尚未结束',
  },
});

export function RunSummary({ run, receivedAt, now }: { run: Run; receivedAt: number; now: number }) {
  const t = useT(strings);
  const format = useFormat();
  const params = Object.entries(run.params);
  return (
    <dl className="card runs-summary" aria-label={t('summary')}>
      <div>
        <dt>{t('workflow')}</dt>
        <dd>
          <Link href={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link> #{run.number}
        </dd>
      </div>
      <div>
        <dt>{t('status')}</dt>
        <dd>
          <StatusBadge status={run.status} />
        </dd>
      </div>
      <div>
        <dt>{t('triggeredBy')}</dt>
        <dd>{run.triggered_by ?? '—'}</dd>
      </div>
      <div>
        <dt>{t('started')}</dt>
        <dd>
          <time dateTime={run.started_at ?? undefined}>{format.time(run.started_at)}</time>
        </dd>
      </div>
      <div>
        <dt>{t('finished')}</dt>
        <dd>
          {run.finished_at ? (
            <time dateTime={run.finished_at}>{format.time(run.finished_at)}</time>
          ) : (
            t('notYet')
          )}
        </dd>
      </div>
      <div>
        <dt>{t('duration')}</dt>
        <dd className="runs-number">
          {format.duration(elapsed(run.duration_ms, run.finished_at, receivedAt, now))}
        </dd>
      </div>
      {run.reason && (
        <div className="runs-summary-wide">
          <dt>{t('reason')}</dt>
          <dd>{run.reason}</dd>
        </div>
      )}
      <div className="runs-summary-wide">
        <dt>{t('params')}</dt>
        <dd>
          {params.length === 0 ? (
            t('noParams')
          ) : (
            <ul className="runs-params">
              {params.map(([name, value]) => (
                <li key={name}>
                  <code>{name}</code> = <code>{value}</code>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </div>
    </dl>
  );
}
