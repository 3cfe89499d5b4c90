// Decides what to tell whom, inside the transaction that changed the run. The engine calls `sync` after
// every change (with the run locked); it looks at the run and its jobs as they are now, finds the events
// the workflow's rules listen to, and stores one outbox row per event, rule and recipient. Every row has a
// dedup key, so looking at the same state twice stores nothing new: that is what makes `sync` safe to
// call from every path. Delivery is the outbox's job (outbox.ts).
import { runUrl } from '../engine/run-context.js';
import { isFinalJob, isFinalRun, type JobStatus, type RunStatus } from '../engine/status.js';
import { render, type TemplateContext } from '../engine/template.js';
import type { ChannelSpec, ImPerson } from '../engine/workflow-spec.js';
import { redactUrl } from '../providers/webhook/send.js';
import { approvalsOfRuns, decisionsOf } from '../store/approvals.js';
import type { Tx } from '../store/db.js';
import { insertNotification, updatableCards } from '../store/notifications.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import type { SecretBox } from '../store/secret-box.js';
import type { Language, MessageReason, NotificationMessage } from './message.js';
import { escapeText, formatOfChannel } from './render/index.js';
import { snapshot } from './snapshot.js';

/** Where one outbox row goes, as the rule names it; never secret (those are sealed apart). */
export interface Recipient {
  app?: string;
  chat?: string;
  person?: ImPerson;
  people?: ImPerson[];
  email?: string;
  /** For channels that need two requests (WeCom robot: message, then the @mentions). */
  part?: number;
  mention?: Array<{ id?: string; email?: string; mobile?: string }>;
  mention_all?: boolean;
}

/** The sealed part: a webhook URL (a credential), its signing secret and headers. */
export interface Destination {
  url?: string;
  secret?: string;
  headers?: Record<string, string>;
}

export interface NotifierOptions {
  /** A row was stored and its transaction committed: send it now. */
  onStored: (notificationId: number) => void;
  secretBox: SecretBox;
  publicUrl: string;
  secrets: Record<string, string>;
  language: Language;
}

type WithRules = { notify?: ChannelRule[] };
type ChannelRule = ChannelSpec & { on?: string[] };

interface Trigger {
  /** Unique per run: `run:7:passed`, `job:31:failed`, `run:7:wait:31`. */
  key: string;
  reason: MessageReason;
  status: RunStatus | JobStatus;
  previous?: RunStatus | null;
  job?: JobRecord;
  /** Rules that listen: [source, rule]. */
  rules: Array<[string, ChannelRule]>;
}

export class Notifier {
  constructor(private readonly options: NotifierOptions) {}

  /** True when the workflow has any `notify` rule (else `sync` has nothing to do and is skipped). */
  listens(spec: RunRecord['spec']): boolean {
    if (((spec as WithRules).notify ?? []).length > 0) return true;
    return spec.stages.some((stage) =>
      stage.jobs.some((job) => ((job as WithRules).notify ?? []).length > 0),
    );
  }

