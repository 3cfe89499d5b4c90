// Signoff's metrics, served at GET /metrics. Counters and histograms count what happens in this process
// (per instance, as Prometheus expects: sum them across instances in queries); the gauges are read from the
// database and the queue at scrape time, so every instance reports the same shared numbers for them.
// Labels are fixed sets (statuses, kinds, vendors, channels, error codes): never a name, URL or secret.
// docs/operations.md explains how to read each one.
import type { QueueSize } from '../engine/queue.js';
import { runStatuses } from '../engine/status.js';
import type { HttpObserver } from '../providers/http.js';
import { imTypes } from '../providers/types.js';
import type { Queryable } from '../store/db.js';
import { Registry } from './registry.js';

/** Where a decision came from: the REST API (console, CLI), a vendor event, or our reconcile poll. */
export type DecisionSource = 'api' | 'event' | 'poll';

/** What the engine reports. */
export interface EngineMetrics {
  /** A decision was committed `seconds` after it arrived. */
  decided(kind: string, source: DecisionSource, seconds: number): void;
  /** One delivery attempt of an outbox row ended so. */
  notification(channel: string, result: string): void;
}

export interface SignoffMetrics extends EngineMetrics {
  /** A vendor callback was answered; `result` is `accepted`, `duplicate` or the error code. */
  callback(vendor: string, result: string): void;
  /** Give to `observedFetch`: every provider HTTP call. */
  vendorCall: HttpObserver;
  /** The text format, with the database and queue gauges read now. */
  render(): Promise<string>;
}

export interface SignoffMetricsDeps {
  db: Queryable;
  queue: { sizes(): Promise<QueueSize[]> };
  version: string;
  /** A source (database, queue) could not be read at a scrape. */
  onError?: (source: string, error: unknown) => void;
  /** IM event connections (long connection, stream) whose lease this instance holds. */
  eventConnections?: () => { open: number; connecting: number };
}

const approvalKinds = ['native', ...imTypes];
const callbackVendors: ReadonlySet<string> = new Set(imTypes);

