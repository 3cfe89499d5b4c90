// A notification job: render title and content, POST the event, retry what a retry can fix.
import { isAppError } from '../errors.js';
import type { Fetch } from '../providers/http.js';
import { redactUrl, sendWebhook } from '../providers/webhook/send.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import type { LogWriter } from './log-writer.js';
import type { JobStatus } from './status.js';
import { render, type TemplateContext } from './template.js';
import type { NotificationJob } from './workflow-spec.js';

export interface NotificationInput {
  job: JobRecord;
  run: RunRecord;
  spec: NotificationJob;
  context: TemplateContext;
  logs: LogWriter;
  fetch: Fetch;
}

export interface NotificationResult {
  status: JobStatus;
  reason: string | null;
  /** Set when the attempt failed in a way a later attempt may fix. */
  retryInMs?: number;
}

export const maxAttempts = 5;

export async function runNotification(input: NotificationInput): Promise<NotificationResult> {
  const { job, run, spec, context, logs } = input;
  let url: string;
  let title: string;
  let content: string;
  let secret: string | undefined;
  const headers: Record<string, string> = {};
  try {
    url = await render(spec.spec.url, context);
    title = spec.spec.title ? await render(spec.spec.title, context) : `${run.workflow_name} #${run.number}`;
    content = spec.spec.content ? await render(spec.spec.content, context) : '';
    secret = spec.spec.secret ? await render(spec.spec.secret, context) : undefined;
    for (const [name, value] of Object.entries(spec.spec.headers ?? {}))
      headers[name] = await render(value, context);
  } catch (error) {
    const reason = `a template failed: ${(error as Error).message}`;
    logs.write('system', `${reason}\n`);
    return { status: 'failed', reason };
  }
  const target = redactUrl(url);
  try {
    const { status } = await sendWebhook(input.fetch, {
      url,
      secret,
      headers,
      event: 'notification',
      deliveryId: `job-${job.id}`,
      payload: {
        event: 'notification',
        title,
        content,
        workflow: run.workflow_name,
        run: {
          id: run.id,
          number: run.number,
          url: context.run.url,
          params: run.params,
          triggered_by: run.triggered_by_name,
        },
        job: job.name,
        sent_at: new Date().toISOString(),
      },
    });
    logs.write('system', `delivered to ${target} (HTTP ${status}) on attempt ${job.attempts}\n`);
    return { status: 'passed', reason: null };
  } catch (error) {
    const message = isAppError(error) ? error.message : String(error);
    const retryable = isAppError(error) && error.retryable;
    logs.write('system', `attempt ${job.attempts} failed: ${message}\n`);
    if (retryable && job.attempts < maxAttempts) {
      const backoff = Math.min(2 ** job.attempts * 1000, 60_000);
      const retryInMs = Math.max(backoff, (isAppError(error) && error.retryAfterMs) || 0);
      return { status: 'queued', reason: `retrying: ${message}`, retryInMs };
    }
    return {
      status: 'failed',
      reason: retryable ? `gave up after ${job.attempts} attempts: ${message}` : message,
    };
  }
}