  /** Stores the messages the run's current state calls for. Caller holds the run lock. */
  async sync(tx: Tx, run: RunRecord, jobs: JobRecord[]): Promise<void> {
    const runRules = ((run.spec as WithRules).notify ?? []).map(
      (rule, index) => [`notify[${index}]`, rule] as [string, ChannelRule],
    );
    const jobRules = new Map<string, Array<[string, ChannelRule]>>();
    for (const stage of run.spec.stages)
      for (const job of stage.jobs) {
        const rules = (job as WithRules).notify ?? [];
        if (rules.length > 0)
          jobRules.set(
            job.name,
            rules.map((rule, index) => [`jobs.${job.name}.notify[${index}]`, rule]),
          );
      }
    if (runRules.length === 0 && jobRules.size === 0) return;

    const known = new Set(
      (
        await tx.query<{ dedup_key: string }>('select dedup_key from notifications where run_id = $1', [
          run.id,
        ])
      ).map((row) => row.dedup_key),
    );
    const listening = (rules: Array<[string, ChannelRule]>, event: string) =>
      rules.filter(([, rule]) => rule.on?.includes(event));

    const triggers: Trigger[] = [];
    const runTrigger = (event: RunStatus | 'created' | 'changed', previous?: RunStatus | null) => {
      const rules = listening(runRules, event);
      if (rules.length > 0)
        triggers.push({
          key: `run:${run.id}:${event}`,
          reason: event === 'waiting_for_approval' ? 'wait_for_approval' : event,
          status: run.status,
          ...(previous !== undefined ? { previous } : {}),
          rules,
        });
    };
    runTrigger('created');
    if (run.status === 'running') runTrigger('running');
    if (isFinalRun(run.status)) {
      runTrigger(run.status);
      if (listening(runRules, 'changed').length > 0) {
        const [before] = await tx.query<{ status: RunStatus }>(
          `select status from runs where workflow_name = $1 and id < $2
             and status in ('passed', 'failed', 'rejected', 'timeout', 'cancelled')
           order by id desc limit 1`,
          [run.workflow_name, run.id],
        );
        if (before && before.status !== run.status) runTrigger('changed', before.status);
      }
    }
    for (const job of jobs) {
      if (job.status === 'waiting_for_approval') {
        const rules = listening(runRules, 'wait_for_approval');
        if (rules.length > 0)
          triggers.push({
            key: `run:${run.id}:wait:${job.id}`,
            reason: 'wait_for_approval',
            status: job.status,
            job,
            rules,
          });
      }
      const own = jobRules.get(job.name);
      const event = jobEvent(job.status);
      if (own && event) {
        const rules = listening(own, event);
        if (rules.length > 0)
          triggers.push({ key: `job:${job.id}:${event}`, reason: event, status: job.status, job, rules });
      }
    }

    const approvalNeeded = jobs.some((job) => job.type === 'approval');
    const approvals = approvalNeeded ? await approvalsOfRuns(tx, [run.id]) : [];
    const decisions = approvals.some((approval) => approval.kind === 'native')
      ? await decisionsOf(
          tx,
          approvals.map((approval) => approval.id),
        )
      : [];
    const approvalOf = (job: JobRecord | undefined) => {
      // The approval the message is about: its own job's, else the run's most recent one.
      const record =
        (job && approvals.find((approval) => approval.job_id === job.id)) ??
        (job?.type === 'approval' ? undefined : approvals.at(-1));
      return record
        ? { record, decisions: decisions.filter((decision) => decision.approval_id === record.id) }
        : undefined;
    };

    for (const trigger of triggers) {
      for (const [source, rule] of trigger.rules) {
        const recipients = recipientsOf(rule);
        const fresh = recipients.filter(
          ([recipientKey]) => !known.has(`${trigger.key}:${source}:${recipientKey}`),
        );
        if (fresh.length === 0) continue;
        const message = await this.message(run, jobs, rule, {
          reason: trigger.reason,
          status: trigger.status,
          previous: trigger.previous,
          job: trigger.job,
          approval: approvalOf(trigger.job),
        });
        for (const [recipientKey, recipient] of fresh) {
          await this.store(tx, {
            run,
            jobId: trigger.job?.id ?? null,
            source,
            reason: trigger.reason,
            rule,
            recipient,
            message,
            dedupKey: `${trigger.key}:${source}:${recipientKey}`,
          });
        }
      }
    }

    // A decided approval: its waiting cards in Feishu/Lark chats are updated in place to show the outcome.
    for (const job of jobs) {
      if (job.type !== 'approval' || !isFinalJob(job.status)) continue;
      for (const card of await updatableCards(tx, job.id)) {
        const dedupKey = `update:${card.id}`;
        if (known.has(dedupKey)) continue;
        const message: NotificationMessage = {
          ...snapshot({
            run,
            jobs,
            runUrl: runUrl(this.options.publicUrl, run.id),
            reason: 'decided',
            status: job.status,
            language: card.message.language,
            job,
            approval: approvalOf(job),
          }),
          ...(card.message.custom ? { custom: card.message.custom } : {}),
        };
        const id = await insertNotification(tx, {
          run_id: run.id,
          job_id: job.id,
          source: card.source,
          reason: 'decided',
          channel: card.channel,
          target: card.target,
          im_app_id: card.im_app_id,
          recipient: card.recipient,
          sealed: null,
          message,
          dedup_key: dedupKey,
          action: 'update',
          updates_id: card.id,
        });
        if (id !== undefined) this.schedule(tx, id);
      }
    }
  }

