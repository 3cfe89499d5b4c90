// The words of a notification in zh-CN and en, and the icons and titles every renderer shares. Everything
// here returns plain, unescaped text: renderers escape it (with the data it is combined with) for their
// format.
import type { JobStatus, RunStatus } from '../../engine/status.js';
import type { Language, MessageApproval, MessageApprover, NotificationMessage } from '../message.js';

export type AnyStatus = RunStatus | JobStatus;
export type ApprovalStatus = MessageApproval['status'];
export type Decision = MessageApprover['decision'];
export type ApprovalPlatform = MessageApproval['platform'];

const STATUS_TEXT: Record<Language, Record<AnyStatus, string>> = {
  'zh-CN': {
    pending: '未开始',
    queued: '排队中',
    running: '执行中',
    waiting_for_approval: '等待审批',
    passed: '执行成功',
    failed: '执行失败',
    rejected: '被拒绝',
    timeout: '超时',
    cancelled: '已取消',
    skipped: '已跳过',
  },
  en: {
    pending: 'Pending',
    queued: 'Queued',
    running: 'Running',
    waiting_for_approval: 'Waiting for approval',
    passed: 'Passed',
    failed: 'Failed',
    rejected: 'Rejected',
    timeout: 'Timed out',
    cancelled: 'Cancelled',
    skipped: 'Skipped',
  },
};

// The status as the end of an English sentence ("release #12 timed out"); zh-CN uses STATUS_TEXT.
const STATUS_VERB: Record<AnyStatus, string> = {
  pending: 'has not started',
  queued: 'is queued',
  running: 'is running',
  waiting_for_approval: 'is waiting for approval',
  passed: 'passed',
  failed: 'failed',
  rejected: 'was rejected',
  timeout: 'timed out',
  cancelled: 'was cancelled',
  skipped: 'was skipped',
};

const STATUS_ICON: Record<AnyStatus, string> = {
  pending: '⚪',
  queued: '🕒',
  running: '🔄',
  waiting_for_approval: '⏳',
  passed: '✅',
  failed: '❌',
  rejected: '⛔',
  timeout: '⏰',
  cancelled: '🚫',
  skipped: '⏭️',
};

const CREATED_ICON = '🚀';

const APPROVAL_TEXT: Record<Language, Record<ApprovalStatus, string>> = {
  'zh-CN': {
    pending: '审批中',
    approved: '审批通过',
    rejected: '审批被拒绝',
    timeout: '审批超时',
    cancelled: '审批已取消',
  },
  en: {
    pending: 'Pending',
    approved: 'Approved',
    rejected: 'Rejected',
    timeout: 'Timed out',
    cancelled: 'Cancelled',
  },
};

const APPROVAL_VERB: Record<ApprovalStatus, string> = {
  pending: 'is waiting for approval',
  approved: 'approved',
  rejected: 'rejected',
  timeout: 'approval timed out',
  cancelled: 'approval cancelled',
};

const APPROVAL_ICON: Record<ApprovalStatus, string> = {
  pending: '⏳',
  approved: '✅',
  rejected: '⛔',
  timeout: '⏰',
  cancelled: '🚫',
};

const DECISION_TEXT: Record<Language, Record<Decision, string>> = {
  'zh-CN': {
    pending: '待审批',
    approved: '已同意',
    rejected: '已拒绝',
    transferred: '已转交',
    waiting: '未开始',
  },
  en: {
    pending: 'Pending',
    approved: 'Approved',
    rejected: 'Rejected',
    transferred: 'Transferred',
    waiting: 'Not reached yet',
  },
};

const DECISION_ICON: Record<Decision, string> = {
  pending: '⏳',
  approved: '✅',
  rejected: '❌',
  transferred: '↪️',
  waiting: '⚪',
};

const PLATFORM_NAME: Record<Language, Record<ApprovalPlatform, string>> = {
  'zh-CN': { native: 'Signoff', feishu: '飞书', lark: 'Lark', dingtalk: '钉钉', wecom: '企业微信' },
  en: { native: 'Signoff', feishu: 'Feishu', lark: 'Lark', dingtalk: 'DingTalk', wecom: 'WeCom' },
};

