// The engine owns run state. Every change happens in one transaction that locks the run row first (so
// concurrent paths serialise per run and never deadlock), moves jobs with conditional updates, and
// schedules follow-up work on the queue inside the same transaction. After commit, fresh work is also
// started at once in this process (the fast path); the queue delivers the same work durably, and its
// handlers find the job already claimed and do nothing.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EngineMetrics } from '../metrics/signoff-metrics.js';
import type { ChannelSender } from '../notifications/channels/index.js';
import type { Language } from '../notifications/message.js';
import { Notifier } from '../notifications/notifier.js';
import { Outbox, staleClaimMs } from '../notifications/outbox.js';
import type { InstanceState } from '../providers/approvals.js';
import type { Fetch } from '../providers/http.js';
import type { ImEvent } from '../providers/types.js';
import {
  type ApprovalRecord,
  cancelPendingApprovals,
  type Decision,
  decisionsOf,
  findApproval,
  insertDecision,
  lockApproval,
  overdueApprovals,
  setApprovalStatus,
} from '../store/approvals.js';
import type { Db, Queryable, Tx } from '../store/db.js';
import { heartbeat, registerInstance, removeInstance, staleInstances } from '../store/instances.js';
import { appendLogs } from '../store/job-logs.js';
import {
  type NotificationRecord,
  notificationsOfJob,
  overdueNotifications,
  releaseAbandoned,
} from '../store/notifications.js';
import { pruneRateLog } from '../store/rate-log.js';
import {
  findJob,
  findJobByName,
  getRun,
  insertRun,
  type JobRecord,
  jobsOfRun,
  lockRun,
  type RunRecord,
  setRunStatus,
  transitionJob,
} from '../store/runs.js';
import type { SecretBox } from '../store/secret-box.js';
import type { User } from '../store/users.js';
import { saveVendorState } from '../store/vendor-approvals.js';
import { getWorkflow } from '../store/workflows.js';
import type { ApprovalApps } from './approval-apps.js';
import { LogWriter } from './log-writer.js';
import {
  evaluateNative,
  type NativeApprovalJob,
  type Outcome,
  startNativeApproval,
} from './native-approval.js';
import { resolveParams } from './params.js';
import { planRun } from './plan-run.js';
import { type Queue, queues } from './queue.js';
import { jobSpec, templateContext } from './run-context.js';
import { runShellJob } from './shell-job.js';
import { isFinalJob, isFinalRun, type JobStatus } from './status.js';
import { type Arrival, VendorApprovalDriver } from './vendor-approval.js';
import type { VendorApprovalSpec } from './workflow-spec.js';

export interface EngineOptions {
  db: Db;
  queue: Queue;
  log: Logger;
  instanceId: string;
  /** Base URL people open runs at (links in approvals and notifications). */
  publicUrl: string;
  /** Where shell jobs get their working directories. */
  workspaceDir: string;
  fetch?: Fetch;
  /** Operator secrets for templates; their values are masked in job logs. */
  secrets?: Record<string, string>;
  /** Instances that have not beaten for this long are considered dead and their jobs recovered. */
  staleAfterMs?: number;
  /**
   * True when no other instance can share the database (PGlite, guarded by the data-directory lock): then
   * every other instance on record is a crashed predecessor, and its work is recovered at once.
   */
  exclusive?: boolean;
  heartbeatMs?: number;
  /** Registered IM apps' approval APIs; without them, vendor approval jobs fail with a clear reason. */
  approvalApps?: ApprovalApps;
  /** True while a long connection or stream delivers an app's events (polls may back off). */
  liveEvents?: (appId: string) => boolean;
  /** How often due reconcile polls of vendor approvals are looked for. */
  pollCheckMs?: number;
  /** The reconcile polls' clock; benchmarks and tests simulate hours with it. Default Date.now. */
  pollClock?: () => number;
  /** Reconcile poll intervals: `first` (and always in `poll` mode), backing off to `max` while events arrive. */
  approvalPolls?: { first: number; max: number };
  /** Notification jobs and `notify` rules; without this, notification jobs fail with a clear reason. */
  notifications?: {
    secretBox: SecretBox;
    senders: Record<string, ChannelSender>;
    /** Default language of messages (SIGNOFF_LANGUAGE). */
    language?: Language;
  };
  /** Told about each decision recorded and each delivery attempt (the /metrics counters). */
  metrics?: EngineMetrics;
}

