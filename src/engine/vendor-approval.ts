// Approvals decided in a platform's own approval app. The job creates one vendor instance (exactly once,
// even across crashes), then waits. Whatever says something happened — an HTTP callback, a long-connection
// or stream event, a reconcile poll — only triggers `sync`, which reads the instance's whole state from the
// vendor and settles the approval through the engine's one decision path. Duplicate, late and out-of-order
// events therefore change nothing: each is just another look at the same truth.
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ApprovalShape, InstanceState, NewInstance } from '../providers/approvals.js';
import { retryRead } from '../providers/read-retry.js';
import type { ImEvent, ImUser } from '../providers/types.js';
import { type ApprovalRecord, findApproval, insertApproval } from '../store/approvals.js';
import type { Db } from '../store/db.js';
import type { ImAppRecord } from '../store/im-apps.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import {
  appendJobReason,
  claimDefinition,
  claimPoll,
  dueForPoll,
  markCreateAttempt,
  markReminded,
  pendingByInstances,
  reclaimGoneDefinition,
  recordInstance,
  releaseDefinition,
  saveDefinition,
  saveVendorState,
  setApprovers,
  setStatusText,
} from '../store/vendor-approvals.js';
import type { ApprovalApp, ApprovalApps } from './approval-apps.js';
import type { Outcome } from './native-approval.js';
import { runUrl } from './run-context.js';
import { render, type TemplateContext } from './template.js';
import type { ImPerson, VendorApprovalSpec } from './workflow-spec.js';

/** Reconcile polls: every 10 s in `poll` mode; in event modes from 10 s up to 5 min while events arrive. */
export const pollIntervals = { first: 10_000, max: 300_000 };
/**
 * Reconcile polls per IM app and check (every `pollCheckMs`, 1 s): how many of its due polls are read, and
 * how many at once. See `pollDue`.
 */
const pollShare = { events: { perCheck: 5, readers: 1 }, poll: { perCheck: 20, readers: 2 } };
/** A definition claim not finished for this long was left by a crashed creator and may be taken over. */
const definitionClaimStaleMs = 60_000;

/**
 * What made us look at an instance, and when that arrived (`performance.now()`): decision latency is
 * measured from here to the commit that settles the approval.
 */
export interface Arrival {
  source: 'event' | 'poll';
  at: number;
}

export type CreateResult =
  | { approvalId: number }
  | { failed: string }
  | { retryInMs: number; reason: string };

export interface VendorApprovalDeps {
  db: Db;
  log: Logger;
  publicUrl: string;
  apps: ApprovalApps;
  /** Settles a pending approval through the engine's decision path (idempotent). */
  settle(approvalId: number, outcome: Outcome, state: InstanceState, arrival: Arrival): Promise<void>;
  /** True while a long connection or stream for the app is up (events arrive without a public URL). */
  liveEvents?(appId: string): boolean;
  /** The poll schedule's clock (benchmarks simulate an hour with it); default Date.now. */
  now?: () => number;
  intervals?: { first: number; max: number };
}

export class VendorApprovalDriver {
  private readonly now: () => number;
  private readonly intervals: { first: number; max: number };

  constructor(private readonly deps: VendorApprovalDeps) {
    this.now = deps.now ?? Date.now;
    this.intervals = deps.intervals ?? pollIntervals;
  }

  // ------------------------------------------------------------------ create