export interface Labels {
  workflow: string;
  run: string;
  startedBy: string;
  duration: string;
  stages: string;
  approval: string;
  /** The approvers of a one-step approval. */
  approvers: string;
  waitingFor: string;
  deadline: string;
  viewRun: string;
  reason: string;
  parameters: string;
  job: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  /** Who started a run that no person started (a schedule, a webhook). */
  system: string;
  /** An AND node: every approver must approve. */
  nodeAll: string;
  /** An OR node: one approval is enough. */
  nodeAny: string;
  node: string;
  /** "… and 12 more". */
  more: (count: number) => string;
  /** The separator between the items of a list ("alice, bob" / "alice、bob"). */
  listSeparator: string;
  colon: string;
}

const LABELS: Record<Language, Labels> = {
  'zh-CN': {
    workflow: '工作流',
    run: '运行',
    startedBy: '触发人',
    duration: '耗时',
    stages: '阶段',
    approval: '审批',
    approvers: '审批人',
    waitingFor: '待审批人',
    deadline: '截止时间',
    viewRun: '查看运行',
    reason: '原因',
    parameters: '参数',
    job: '任务',
    status: '状态',
    startedAt: '开始时间',
    finishedAt: '结束时间',
    system: '系统',
    nodeAll: '会签',
    nodeAny: '或签',
    node: '节点',
    more: (count) => `…… 还有 ${count} 项`,
    listSeparator: '、',
    colon: '：',
  },
  en: {
    workflow: 'Workflow',
    run: 'Run',
    startedBy: 'Started by',
    duration: 'Duration',
    stages: 'Stages',
    approval: 'Approval',
    approvers: 'Approvers',
    waitingFor: 'Waiting for',
    deadline: 'Deadline',
    viewRun: 'View run',
    reason: 'Reason',
    parameters: 'Parameters',
    job: 'Job',
    status: 'Status',
    startedAt: 'Started',
    finishedAt: 'Finished',
    system: 'system',
    nodeAll: 'all must approve',
    nodeAny: 'any one approves',
    node: 'Step',
    more: (count) => `… and ${count} more`,
    listSeparator: ', ',
    colon: ': ',
  },
};

export function labels(language: Language): Labels {
  return LABELS[language];
}

/** 执行成功 / Passed, for every run and job status. */
export function statusText(language: Language, status: AnyStatus): string {
  return STATUS_TEXT[language][status];
}

export function statusIcon(status: AnyStatus): string {
  return STATUS_ICON[status];
}

export function approvalStatusText(language: Language, status: ApprovalStatus): string {
  return APPROVAL_TEXT[language][status];
}

export function approvalIcon(status: ApprovalStatus): string {
  return APPROVAL_ICON[status];
}

export function decisionText(language: Language, decision: Decision): string {
  return DECISION_TEXT[language][decision];
}

export function decisionIcon(decision: Decision): string {
  return DECISION_ICON[decision];
}

export function platformName(language: Language, platform: ApprovalPlatform): string {
  return PLATFORM_NAME[language][platform];
}

/** 在飞书中打开 / Open in Feishu. `platform` is the name as shown (see platformName). */
export function openInText(language: Language, platform: string): string {
  if (language === 'en') return `Open in ${platform}`;
  // A Latin name gets spaces around it in Chinese text: 在 Lark 中打开.
  return /^[A-Za-z]/.test(platform) ? `在 ${platform} 中打开` : `在${platform}中打开`;
}

/** What happened, as a phrase: 结果由 执行失败 变为 执行成功 / outcome changed from Failed to Passed. */
export function reasonText(
  message: Pick<NotificationMessage, 'language' | 'reason' | 'status' | 'previous'>,
): string {
  const { language, reason } = message;
  const zh = language === 'zh-CN';
  switch (reason) {
    case 'created':
      return zh ? '运行已创建' : 'run created';
    case 'running':
      return zh ? '开始执行' : 'run started';
    case 'wait_for_approval':
      return zh ? '等待审批' : 'waiting for approval';
    case 'decided':
      return zh ? '审批已处理' : 'approval decided';
    case 'notification':
      return zh ? '通知' : 'notification';
    case 'changed': {
      const to = statusText(language, message.status);
      if (!message.previous) return zh ? `结果变为 ${to}` : `outcome changed to ${to}`;
      const from = statusText(language, message.previous);
      return zh ? `结果由 ${from} 变为 ${to}` : `outcome changed from ${from} to ${to}`;
    }
    default:
      return statusText(language, reason);
  }
}

