// The workflow drawn from the text as typed: stages in order, each with its jobs side by side. While the
// text does not parse (mid-typing), the last drawing that did stays, marked as such.
import { useMemo, useRef } from 'react';
import { PlatformIcon } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { channelPlatform, channelStrings, isChannel, isPlatform } from './channels';
import { JobIcon } from './job-icon';
import { type Outline, type OutlineJob, readOutline } from './yaml-document';

const strings = defineStrings({
  en: {
    title: 'Stages',
    stale: 'The YAML does not parse right now; this is the last version that did.',
    empty: 'No stages yet.',
    noJobs: 'No jobs in this stage.',
    approvers: '{count} approvers',
    approver: '1 approver',
    chat: 'group',
    people: '{count} people',
    native: 'Signoff',
  },
  'zh-CN': {
    title: '阶段',
    stale: '当前 YAML 无法解析，显示的是最后一次可解析的版本。',
    empty: '还没有阶段。',
    noJobs: '此阶段没有任务。',
    approvers: '{count} 位审批人',
    approver: '1 位审批人',
    chat: '群',
    people: '{count} 人',
    native: 'Signoff',
  },
});

export function WorkflowDiagram({ source }: { source: string }) {
  const t = useT(strings);
  const lastGood = useRef<Outline | undefined>(undefined);
  const current = useMemo(() => readOutline(source), [source]);
  if (current) lastGood.current = current;
  const outline = current ?? lastGood.current;

  return (
    <section className="wf-diagram card" aria-labelledby="wf-diagram-title">
      <h2 id="wf-diagram-title">{t('title')}</h2>
      {!current && outline && (
        <p className="hint" role="status">
          {t('stale')}
        </p>
      )}
      {!outline || outline.stages.length === 0 ? (
        <p className="hint">{t('empty')}</p>
      ) : (
        <ol className="wf-stages">
          {outline.stages.map((stage, index) => (
            // Names may repeat while the author types (the check reports it); the position tells them apart.
            // biome-ignore lint/suspicious/noArrayIndexKey: the stage's place is its identity here.
            <li key={`${index}:${stage.name}`} className="wf-stage">
              <h3>
                <span className="wf-stage-number" aria-hidden="true">
                  {index + 1}
                </span>
                {stage.name}
              </h3>
              {stage.jobs.length === 0 ? (
                <p className="hint">{t('noJobs')}</p>
              ) : (
                <ul className="wf-jobs">
                  {stage.jobs.map((job, jobIndex) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: as for stages, names may repeat mid-typing.
                    <li key={`${jobIndex}:${job.name}`} className="wf-job">
                      <JobIcon type={job.type} />
                      <span className="wf-job-name">{job.name}</span>
                      <JobDetail job={job} />
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function JobDetail({ job }: { job: OutlineJob }) {
  const t = useT(strings);
  const channel = useT(channelStrings);
  if (job.type === 'approval') {
    return (
      <span className="wf-job-detail">
        {isPlatform(job.platform) ? (
          <PlatformIcon platform={job.platform} size={16} />
        ) : (
          <span className="badge badge-muted">{t('native')}</span>
        )}
        <span>{job.approvers === 1 ? t('approver') : t('approvers', { count: job.approvers ?? 0 })}</span>
      </span>
    );
  }
  if (job.type === 'notification' && isChannel(job.channel)) {
    const platform = channelPlatform[job.channel];
    return (
      <span className="wf-job-detail">
        {platform && <PlatformIcon platform={platform} size={16} />}
        <span>{channel(job.channel)}</span>
        {job.chat && (
          <span>
            {t('chat')} <code title={job.chat}>{shorten(job.chat)}</code>
          </span>
        )}
        {job.recipients !== undefined && <span>{t('people', { count: job.recipients })}</span>}
      </span>
    );
  }
  return null;
}

const shorten = (id: string) => (id.length > 14 ? `${id.slice(0, 10)}…` : id);