  /**
   * Creates the vendor instance for a running approval job, or finds the one an earlier attempt created.
   * Nothing is created at the vendor until every person has been found.
   */
  async create(
    job: JobRecord,
    run: RunRecord,
    spec: VendorApprovalSpec,
    context: TemplateContext,
  ): Promise<CreateResult> {
    const opened = await this.deps.apps.open(spec.app);
    if (!opened) return { failed: `no IM app named ${spec.app}; add it under Settings → Integrations → IM` };
    if (opened.app.type !== spec.type)
      return {
        failed: `IM app ${spec.app} is a ${opened.app.type} app, but this approval is type ${spec.type}`,
      };
    const approval = await this.approvalRow(job, spec, opened.app);
    if (approval.vendor_instance_id) return { approvalId: approval.id };

    try {
      const people = await this.resolvePeople(opened, spec, run);
      if ('failed' in people) return people;
      const title = spec.title
        ? (await render(spec.title, context)).trim()
        : `${run.workflow_name} #${run.number}: ${job.name}`;
      const description = spec.description ? (await render(spec.description, context)).trim() : '';
      const link = runUrl(this.deps.publicUrl, run.id);
      const key = approval.vendor_key!;
      const content = [description, `Run: ${link}`, `Signoff ref: ${key}`].filter(Boolean).join('\n\n');
      const shape = shapeOf(spec);
      const request = {
        key,
        initiator: people.initiator.id,
        title,
        content,
        link,
        nodes: people.nodes,
        cc: people.cc,
      };
      await setApprovers(this.deps.db, approval.id, people.names);
      if (people.note) await setStatusText(this.deps.db, approval.id, people.note);

      let definition = await this.definition(opened, shape);
      let created: { id: string; link?: string | undefined } | undefined;
      if (approval.create_attempted_at) {
        // An earlier attempt may have created it before the process died: find it rather than make two.
        const since = new Date(approval.create_attempted_at.getTime() - 60_000);
        const found = await opened.api.findInstance({ ...request, definition }, since);
        if (found) created = { id: found };
      }
      if (!created) {
        await markCreateAttempt(this.deps.db, approval.id, { ...request, definition });
        try {
          created = await opened.api.createInstance({ ...request, definition });
        } catch (error) {
          if (!isAppError(error) || error.code !== 'definition_gone') throw error;
          // Deleted in the vendor's console: recreate it once and go on.
          this.deps.log.warn(
            { im_app: opened.app.id, shape: shape.key },
            'approval definition gone; recreating',
          );
          definition = await this.recreateDefinition(opened, shape, definition);
          await markCreateAttempt(this.deps.db, approval.id, { ...request, definition });
          created = await opened.api.createInstance({ ...request, definition });
        }
      }
      await recordInstance(
        this.deps.db,
        approval.id,
        created.id,
        created.link ?? null,
        new Date(this.now() + this.intervals.first),
      );
      this.deps.log.info(
        { run: run.id, job: job.name, im_app: opened.app.id, instance: created.id },
        'approval instance created',
      );
      return { approvalId: approval.id };
    } catch (error) {
      const appError = isAppError(error) ? error : new AppError('internal', String(error));
      if (appError.retryable) {
        return {
          retryInMs: appError.retryAfterMs ?? 0,
          reason: `${opened.label} is not answering as expected, retrying: ${appError.message}`,
        };
      }
      return { failed: `${opened.label} refused the approval: ${appError.message}` };
    }
  }

  /** The approval row for this job, made on the first attempt (with its deadline and idempotency key). */
  private async approvalRow(
    job: JobRecord,
    spec: VendorApprovalSpec,
    app: ImAppRecord,
  ): Promise<ApprovalRecord> {
    const [existing] = await this.deps.db.query<ApprovalRecord>('select * from approvals where job_id = $1', [
      job.id,
    ]);
    if (existing) return existing;
    const deadline = new Date(Date.now() + spec.timeout);
    return insertApproval(this.deps.db, {
      job_id: job.id,
      run_id: job.run_id,
      kind: spec.type,
      needed: spec.nodes.length,
      approvers: [],
      description: null,
      deadline,
      timeout_outcome: spec.timeout_outcome,
      im_app_id: app.id,
      vendor_key: `signoff-${job.run_id}-${job.id}-${randomBytes(6).toString('hex')}`,
      remind_at:
        spec.remind_before && spec.remind_before < spec.timeout
          ? new Date(deadline.getTime() - spec.remind_before)
          : null,
    });
  }