export type Actor = Pick<User, 'id' | 'name' | 'is_admin'>;

/** Why a shell job cut off by a stopping server failed; `recover` gives a crashed one the same reason. */
/** A due message nobody has taken up for this long is sent by the next sweep (every heartbeat). */
const overdueAfterMs = 15_000;

const interruptedReason = 'interrupted: the server stopped while this job was running';

/** Tries at creating a vendor approval instance before its job fails (about 10 minutes of backoff). */
const vendorCreateAttempts = 8;

const activeStatuses: JobStatus[] = ['queued', 'running', 'waiting_for_approval'];
/** Where an approval job can be when its approval is settled: see `settleApproval`. */
const deciding: JobStatus[] = ['waiting_for_approval', 'running', 'queued'];

export class Engine {
  readonly db: Db;
  private readonly queue: Queue;
  private readonly log: Logger;
  private readonly instanceId: string;
  private readonly publicUrl: string;
  private readonly workspaceDir: string;
  private readonly fetch: Fetch;
  private readonly secrets: Record<string, string>;
  private readonly staleAfterMs: number;
  private readonly heartbeatMs: number;
  private readonly exclusive: boolean;
  /** Messages being sent by this process's fast path; `stop` lets them finish. */
  private readonly sending = new Set<Promise<unknown>>();
  /** Other work started here outside a queue handler (fast path, vendor events, polls); `stop` waits. */
  private readonly inflight = new Set<Promise<unknown>>();
  /**
   * Shell jobs running in this process, so a cancel here stops them at once; `done` settles once the
   * job's end is committed. `interrupt` stops it for a server shutdown (the job ends failed, interrupted).
   */
  private readonly local = new Map<number, { cancel(): void; interrupt(): void; done: Promise<unknown> }>();
  private readonly metrics: EngineMetrics | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly vendor: VendorApprovalDriver | undefined;
  private readonly pollCheckMs: number;
  private readonly notifier: Notifier | undefined;
  private readonly outbox: Outbox | undefined;

  constructor(options: EngineOptions) {
    this.db = options.db;
    this.queue = options.queue;
    this.log = options.log;
    this.instanceId = options.instanceId;
    this.publicUrl = options.publicUrl.replace(/\/$/, '');
    this.workspaceDir = options.workspaceDir;
    this.fetch = options.fetch ?? fetch;
    this.secrets = options.secrets ?? {};
    this.staleAfterMs = options.staleAfterMs ?? 15_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.exclusive = options.exclusive ?? false;
    this.pollCheckMs = options.pollCheckMs ?? 1_000;
    this.metrics = options.metrics;
    this.vendor = options.approvalApps
      ? new VendorApprovalDriver({
          db: this.db,
          log: this.log,
          publicUrl: this.publicUrl,
          apps: options.approvalApps,
          settle: (approvalId, outcome, state, arrival) =>
            this.settleApproval(approvalId, outcome, state, arrival),
          ...(options.liveEvents ? { liveEvents: options.liveEvents } : {}),
          ...(options.pollClock ? { now: options.pollClock } : {}),
          ...(options.approvalPolls ? { intervals: options.approvalPolls } : {}),
        })
      : undefined;
    if (options.notifications) {
      this.notifier = new Notifier({
        onStored: (id) => this.sendNow(id),
        secretBox: options.notifications.secretBox,
        publicUrl: this.publicUrl,
        secrets: this.secrets,
        language: options.notifications.language ?? 'en',
      });
      this.outbox = new Outbox({
        db: this.db,
        queue: this.queue,
        log: this.log,
        instanceId: this.instanceId,
        secretBox: options.notifications.secretBox,
        senders: options.notifications.senders,
        onAttempt: (row, line) => this.notificationAttempt(row, line),
        onFinal: (row) => this.notificationFinal(row),
        ...(options.metrics
          ? { onOutcome: (row, outcome) => options.metrics?.notification(row.channel, outcome) }
          : {}),
      });
    }
  }

