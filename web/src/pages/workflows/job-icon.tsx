// A job's type as a small drawing with its name for screen readers (no icon font or artwork is bundled).
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({
  en: { shell: 'Shell job', approval: 'Approval job', notification: 'Notification job', unknown: 'Job' },
  'zh-CN': { shell: 'Shell 任务', approval: '审批任务', notification: '通知任务', unknown: '任务' },
});

const drawings: Record<string, string> = {
  // A prompt: >_
  shell: 'M3 5l4 3-4 3M9 12h4',
  // A tick
  approval: 'M3 8.5l3 3L13 5',
  // A bell
  notification: 'M4 11V7.5a4 4 0 018 0V11l1 1H3zM6.5 13.5a1.5 1.5 0 003 0',
};

export function JobIcon({ type }: { type: string }) {
  const t = useT(strings);
  const known = type in drawings ? (type as keyof typeof drawings) : undefined;
  const label = known ? t(known as 'shell') : t('unknown');
  return (
    <svg
      className={`wf-job-icon wf-job-icon-${known ?? 'unknown'}`}
      viewBox="0 0 16 16"
      width="18"
      height="18"
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <path
        d={drawings[type] ?? 'M4 4h8v8H4z'}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
