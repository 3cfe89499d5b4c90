// What every renderer says, in the same order, built once for any Markdown dialect: who started the run
// and what waits for whom first (that is what a phone notification shows), then the run, the approval,
// the stages. Internal to render/: the platform files decide the layout around these lines.
import type { JobStatus } from '../../engine/status.js';
import { isFailure } from '../../engine/status.js';
import type { Mentions, MessageJob, NotificationMessage, TextFormat } from '../message.js';
import { escapeLines, escapeText, oneLine, truncate } from './escape.js';
import {
  type AnyStatus,
  approvalStatusText,
  decisionIcon,
  defaultTitle,
  formatDuration,
  formatTime,
  labels,
  reasonText,
  statusIcon,
  statusText,
} from './i18n.js';

/** Options every renderer takes. */
export interface RenderOptions {
  /** IANA zone for deadlines and times; default Asia/Shanghai for zh-CN, UTC for en. */
  timeZone?: string;
}

/** How much detail fits: renderers try these in order until the payload is small enough. */
export interface Limits {
  /** Jobs listed under the stages (problem jobs first); the rest are counted as "… and N more". */
  jobs: number;
  params: number;
  approvers: number;
  /** Bytes of one value (a name, a reason, a comment) before escaping. */
  valueBytes: number;
}

export const LEVELS: readonly Limits[] = [
  { jobs: 60, params: 20, approvers: 30, valueBytes: 300 },
  { jobs: 30, params: 12, approvers: 20, valueBytes: 200 },
  { jobs: 12, params: 8, approvers: 10, valueBytes: 120 },
  { jobs: 5, params: 4, approvers: 5, valueBytes: 80 },
  { jobs: 0, params: 0, approvers: 3, valueBytes: 60 },
];

/** The first level whose result `fits`; the last level's result when none does (the caller then cuts). */
export function fitLevels<T>(build: (limits: Limits) => T, fits: (value: T) => boolean): T {
  let last: T | undefined;
  for (const limits of LEVELS) {
    last = build(limits);
    if (fits(last)) return last;
  }
  return last!;
}

/** How a status reads at a glance, mapped by each platform to its colours. */
export type Tone = 'good' | 'bad' | 'warn' | 'muted' | 'info';

export function toneOf(status: AnyStatus): Tone {
  switch (status) {
    case 'passed':
      return 'good';
    case 'failed':
    case 'rejected':
    case 'timeout':
      return 'bad';
    case 'waiting_for_approval':
      return 'warn';
    case 'cancelled':
    case 'skipped':
      return 'muted';
    default:
      return 'info';
  }
}

/** One Markdown dialect: how it escapes data and writes bold text, links and coloured status. */
export interface Markup {
  format: TextFormat;
  /** Bold text; `escaped` is already in the format. */
  bold(escaped: string): string;
  /** A link; `escaped` is already in the format, `url` was checked by safeUrl. */
  link(escaped: string, url: string): string;
  /** A status word, coloured where the dialect can. */
  status(status: AnyStatus, escaped: string): string;
}

/** `value` as one line, cut to `maxBytes` before escaping (so no escape sequence is ever cut). */
export function esc(format: TextFormat, value: string, maxBytes = Number.POSITIVE_INFINITY): string {
  return escapeText(format, truncate(oneLine(value), maxBytes));
}

/** `url` when it is an absolute http(s) URL, with the characters Markdown link syntax uses encoded. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return parsed.href.replace(
    /[()'*_`[\]<>"\\ ]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The title: the author's (plain text, one line) or the default one. */
export function titleOf(message: NotificationMessage): string {
  const custom = message.custom?.title;
  return custom?.trim() ? oneLine(custom).trim() : defaultTitle(message);
}

/**
 * The author's content for `format`: as it is when it was rendered for this format; escaped line by line
 * when it is plain text (or was rendered for another format, whose markup is then shown literally).
 */
export function customContent(
  message: NotificationMessage,
  format: TextFormat,
  lineBreak = '\n',
): string | null {
  const custom = message.custom;
  if (!custom?.content?.trim()) return null;
  if (custom.format === format) return custom.content;
  return escapeLines(format, custom.content, lineBreak);
}

/** Mentions reduced to what a platform can take: ids and mobiles that cannot break the markup. */
export function cleanMentions(mentions: Mentions): Mentions {
  const ids = mentions.ids.map((id) => id.trim()).filter((id) => /^[A-Za-z0-9_.@:-]{1,128}$/.test(id));
  const mobiles = mentions.mobiles
    .map((mobile) => mobile.replace(/[\s()]/g, ''))
    .filter((mobile) => /^\+?[0-9-]{3,24}$/.test(mobile));
  return { ids: [...new Set(ids)], mobiles: [...new Set(mobiles)], all: mentions.all };
}