  /** Registers this instance, recovers what crashed instances left, and starts taking queued work. */
  async start(): Promise<void> {
    await registerInstance(this.db, this.instanceId);
    await this.recover(true);
    await this.queue.work(queues.executeJob, ({ jobId }) => this.executeJob(jobId));
    await this.queue.work(queues.approvalDeadline, ({ approvalId }) => this.expireApproval(approvalId));
    await this.queue.work(queues.approvalRevoke, ({ approvalId }) =>
      this.logged('withdrawing a vendor approval', approvalId, () => this.vendor?.revoke(approvalId)),
    );
    await this.queue.work(queues.approvalRemind, ({ approvalId }) => this.remindApproval(approvalId));
    await this.queue.work(queues.sendNotification, async ({ notificationId }) => {
      await this.outbox?.deliver(notificationId);
    });
    this.timer = setInterval(() => {
      this.track(this.tick().catch((error) => this.log.error({ err: error }, 'engine maintenance failed')));
    }, this.heartbeatMs);
    this.timer.unref();
    if (this.vendor) {
      // Decisions taken while we were down: look at every waiting instance once, now.
      await this.db.query(
        `update approvals set next_poll_at = now() where status = 'pending' and vendor_instance_id is not null`,
      );
      let polling = false;
      this.pollTimer = setInterval(() => {
        if (polling || this.stopping) return;
        polling = true;
        this.track(
          this.vendor!.pollDue()
            .catch((error) => this.log.error({ err: error }, 'approval polls failed'))
            .finally(() => {
              polling = false;
            }),
        );
      }, this.pollCheckMs);
      this.pollTimer.unref();
    }
  }

  /** `remind_before`: fired by the queue at the reminder time; tells the approvers still to decide. */
  async remindApproval(approvalId: number): Promise<void> {
    await this.logged('reminding approvers', approvalId, () => this.vendor?.remind(approvalId));
  }

  /** Vendor work the queue retries: each failure is logged with the vendor's words, then rethrown. */
  private async logged(what: string, approvalId: number, work: () => Promise<void> | undefined) {
    try {
      await work();
    } catch (error) {
      this.log.warn({ err: error, approval: approvalId }, `${what} failed; the queue will retry`);
      throw error;
    }
  }

  /** Runs the reconcile polls that are due now (the timer does this every `pollCheckMs`). */
  async pollApprovals(): Promise<number> {
    return this.vendor ? this.vendor.pollDue() : 0;
  }

  /**
   * An event from an IM app (callback, long connection, stream), received at `receivedAt`
   * (`performance.now()`): syncs the approval it is about, if any.
   */
  async vendorEvent(
    appId: string,
    event: ImEvent | undefined,
    receivedAt = performance.now(),
  ): Promise<void> {
    if (!this.vendor) return;
    await this.track(this.vendor.onEvent(appId, event, receivedAt));
  }

  /** Work `stop` should wait for; returns the same promise. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    void work.then(
      () => this.inflight.delete(work),
      () => this.inflight.delete(work),
    );
    return work;
  }

  /**
   * Starts a shutdown: from now on this engine starts no new work (no fast path, no polls, no recovery
   * ticks); what was started goes on. Queued work stays queued for the next start or another instance.
   */
  drain(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
  }

