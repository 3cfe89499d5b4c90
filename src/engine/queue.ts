// Durable work goes through pg-boss on the same database: job dispatch, approval deadlines, retries.
// Sends can join the caller's transaction, so "state changed" and "work scheduled" commit together.
// The engine also runs fresh work at once in-process (the fast path); queue handlers are idempotent, so
// the queue delivering the same work later changes nothing.
import PgBoss from 'pg-boss';
import { type Db, quoteIdent, type Tx } from '../store/db.js';

export const queues = {
  executeJob: 'execute-job',
  approvalDeadline: 'approval-deadline',
  approvalRevoke: 'approval-revoke',
  approvalRemind: 'approval-remind',
  sendNotification: 'notification-send',
} as const;
export type QueueName = (typeof queues)[keyof typeof queues];

/**
 * Jobs fetched per poll (pg-boss fetches at most once a poll interval, so this caps a queue's rate).
 * Messages waiting out a rate limit come due together (a robot's next window opens for twenty at once),
 * so their queue takes more at a time than the others.
 */
const batchSizes: Partial<Record<QueueName, number>> = { 'notification-send': 100 };
const defaultBatchSize = 20;

export interface QueueMessages {
  'execute-job': { jobId: number };
  'approval-deadline': { approvalId: number };
  'approval-revoke': { approvalId: number };
  'approval-remind': { approvalId: number };
  'notification-send': { notificationId: number };
}

export interface SendOptions {
  startAfter?: Date;
  singletonKey?: string;
}

export interface Queue {
  send<Q extends QueueName>(
    tx: Tx | null,
    queue: Q,
    data: QueueMessages[Q],
    options?: SendOptions,
  ): Promise<void>;
  work<Q extends QueueName>(queue: Q, handler: (data: QueueMessages[Q]) => Promise<void>): Promise<void>;
  /** Jobs waiting or active, per queue (for operations and tests). */
  depth(): Promise<Record<string, number>>;
  /** Jobs per queue: `due` (waiting, may start now), `scheduled` (waiting for a later time), `active`. */
  sizes(): Promise<QueueSize[]>;
  /** Resolves when the queue is started and its database answers; throws (saying why) otherwise. */
  ready(): Promise<void>;
  /** Stops fetching new jobs; handlers already running go on (shutdown, before `stop`). */
  drain(): Promise<void>;
  /**
   * Waits up to `timeoutMs` for running handlers, then hands back what is still running (it is retried,
   * here after a restart or on another instance) and closes the queue's connections.
   */
  stop(timeoutMs?: number): Promise<void>;
}

export interface QueueSize {
  queue: string;
  due: number;
  scheduled: number;
  active: number;
}

export interface QueueOptions {
  db: Db;
  /** PostgreSQL server URL; on PGlite pg-boss runs through the embedded database's adapter. */
  connectionString?: string | undefined;
  schema: string;
  onError: (error: Error) => void;
  pollingIntervalSeconds?: number;
}

export async function startQueue(options: QueueOptions): Promise<Queue> {
  const boss = new PgBoss({
    ...(options.connectionString
      ? { connectionString: options.connectionString, max: 4 }
      : { db: options.db.bossAdapter }),
    schema: options.schema,
    // pg-boss's cron scheduler is not used; its maintenance (expiry, archive) is.
    schedule: false,
    supervise: true,
  });
  boss.on('error', options.onError);
  let state: 'running' | 'draining' | 'stopped' = 'running';
  await boss.start();
  for (const name of Object.values(queues)) {
    await boss.createQueue(name, {
      name,
      // A handler only moves database state (it never holds a shell job for its whole run), so a short
      // expiry is safe: work stuck in a dead process comes back quickly.
      expireInSeconds: 60,
      retryLimit: 5,
      retryDelay: 2,
      retryBackoff: true,
    });
  }
  const pollingIntervalSeconds = options.pollingIntervalSeconds ?? 0.5;

  return {
    async send(tx, queue, data, sendOptions = {}) {
      await boss.send(queue, data as object, {
        ...(sendOptions.startAfter ? { startAfter: sendOptions.startAfter } : {}),
        ...(sendOptions.singletonKey ? { singletonKey: sendOptions.singletonKey } : {}),
        ...(tx ? { db: tx.bossAdapter } : {}),
      });
    },
    async work(queue, handler) {
      await boss.work<QueueMessages[typeof queue]>(
        queue,
        { pollingIntervalSeconds, batchSize: batchSizes[queue] ?? defaultBatchSize },
        async (jobs) => {
          // Every job of the batch runs even when one fails; the throw then retries the batch, which is
          // safe because handlers are idempotent.
          const results = await Promise.allSettled(jobs.map((job) => handler(job.data)));
          const failed = results.find((result) => result.status === 'rejected');
          if (failed) throw (failed as PromiseRejectedResult).reason;
        },
      );
    },
    async depth() {
      const result: Record<string, number> = {};
      for (const name of Object.values(queues)) result[name] = await boss.getQueueSize(name);
      return result;
    },
    async sizes() {
      const rows = await options.db.query<{ name: string; due: string; scheduled: string; active: string }>(
        `select name,
           count(*) filter (where state in ('created', 'retry') and start_after <= now()) as due,
           count(*) filter (where state in ('created', 'retry') and start_after > now()) as scheduled,
           count(*) filter (where state = 'active') as active
         from ${quoteIdent(options.schema)}.job where state in ('created', 'retry', 'active') group by name`,
      );
      return Object.values(queues).map((name) => {
        const row = rows.find((candidate) => candidate.name === name);
        return {
          queue: name,
          due: Number(row?.due ?? 0),
          scheduled: Number(row?.scheduled ?? 0),
          active: Number(row?.active ?? 0),
        };
      });
    },
    async ready() {
      if (state !== 'running') throw new Error(`the queue is ${state}`);
      // Through pg-boss's own connections (a pool of its own on PostgreSQL), not ours.
      if (!(await boss.isInstalled())) throw new Error('the queue schema is missing');
    },
    async drain() {
      if (state !== 'running') return;
      state = 'draining';
      for (const name of Object.values(queues)) await boss.offWork(name);
    },
    async stop(timeoutMs = 5000) {
      state = 'stopped';
      // pg-boss waits at least a second; what is still active then is failed, i.e. retried later.
      await boss.stop({ graceful: true, wait: true, timeout: Math.max(1000, timeoutMs) });
    },
  };
}