export function hasMentions(mentions: Mentions): boolean {
  return mentions.all || mentions.ids.length > 0 || mentions.mobiles.length > 0;
}

/** `**Label**: value` in the message's language. */
function field(message: NotificationMessage, mk: Markup, label: string, value: string): string {
  return `${mk.bold(escapeText(mk.format, label))}${escapeText(mk.format, labels(message.language).colon)}${value}`;
}

const DOT = ' · ';

/** The first lines: what waits for whom (an open approval), then who started the run and how long it took. */
export function introLines(
  message: NotificationMessage,
  mk: Markup,
  limits: Limits,
  options: RenderOptions,
): string[] {
  const l = labels(message.language);
  const lines: string[] = [];
  const approval = message.approval;
  if (approval && approval.status === 'pending' && approval.waiting_for.length > 0) {
    const names = listOf(message, mk, approval.waiting_for, limits.approvers, limits.valueBytes);
    const parts = [`⏳ ${field(message, mk, l.waitingFor, names)}`];
    if (approval.deadline)
      parts.push(
        field(
          message,
          mk,
          l.deadline,
          esc(mk.format, formatTime(message.language, approval.deadline, options.timeZone)),
        ),
      );
    lines.push(parts.join(DOT));
  }
  const started = [
    field(message, mk, l.startedBy, esc(mk.format, message.run.triggered_by ?? l.system, limits.valueBytes)),
  ];
  if (message.run.duration_ms !== null)
    started.push(
      field(
        message,
        mk,
        l.duration,
        esc(mk.format, formatDuration(message.language, message.run.duration_ms)),
      ),
    );
  lines.push(started.join(DOT));
  return lines;
}

/** `**Workflow**: release · **Run**: #12 · Passed`. */
export function runLine(message: NotificationMessage, mk: Markup, limits: Limits): string {
  const l = labels(message.language);
  return [
    field(message, mk, l.workflow, esc(mk.format, message.workflow, limits.valueBytes)),
    field(message, mk, l.run, `#${message.run.number}`),
    `${statusIcon(message.status)} ${mk.status(message.status, esc(mk.format, statusText(message.language, message.status)))}`,
  ].join(DOT);
}

/** The change, the run's reason, the job a job-level message is about, and the parameters. */
export function detailLines(message: NotificationMessage, mk: Markup, limits: Limits): string[] {
  const l = labels(message.language);
  const lines: string[] = [];
  if (message.reason === 'changed') lines.push(`🔁 ${esc(mk.format, reasonText(message))}`);
  // The job of an approval message is the approval, shown by approvalLines.
  const job = message.job && message.job.name !== message.approval?.job ? message.job : undefined;
  if (job) lines.push(jobLine(message, mk, job, limits));
  if (job?.reason) lines.push(field(message, mk, l.reason, esc(mk.format, job.reason, limits.valueBytes)));
  if (message.run.reason)
    lines.push(field(message, mk, l.reason, esc(mk.format, message.run.reason, limits.valueBytes)));
  const params = Object.entries(message.run.params);
  if (params.length > 0 && limits.params > 0) {
    const shown = params
      .slice(0, limits.params)
      .map(([name, value]) => esc(mk.format, `${name}=${value}`, Math.min(limits.valueBytes, 120)));
    if (params.length > limits.params) shown.push(esc(mk.format, l.more(params.length - limits.params)));
    lines.push(field(message, mk, l.parameters, shown.join(DOT)));
  }
  return lines;
}

function jobLine(message: NotificationMessage, mk: Markup, job: MessageJob, limits: Limits): string {
  const l = labels(message.language);
  const parts = [
    `${statusIcon(job.status)} ${mk.status(job.status, esc(mk.format, statusText(message.language, job.status)))}`,
  ];
  if (job.duration_ms !== null) parts.push(esc(mk.format, formatDuration(message.language, job.duration_ms)));
  const name = esc(mk.format, job.name, limits.valueBytes);
  return `${field(message, mk, l.job, name)}${DOT}${parts.join(DOT)}`;
}