const UNITS: Record<Language, { d: string; h: string; m: string; s: string; under: string; gap: string }> = {
  'zh-CN': { d: '天', h: '小时', m: '分', s: '秒', under: '不到1秒', gap: '' },
  en: { d: 'd', h: 'h', m: 'm', s: 's', under: '<1s', gap: ' ' },
};

/** A duration for people: `1m 5s` / `1分5秒`, at most two units (`2h 3m`, `1d 4h`). */
export function formatDuration(language: Language, ms: number): string {
  const unit = UNITS[language];
  if (!Number.isFinite(ms) || ms < 1000) return unit.under;
  const total = Math.floor(ms / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(total / 86_400), unit.d],
    [Math.floor((total % 86_400) / 3600), unit.h],
    [Math.floor((total % 3600) / 60), unit.m],
    [total % 60, unit.s],
  ];
  const first = parts.findIndex(([amount]) => amount > 0);
  return parts
    .slice(first, first + 2)
    .filter(([amount], index) => index === 0 || amount > 0)
    .map(([amount, name]) => `${amount}${name}`)
    .join(unit.gap);
}

/** Where times are shown when the caller does not say: Beijing time for zh-CN readers, UTC otherwise. */
export function defaultTimeZone(language: Language): string {
  return language === 'zh-CN' ? 'Asia/Shanghai' : 'UTC';
}

/** `2024-05-01 18:00 (UTC+8)`: an ISO 8601 time in `timeZone`, always with its offset. */
export function formatTime(language: Language, iso: string, timeZone = defaultTimeZone(language)): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    }).formatToParts(date);
  } catch {
    return formatTime(language, iso, 'UTC');
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((item) => item.type === type)?.value ?? '';
  const offset = part('timeZoneName').replace(/^GMT/, 'UTC') || 'UTC';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} (${offset})`;
}

/** The run as people name it: `release #12`. */
export function runName(message: Pick<NotificationMessage, 'workflow' | 'run'>): string {
  return `${message.workflow} #${message.run.number}`;
}

/** The icon a message leads with. */
export function messageIcon(message: NotificationMessage): string {
  if (message.reason === 'decided' && message.approval) return approvalIcon(message.approval.status);
  if (message.reason === 'created') return CREATED_ICON;
  return statusIcon(message.status);
}

/**
 * The title when the author gave none, plain text, e.g. `✅ release #12 passed` / `✅ release #12 执行成功`,
 * `⏳ release #12 is waiting for approval (deploy)`, `❌ release #12: build failed`.
 */
export function defaultTitle(message: NotificationMessage): string {
  const zh = message.language === 'zh-CN';
  const icon = messageIcon(message);
  const run = runName(message);
  const approvalJob = message.approval?.job ?? message.job?.name;

  if (message.reason === 'wait_for_approval' || message.status === 'waiting_for_approval') {
    const what = zh ? '等待审批' : 'is waiting for approval';
    if (!approvalJob) return `${icon} ${run} ${what}`;
    return zh ? `${icon} ${run} ${what}（${approvalJob}）` : `${icon} ${run} ${what} (${approvalJob})`;
  }
  if (message.reason === 'decided' && message.approval) {
    const status = message.approval.status;
    const job = message.approval.job;
    return zh
      ? `${icon} ${run}：${job} ${approvalStatusText('zh-CN', status)}`
      : `${icon} ${run}: ${job} ${APPROVAL_VERB[status]}`;
  }
  if (message.reason === 'created') return zh ? `${icon} ${run} 开始执行` : `${icon} ${run} started`;
  if (message.job && message.reason !== 'notification') {
    return zh
      ? `${icon} ${run}：${message.job.name} ${statusText('zh-CN', message.status)}`
      : `${icon} ${run}: ${message.job.name} ${STATUS_VERB[message.status]}`;
  }
  const outcome = zh ? statusText('zh-CN', message.status) : STATUS_VERB[message.status];
  if (message.reason === 'changed' && message.previous) {
    return zh
      ? `${icon} ${run} ${outcome}（上次${statusText('zh-CN', message.previous)}）`
      : `${icon} ${run} ${outcome} (previously ${statusText('en', message.previous).toLowerCase()})`;
  }
  return `${icon} ${run} ${outcome}`;
}
