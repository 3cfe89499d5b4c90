// Mail: a small, inline-styled HTML message (mail clients drop <style> blocks and scripts) with a coloured
// status bar, the same facts as the chat messages and a "View run" button, plus a plain-text alternative.
//
// Formats: every value is escaped as `html`. `message.custom.title` is plain text (the subject, and escaped
// in the body); `message.custom.content` is `html` and replaces the facts.
import { isFailure } from '../../engine/status.js';
import type { MessageJob, NotificationMessage } from '../message.js';
import { escapeLines, escapeText, oneLine, truncate } from './escape.js';
import { customContent, pickJobs, type RenderOptions, safeUrl, type Tone, titleOf, toneOf } from './facts.js';
import {
  approvalStatusText,
  decisionIcon,
  decisionText,
  formatDuration,
  formatTime,
  labels,
  openInText,
  platformName,
  reasonText,
  statusIcon,
  statusText,
} from './i18n.js';

export interface MailMessage {
  subject: string;
  html: string;
  text: string;
}

/** Mails have room: list up to this many jobs. */
const MAIL_MAX_JOBS = 300;

const COLOUR: Record<Tone, string> = {
  good: '#1f9d55',
  bad: '#d93026',
  warn: '#e8710a',
  muted: '#8c8c8c',
  info: '#3270e3',
};

const FONT =
  "-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Microsoft YaHei',Helvetica,Arial,sans-serif";

const h = (value: string) => escapeText('html', value);

export function mailMessage(message: NotificationMessage, options: RenderOptions = {}): MailMessage {
  const title = titleOf(message);
  return {
    // A header: one line, no control characters (no header injection), not absurdly long.
    subject: truncate(oneLine(title).trim(), 250),
    html: html(message, title, options),
    text: text(message, title, options),
  };
}

interface Fact {
  label: string;
  value: string;
}

/** The facts every part shows, as plain text pairs. */
function facts(message: NotificationMessage, options: RenderOptions): Fact[] {
  const l = labels(message.language);
  const language = message.language;
  const list: Fact[] = [];
  const approval = message.approval;
  if (approval && approval.status === 'pending' && approval.waiting_for.length > 0) {
    list.push({ label: l.waitingFor, value: approval.waiting_for.join(l.listSeparator) });
    if (approval.deadline)
      list.push({ label: l.deadline, value: formatTime(language, approval.deadline, options.timeZone) });
  }
  list.push({ label: l.startedBy, value: message.run.triggered_by ?? l.system });
  list.push({ label: l.workflow, value: message.workflow });
  list.push({ label: l.run, value: `#${message.run.number}` });
  list.push({
    label: l.status,
    value: `${statusIcon(message.status)} ${statusText(language, message.status)}`,
  });
  if (message.reason === 'changed') list.push({ label: l.reason, value: reasonText(message) });
  if (message.run.duration_ms !== null)
    list.push({ label: l.duration, value: formatDuration(language, message.run.duration_ms) });
  list.push({ label: l.startedAt, value: formatTime(language, message.run.created_at, options.timeZone) });
  if (message.run.finished_at)
    list.push({
      label: l.finishedAt,
      value: formatTime(language, message.run.finished_at, options.timeZone),
    });
  const job = message.job && message.job.name !== approval?.job ? message.job : undefined;
  if (job) {
    list.push({
      label: l.job,
      value: `${job.name} · ${statusIcon(job.status)} ${statusText(language, job.status)}`,
    });
    if (job.reason) list.push({ label: l.reason, value: job.reason });
  }
  if (message.run.reason) list.push({ label: l.reason, value: message.run.reason });
  const params = Object.entries(message.run.params);
  if (params.length > 0)
    list.push({ label: l.parameters, value: params.map(([name, value]) => `${name}=${value}`).join(' · ') });
  return list;
}

interface ApproverRow {
  step: string;
  who: string;
  decision: string;
  comment: string;
}

