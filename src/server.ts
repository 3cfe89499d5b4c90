// Wires everything together: database (PGlite or PostgreSQL), migrations, the first admin, the queue,
// the engine and the HTTP app. `startSignoff` is what `signoff serve` and the tests call.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type Api, createApp } from './api/app.js';
import { callbackFront } from './api/callback-front.js';
import type { Config } from './config.js';
import { approvalApps } from './engine/approval-apps.js';
import { Engine } from './engine/engine.js';
import { eventConnectors } from './engine/event-connectors.js';
import { LiveConnections } from './engine/live-connections.js';
import { type Queue, startQueue } from './engine/queue.js';
import type { Logger } from './log.js';
import { createSignoffMetrics, type SignoffMetrics } from './metrics/signoff-metrics.js';
import { channelSenders } from './notifications/channels/index.js';
import { createMailer } from './notifications/channels/mail.js';
import { ImClients } from './providers/clients.js';
import { type Fetch, observedFetch } from './providers/http.js';
import { localFetch } from './sandbox/local-fetch.js';
import { mountSandbox, registerSandboxApps, removeSandboxApps } from './sandbox/sandbox.js';
import { createSandboxVendors, type SandboxVendor } from './sandbox/vendors.js';
import { bootstrapAdmin } from './store/bootstrap.js';
import { CallbackRecorder } from './store/callback-recorder.js';
import { type DataDirLock, lockDataDir } from './store/data-dir-lock.js';
import { type Db, openDb } from './store/db.js';
import { ImAppConfigs } from './store/im-app-configs.js';
import { pruneReplays } from './store/im-apps.js';
import { migrate } from './store/migrate.js';
import { databaseRateLimiter } from './store/rate-log.js';
import { createSecretBox, loadMasterKey } from './store/secret-box.js';
import { pollAppNow } from './store/vendor-approvals.js';
import { databaseTokenStore } from './store/vendor-tokens.js';

export interface StartOptions {
  config: Config;
  log: Logger;
  /** Listen on HTTP (serve) or not (tests that use app.request). */
  listen?: boolean;
  /** PostgreSQL schema for our tables (tests isolate each file in its own). */
  schema?: string;
  /** Use this database instead of opening one (tests). */
  db?: Db;
  fetch?: Fetch;
  /** Told the generated admin token once, at first start. */
  onAdminToken?: (token: string) => void;
  pollingIntervalSeconds?: number;
  /** Reconcile polls of vendor approvals (tests shorten them); default 10 s rising to 5 min. */
  approvalPolls?: { first: number; max: number };
}