  private async resolvePeople(
    opened: ApprovalApp,
    spec: VendorApprovalSpec,
    run: RunRecord,
  ): Promise<
    | {
        initiator: ImUser;
        nodes: NewInstance['nodes'];
        cc: string[];
        names: { user_id: string; name: string }[];
        note?: string;
      }
    | { failed: string }
  > {
    const missing: string[] = [];
    // Lookups are reads: a transient fault is asked again at once rather than sending the whole creation
    // back to the queue (one attempt makes several calls; see providers/read-retry.ts).
    const find = async (person: ImPerson): Promise<ImUser | undefined> => {
      const user = await retryRead(() => opened.api.findUser(person));
      if (!user) missing.push(describePerson(person));
      return user;
    };
    const nodes: NewInstance['nodes'] = [];
    const names: { user_id: string; name: string }[] = [];
    for (const node of spec.nodes) {
      const ids: string[] = [];
      for (const person of node.approvers) {
        const user = await find(person);
        if (user && !ids.includes(user.id)) {
          ids.push(user.id);
          names.push({ user_id: user.id, name: user.name });
        }
      }
      nodes.push({ type: node.type, approvers: ids });
    }
    const cc: string[] = [];
    for (const person of spec.cc) {
      const user = await find(person);
      if (user) cc.push(user.id);
    }
    let initiator: ImUser | undefined;
    let note: string | undefined;
    if (spec.initiator) initiator = await find(spec.initiator);
    else {
      const starter = await this.starterContact(run);
      if (starter) initiator = await retryRead(() => opened.api.findUser(starter));
      const first = nodes[0]?.approvers[0];
      if (!initiator && first) {
        initiator = await retryRead(() => opened.api.findUser({ id: first }));
        note = `${run.triggered_by_name ?? 'The run'} could not be found in ${opened.label} by email or mobile, so the first approver started the instance; set \`initiator\` in the job to choose.`;
      }
    }
    if (missing.length > 0)
      return {
        failed: `not found in ${opened.label}'s address book: ${missing.join(', ')}; nothing was created`,
      };
    if (!initiator) return { failed: `no initiator: set \`initiator\` in the approval job` };
    return { initiator, nodes, cc, names, ...(note ? { note } : {}) };
  }

  private async starterContact(run: RunRecord): Promise<{ email?: string; mobile?: string } | undefined> {
    if (!run.triggered_by) return undefined;
    const [user] = await this.deps.db.query<{ email: string | null; mobile: string | null }>(
      'select email, mobile from users where id = $1',
      [run.triggered_by],
    );
    if (user?.email) return { email: user.email };
    if (user?.mobile) return { mobile: user.mobile };
    return undefined;
  }

  /** The cached definition of a shape, created once per app even when many runs ask at the same moment. */
  private async definition(opened: ApprovalApp, shape: ApprovalShape): Promise<string> {
    const started = Date.now();
    for (;;) {
      const claim = await claimDefinition(this.deps.db, opened.app.id, shape.key, definitionClaimStaleMs);
      if ('code' in claim) return claim.code;
      if ('claimed' in claim) return this.createDefinition(opened, shape);
      if (Date.now() - started > 20_000)
        throw new AppError('unavailable', `the ${opened.label} approval definition is still being created`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async createDefinition(opened: ApprovalApp, shape: ApprovalShape): Promise<string> {
    try {
      const code = await opened.api.createDefinition(shape);
      await saveDefinition(this.deps.db, opened.app.id, shape.key, code);
      return code;
    } catch (error) {
      await releaseDefinition(this.deps.db, opened.app.id, shape.key);
      throw error;
    }
  }

  private async recreateDefinition(opened: ApprovalApp, shape: ApprovalShape, gone: string): Promise<string> {
    if (await reclaimGoneDefinition(this.deps.db, opened.app.id, shape.key, gone))
      return this.createDefinition(opened, shape);
    return this.definition(opened, shape);
  }

  // -------------------------------------------------------------------- sync

  /** Reads the instance from the vendor and settles the approval if it has ended. Idempotent. */
  async sync(
    approvalId: number,
    arrival: Arrival = { source: 'poll', at: performance.now() },
  ): Promise<void> {
    const approval = await findApproval(this.deps.db, approvalId);
    if (approval?.status !== 'pending' || !approval.vendor_instance_id || !approval.im_app_id) return;
    const opened = await this.deps.apps.open(approval.im_app_id);
    if (!opened) return;
    const readAt = new Date();
    const state = await opened.api.instance(approval.vendor_instance_id);
    if (state.status === 'pending') {
      await saveVendorState(this.deps.db, approval.id, state, readAt);
      return;
    }
    await this.deps.settle(approval.id, outcomeOf(state, opened.label), state, arrival);
  }

  /** An event from any source (callback, long connection, stream) for an app, received at `receivedAt`. */
  async onEvent(appId: string, event: ImEvent | undefined, receivedAt = performance.now()): Promise<void> {
    if (!event) return;
    const opened = await this.deps.apps.open(appId);
    const instanceId = opened?.api.instanceOfEvent(event);
    if (!instanceId) return;
    // Not found: the instance was created but not recorded yet (its first poll will look), or the
    // approval has already ended.
    const approvalId = await this.pendingApprovalOf(appId, instanceId);
    if (approvalId !== undefined) await this.sync(approvalId, { source: 'event', at: receivedAt });
  }

  private lookups: {
    appId: string;
    instanceId: string;
    done(id: number | undefined, error?: unknown): void;
  }[] = [];

  /**
   * The pending approval waiting on a vendor instance. The events of one event-loop turn (a burst of
   * callbacks arrives together) are looked up in one query rather than one each.
   */
  private pendingApprovalOf(appId: string, instanceId: string): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      this.lookups.push({ appId, instanceId, done: (id, error) => (error ? reject(error) : resolve(id)) });
      if (this.lookups.length === 1) setImmediate(() => void this.flushLookups());
    });
  }

