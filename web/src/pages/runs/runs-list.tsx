// Every run, newest first, live: which workflow, its number, how it stands, who started it and how long it
// took. The filters live in the address (/runs?workflow=release&status=failed) so a view can be shared.
import { useState } from 'react';
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { StatusBadge, statusStrings } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link, navigate, useLocation } from '../../router';
import type { RunSummary } from './types';
import { elapsed, useNow } from './use-now';
import './runs.css';

const strings = defineStrings({
  en: {
    title: 'Runs',
    workflow: 'Workflow',
    anyWorkflow: 'All workflows',
    status: 'Status',
    anyStatus: 'Any status',
    run: 'Run',
    triggeredBy: 'Triggered by',
    started: 'Started',
    duration: 'Duration',
    none: 'No runs yet. Start one from a workflow.',
    noneMatch: 'No runs match these filters.',
    more: 'Show older runs',
    workflows: 'Workflows',
    notStarted: 'not started',
    filters: 'Filter runs',
  },
  'zh-CN': {
    title: '运行记录',
    workflow: '工作流',
    anyWorkflow: '全部工作流',
    status: '状态',
    anyStatus: '全部状态',
    run: '运行',
    triggeredBy: '触发者',
    started: '开始时间',
    duration: '耗时',
    none: '还没有运行记录。可从工作流发起运行。',
    noneMatch: '没有符合筛选条件的运行。',
    more: '显示更早的运行',
    workflows: '工作流',
    notStarted: '未开始',
    filters: '筛选运行',
  },
});

const statuses = [
  'running',
  'waiting_for_approval',
  'passed',
  'failed',
  'rejected',
  'timeout',
  'cancelled',
] as const;
const pageSize = 50;

export function RunsPage() {
  const t = useT(strings);
  const statusWord = useT(statusStrings);
  const format = useFormat();
  const { query } = useLocation();
  const workflow = query.get('workflow') ?? '';
  const status = query.get('status') ?? '';
  const [limit, setLimit] = useState(pageSize);

  const workflows = usePoll(
    (signal) => api<{ workflows: { name: string }[] }>('/api/workflows', { signal }),
    [],
  ).data;
  const runs = usePoll(
    async (signal) => {
      const search = new URLSearchParams({ limit: String(limit) });
      if (workflow) search.set('workflow', workflow);
      if (status) search.set('status', status);
      const { runs } = await api<{ runs: RunSummary[] }>(`/api/runs?${search}`, { signal });
      return { runs, receivedAt: Date.now() };
    },
    [workflow, status, limit],
    { live: true },
  );
  const anyRunning = runs.data?.runs.some((run) => !run.finished_at) ?? false;
  const now = useNow(anyRunning);

  const filter = (name: 'workflow' | 'status', value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    setLimit(pageSize);
    const search = next.toString();
    navigate(search ? `/runs?${search}` : '/runs', { replace: true });
  };

  // A workflow named in the address stays choosable even when it is not (or no longer) in the list.
  const workflowNames = [...new Set([...(workflows?.workflows.map((w) => w.name) ?? []), workflow])]
    .filter(Boolean)
    .sort();
  const list = runs.data?.runs;

  return (
    <Page title={t('title')}>
      <fieldset className="runs-filters">
        <legend className="visually-hidden">{t('filters')}</legend>
        <label className="field">
          <span>{t('workflow')}</span>
          <select value={workflow} onChange={(event) => filter('workflow', event.target.value)}>
            <option value="">{t('anyWorkflow')}</option>
            {workflowNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('status')}</span>
          <select value={status} onChange={(event) => filter('status', event.target.value)}>
            <option value="">{t('anyStatus')}</option>
            {statuses.map((value) => (
              <option key={value} value={value}>
                {statusWord(value)}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <ErrorNotice error={runs.error} />
      {list && list.length === 0 && (
        <p className="runs-empty">
          {workflow || status ? (
            t('noneMatch')
          ) : (
            <>
              {t('none')} <Link href="/workflows">{t('workflows')}</Link>
            </>
          )}
        </p>
      )}
      {list && list.length > 0 && (
        <div className="table-scroll">
          <table className="runs-table">
            <thead>
              <tr>
                <th scope="col">{t('run')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('triggeredBy')}</th>
                <th scope="col">{t('started')}</th>
                <th scope="col">{t('duration')}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((run) => (
                <tr key={run.id}>
                  <th scope="row">
                    <Link href={`/runs/${run.id}`}>
                      {run.workflow} #{run.number}
                    </Link>
                  </th>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>
                    <span className="runs-cell-label">{t('triggeredBy')}: </span>
                    {run.triggered_by ?? '—'}
                  </td>
                  <td>
                    <span className="runs-cell-label">{t('started')}: </span>
                    {run.started_at ? (
                      <time dateTime={run.started_at} title={format.time(run.started_at)}>
                        {format.ago(run.started_at)}
                      </time>
                    ) : (
                      t('notStarted')
                    )}
                  </td>
                  <td className="runs-number">
                    <span className="runs-cell-label">{t('duration')}: </span>
                    {format.duration(elapsed(run.duration_ms, run.finished_at, runs.data!.receivedAt, now))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list && list.length >= limit && limit < 500 && (
        <p>
          <button type="button" onClick={() => setLimit((current) => Math.min(500, current + pageSize))}>
            {t('more')}
          </button>
        </p>
      )}
    </Page>
  );
}