export function createSignoffMetrics(deps: SignoffMetricsDeps): SignoffMetrics {
  const registry = new Registry(deps.onError);

  registry
    .gauge('signoff_build_info', 'The running version of Signoff (always 1).', ['version'])
    .set({ version: deps.version }, 1);
  registry
    .gauge('process_start_time_seconds', 'When this process started, in seconds since the epoch.')
    .set({}, Math.round(Date.now() / 1000 - process.uptime()));
  const memory = registry.gauge('process_resident_memory_bytes', 'Resident memory of this process.');
  const cpu = registry.counter('process_cpu_seconds_total', 'CPU time (user and system) of this process.');

  const runs = registry.gauge('signoff_runs', 'Runs in the database by status.', ['status']);
  const waiting = registry.gauge(
    'signoff_approvals_waiting',
    'Approvals waiting for a decision, by kind (native, or the IM platform deciding it).',
    ['kind'],
  );
  const oldest = registry.gauge(
    'signoff_approvals_waiting_oldest_seconds',
    'How long the oldest waiting approval of each kind has waited.',
    ['kind'],
  );
  const outbox = registry.gauge(
    'signoff_notifications_pending',
    'Notifications stored and not yet delivered, failed or skipped (waiting, retrying or being sent), by channel.',
    ['channel'],
  );
  const queueJobs = registry.gauge(
    'signoff_queue_jobs',
    'Queue jobs by queue and state: due (may start now; a growing number means workers fall behind), scheduled (timers such as approval deadlines and retry backoff), active.',
    ['queue', 'state'],
  );
  const decisions = registry.histogram(
    'signoff_decision_latency_seconds',
    'From a decision arriving (API request, vendor event, reconcile poll) to its commit, by approval kind and source.',
    ['kind', 'source'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const callbacks = registry.counter(
    'signoff_callbacks_total',
    'Vendor HTTP callbacks answered, by vendor and result (accepted, duplicate, or the error code of a refusal).',
    ['vendor', 'result'],
  );
  const notifications = registry.counter(
    'signoff_notifications_total',
    'Notification delivery attempts by channel and result: delivered, failed (given up), skipped, retrying (a retryable failure), waiting (for a rate-limit slot or the card it updates).',
    ['channel', 'result'],
  );
  const vendorCalls = registry.counter(
    'signoff_vendor_api_calls_total',
    'HTTP calls to IM platforms and webhook receivers, by vendor.',
    ['vendor'],
  );
  const vendorErrors = registry.counter(
    'signoff_vendor_api_errors_total',
    "Failed vendor calls by vendor and code: the vendor's own error code, http_<status>, timeout or network.",
    ['vendor', 'code'],
  );
  const vendorDuration = registry.histogram(
    'signoff_vendor_api_call_duration_seconds',
    'Duration of vendor HTTP calls, by vendor.',
    ['vendor'],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  const eventConnections = registry.gauge(
    'signoff_event_connections_held',
    'IM event connections (Feishu/Lark long connection, DingTalk stream) this instance holds the lease of, by state: open, or connecting (opening, or waiting to retry). Summed over instances, open is the number of apps whose events arrive over a connection.',
    ['state'],
  );

  let cpuSeen = 0;
  registry.collect(
    'process',
    async () => {
      memory.set({}, process.memoryUsage.rss());
      const usage = process.cpuUsage();
      const total = (usage.user + usage.system) / 1e6;
      cpu.inc({}, total - cpuSeen);
      cpuSeen = total;
    },
    [memory],
    { report: false },
  );

  registry.collect('database', async () => {
    const [runRows, approvalRows, outboxRows] = await Promise.all([
      deps.db.query<{ status: string; count: string }>(
        'select status, count(*) as count from runs group by status',
      ),
      deps.db.query<{ kind: string; count: string; oldest: number | string }>(
        `select kind, count(*) as count, extract(epoch from now() - min(created_at))::float8 as oldest
           from approvals where status = 'pending' group by kind`,
      ),
      deps.db.query<{ channel: string; count: string }>(
        `select channel, count(*) as count from notifications where status in ('pending', 'sending')
           group by channel`,
      ),
    ]);
    // Every known status and kind, zero included, so a series does not vanish when it reaches zero.
    for (const status of runStatuses) runs.set({ status }, 0);
    for (const row of runRows) runs.set({ status: row.status }, Number(row.count));
    for (const kind of approvalKinds) {
      waiting.set({ kind }, 0);
      oldest.set({ kind }, 0);
    }
    for (const row of approvalRows) {
      waiting.set({ kind: row.kind }, Number(row.count));
      oldest.set({ kind: row.kind }, Math.max(0, Math.round(Number(row.oldest))));
    }
    for (const row of outboxRows) outbox.set({ channel: row.channel }, Number(row.count));
  }, [runs, waiting, oldest, outbox]);

  const heldConnections = deps.eventConnections;
  if (heldConnections)
    registry.collect(
      'event_connections',
      async () => {
        const { open, connecting } = heldConnections();
        eventConnections.set({ state: 'open' }, open);
        eventConnections.set({ state: 'connecting' }, connecting);
      },
      [eventConnections],
      { report: false },
    );

  registry.collect('queue', async () => {
    for (const size of await deps.queue.sizes()) {
      queueJobs.set({ queue: size.queue, state: 'due' }, size.due);
      queueJobs.set({ queue: size.queue, state: 'scheduled' }, size.scheduled);
      queueJobs.set({ queue: size.queue, state: 'active' }, size.active);
    }
  }, [queueJobs]);

  return {
    decided(kind, source, seconds) {
      decisions.observe({ kind, source }, seconds);
    },
    notification(channel, result) {
      notifications.inc({ channel, result });
    },
    callback(vendor, result) {
      callbacks.inc({ vendor: callbackVendors.has(vendor) ? vendor : 'unknown', result });
    },
    vendorCall(call) {
      vendorCalls.inc({ vendor: call.vendor });
      if (call.error !== undefined) vendorErrors.inc({ vendor: call.vendor, code: call.error });
      vendorDuration.observe({ vendor: call.vendor }, call.durationMs / 1000);
    },
    render: () => registry.render(),
  };
}