  private async flushLookups(): Promise<void> {
    const batch = this.lookups;
    this.lookups = [];
    try {
      const rows = await pendingByInstances(this.deps.db, batch);
      const found = new Map(rows.map((row) => [`${row.im_app_id}\u0000${row.vendor_instance_id}`, row.id]));
      for (const lookup of batch) lookup.done(found.get(`${lookup.appId}\u0000${lookup.instanceId}`));
    } catch (error) {
      for (const lookup of batch) lookup.done(undefined, error);
    }
  }

  /**
   * Due reconcile polls, claimed so that each poll runs on one instance only. Each IM app gets its own share
   * of every check (`pollShare`), all apps at once. Why (bench/vendor-approval.bench.ts, docs/benchmarks.md
   * "Vendor approvals"): polls and the reads that events trigger share the vendor's rate limit (WeCom
   * approval APIs 10/s, DingTalk 20/s), waiting together in the client's limiter. One page of 20 for all
   * apps, awaited together, capped polls at 20 a check and let one vendor's limit hold up every other app
   * (320 approvals in poll mode: 10 s polls stretched to 17 s); but reading every due poll at once, or even
   * two at a time, let a wave of polls (approvals created together are due together) fill the vendor's limit
   * for seconds, and an event's read waited behind it. So apps whose events arrive poll at a trickle (their
   * polls are only a safety net), and apps in poll mode use up to 20 reads a check.
   */
  async pollDue(): Promise<number> {
    const now = new Date(this.now());
    const due = await dueForPoll(this.deps.db, now, pollShare.poll.perCheck);
    const byApp = new Map<string | null, typeof due>();
    for (const row of due) {
      const rows = byApp.get(row.im_app_id);
      if (rows) rows.push(row);
      else byApp.set(row.im_app_id, [row]);
    }
    let polled = 0;
    const reader = async (rows: typeof due, opened: ApprovalApp | undefined) => {
      for (let row = rows.shift(); row; row = rows.shift()) {
        const interval = opened ? this.pollInterval(opened.app, row.polls) : this.intervals.first;
        if (!(await claimPoll(this.deps.db, row.id, now, new Date(this.now() + interval)))) continue;
        polled += 1;
        await this.sync(row.id).catch((error) =>
          this.deps.log.warn({ err: error, approval: row.id }, 'approval poll failed; will poll again'),
        );
      }
    };
    await Promise.all(
      [...byApp].map(async ([appId, rows]) => {
        const opened = appId ? await this.deps.apps.open(appId) : undefined;
        const share = opened && this.eventsArrive(opened.app) ? pollShare.events : pollShare.poll;
        const mine = rows.slice(0, share.perCheck);
        await Promise.all(Array.from({ length: share.readers }, () => reader(mine, opened)));
      }),
    );
    return polled;
  }

  /** `poll` mode, or no sign yet that events reach us: every 10 s. Events arriving: back off to 5 min. */
  pollInterval(app: ImAppRecord, polls: number): number {
    if (!this.eventsArrive(app)) return this.intervals.first;
    return Math.min(this.intervals.max, this.intervals.first * 2 ** Math.min(polls, 10));
  }

  private eventsArrive(app: ImAppRecord): boolean {
    return (
      app.event_mode !== 'poll' &&
      (this.deps.liveEvents?.(app.id) ||
        (app.event_mode === 'webhook' && (app.callback_verified_at !== null || app.last_event_at !== null)))
    );
  }

