// Stages in the order they run, each with its jobs (which run side by side): status and duration of each,
// a running job's duration ticking. A job's name leads to its logs or its approval further down.
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import type { Job, Run } from './types';
import { elapsed } from './use-now';

const strings = defineStrings({
  en: {
    title: 'Stages and jobs',
    stage: 'Stage {index}: {name}',
    shell: 'Shell',
    approval: 'Approval',
    notification: 'Notification',
    duration: 'Duration',
    attempts: 'attempt {count}',
  },
  'zh-CN': {
    title: '阶段与任务',
    stage: '阶段 {index}：{name}',
    shell: 'Shell',
    approval: '审批',
    notification: '通知',
    duration: '耗时',
    attempts: '第 {count} 次尝试',
  },
});

/** The id of the section that shows a job's logs or approval (the timeline links to it). */
export const jobSectionId = (job: string) => `job-${job}`;

export function RunTimeline({ run, receivedAt, now }: { run: Run; receivedAt: number; now: number }) {
  const t = useT(strings);
  const format = useFormat();
  const typeLabel = (job: Job) =>
    job.type === 'shell' || job.type === 'approval' || job.type === 'notification' ? t(job.type) : job.type;
  return (
    <section aria-labelledby="run-timeline-title">
      <h2 id="run-timeline-title">{t('title')}</h2>
      <ol className="runs-timeline">
        {run.stages.map((stage, index) => (
          <li key={stage.name} className="card runs-stage" data-status={stage.status}>
            <h3>
              <span>{t('stage', { index: index + 1, name: stage.name })}</span>{' '}
              <StatusBadge status={stage.status} />
            </h3>
            <ul className="runs-jobs">
              {stage.jobs.map((job) => (
                <li key={job.id} className="runs-job">
                  <div className="runs-job-head">
                    {job.type === 'notification' ? (
                      <strong>{job.name}</strong>
                    ) : (
                      <a href={`#${jobSectionId(job.name)}`}>
                        <strong>{job.name}</strong>
                      </a>
                    )}
                    <StatusBadge status={job.status} />
                  </div>
                  <div className="runs-job-meta">
                    <span>{typeLabel(job)}</span>
                    {job.started_at && (
                      <span className="runs-number" title={t('duration')}>
                        {format.duration(elapsed(job.duration_ms, job.finished_at, receivedAt, now))}
                      </span>
                    )}
                    {job.attempts > 1 && <span>{t('attempts', { count: job.attempts })}</span>}
                  </div>
                  {job.reason && <p className="runs-job-reason">{job.reason}</p>}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}
