// The workflows: each with its description, its stages and their jobs at a glance, and when it changed.
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { defineStrings, useFormat, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link } from '../../router';
import { JobIcon } from './job-icon';
import type { WorkflowSummary } from './types';

const strings = defineStrings({
  en: {
    title: 'Workflows',
    new: 'New workflow',
    loading: 'Loading…',
    none: 'No workflows yet.',
    noneHint:
      'Write one in YAML, or start from the example and add approval and notification jobs with the form.',
    updated: 'Updated {ago}',
    version: 'version {version}',
    stages: 'Stages of {name}',
    params: 'Params: {names}',
  },
  'zh-CN': {
    title: '工作流',
    new: '新建工作流',
    loading: '正在加载…',
    none: '还没有工作流。',
    noneHint: '用 YAML 编写，或从示例开始，再用表单添加审批和通知任务。',
    updated: '更新于 {ago}',
    version: '版本 {version}',
    stages: '{name} 的阶段',
    params: '参数：{names}',
  },
});

export function WorkflowsPage() {
  const t = useT(strings);
  const format = useFormat();
  const { data, error, loading } = usePoll(
    (signal) => api<{ workflows: WorkflowSummary[] }>('/api/workflows', { signal }),
    [],
  );
  return (
    <Page
      title={t('title')}
      actions={
        <Link href="/workflows/new" className="button button-primary">
          {t('new')}
        </Link>
      }
    >
      <ErrorNotice error={error} />
      {loading && !data && <p className="hint">{t('loading')}</p>}
      {data && data.workflows.length === 0 && (
        <div className="card">
          <p>{t('none')}</p>
          <p className="hint">{t('noneHint')}</p>
        </div>
      )}
      <ul className="wf-list">
        {data?.workflows.map((workflow) => (
          <li key={workflow.name} className="card wf-list-item">
            <div className="wf-list-head">
              <h2>
                <Link href={`/workflows/${encodeURIComponent(workflow.name)}`}>{workflow.name}</Link>
              </h2>
              <span className="hint" title={format.time(workflow.updated_at)}>
                {t('updated', { ago: format.ago(workflow.updated_at) })} ·{' '}
                {t('version', { version: workflow.version })}
              </span>
            </div>
            {workflow.description && <p className="wf-list-description">{workflow.description}</p>}
            <ol className="wf-flow" aria-label={t('stages', { name: workflow.name })}>
              {workflow.stages.map((stage) => (
                <li key={stage.name} className="wf-flow-stage">
                  <strong>{stage.name}</strong>
                  <span className="wf-flow-jobs">
                    {stage.jobs.map((job) => (
                      <span key={job.name} className="wf-flow-job">
                        <JobIcon type={job.type} />
                        {job.name}
                      </span>
                    ))}
                  </span>
                </li>
              ))}
            </ol>
            {workflow.params.length > 0 && (
              <p className="hint">
                {t('params', { names: workflow.params.map((param) => param.name).join(', ') })}
              </p>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