  // ---------------------------------------------------------- revoke, remind

  /** After cancel or timeout: withdraw the instance where the vendor allows it, and say so where not. */
  async revoke(approvalId: number): Promise<void> {
    const approval = await findApproval(this.deps.db, approvalId);
    if (!approval?.vendor_instance_id || !approval.im_app_id || approval.status === 'pending') return;
    if (approval.status === 'approved' || approval.status === 'rejected') return;
    const opened = await this.deps.apps.open(approval.im_app_id);
    if (!opened) return;
    const request = approval.vendor_request;
    const result = await opened.api.revoke(approval.vendor_instance_id, {
      initiator: request?.initiator ?? '',
      definition: request?.definition ?? '',
    });
    const text =
      result === 'revoked'
        ? `withdrawn in ${opened.label}`
        : `${opened.label} has no API to withdraw an approval, so it stays open in ${opened.label}; withdraw it there (撤销)`;
    await setStatusText(this.deps.db, approval.id, text);
    if (result === 'unsupported') await appendJobReason(this.deps.db, approval.job_id, text);
    this.deps.log.info({ approval: approval.id, result }, 'vendor approval withdrawn');
  }

  /** `remind_before`: a message to the approvers who still have to decide. */
  async remind(approvalId: number): Promise<void> {
    await this.sync(approvalId);
    const approval = await findApproval(this.deps.db, approvalId);
    if (approval?.status !== 'pending' || !approval.im_app_id || !approval.vendor_instance_id) return;
    const opened = await this.deps.apps.open(approval.im_app_id);
    if (!opened) return;
    const state = approval.vendor_state ?? (await opened.api.instance(approval.vendor_instance_id));
    const node = state.nodes.find((candidate) => candidate.status === 'pending');
    const waiting =
      node?.approvers.filter((approver) => approver.decision === 'pending').map((a) => a.id) ?? [];
    if (waiting.length === 0) return;
    if (!(await markReminded(this.deps.db, approval.id))) return;
    const request = approval.vendor_request;
    const minutes = Math.max(1, Math.round((approval.deadline.getTime() - Date.now()) / 60_000));
    const text = `Reminder: "${request?.title ?? 'an approval'}" is waiting for your decision; it times out in ${minutes} min. 提醒：请尽快审批。`;
    try {
      await opened.api.remind(waiting, text, approval.vendor_link ?? request?.link ?? this.deps.publicUrl);
    } catch (error) {
      await this.deps.db.query('update approvals set reminded_at = null where id = $1', [approval.id]);
      throw error;
    }
  }
}

export function shapeOf(spec: Pick<VendorApprovalSpec, 'nodes' | 'cc'>): ApprovalShape {
  const nodes = spec.nodes.map((node) => node.type);
  const cc = spec.cc.length > 0;
  const key = `${nodes.join('-')}${cc ? '+cc' : ''}`;
  return { key, name: `Signoff 审批 (${key})`, nodes, cc };
}

function describePerson(person: ImPerson): string {
  if ('email' in person) return `${person.email} (email)`;
  if ('mobile' in person) return `${person.mobile} (mobile)`;
  return `${person.id} (id)`;
}

/** What a finished vendor instance means for the job. */
export function outcomeOf(state: InstanceState, label: string): Outcome {
  const deciders = (decision: 'approved' | 'rejected') =>
    state.nodes.flatMap((node) => node.approvers.filter((approver) => approver.decision === decision));
  if (state.status === 'approved') {
    const names = deciders('approved').map((approver) => approver.name ?? approver.id);
    return {
      status: 'approved',
      jobStatus: 'passed',
      reason: `approved in ${label}${names.length ? ` by ${names.join(', ')}` : ''}`,
    };
  }
  if (state.status === 'rejected') {
    const [by] = deciders('rejected');
    return {
      status: 'rejected',
      jobStatus: 'rejected',
      reason: `rejected in ${label}${by ? ` by ${by.name ?? by.id}${by.comment ? `: ${by.comment}` : ''}` : ''}`,
    };
  }
  return {
    status: 'cancelled',
    jobStatus: 'cancelled',
    reason: state.reason ?? `cancelled in ${label} (${state.vendor_status})`,
  };
}