  /** A notification job: its messages, stored once. Returns how many rows it has. */
  async sendForJob(tx: Tx, run: RunRecord, jobs: JobRecord[], job: JobRecord, spec: ChannelSpec) {
    const recipients = recipientsOf(spec);
    const message = await this.message(run, jobs, spec, {
      reason: 'notification',
      status: run.status,
      job,
      approval: undefined,
    });
    for (const [recipientKey, recipient] of recipients) {
      await this.store(tx, {
        run,
        jobId: job.id,
        source: 'job',
        reason: 'notification',
        rule: spec,
        recipient,
        message,
        dedupKey: `send:${job.id}:${recipientKey}`,
      });
    }
    return recipients.length;
  }

  private async message(
    run: RunRecord,
    jobs: JobRecord[],
    rule: ChannelRule,
    what: Pick<Parameters<typeof snapshot>[0], 'reason' | 'status' | 'previous' | 'job' | 'approval'>,
  ): Promise<NotificationMessage> {
    const context = this.context(run, jobs);
    const format = formatOfChannel(rule.channel);
    // The title is one line of plain text (each renderer escapes it where it lands); the content is
    // markup in the channel's format, with every value the template prints escaped for that format.
    const custom =
      rule.title !== undefined || rule.content !== undefined
        ? {
            title: rule.title !== undefined ? await render(rule.title, context) : null,
            content:
              rule.content !== undefined
                ? await render(rule.content, context, (value) => escapeText(format, value))
                : null,
            format,
          }
        : undefined;
    return snapshot({
      run,
      jobs,
      runUrl: runUrl(this.options.publicUrl, run.id),
      language: rule.language ?? this.options.language,
      ...what,
      ...(custom ? { custom } : {}),
    });
  }

  private context(run: RunRecord, jobs: JobRecord[]): TemplateContext {
    return {
      params: run.params,
      run: {
        id: run.id,
        number: run.number,
        workflow: run.workflow_name,
        triggered_by: run.triggered_by_name,
        url: runUrl(this.options.publicUrl, run.id),
      },
      jobs: Object.fromEntries(jobs.map((job) => [job.name, { status: job.status, outputs: job.outputs }])),
      secrets: this.options.secrets,
    };
  }

  private async store(
    tx: Tx,
    row: {
      run: RunRecord;
      jobId: number | null;
      source: string;
      reason: MessageReason;
      rule: ChannelRule;
      recipient: Recipient;
      message: NotificationMessage;
      dedupKey: string;
    },
  ): Promise<void> {
    const { rule, recipient } = row;
    let sealed: string | null = null;
    let target: string;
    if ('url' in rule) {
      const context = this.context(row.run, []);
      const destination: Destination = { url: await render(rule.url, context) };
      if ('secret' in rule && rule.secret) destination.secret = await render(rule.secret, context);
      if ('headers' in rule && rule.headers) {
        destination.headers = {};
        for (const [name, value] of Object.entries(rule.headers))
          destination.headers[name] = await render(value, context);
      }
      sealed = this.options.secretBox.seal(JSON.stringify(destination), row.dedupKey);
      target = redactTarget(destination.url!);
      if (recipient.part) target += ' (mentions)';
    } else {
      target = describeRecipient(recipient);
    }
    const id = await insertNotification(tx, {
      run_id: row.run.id,
      job_id: row.jobId,
      source: row.source,
      reason: row.reason,
      channel: rule.channel,
      target,
      im_app_id: null,
      recipient: recipient as Record<string, unknown>,
      sealed,
      message: row.message,
      dedup_key: row.dedupKey,
    });
    if (id !== undefined) this.schedule(tx, id);
  }