  /**
   * Stops taking work and waits up to `graceMs` for what is in flight here: shell jobs, sends, events,
   * polls. Shell jobs still running then are stopped and end `failed` (interrupted), as `recover` would
   * end them after a crash: a cut-off script is never re-run silently, and never left hanging.
   */
  async stop(graceMs = 0): Promise<void> {
    this.drain();
    const deadline = Date.now() + graceMs;
    const pending = () => [
      ...[...this.local.values()].map((job) => job.done),
      ...this.sending,
      ...this.inflight,
    ];
    if (this.local.size > 0)
      this.log.info(
        { jobs: [...this.local.keys()], grace_ms: graceMs },
        'waiting for shell jobs running here to finish',
      );
    while (pending().length > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(pending()),
        new Promise((resolve) => {
          timer = setTimeout(resolve, deadline - Date.now());
        }),
      ]);
      clearTimeout(timer);
    }
    const cutOff = [...this.local.entries()];
    for (const [jobId, job] of cutOff) {
      this.log.warn({ job: jobId }, 'stopping a shell job: the server is shutting down');
      job.interrupt();
    }
    await Promise.allSettled(cutOff.map(([, job]) => job.done));
    // A send in flight finishes (at most a request timeout); what it did not finish is sent after restart.
    await Promise.allSettled([...this.sending]);
    await removeInstance(this.db, this.instanceId).catch(() => {});
  }

  // ---------------------------------------------------------------- runs

  async startRun(
    workflowName: string,
    params: Record<string, unknown>,
    actor: Actor | null,
  ): Promise<RunRecord> {
    const workflow = await getWorkflow(this.db, workflowName);
    const resolved = resolveParams(workflow.spec, params);
    const { run, execute } = await this.db.transaction(async (tx) => {
      const run = await insertRun(tx, {
        spec: workflow.spec,
        params: resolved,
        triggeredBy: actor ? { id: actor.id, name: actor.name } : null,
      });
      await lockRun(tx, run.id);
      return { run, execute: await this.advance(tx, run.id) };
    });
    this.kick(execute);
    this.log.info({ run: run.id, workflow: workflowName, by: actor?.name }, 'run started');
    return getRun(this.db, run.id);
  }

  async cancelRun(runId: number, actor: Actor | null): Promise<RunRecord> {
    const cancelled = await this.db.transaction(async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) throw new AppError('not_found', `No run ${runId}.`);
      if (isFinalRun(run.status))
        throw new AppError('conflict', `Run ${runId} has already ended (${run.status}).`);
      const reason = actor ? `cancelled by ${actor.name}` : 'cancelled';
      const jobs = await jobsOfRun(tx, runId);
      const ids: number[] = [];
      for (const job of jobs) {
        if (activeStatuses.includes(job.status)) {
          await transitionJob(tx, job.id, activeStatuses, 'cancelled', { reason });
          ids.push(job.id);
        } else if (job.status === 'pending') {
          await transitionJob(tx, job.id, ['pending'], 'skipped');
        }
      }
      await this.withdraw(tx, await cancelPendingApprovals(tx, ids));
      await setRunStatus(tx, runId, 'cancelled', reason, true);
      await this.notify(tx, runId);
      return ids;
    });
    for (const jobId of cancelled) this.local.get(jobId)?.cancel();
    this.log.info({ run: runId, by: actor?.name }, 'run cancelled');
    return getRun(this.db, runId);
  }

  // ----------------------------------------------------------- approvals

  /** The one path every decision takes: record it, settle the approval if it is now decided, advance. */
  async decide(input: {
    approvalId: number;
    actor: Actor;
    decision: Decision;
    comment?: string | null | undefined;
  }): Promise<ApprovalRecord> {
    const arrivedAt = performance.now();
    const found = await findApproval(this.db, input.approvalId);
    if (!found) throw new AppError('not_found', `No approval ${input.approvalId}.`);
    const execute = await this.db.transaction(async (tx) => {
      await lockRun(tx, found.run_id);
      const approval = (await lockApproval(tx, found.id))!;
      if (approval.status !== 'pending') {
        throw new AppError('conflict', `This approval has already ended: ${approval.status}.`);
      }
      if (approval.kind !== 'native') {
        throw new AppError(
          'conflict',
          `This approval is decided in ${approval.kind}'s approval app, not in Signoff; open it there.`,
        );
      }
      const listed = approval.approvers.some((approver) => approver.user_id === input.actor.id);
      if (!listed && !input.actor.is_admin) {
        const names = approval.approvers.map((approver) => approver.name).join(', ');
        throw new AppError(
          'forbidden',
          `${input.actor.name} is not an approver of this job (approvers: ${names}).`,
        );
      }
      const recorded = await insertDecision(tx, {
        approval_id: approval.id,
        user_id: input.actor.id,
        user_name: input.actor.name,
        decision: input.decision,
        comment: input.comment ?? null,
        as_admin: !listed,
      });
      if (!recorded)
        throw new AppError('conflict', `${input.actor.name} has already decided on this approval.`);
      const outcome = evaluateNative(approval, await decisionsOf(tx, [approval.id]));
      if (!outcome) return [];
      await setApprovalStatus(tx, approval.id, outcome.status);
      await transitionJob(tx, approval.job_id, ['waiting_for_approval'], outcome.jobStatus, {
        reason: outcome.reason,
      });
      return this.advance(tx, approval.run_id);
    });
    this.metrics?.decided(found.kind, 'api', (performance.now() - arrivedAt) / 1000);
    this.kick(execute);
    return (await findApproval(this.db, input.approvalId))!;
  }

  /** Fired by the deadline job (and at start for deadlines that passed while the server was down). */
  async expireApproval(approvalId: number): Promise<void> {
    const found = await findApproval(this.db, approvalId);
    if (found?.status !== 'pending') return;
    const execute = await this.db.transaction(async (tx) => {
      await lockRun(tx, found.run_id);
      const approval = (await lockApproval(tx, approvalId))!;
      if (approval.status !== 'pending' || approval.deadline.getTime() > Date.now()) return [];
      await setApprovalStatus(tx, approval.id, 'timeout');
      await this.withdraw(tx, [approval]);
      const approve = approval.timeout_outcome === 'approve';
      // A vendor approval's job may still be creating its instance (or be queued to try again).
      await transitionJob(tx, approval.job_id, deciding, approve ? 'passed' : 'timeout', {
        reason: approve
          ? 'approved automatically when the approval timed out'
          : 'nobody decided before the deadline',
      });
      return this.advance(tx, approval.run_id);
    });
    this.kick(execute);
  }

  // ---------------------------------------------------------------- jobs

  /** Runs a queued shell or notification job if nobody else has claimed it. Idempotent. */
  async executeJob(jobId: number): Promise<void> {
    if (this.stopping) throw new AppError('unavailable', 'This server is stopping.');
    const job = await transitionJob(this.db, jobId, ['queued'], 'running', { instanceId: this.instanceId });
    if (!job) return;
    const run = await getRun(this.db, job.run_id);
    const spec = jobSpec(run.spec, job.name);
    const context = templateContext(run, await jobsOfRun(this.db, run.id), this.publicUrl, this.secrets);
    const logs = new LogWriter(this.db, job.id, Object.values(this.secrets), (error) =>
      this.log.error({ err: error, job: job.id }, 'log write failed'),
    );

    if (spec.type === 'shell') {
      const workspace = join(this.workspaceDir, `run-${run.id}`, job.name);
      await mkdir(workspace, { recursive: true });
      const handle = runShellJob({
        job,
        run,
        spec,
        context,
        workspace,
        logs,
        isCancelled: () => this.isCancelled(job.id),
      });
      let interrupted = false;
      const done = handle.done
        .then((result) =>
          interrupted && result.status === 'cancelled'
            ? this.finishJob(job, 'failed', interruptedReason, result.outputs)
            : this.finishJob(job, result.status, result.reason, result.outputs),
        )
        .catch((error) => this.log.error({ err: error, job: job.id }, 'shell job failed to finish'))
        .finally(() => this.local.delete(job.id));
      this.local.set(job.id, {
        cancel: handle.cancel,
        interrupt: () => {
          interrupted = true;
          handle.cancel();
        },
        done,
      });
      return;
    }
    if (spec.type === 'notification') {
      await logs.close();
      if (!this.notifier) {
        await this.finishJob(job, 'failed', 'notifications are not available in this server', {});
        return;
      }
      const notifier = this.notifier;
      // The messages are stored once (a repeat after a crash stores nothing new); the job ends when the
      // outbox has delivered them, or given up on one.
      await this.db.transaction(async (tx) => {
        await lockRun(tx, run.id);
        await notifier.sendForJob(tx, run, await jobsOfRun(tx, run.id), job, spec.spec);
      });
      await this.finishNotificationJob(job.id);
      return;
    }
    if (spec.type === 'approval' && spec.spec.type !== 'native') {
      await this.openVendorApproval(job, run, spec.spec, context);
      return;
    }
    await this.finishJob(job, 'failed', `jobs of type ${spec.type} cannot be executed`, {});
  }

  /** A vendor approval job: create the instance (once), then wait for the decision. */
  private async openVendorApproval(
    job: JobRecord,
    run: RunRecord,
    spec: VendorApprovalSpec,
    context: ReturnType<typeof templateContext>,
  ): Promise<void> {
    if (!this.vendor) {
      await this.finishJob(job, 'failed', 'IM approvals are not available in this server', {});
      return;
    }
    const result = await this.vendor.create(job, run, spec, context);
    if ('failed' in result) {
      // Its waitpoint (if one was made) will never be decided: it ends with the job, saying why.
      await this.db.query(
        `update approvals set status = 'cancelled', decided_at = now(), status_text = $2
         where job_id = $1 and status = 'pending'`,
        [job.id, result.failed],
      );
      await this.finishJob(job, 'failed', result.failed, {});
      return;
    }
    if ('retryInMs' in result) {
      if (job.attempts >= vendorCreateAttempts) {
        const reason = `${result.reason} (gave up after ${job.attempts} attempts)`;
        await this.db.query(
          `update approvals set status = 'cancelled', decided_at = now(), status_text = $2
           where job_id = $1 and status = 'pending'`,
          [job.id, reason],
        );
        await this.finishJob(job, 'failed', reason, {});
        return;
      }
      // Backs off 5 s, 10 s, 20 s … (at most 5 min), or as long as the vendor asked.
      const backoff = Math.min(300_000, 5_000 * 2 ** (job.attempts - 1));
      await this.requeue(job, result.reason, Math.max(result.retryInMs, backoff));
      return;
    }
    const { withdraw, execute } = await this.db.transaction(async (tx) => {
      await lockRun(tx, run.id);
      const approval = (await lockApproval(tx, result.approvalId))!;
      // Only while this instance still holds the job: if it was taken for dead meanwhile, the instance
      // that recovered the job runs it now (and finds the vendor instance recorded above).
      const waiting = await transitionJob(tx, job.id, ['running'], 'waiting_for_approval', {
        reason: null,
        claimedBy: this.instanceId,
      });
      if (!waiting)
        return { withdraw: approval.status === 'cancelled' || approval.status === 'timeout', execute: [] };
      await this.queue.send(
        tx,
        queues.approvalDeadline,
        { approvalId: approval.id },
        { startAfter: approval.deadline },
      );
      if (approval.remind_at && approval.remind_at > new Date())
        await this.queue.send(
          tx,
          queues.approvalRemind,
          { approvalId: approval.id },
          { startAfter: approval.remind_at },
        );
      // The job left `running` outside `advance`, so the run's own status was never recomputed: it said
      // `running` for as long as the vendor approval waited. Recompute it (→ `waiting_for_approval` when
      // nothing else in the run is active), as a native approval's run gets inside `advance`.
      return { withdraw: false, execute: await this.advance(tx, run.id) };
    });
    this.kick(execute);
    // Cancelled while the instance was being created: withdraw it at the vendor now.
    if (withdraw) await this.queue.send(null, queues.approvalRevoke, { approvalId: result.approvalId });
  }

  /** Back on the queue after `delayMs` (a vendor or webhook that asked us to retry). */
  private async requeue(job: JobRecord, reason: string, delayMs: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockRun(tx, job.run_id);
      const requeued = await transitionJob(tx, job.id, ['running'], 'queued', {
        reason,
        instanceId: null,
        claimedBy: this.instanceId,
      });
      if (requeued) {
        await this.queue.send(
          tx,
          queues.executeJob,
          { jobId: job.id },
          { startAfter: new Date(Date.now() + delayMs) },
        );
      }
    });
  }

  /**
   * The decision path for vendor approvals: the vendor's instance has ended (`outcome`). Settles the
   * approval and its job once; later calls for the same approval change nothing.
   */
  private async settleApproval(
    approvalId: number,
    outcome: Outcome,
    state: InstanceState,
    arrival: Arrival,
  ): Promise<void> {
    const found = await findApproval(this.db, approvalId);
    if (found?.status !== 'pending') return;
    const execute = await this.db.transaction(async (tx) => {
      await lockRun(tx, found.run_id);
      const approval = (await lockApproval(tx, approvalId))!;
      if (approval.status !== 'pending') return undefined;
      await saveVendorState(tx, approval.id, state, new Date());
      await setApprovalStatus(tx, approval.id, outcome.status);
      // `running`: the decision can arrive before the job has moved on to waiting (a fast approver).
      // `queued`: the job is back on the queue (its instance died after recording the vendor instance);
      // left there, it would run again and wait for an approval that is no longer pending.
      await transitionJob(tx, approval.job_id, deciding, outcome.jobStatus, {
        reason: outcome.reason,
      });
      return this.advance(tx, approval.run_id);
    });
    // Two events read the ended instance at once: the one that lost the race settled nothing, and says
    // nothing (it used to log "decided" as well, so one decision showed up twice in the log).
    if (!execute) return;
    this.metrics?.decided(found.kind, arrival.source, (performance.now() - arrival.at) / 1000);
    this.kick(execute);
    this.log.info({ approval: approvalId, outcome: outcome.status }, 'vendor approval decided');
  }

  /** Vendor approvals that just ended without a decision are withdrawn at the vendor, after commit. */
  private async withdraw(tx: Tx, approvals: Pick<ApprovalRecord, 'id' | 'kind'>[]): Promise<void> {
    for (const approval of approvals) {
      if (approval.kind !== 'native')
        await this.queue.send(tx, queues.approvalRevoke, { approvalId: approval.id });
    }
  }

  private async finishJob(
    job: JobRecord,
    status: JobStatus,
    reason: string | null,
    outputs: Record<string, string>,
  ): Promise<void> {
    const execute = await this.db.transaction(async (tx) => {
      await lockRun(tx, job.run_id);
      const finished = await transitionJob(tx, job.id, ['running'], status, { reason, outputs });
      if (!finished) return []; // cancelled meanwhile: the cancel already settled the run
      return this.advance(tx, job.run_id);
    });
    this.kick(execute);
  }

  private async isCancelled(jobId: number): Promise<boolean> {
    const job = await findJob(this.db, jobId);
    return job?.status !== 'running';
  }

  /** Applies the run's plan until it is stable; returns jobs to execute after commit. Caller holds the run lock. */
  private async advance(tx: Tx, runId: number): Promise<number[]> {
    const run = await getRun(tx, runId);
    if (isFinalRun(run.status)) return [];
    const execute: number[] = [];
    for (;;) {
      const jobs = await jobsOfRun(tx, runId);
      const plan = planRun(jobs);
      for (const { id, reason } of plan.cancel)
        await transitionJob(tx, id, activeStatuses, 'cancelled', { reason });
      await this.withdraw(
        tx,
        await cancelPendingApprovals(
          tx,
          plan.cancel.map((job) => job.id),
        ),
      );
      for (const id of plan.skip) await transitionJob(tx, id, ['pending'], 'skipped');
      if (plan.start.length === 0) {
        await setRunStatus(tx, runId, plan.status, plan.reason, isFinalRun(plan.status));
        await this.notify(tx, runId);
        return execute;
      }
      for (const id of plan.start) {
        const job = jobs.find((candidate) => candidate.id === id)!;
        const spec = jobSpec(run.spec, job.name);
        if (spec.type === 'approval' && spec.spec.type === 'native') {
          await startNativeApproval(tx, {
            run,
            job,
            spec: spec as NativeApprovalJob,
            context: templateContext(run, jobs, this.publicUrl, this.secrets),
            queue: this.queue,
          });
        } else {
          await transitionJob(tx, id, ['pending'], 'queued');
          await this.queue.send(tx, queues.executeJob, { jobId: id });
          execute.push(id);
        }
      }
    }
  }

  /** The fast path: start claimed-later work now, not at the queue's next poll. */
  private kick(jobIds: number[]): void {
    // Stopping: the queue holds these jobs; the next start (or another instance) runs them.
    for (const jobId of this.stopping ? [] : jobIds) {
      this.track(
        this.executeJob(jobId).catch((error) =>
          this.log.error({ err: error, job: jobId }, 'job execution failed'),
        ),
      );
    }
  }

  private sendNow(notificationId: number): void {
    if (!this.outbox || this.stopping) return;
    const sending = this.outbox
      .deliver(notificationId)
      .catch((error) => this.log.error({ err: error, notification: notificationId }, 'notification failed'))
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  // -------------------------------------------------------- notifications

  /** Stores the messages the run's state now calls for (rules, approval cards). Caller holds the run lock. */
  private async notify(tx: Tx, runId: number): Promise<void> {
    if (!this.notifier) return;
    const run = await getRun(tx, runId);
    if (!this.notifier.listens(run.spec)) return;
    await this.notifier.sync(tx, run, await jobsOfRun(tx, runId));
  }

  private notificationAttempt(row: NotificationRecord, line: string): void {
    if (row.source !== 'job' || row.job_id === null) return;
    const masked = Object.values(this.secrets).reduce(
      (text, secret) => (secret ? text.replaceAll(secret, '***') : text),
      `${line}\n`,
    );
    void appendLogs(this.db, row.job_id, [{ stream: 'system', text: masked }]).catch((error) =>
      this.log.error({ err: error, job: row.job_id }, 'log write failed'),
    );
  }

  private async notificationFinal(row: NotificationRecord): Promise<void> {
    if (row.source === 'job' && row.job_id !== null) await this.finishNotificationJob(row.job_id);
  }

  /** A notification job passes when every message of it is delivered, and fails when one failed. */
  private async finishNotificationJob(jobId: number): Promise<void> {
    const rows = await notificationsOfJob(this.db, jobId);
    if (rows.length === 0 || rows.some((row) => row.status === 'pending' || row.status === 'sending')) return;
    const job = await findJob(this.db, jobId);
    if (job?.status !== 'running') return;
    const failed = rows.filter((row) => row.status === 'failed');
    await this.db.query('update jobs set attempts = $2 where id = $1', [
      jobId,
      Math.max(...rows.map((row) => row.attempts)),
    ]);
    await this.finishJob(
      job,
      failed.length > 0 ? 'failed' : 'passed',
      failed.length > 0 ? failed.map((row) => row.last_error).join('; ') : null,
      {},
    );
  }

  // ------------------------------------------------------------ recovery

  /**
   * Settles what dead instances left behind: a shell job cut off by a crash ends `failed` (interrupted) and
   * is never re-run silently; a notification goes back to the queue (receivers dedupe by delivery id);
   * approvals whose deadline passed meanwhile expire now.
   */
  async recover(atStart: boolean): Promise<void> {
    const dead =
      atStart && this.exclusive
        ? (
            await this.db.query<{ id: string }>('select id from instances where id <> $1', [this.instanceId])
          ).map((row) => row.id)
        : await staleInstances(this.db, this.staleAfterMs);
    const orphans = await this.db.query<JobRecord>(
      `select * from jobs where status = 'running' and (instance_id is null or instance_id <> $1)
         and (instance_id = any($2::text[]) or not exists (select 1 from instances i where i.id = jobs.instance_id))`,
      [this.instanceId, dead],
    );
    for (const job of orphans) {
      const recovered = await this.db.transaction(async (tx) => {
        await lockRun(tx, job.run_id);
        // Only while the dead instance still holds it: another instance may have recovered it since the
        // orphans were read, and a live one be running it again now (two would then run it at once).
        const held = { claimedBy: job.instance_id };
        // Both are safe to run again: receivers dedupe notifications by delivery id, and a vendor
        // approval finds the instance an earlier attempt created.
        if (job.type === 'notification' || job.type === 'approval') {
          const requeued = await transitionJob(tx, job.id, ['running'], 'queued', {
            ...held,
            instanceId: null,
          });
          if (requeued) await this.queue.send(tx, queues.executeJob, { jobId: job.id });
          return requeued ? [job.id] : undefined;
        }
        const failed = await transitionJob(tx, job.id, ['running'], 'failed', {
          ...held,
          reason: interruptedReason,
        });
        return failed ? this.advance(tx, job.run_id) : undefined;
      });
      if (!recovered) continue;
      this.kick(recovered);
      this.log.warn({ job: job.id, run: job.run_id }, 'recovered a job cut off by a stopped server');
    }
    if (this.outbox) {
      // Messages a stopped instance was sending, and any that nobody took up although they were due: one
      // stored just before its instance stopped (a new row has no queue job, it is sent after commit), or
      // one whose queue job is late. At start, every message that is due.
      const abandoned = await releaseAbandoned(this.db, dead, staleClaimMs);
      const overdue = await overdueNotifications(this.db, atStart ? 0 : overdueAfterMs);
      for (const id of [...abandoned, ...overdue]) this.sendNow(id);
    }
    if (dead.length > 0) {
      await this.db.query('delete from instances where id = any($1::text[])', [dead]);
    }
    for (const approval of await overdueApprovals(this.db, new Date()))
      await this.expireApproval(approval.id);
    if (atStart) {
      // Jobs queued before a crash: the queue has them too, but there is no reason to wait for its poll.
      // (Only at start: later, queued jobs may be notifications waiting out a retry delay.)
      const queued = await this.db.query<{ id: number }>(
        `select id from jobs where status = 'queued' and attempts = 0`,
      );
      this.kick(queued.map((job) => job.id));
    }
  }

  private async tick(): Promise<void> {
    await heartbeat(this.db, this.instanceId);
    await this.recover(false);
    if (this.outbox) await pruneRateLog(this.db, Date.now());
  }

  // ------------------------------------------------------------- lookups

  async approvalFor(runId: number, jobName: string): Promise<ApprovalRecord> {
    const job = await findJobByName(this.db, runId, jobName);
    if (job.type !== 'approval')
      throw new AppError('bad_request', `Job ${jobName} of run ${runId} is not an approval.`);
    const [approval] = await this.db.query<ApprovalRecord>('select * from approvals where job_id = $1', [
      job.id,
    ]);
    if (!approval) {
      throw new AppError(
        'conflict',
        `Job ${jobName} of run ${runId} is not waiting for approval (it is ${job.status}).`,
      );
    }
    return approval;
  }
}

export function isActiveJob(status: JobStatus): boolean {
  return !isFinalJob(status) && status !== 'pending';
}

export type { Queryable };
