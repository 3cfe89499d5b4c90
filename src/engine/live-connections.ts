// Long-lived event connections for IM apps that do not take callbacks: Feishu/Lark `long_connection`
// (the official SDK's WSClient) and DingTalk `stream` (dingtalk-stream). Each event goes through the same
// recorder as an HTTP callback (dedup, last event time), then to the engine's decision path.
// One connection per app in this process; holding it on exactly one of several instances is issue 8's job.
import type { Logger } from '../log.js';
import type { ImAppConfig, ImEvent } from '../providers/types.js';
import type { CallbackRecorder } from '../store/callback-recorder.js';
import type { Queryable } from '../store/db.js';
import type { ImAppConfigs } from '../store/im-app-configs.js';
import { listImApps } from '../store/im-apps.js';

export interface LiveConnection {
  close(): Promise<void>;
  connected(): boolean;
}

export type Connector = (
  config: ImAppConfig,
  options: { onEvent(event: ImEvent): Promise<void>; log: Logger },
) => Promise<LiveConnection>;

/** Which event mode of which platform holds a connection, and how it is opened. */
export type Connectors = Partial<Record<string, Connector>>;

export const connectorKey = (type: string, eventMode: string) => `${type}:${eventMode}`;

export interface LiveConnectionsDeps {
  db: Queryable;
  configs: ImAppConfigs;
  recorder: CallbackRecorder;
  log: Logger;
  connectors: Connectors;
  /** A newly recorded event (not a duplicate): the engine looks at the approval it is about. */
  onEvent(appId: string, event: ImEvent): Promise<void>;
}

export class LiveConnections {
  private readonly open = new Map<string, Promise<LiveConnection | undefined>>();
  /** Connections that are open now, for `isLive`. */
  private readonly live = new Map<string, LiveConnection>();
  private stopped = false;

  constructor(private readonly deps: LiveConnectionsDeps) {}

  async start(): Promise<void> {
    for (const app of await listImApps(this.deps.db)) this.refresh(app.id);
  }

  /** After an app was added, changed or removed: (re)connect it as its current settings say. */
  refresh(appId: string, attempt = 0): void {
    const previous = this.open.get(appId);
    const next = (async () => {
      this.live.delete(appId);
      await (await previous?.catch(() => undefined))?.close().catch(() => {});
      if (this.stopped) return undefined;
      this.deps.configs.forget(appId);
      const resolved = await this.deps.configs.get(appId);
      const connector = resolved
        ? this.deps.connectors[connectorKey(resolved.record.type, resolved.record.event_mode)]
        : undefined;
      if (!resolved || !connector) return undefined;
      const log = this.deps.log.child({ im_app: appId, mode: resolved.record.event_mode });
      try {
        const connection = await connector(resolved.config, {
          log,
          onEvent: async (event) => {
            const recorded = await this.deps.recorder.record({ appId, event });
            if (recorded.stored) await this.deps.onEvent(appId, event);
          },
        });
        this.live.set(appId, connection);
        log.info('IM event connection open');
        return connection;
      } catch (error) {
        // Try again later (30 s, doubling to 5 min) unless the app changed meanwhile; polls cover the gap.
        const delayMs = Math.min(300_000, 30_000 * 2 ** attempt);
        log.error(
          { err: error, retry_in_ms: delayMs },
          'IM event connection failed; reconcile polls cover this app',
        );
        setTimeout(() => {
          if (!this.stopped && this.open.get(appId) === next) this.refresh(appId, attempt + 1);
        }, delayMs).unref();
        return undefined;
      }
    })();
    this.open.set(appId, next);
  }

  /** True while an app's connection is up: events arrive, so polls may back off. */
  isLive(appId: string): boolean {
    return this.live.get(appId)?.connected() ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.live.clear();
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map(async (pending) => (await pending.catch(() => undefined))?.close()));
  }
}
