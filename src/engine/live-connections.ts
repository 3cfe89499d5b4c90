// Long-lived event connections for IM apps that do not take callbacks: Feishu/Lark `long_connection`
// (the official SDK's WSClient) and DingTalk `stream` (dingtalk-stream). Each event goes through the same
// recorder as an HTTP callback (dedup, last event time), then to the engine's decision path.
//
// With several instances on one database, exactly one holds each app's connection: the one holding the
// app's lease (store/leases.ts). Every instance looks every `renewMs`: the holder renews its leases, the
// others take over any that ran out. Why these figures (docs/operations.md, "Several instances"):
// - A holder that dies without a word (SIGKILL, a lost machine) leaves a lease that runs out at most
//   `ttlMs` after its last renewal; the next look of another instance takes it, at most `renewMs` later,
//   and connects: worst case ttl + renew + connecting = 8 + 2 s + about a second, inside the 15 s asked.
// - A graceful stop closes its connections and deletes its leases at once: another instance takes over
//   at its next look (≤ renewMs).
// - A holder that cannot renew (a paused process, a database it cannot reach) closes its connection
//   before its lease can run out by anyone's clock (`fenceMarginMs` early), so two instances never both
//   hold a connection for long. If they briefly do (a process paused past its term wakes with events
//   already read), the events are still recorded once: the callback recorder deduplicates by the
//   vendor's event id, and deciding an approval is idempotent.
// - Events sent while no connection is open are lost (Feishu) or redelivered later (DingTalk): whenever a
//   connection opens, `onConnected` makes the app's waiting approvals due for a reconcile poll at once.
// On the embedded database there is only ever one process (the data-directory lock), so it always holds.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { ImAppConfig, ImEvent } from '../providers/types.js';
import type { CallbackRecorder } from '../store/callback-recorder.js';
import type { Queryable } from '../store/db.js';
import type { ImAppConfigs } from '../store/im-app-configs.js';
import {
  type LeaseRow,
  listLeases,
  releaseLease,
  releaseLeasesOf,
  releaseOthersLeases,
  takeLease,
} from '../store/leases.js';

export interface LiveConnection {
  close(): Promise<void>;
  connected(): boolean;
}

export type Connector = ((
  config: ImAppConfig,
  options: { onEvent(event: ImEvent): Promise<void>; log: Logger },
) => Promise<LiveConnection>) & {
  /** Loads what connecting needs (the vendor SDK) ahead of time, so that a takeover does not wait for it. */
  prepare?: () => Promise<unknown>;
};

/** Which event mode of which platform holds a connection, and how it is opened. */
export type Connectors = Partial<Record<string, Connector>>;

export const connectorKey = (type: string, eventMode: string) => `${type}:${eventMode}`;

export interface LeaseTiming {
  /** A lease runs out this long after its holder last renewed it. */
  ttlMs: number;
  /** How often every instance looks: holders renew, the others take over leases that ran out. */
  renewMs: number;
  /** A holder that could not renew closes its connection this long before its lease can run out. */
  fenceMarginMs: number;
}

/** Worst-case takeover after a holder dies without releasing: ttl + renew + connecting ≈ 11 s. */
export const leaseTiming: LeaseTiming = { ttlMs: 8_000, renewMs: 2_000, fenceMarginMs: 1_000 };

export interface LiveConnectionsDeps {
  db: Queryable;
  configs: ImAppConfigs;
  recorder: CallbackRecorder;
  log: Logger;
  connectors: Connectors;
  /** This process in the lease table (the engine's instance id). */
  instanceId: string;
  /** The only process on its database (PGlite): leases of anyone else were left by a dead process. */
  exclusive?: boolean;
  /** A newly recorded event (not a duplicate): the engine looks at the approval it is about. */
  onEvent(appId: string, event: ImEvent): Promise<void>;
  /** A connection opened: events sent while none was open may be missing; look at the app's approvals. */
  onConnected?(appId: string): Promise<void>;
  timing?: LeaseTiming;
}

/** An app whose lease this instance holds, and its connection (opening, open, or waiting to retry). */
interface Holding {
  /** The app's settings this connection was opened with; a change reopens it. */
  version: string;
  connection: Promise<LiveConnection | undefined>;
  /** Set once the connection is open, until it is let go. */
  live: LiveConnection | undefined;
  attempt: number;
  retry: NodeJS.Timeout | undefined;
  /** Fires when the lease was not renewed in time: the connection closes (see `fenceMarginMs`). */
  fence: NodeJS.Timeout | undefined;
}

/** What this instance holds, for /metrics. */
export interface HeldCounts {
  /** Leases held with the connection open. */
  open: number;
  /** Leases held while the connection opens or waits to retry. */
  connecting: number;
}