export interface Signoff {
  app: Api;
  db: Db;
  engine: Engine;
  queue: Queue;
  metrics: SignoffMetrics;
  /** The address it listens on, when listening. */
  url: string | undefined;
  /** The sandbox's vendor fakes, when the sandbox is on (tests play the vendor through them). */
  sandbox: SandboxVendor[] | undefined;
  /**
   * Graceful stop; calling it again returns the same promise. At once: /readyz answers 503, the HTTP
   * server takes no new connections, the queue fetches no new jobs, the engine starts nothing new, long
   * connections close. Then in-flight requests, queue handlers, shell jobs and sends get until `graceMs`
   * (default 10 s) to finish; after that, open connections are cut, shell jobs still running end failed
   * (interrupted) and queue jobs still active are handed back to the queue (retried). Last, the database.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** How long in-flight work may take to finish when `close` is not told. */
export const defaultGraceMs = 10_000;

export const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export async function startSignoff(options: StartOptions): Promise<Signoff> {
  const { config, log } = options;
  const embedded = !config.databaseUrl && !options.db;
  const lock: DataDirLock | undefined = embedded ? lockDataDir(config.dataDir) : undefined;
  const shutdown = { draining: false, deadline: Number.POSITIVE_INFINITY };
  /** What is left of the grace period. */
  const left = () => Math.max(0, shutdown.deadline - Date.now());
  /** Stop taking new work: all at once, when a shutdown begins. */
  const drain: (() => Promise<void> | void)[] = [];
  /** Then wait (within the grace period) and close, in the reverse order of starting. */
  const cleanup: (() => Promise<void> | void)[] = [() => lock?.release()];
  let closing: Promise<void> | undefined;
  const close = (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      shutdown.draining = true;
      shutdown.deadline = Date.now() + (closeOptions.graceMs ?? defaultGraceMs);
      await Promise.allSettled(drain.map(async (step) => step()));
      let failure: unknown;
      for (const step of cleanup.reverse()) {
        try {
          await step();
        } catch (error) {
          // Go on closing the rest (the data-directory lock last); report the first failure.
          log.error({ err: error }, 'a step of stopping failed');
          failure ??= error;
        }
      }
      if (failure) throw failure;
    })();
    return closing;
  };
  try {
    const db =
      options.db ??
      (await openDb({
        url: config.databaseUrl ?? join(config.dataDir, 'pg'),
        ...(options.schema ? { schema: options.schema } : {}),
      }));
    if (!options.db) cleanup.push(() => db.close());
    const applied = await migrate(db);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');

    const { generatedToken } = await bootstrapAdmin(db, config.adminToken);
    if (generatedToken) options.onAdminToken?.(generatedToken);

    const queue = await startQueue({
      db,
      connectionString: db.kind === 'postgres' ? config.databaseUrl : undefined,
      schema: options.schema ? `${options.schema}_boss` : 'pgboss',
      onError: (error) => log.error({ err: error }, 'queue error'),
      ...(options.pollingIntervalSeconds ? { pollingIntervalSeconds: options.pollingIntervalSeconds } : {}),
    });
    drain.push(() => queue.drain());
    cleanup.push(() => queue.stop(left()));

    const instanceId = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const metrics = createSignoffMetrics({
      db,
      queue,
      version,
      // Made below; read only at a scrape, once the server has started.
      eventConnections: () => liveConnections.counts(),
      onError: (source, error) => log.warn({ err: error, source }, 'metrics: a source could not be read'),
    });

    // Calls to our own public URL (sandbox fakes, our callbacks) are served in-process. Every provider
    // call is counted (the observer travels with the fetch; providers import nothing for it).
    let appRef: Api | undefined;
    const outbound = observedFetch(
      localFetch(config.publicUrl, () => appRef!, options.fetch ?? fetch),
      metrics.vendorCall,
    );
    const sandbox = config.sandbox ? createSandboxVendors({ callbackFetch: outbound }) : undefined;

    const secretBox = createSecretBox(loadMasterKey(config.secretKey, config.dataDir));
    // Several instances may share a PostgreSQL database: vendor tokens and the vendor API rate limits are
    // kept in it, so N instances ask for one token per app and together stay within each vendor's limits.
    // On PGlite this process is the only one (the data-directory lock): the limiter stays in memory.
    const shared = db.kind === 'postgres';
    const imClients = new ImClients({
      fetch: outbound,
      tokens: databaseTokenStore(db, secretBox, { shared }),
      ...(shared ? { limiter: databaseRateLimiter(db) } : {}),
    });
    const imAppConfigs = new ImAppConfigs(db, secretBox);
    const callbackRecorder = new CallbackRecorder(db);
    const liveConnections = new LiveConnections({
      db,
      configs: imAppConfigs,
      recorder: callbackRecorder,
      log,
      connectors: eventConnectors,
      instanceId,
      exclusive: !shared,
      // The engine is made just below; events only flow once `start()` has run.
      onEvent: (appId, event): Promise<void> => engine.vendorEvent(appId, event, performance.now()),
      onConnected: async (appId) => {
        await pollAppNow(db, appId);
      },
    });
    const imApps = approvalApps({ db, configs: imAppConfigs, clients: imClients });
    const mailer = config.mail ? createMailer(config.mail) : undefined;
    if (mailer) cleanup.push(async () => mailer.close());
    const engine: Engine = new Engine({
      db,
      queue,
      log,
      instanceId,
      publicUrl: config.publicUrl,
      workspaceDir: join(config.dataDir, 'workspaces'),
      exclusive: db.kind === 'pglite',
      secrets: config.secrets,
      fetch: outbound,
      approvalApps: imApps,
      notifications: {
        secretBox,
        senders: channelSenders({ fetch: outbound, apps: imApps, mailer, now: Date.now }),
        language: config.language,
      },
      liveEvents: (appId): boolean => liveConnections.isLive(appId),
      metrics,
      ...(options.approvalPolls ? { approvalPolls: options.approvalPolls } : {}),
    });
    await engine.start();
    drain.push(() => engine.drain());
    cleanup.push(() => engine.stop(left()));

    const app = createApp({
      db,
      engine,
      log,
      publicUrl: config.publicUrl,
      version,
      secretBox,
      imClients,
      imAppConfigs,
      callbackRecorder,
      // Every recorded event may be a decision: look at the approval it is about, after answering.
      callbackEvents: (appId, event, receivedAt) => {
        void engine
          .vendorEvent(appId, event, receivedAt)
          .catch((error) => log.warn({ err: error, im_app: appId }, 'approval sync after an event failed'));
      },
      sandbox: sandbox !== undefined,
      imAppChanged: (appId) => liveConnections.refresh(appId),
      queue,
      draining: () => shutdown.draining,
      metrics,
      metricsToken: config.metricsToken,
    });
    // Replay keys only matter inside the 5-minute timestamp window.
    const pruning = setInterval(() => void pruneReplays(db, 10 * 60_000).catch(() => {}), 60_000);
    pruning.unref();
    cleanup.push(() => clearInterval(pruning));
    appRef = app;
    await liveConnections.start();
    // Closed as the shutdown begins, so that (with several instances) another can hold them.
    drain.push(() => liveConnections.stop());
    cleanup.push(() => liveConnections.stop());
    if (sandbox) {
      mountSandbox(app, sandbox);
      await registerSandboxApps(sandbox, { db, secretBox, publicUrl: config.publicUrl, log });
    } else {
      await removeSandboxApps(db);
    }
    let url: string | undefined;
    if (options.listen !== false) {
      const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
        // Vendor callbacks are served by a lean front before Hono (the same handler; see callback-front.ts).
        const instance = serve(
          {
            fetch: app.fetch,
            port: config.port,
            hostname: config.host,
            createServer: callbackFront(app),
          },
          () => resolveServer(instance),
        );
        instance.once('error', reject);
      });
      const address = server.address() as AddressInfo;
      url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${address.port}`;
      const http = server as HttpServer;
      let closed: Promise<void> | undefined;
      // No new connections; idle keep-alive ones close now, busy ones once their request is answered
      // (a keep-alive connection would otherwise stay open, idle, until its timeout).
      const stopListening = () => {
        if (!closed) {
          closed = new Promise<void>((resolveClose) => http.close(() => resolveClose()));
          http.prependListener('request', (_request, response) => response.setHeader('connection', 'close'));
          const sweeper = setInterval(() => http.closeIdleConnections(), 100);
          sweeper.unref();
          void closed.finally(() => clearInterval(sweeper));
        }
        http.closeIdleConnections();
        return closed;
      };
      drain.push(() => {
        void stopListening();
      });
      cleanup.push(async () => {
        const done = stopListening();
        let timer: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          done.then(() => true),
          new Promise<boolean>((resolveLate) => {
            timer = setTimeout(() => resolveLate(false), left());
          }),
        ]);
        clearTimeout(timer);
        if (!inTime)
          log.warn('requests still open at the end of the grace period: closing their connections');
        http.closeAllConnections();
        await done;
      });
    }
    return { app, db, engine, queue, metrics, url, sandbox, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
