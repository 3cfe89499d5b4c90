// Shell job logs as they are written: asks for what came after the last chunk every second until the
// server says the run has ended and everything was sent. Each job has its own box, which follows new
// output unless the reader has scrolled up to read something.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useT } from '../../i18n';
import { appendChunks, type JobLogs, type LogLine } from './log-lines';
import { jobSectionId } from './run-timeline';
import type { Job, LogPage } from './types';

const strings = defineStrings({
  en: {
    title: 'Logs',
    logOf: 'Log of {job}',
    notStarted: 'Not started yet.',
    noOutputYet: 'No output yet.',
    noOutput: 'No output.',
    latest: 'Follow new output',
    stderr: 'stderr',
    system: 'signoff',
    noJobs: 'This run has no shell jobs.',
  },
  'zh-CN': {
    title: '日志',
    logOf: '{job} 的日志',
    notStarted: '尚未开始。',
    noOutputYet: '暂无输出。',
    noOutput: '没有输出。',
    latest: '跟随最新输出',
    stderr: 'stderr',
    system: 'signoff',
    noJobs: '此运行没有 Shell 任务。',
  },
});

/** The server sends at most this many chunks at once; a full page means more is waiting. */
const pageLimit = 5000;

export function RunLogs({ runId, jobs }: { runId: number; jobs: Job[] }) {
  const t = useT(strings);
  const [logs, setLogs] = useState<JobLogs>({});
  const [error, setError] = useState<ApiError>();

  useEffect(() => {
    const controller = new AbortController();
    let after = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLogs({});
    const follow = async () => {
      try {
        const page = await api<LogPage>(`/api/runs/${runId}/logs?after=${after}`, {
          signal: controller.signal,
        });
        after = page.next;
        if (page.chunks.length > 0) setLogs((current) => appendChunks(current, page.chunks));
        setError(undefined);
        if (page.done) return;
        timer = setTimeout(follow, page.chunks.length >= pageLimit ? 0 : 1000);
      } catch (caught) {
        if ((caught as Error).name === 'AbortError') return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
        timer = setTimeout(follow, 2000);
      }
    };
    void follow();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [runId]);

  // Shell jobs always have a box (output is expected); other jobs only when something was logged for them.
  const shown = jobs.filter((job) => job.type === 'shell' || logs[job.name]);
  return (
    <section aria-labelledby="run-logs-title">
      <h2 id="run-logs-title">{t('title')}</h2>
      <ErrorNotice error={error} />
      {shown.length === 0 && <p className="hint">{t('noJobs')}</p>}
      {shown.map((job) => (
        <JobLog key={job.id} job={job} lines={logs[job.name] ?? []} withAnchor={job.type === 'shell'} />
      ))}
    </section>
  );
}

function JobLog({ job, lines, withAnchor }: { job: Job; lines: LogLine[]; withAnchor: boolean }) {
  const t = useT(strings);
  const box = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const [pausedByReader, setPausedByReader] = useState(false);

  const atBottom = () => {
    const element = box.current;
    return !element || element.scrollHeight - element.scrollTop - element.clientHeight < 24;
  };
  const onScroll = () => {
    following.current = atBottom();
    setPausedByReader(!following.current);
  };
  const followAgain = () => {
    following.current = true;
    setPausedByReader(false);
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: new lines are what move the box.
  useLayoutEffect(() => {
    if (following.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines]);

  const empty = !job.started_at ? t('notStarted') : job.finished_at ? t('noOutput') : t('noOutputYet');
  const titleId = `log-title-${job.name}`;
  return (
    <section
      className="card runs-log-card"
      id={withAnchor ? jobSectionId(job.name) : undefined}
      aria-labelledby={titleId}
    >
      <h3 id={titleId} className="runs-log-title">
        <span>{job.name}</span> <StatusBadge status={job.status} />
      </h3>
      {lines.length === 0 ? (
        <p className="hint">{empty}</p>
      ) : (
        <div
          ref={box}
          className="runs-log"
          role="log"
          aria-label={t('logOf', { job: job.name })}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable to scroll it by keyboard.
          tabIndex={0}
          onScroll={onScroll}
        >
          {lines.map((line, index) => (
            // Lines are only ever appended, so the position is a stable key.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above.
            <div key={index} className={`runs-log-line runs-log-${line.stream}`}>
              <span className="runs-log-mark">
                {line.stream === 'stdout' ? '' : t(line.stream === 'stderr' ? 'stderr' : 'system')}
              </span>
              <span className="runs-log-text">{line.text}</span>
            </div>
          ))}
        </div>
      )}
      {pausedByReader && (
        <button type="button" className="button-small runs-log-follow" onClick={followAgain}>
          {t('latest')}
        </button>
      )}
    </section>
  );
}