/** The approval: its state, then each step with every approver's decision and comment. */
export function approvalLines(message: NotificationMessage, mk: Markup, limits: Limits): string[] {
  const approval = message.approval;
  if (!approval) return [];
  const l = labels(message.language);
  const lines = [
    `${field(message, mk, l.approval, esc(mk.format, approval.job, limits.valueBytes))}${DOT}${mk.status(
      approvalTone(approval.status),
      esc(mk.format, approvalStatusText(message.language, approval.status)),
    )}`,
  ];
  let budget = limits.approvers;
  approval.nodes.forEach((node, index) => {
    if (budget <= 0) return;
    const kind = node.approvers.length > 1 ? ` (${node.type === 'AND' ? l.nodeAll : l.nodeAny})` : '';
    const people = node.approvers.slice(0, budget).map((approver) => {
      const name = esc(mk.format, approver.name, limits.valueBytes);
      const comment = approver.comment?.trim()
        ? `${escapeText(mk.format, l.colon)}“${esc(mk.format, approver.comment, limits.valueBytes)}”`
        : '';
      return `${decisionIcon(approver.decision)} ${name}${comment}`;
    });
    if (node.approvers.length > budget) people.push(esc(mk.format, l.more(node.approvers.length - budget)));
    budget -= node.approvers.length;
    const label = approval.nodes.length > 1 ? `${l.node} ${index + 1}` : l.approvers;
    lines.push(
      `${mk.bold(escapeText(mk.format, `${label}${kind}`))}${escapeText(mk.format, l.colon)}${people.join(DOT)}`,
    );
  });
  return lines;
}

/** Approval states as the run status they look like, for colour. */
function approvalTone(status: NonNullable<NotificationMessage['approval']>['status']): AnyStatus {
  switch (status) {
    case 'approved':
      return 'passed';
    case 'rejected':
      return 'rejected';
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'waiting_for_approval';
  }
}

/**
 * One line per stage with its jobs (`**build**: ✅ compile (1m 5s) · ❌ test`), a line per failed job with
 * its reason, and `… and N more` for the jobs left out. When not every job fits, only the problem jobs are
 * named and each stage counts the rest by status (`**test**: ❌ unit-7 · ✅ ×118`).
 */
export function stageLines(message: NotificationMessage, mk: Markup, limits: Limits): string[] {
  const l = labels(message.language);
  const all = message.stages.flatMap((stage) => stage.jobs);
  if (all.length === 0) return [];
  const shown = pickJobs(all, limits.jobs);
  const lines: string[] = [];
  for (const stage of message.stages) {
    const jobs = stage.jobs.filter((job) => shown.has(job));
    const items = jobs.map((job) => {
      const duration =
        job.duration_ms !== null ? ` (${formatDuration(message.language, job.duration_ms)})` : '';
      return `${statusIcon(job.status)} ${esc(mk.format, job.name, limits.valueBytes)}${esc(mk.format, duration)}`;
    });
    const counts = new Map<JobStatus, number>();
    for (const job of stage.jobs)
      if (!shown.has(job)) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
    for (const [status, count] of counts) items.push(`${statusIcon(status)} ×${count}`);
    if (items.length === 0) continue;
    lines.push(
      `${mk.bold(esc(mk.format, stage.name, limits.valueBytes))}${escapeText(mk.format, l.colon)}${items.join(DOT)}`,
    );
    for (const job of jobs) {
      if (job.reason && isFailure(job.status))
        lines.push(
          `${statusIcon(job.status)} ${esc(mk.format, job.name, limits.valueBytes)}${escapeText(mk.format, l.colon)}${esc(mk.format, job.reason, limits.valueBytes)}`,
        );
    }
  }
  const hidden = all.length - shown.size;
  if (hidden > 0) lines.push(esc(mk.format, l.more(hidden)));
  return lines;
}

/** Every job when at most `max`; otherwise the first `max` problem jobs (failed, running, waiting …). */
export function pickJobs(jobs: MessageJob[], max: number): Set<MessageJob> {
  if (jobs.length <= max) return new Set(jobs);
  return new Set(
    jobs.filter((job) => job.status !== 'passed' && job.status !== 'skipped').slice(0, Math.max(0, max)),
  );
}

function listOf(
  message: NotificationMessage,
  mk: Markup,
  names: string[],
  max: number,
  bytes: number,
): string {
  const l = labels(message.language);
  const shown = names.slice(0, Math.max(1, max)).map((name) => esc(mk.format, name, bytes));
  if (names.length > shown.length) shown.push(esc(mk.format, l.more(names.length - shown.length)));
  return shown.join(escapeText(mk.format, l.listSeparator));
}

/**
 * The first lines of `text` that fit in `maxBytes`, then `…` on a line of its own when lines were left out;
 * a single line too long is cut with `truncate`.
 */
export function truncateLines(text: string, maxBytes: number, separator = '\n'): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const lines = text.split(separator);
  const gap = Buffer.byteLength(separator);
  const room = maxBytes - gap - Buffer.byteLength('…');
  let used = 0;
  let count = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + (count > 0 ? gap : 0);
    if (used + size > room) break;
    used += size;
    count++;
  }
  if (count === 0) return truncate(lines[0] ?? '', maxBytes);
  return `${lines.slice(0, count).join(separator)}${separator}…`;
}