  /**
   * The row is sent right after its transaction commits. No queue job goes with it: during a burst a
   * second try of every new row would fill the queue ahead of the messages waiting out a rate limit or a
   * retry. A row whose sender stopped before it could send is found by the engine's sweep of overdue rows.
   */
  private schedule(tx: Tx, id: number): void {
    tx.afterCommit(() => this.options.onStored(id));
  }
}

/** The rule event a job status stands for. */
function jobEvent(status: JobStatus): MessageReason | undefined {
  if (status === 'waiting_for_approval') return 'wait_for_approval';
  if (status === 'running' || (isFinalJob(status) && status !== 'skipped')) return status as MessageReason;
  return undefined;
}

/** One entry per outbox row the channel needs: [key unique within the rule, recipient]. */
export function recipientsOf(rule: ChannelSpec): Array<[string, Recipient]> {
  switch (rule.channel) {
    case 'feishu_app':
    case 'lark_app': {
      const mentions = { mention: rule.mention, mention_all: rule.mention_all };
      const rows: Array<[string, Recipient]> = [];
      if (rule.chat) rows.push([`chat:${rule.chat}`, { app: rule.app, chat: rule.chat, ...mentions }]);
      for (const person of rule.to ?? []) rows.push([`to:${personKey(person)}`, { app: rule.app, person }]);
      return rows;
    }
    case 'dingtalk_app':
    case 'wecom_app':
      return [['people', { app: rule.app, people: rule.to }]];
    case 'mail':
      return [...new Set(rule.to.map((address) => address.toLowerCase()))].map((email) => [
        `mail:${email}`,
        { email },
      ]);
    case 'wecom_robot': {
      const mentions = { mention: rule.mention, mention_all: rule.mention_all };
      // WeCom markdown can @ userids inline; mobiles and @all need a second, text message.
      const second = rule.mention_all || rule.mention.some((person) => 'mobile' in person);
      return second
        ? [
            ['part:0', { part: 0, ...mentions }],
            ['part:1', { part: 1, ...mentions }],
          ]
        : [['part:0', { part: 0, ...mentions }]];
    }
    case 'feishu_webhook':
    case 'lark_webhook':
    case 'dingtalk_robot':
      return [['hook', { mention: rule.mention, mention_all: rule.mention_all }]];
    case 'webhook':
      return [['hook', {}]];
  }
}

/**
 * Where a webhook goes, without its key: query strings (DingTalk access_token, WeCom key) are dropped by
 * redactUrl; Feishu/Lark custom bots carry the key in the path, so all but its last 4 characters go too.
 */
export function redactTarget(url: string): string {
  const redacted = redactUrl(url);
  return redacted.replace(
    /(\/bot\/v2\/hook\/)([^/?]+)/,
    (_, prefix: string, key: string) => `${prefix}…${key.slice(-4)}`,
  );
}

function personKey(person: ImPerson): string {
  if ('id' in person) return `id:${person.id}`;
  if ('email' in person) return `email:${person.email.toLowerCase()}`;
  return `mobile:${person.mobile}`;
}

function describeRecipient(recipient: Recipient): string {
  if (recipient.chat) return `chat ${recipient.chat}`;
  if (recipient.person) return personKey(recipient.person).replace(':', ' ');
  if (recipient.people)
    return recipient.people.map((person) => personKey(person).replace(':', ' ')).join(', ');
  if (recipient.email) return recipient.email;
  return '';
}
