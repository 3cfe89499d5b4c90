// A run's, job's, approval's or message's status as a coloured word (colour is never the only signal).
import { defineStrings, useT } from '../i18n';

/** The status words, for other places that name a status (e.g. a filter's choices). */
export const statusStrings = defineStrings({
  en: {
    pending: 'pending',
    queued: 'queued',
    running: 'running',
    waiting_for_approval: 'waiting for approval',
    passed: 'passed',
    failed: 'failed',
    rejected: 'rejected',
    timeout: 'timed out',
    cancelled: 'cancelled',
    skipped: 'skipped',
    approved: 'approved',
    waiting: 'waiting',
    delivered: 'delivered',
    sending: 'sending',
    ok: 'ok',
    unchecked: 'not checked',
    verified: 'verified',
    not_configured: 'not configured',
    not_used: 'not used',
  },
  'zh-CN': {
    pending: '等待中',
    queued: '排队中',
    running: '运行中',
    waiting_for_approval: '等待审批',
    passed: '通过',
    failed: '失败',
    rejected: '已拒绝',
    timeout: '已超时',
    cancelled: '已取消',
    skipped: '已跳过',
    approved: '已同意',
    waiting: '未开始',
    delivered: '已送达',
    sending: '发送中',
    ok: '正常',
    unchecked: '未检查',
    verified: '已验证',
    not_configured: '未配置',
    not_used: '未使用',
  },
});

const tone: Record<string, string> = {
  passed: 'good',
  approved: 'good',
  delivered: 'good',
  ok: 'good',
  verified: 'good',
  failed: 'bad',
  rejected: 'bad',
  timeout: 'bad',
  running: 'active',
  sending: 'active',
  queued: 'active',
  waiting_for_approval: 'wait',
  pending: 'wait',
  waiting: 'muted',
  cancelled: 'muted',
  skipped: 'muted',
  unchecked: 'muted',
  not_configured: 'muted',
  not_used: 'muted',
};

export function StatusBadge({ status }: { status: string }) {
  const t = useT(statusStrings);
  return (
    <span className={`badge badge-${tone[status] ?? 'muted'}`} data-status={status}>
      {t(status as keyof typeof statusStrings.en)}
    </span>
  );
}
