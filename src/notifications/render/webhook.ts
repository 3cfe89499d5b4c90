// The generic webhook: the message as a JSON event. Data is sent as it is (JSON escapes what it must);
// `title` and `content` are the author's when given (`custom` in format `plain`), otherwise the default
// title and a plain-text summary, so a receiver that only forwards text (a chat bridge) has something
// readable.
import { isFailure } from '../../engine/status.js';
import type { MessageApproval, MessageJob, MessageReason, NotificationMessage } from '../message.js';
import { oneLine } from './escape.js';
import { titleOf } from './facts.js';
import {
  type AnyStatus,
  approvalStatusText,
  decisionText,
  formatDuration,
  formatTime,
  labels,
  reasonText,
  statusText,
} from './i18n.js';

export interface WebhookJob {
  name: string;
  type: string;
  status: AnyStatus;
  duration_ms: number | null;
  reason: string | null;
}

export interface WebhookPayload {
  event: MessageReason;
  status: AnyStatus;
  previous?: AnyStatus | null;
  workflow: string;
  run: NotificationMessage['run'];
  stages: Array<{ name: string; jobs: WebhookJob[] }>;
  job?: MessageJob;
  approval?: MessageApproval;
  title: string;
  content: string;
}

export function webhookPayload(message: NotificationMessage): WebhookPayload {
  const custom = message.custom;
  return {
    event: message.reason,
    status: message.status,
    ...(message.previous !== undefined ? { previous: message.previous } : {}),
    workflow: message.workflow,
    run: {
      id: message.run.id,
      number: message.run.number,
      url: message.run.url,
      triggered_by: message.run.triggered_by,
      created_at: message.run.created_at,
      finished_at: message.run.finished_at,
      duration_ms: message.run.duration_ms,
      reason: message.run.reason,
      params: { ...message.run.params },
    },
    stages: message.stages.map((stage) => ({
      name: stage.name,
      jobs: stage.jobs.map((job) => ({
        name: job.name,
        type: job.type,
        status: job.status,
        duration_ms: job.duration_ms,
        reason: job.reason,
      })),
    })),
    ...(message.job ? { job: { ...message.job } } : {}),
    ...(message.approval ? { approval: message.approval } : {}),
    title: titleOf(message),
    content: custom?.content?.trim() ? custom.content : summary(message),
  };
}

/** A short plain-text summary: what happened, who started it, what waits for whom, and the failures. */
export function summary(message: NotificationMessage): string {
  const l = labels(message.language);
  const language = message.language;
  const lines: string[] = [];
  const approval = message.approval;
  if (approval && approval.status === 'pending' && approval.waiting_for.length > 0) {
    const deadline = approval.deadline
      ? ` · ${l.deadline}${l.colon}${formatTime(language, approval.deadline)}`
      : '';
    lines.push(`${l.waitingFor}${l.colon}${approval.waiting_for.join(l.listSeparator)}${deadline}`);
  }
  const duration =
    message.run.duration_ms !== null
      ? ` · ${l.duration}${l.colon}${formatDuration(language, message.run.duration_ms)}`
      : '';
  lines.push(`${l.startedBy}${l.colon}${message.run.triggered_by ?? l.system}${duration}`);
  lines.push(
    `${l.workflow}${l.colon}${message.workflow} · ${l.run}${l.colon}#${message.run.number} · ${statusText(language, message.status)}`,
  );
  if (message.reason === 'changed') lines.push(reasonText(message));
  if (message.run.reason) lines.push(`${l.reason}${l.colon}${oneLine(message.run.reason)}`);
  if (approval) {
    lines.push(`${l.approval}${l.colon}${approval.job} · ${approvalStatusText(language, approval.status)}`);
    for (const node of approval.nodes)
      for (const approver of node.approvers)
        if (approver.decision === 'approved' || approver.decision === 'rejected')
          lines.push(
            `  ${approver.name}${l.colon}${decisionText(language, approver.decision)}${
              approver.comment ? ` “${oneLine(approver.comment)}”` : ''
            }`,
          );
  }
  for (const stage of message.stages)
    for (const job of stage.jobs)
      if (isFailure(job.status))
        lines.push(
          `${stage.name} / ${job.name}${l.colon}${statusText(language, job.status)}${job.reason ? ` · ${oneLine(job.reason)}` : ''}`,
        );
  if (message.run.url) lines.push(`${l.viewRun}${l.colon}${message.run.url}`);
  return lines.join('\n');
}