function approverRows(message: NotificationMessage): ApproverRow[] {
  const approval = message.approval;
  if (!approval) return [];
  const l = labels(message.language);
  return approval.nodes.flatMap((node, index) =>
    node.approvers.map((approver) => ({
      step: `${approval.nodes.length > 1 ? `${l.node} ${index + 1}` : l.approvers}${
        node.approvers.length > 1 ? ` (${node.type === 'AND' ? l.nodeAll : l.nodeAny})` : ''
      }`,
      who: approver.name,
      decision: `${decisionIcon(approver.decision)} ${decisionText(message.language, approver.decision)}`,
      comment: approver.comment ?? '',
    })),
  );
}

function shownJobs(message: NotificationMessage): {
  stages: Array<{ name: string; jobs: MessageJob[] }>;
  hidden: number;
} {
  const all = message.stages.flatMap((stage) => stage.jobs);
  const shown = pickJobs(all, MAIL_MAX_JOBS);
  return {
    stages: message.stages
      .map((stage) => ({ name: stage.name, jobs: stage.jobs.filter((job) => shown.has(job)) }))
      .filter((stage) => stage.jobs.length > 0),
    hidden: all.length - shown.size,
  };
}

function html(message: NotificationMessage, title: string, options: RenderOptions): string {
  const l = labels(message.language);
  const colour = COLOUR[toneOf(message.status)];
  const runUrl = safeUrl(message.run.url);
  const cell = 'padding:6px 10px;border-bottom:1px solid #eef0f2;vertical-align:top;';
  const heading = (text: string) =>
    `<h2 style="margin:24px 0 8px;font-size:15px;color:#1f2329;">${h(text)}</h2>`;
  const parts: string[] = [];

  parts.push(`<h1 style="margin:0 0 16px;font-size:20px;line-height:1.4;color:#1f2329;">${h(title)}</h1>`);

  const custom = customContent(message, 'html');
  if (custom) {
    parts.push(`<div style="font-size:14px;line-height:1.6;color:#1f2329;">${custom}</div>`);
  } else {
    parts.push(
      `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;font-size:14px;">${facts(
        message,
        options,
      )
        .map(
          (fact) =>
            `<tr><td style="${cell}color:#646a73;white-space:nowrap;width:1%;">${h(fact.label)}</td><td style="${cell}color:#1f2329;word-break:break-word;">${h(fact.value)}</td></tr>`,
        )
        .join('')}</table>`,
    );

    const approval = message.approval;
    if (approval) {
      parts.push(
        heading(`${l.approval}: ${approval.job} · ${approvalStatusText(message.language, approval.status)}`),
      );
      const rows = approverRows(message);
      if (rows.length > 0)
        parts.push(
          `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;font-size:14px;">${rows
            .map(
              (row) =>
                `<tr><td style="${cell}color:#646a73;">${h(row.step)}</td><td style="${cell}">${h(row.who)}</td><td style="${cell}white-space:nowrap;">${h(row.decision)}</td><td style="${cell}color:#646a73;word-break:break-word;">${escapeLines('html', row.comment)}</td></tr>`,
            )
            .join('')}</table>`,
        );
    }

    const { stages, hidden } = shownJobs(message);
    if (stages.length > 0) {
      parts.push(heading(l.stages));
      const rows = stages.flatMap((stage) =>
        stage.jobs.map((job, index) => {
          const reason =
            job.reason && isFailure(job.status)
              ? `<div style="color:${COLOUR.bad};font-size:13px;">${escapeLines('html', job.reason)}</div>`
              : '';
          return `<tr><td style="${cell}color:#646a73;">${index === 0 ? h(stage.name) : ''}</td><td style="${cell}">${h(job.name)}${reason}</td><td style="${cell}white-space:nowrap;color:${COLOUR[toneOf(job.status)]};">${h(`${statusIcon(job.status)} ${statusText(message.language, job.status)}`)}</td><td style="${cell}white-space:nowrap;color:#646a73;">${job.duration_ms !== null ? h(formatDuration(message.language, job.duration_ms)) : ''}</td></tr>`;
        }),
      );
      parts.push(
        `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;font-size:14px;">${rows.join('')}</table>`,
      );
      if (hidden > 0) parts.push(`<p style="color:#646a73;font-size:13px;">${h(l.more(hidden))}</p>`);
    }
  }

  const buttons: string[] = [];
  if (runUrl) buttons.push(buttonHtml(l.viewRun, runUrl, colour, '#ffffff'));
  const vendorUrl = safeUrl(message.approval?.vendor_link);
  if (vendorUrl && message.approval)
    buttons.push(
      buttonHtml(
        openInText(message.language, platformName(message.language, message.approval.platform)),
        vendorUrl,
        '#ffffff',
        '#1f2329',
      ),
    );
  if (buttons.length > 0) parts.push(`<p style="margin:24px 0 0;">${buttons.join(' ')}</p>`);

  return [
    '<!DOCTYPE html>',
    `<html lang="${message.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${h(title)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f5f6f7;">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f5f6f7;"><tr><td align="center" style="padding:24px 12px;">`,
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="width:100%;max-width:640px;background:#ffffff;border-radius:8px;border-top:6px solid ${colour};font-family:${FONT};">`,
    `<tr><td style="padding:24px 28px;">${parts.join('')}</td></tr>`,
    '</table>',
    '</td></tr></table>',
    '</body></html>',
  ].join('\n');
}

function buttonHtml(label: string, url: string, background: string, colour: string): string {
  return `<a href="${h(url)}" style="display:inline-block;padding:10px 18px;border-radius:6px;border:1px solid #d0d3d6;background:${background};color:${colour};font-size:14px;font-weight:600;text-decoration:none;">${h(label)}</a>`;
}

function text(message: NotificationMessage, title: string, options: RenderOptions): string {
  const l = labels(message.language);
  const lines = [oneLine(title), ''];
  const custom = message.custom?.content?.trim() ? message.custom : undefined;
  if (custom?.content) {
    lines.push(custom.format === 'html' ? htmlToText(custom.content) : custom.content);
  } else {
    for (const fact of facts(message, options)) lines.push(`${fact.label}${l.colon}${oneLine(fact.value)}`);
    const approval = message.approval;
    if (approval) {
      lines.push(
        '',
        `${l.approval}${l.colon}${approval.job} · ${approvalStatusText(message.language, approval.status)}`,
      );
      for (const row of approverRows(message))
        lines.push(
          `  ${row.step}${l.colon}${row.who} ${row.decision}${row.comment ? ` “${oneLine(row.comment)}”` : ''}`,
        );
    }
    const { stages, hidden } = shownJobs(message);
    if (stages.length > 0) {
      lines.push('', l.stages);
      for (const stage of stages) {
        lines.push(`  ${stage.name}`);
        for (const job of stage.jobs) {
          const duration =
            job.duration_ms !== null ? ` (${formatDuration(message.language, job.duration_ms)})` : '';
          lines.push(`    ${statusIcon(job.status)} ${job.name}${duration}`);
          if (job.reason && isFailure(job.status)) lines.push(`      ${oneLine(job.reason)}`);
        }
      }
      if (hidden > 0) lines.push(`  ${l.more(hidden)}`);
    }
  }
  const runUrl = safeUrl(message.run.url);
  if (runUrl) lines.push('', `${l.viewRun}${l.colon}${runUrl}`);
  const vendorUrl = safeUrl(message.approval?.vendor_link);
  if (vendorUrl && message.approval)
    lines.push(
      `${openInText(message.language, platformName(message.language, message.approval.platform))}${l.colon}${vendorUrl}`,
    );
  return `${lines.join('\n')}\n`;
}

/** A rough plain-text reading of the author's HTML content for the text part. */
function htmlToText(value: string): string {
  return value
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