export class LiveConnections {
  private readonly held = new Map<string, Holding>();
  /** Every lease in its term at the last look, for `isLive` about apps another instance holds. */
  private others = new Map<string, LeaseRow>();
  /** Apps changed through this instance's API since the last look: reopen even if their version did not move. */
  private readonly changed = new Set<string>();
  /** Connectors whose SDK has been loaded (or is loading). */
  private readonly prepared = new Set<string>();
  private readonly timing: LeaseTiming;
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private lookAgain = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: LiveConnectionsDeps) {
    this.timing = deps.timing ?? leaseTiming;
  }

  async start(): Promise<void> {
    if (this.deps.exclusive) await releaseOthersLeases(this.deps.db, this.deps.instanceId);
    await this.look();
    this.timer = setInterval(() => void this.look(), this.timing.renewMs);
    this.timer.unref();
  }

  /** After an app was added, changed or removed through this instance: look at it now. */
  refresh(appId: string): void {
    this.deps.configs.forget(appId);
    this.changed.add(appId);
    void this.look();
  }

  /** True while some instance has the app's connection up: events arrive, so polls may back off. */
  isLive(appId: string): boolean {
    const holding = this.held.get(appId);
    if (holding) return holding.live?.connected() ?? false;
    const lease = this.others.get(appId);
    return lease !== undefined && lease.holder !== this.deps.instanceId && lease.connected;
  }

  /** How many connections this instance holds. */
  counts(): HeldCounts {
    let open = 0;
    for (const holding of this.held.values()) if (holding.live?.connected()) open += 1;
    return { open, connecting: this.held.size - open };
  }

  /** Closes every connection this instance holds, then gives up its leases so another takes over now. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      clearInterval(this.timer);
      await this.looking?.catch(() => {});
      const all = [...this.held];
      this.held.clear();
      await Promise.all(all.map(([, holding]) => this.letGo(holding)));
      await releaseLeasesOf(this.deps.db, this.deps.instanceId).catch((error) =>
        this.deps.log.warn({ err: error }, 'could not give up the IM event connection leases'),
      );
      if (all.length > 0)
        this.deps.log.info(
          { instance: this.deps.instanceId, im_apps: all.map(([appId]) => appId) },
          'IM event connections closed and their leases given up',
        );
    })();
    return this.stopping;
  }

  /** One look at a time; a look asked for meanwhile runs right after the current one. */
  private look(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.looking) {
      this.lookAgain = true;
      return this.looking;
    }
    this.looking = (async () => {
      do {
        this.lookAgain = false;
        await this.reconcile().catch((error) =>
          this.deps.log.warn({ err: error }, 'IM event connections: the lease check failed; trying again'),
        );
      } while (this.lookAgain && !this.stopped);
    })().finally(() => {
      this.looking = undefined;
    });
    return this.looking;
  }

  private async reconcile(): Promise<void> {
    const apps = await this.deps.db.query<{
      id: string;
      type: string;
      event_mode: string;
      updated_at: Date;
    }>('select id, type, event_mode, updated_at from im_apps');
    const wanted = apps.filter((app) => this.deps.connectors[connectorKey(app.type, app.event_mode)]);
    for (const app of wanted) this.prepare(connectorKey(app.type, app.event_mode));
    await Promise.all(
      wanted.map((app) =>
        this.hold(app.id, `${app.type}:${app.event_mode}:${new Date(app.updated_at).toISOString()}`).catch(
          (error) =>
            this.deps.log.warn({ err: error, im_app: app.id }, 'IM event connection: lease check failed'),
        ),
      ),
    );
    const wantedIds = new Set(wanted.map((app) => app.id));
    for (const [appId, holding] of [...this.held]) {
      if (wantedIds.has(appId)) continue;
      // Removed, or switched to webhook or poll mode.
      this.held.delete(appId);
      await this.letGo(holding);
      await releaseLease(this.deps.db, appId, this.deps.instanceId);
      this.deps.log.info({ im_app: appId }, 'IM event connection closed: the app no longer uses one');
    }
    // Most servers have no app in these modes: one query every 2 s is all they pay.
    const leases = wanted.length > 0 ? await listLeases(this.deps.db) : [];
    this.others = new Map(leases.filter((lease) => lease.valid).map((lease) => [lease.im_app_id, lease]));
  }

  /**
   * Every instance loads the SDK of each connection some app needs, holder or not: importing the Feishu
   * SDK takes about a second on a busy machine, which a takeover would otherwise add to the gap.
   */
  private prepare(key: string): void {
    if (this.prepared.has(key)) return;
    this.prepared.add(key);
    void this.deps.connectors[key]?.prepare?.().catch((error) => {
      this.prepared.delete(key);
      this.deps.log.warn({ err: error, connector: key }, 'could not load an IM event connection SDK');
    });
  }

  /** Takes or renews the app's lease, and opens, keeps or reopens its connection accordingly. */
  private async hold(appId: string, version: string): Promise<void> {
    const changed = this.changed.delete(appId);
    const askedAt = performance.now();
    const before = this.held.get(appId);
    const taken = await takeLease(
      this.deps.db,
      appId,
      this.deps.instanceId,
      this.timing.ttlMs,
      before?.live?.connected() ?? false,
    );
    if (this.stopped) return;
    const holding = this.held.get(appId);
    if (!taken) {
      if (holding) {
        // Our term ran out (we were paused, or could not reach the database) and another took over.
        this.held.delete(appId);
        this.deps.log.warn({ im_app: appId }, 'IM event connection lease lost to another instance; closing');
        await this.letGo(holding);
      }
      return;
    }
    if (holding) {
      this.fenceAt(appId, holding, askedAt);
      if (holding.version === version && !changed) return;
      this.held.delete(appId);
      await this.letGo(holding);
    } else if (taken.previous) {
      this.deps.log.info(
        {
          im_app: appId,
          instance: this.deps.instanceId,
          previous_holder: taken.previous,
          expired_for_ms: taken.expiredForMs,
        },
        'took over the IM event connection of an instance whose lease ran out',
      );
    } else {
      this.deps.log.info({ im_app: appId, instance: this.deps.instanceId }, 'holds the IM event connection');
    }
    const next: Holding = {
      version,
      connection: Promise.resolve(undefined),
      live: undefined,
      attempt: 0,
      retry: undefined,
      fence: undefined,
    };
    this.held.set(appId, next);
    this.fenceAt(appId, next, askedAt);
    next.connection = this.connect(appId, next);
  }

  /** Our lease was renewed by a statement sent at `askedAt`: it lasts at least until askedAt + ttl. */
  private fenceAt(appId: string, holding: Holding, askedAt: number): void {
    clearTimeout(holding.fence);
    const inMs = askedAt + this.timing.ttlMs - this.timing.fenceMarginMs - performance.now();
    holding.fence = setTimeout(() => {
      if (this.held.get(appId) !== holding) return;
      this.held.delete(appId);
      this.deps.log.warn(
        { im_app: appId },
        'IM event connection lease could not be renewed in time; closing the connection so that another instance can hold it',
      );
      void this.letGo(holding);
    }, inMs);
    holding.fence.unref();
  }

  private async connect(appId: string, holding: Holding): Promise<LiveConnection | undefined> {
    const current = () => !this.stopped && this.held.get(appId) === holding;
    this.deps.configs.forget(appId);
    const resolved = await this.deps.configs.get(appId);
    const connector = resolved
      ? this.deps.connectors[connectorKey(resolved.record.type, resolved.record.event_mode)]
      : undefined;
    if (!resolved || !connector || !current()) return undefined;
    const log = this.deps.log.child({ im_app: appId, mode: resolved.record.event_mode });
    try {
      const connection = await connector(resolved.config, {
        log,
        onEvent: async (event) => {
          const recorded = await this.deps.recorder.record({ appId, event });
          if (recorded.stored) await this.deps.onEvent(appId, event);
        },
      });
      if (!current()) {
        // Let go of while it was opening (lease lost, app changed, stopping).
        await connection.close().catch(() => {});
        return undefined;
      }
      holding.live = connection;
      holding.attempt = 0;
      log.info({ instance: this.deps.instanceId }, 'IM event connection open');
      void this.deps
        .onConnected?.(appId)
        .catch((error) => log.warn({ err: error }, 'could not schedule the catch-up polls after connecting'));
      return connection;
    } catch (error) {
      // Try again later (30 s, doubling to 5 min) while we still hold it; polls cover the gap.
      const delayMs = Math.min(300_000, 30_000 * 2 ** holding.attempt);
      holding.attempt += 1;
      log.error(
        { err: error, retry_in_ms: delayMs },
        'IM event connection failed; reconcile polls cover this app',
      );
      if (current()) {
        holding.retry = setTimeout(() => {
          if (current()) holding.connection = this.connect(appId, holding);
        }, delayMs);
        holding.retry.unref();
      }
      return undefined;
    }
  }

  /** Closes the connection of a holding already taken out of `held`. */
  private async letGo(holding: Holding): Promise<void> {
    clearTimeout(holding.fence);
    clearTimeout(holding.retry);
    holding.live = undefined;
    const connection = await holding.connection.catch(() => undefined);
    await connection?.close().catch(() => {});
  }
}
