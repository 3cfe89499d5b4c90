// Several real `signoff serve` processes on one database, behind a small round-robin load balancer that
// runs in this process: what an operator runs when one server is not enough. The load balancer's URL is the
// instances' SIGNOFF_PUBLIC_URL, so API calls and vendor callbacks alike spread over the instances; an
// instance that is down is skipped, and the harness can SIGKILL an instance and start it again.
//
// Each cluster gets a fresh PostgreSQL *database* (not only a schema): the instances' tables and pg-boss's
// own schema both live in it, so nothing is shared with other test files, and dropping it leaves the server
// clean. (`signoff serve` has no schema setting; a database is what an operator would give it.) PGlite is
// supported for one instance only (its data directory is locked), as the benchmarks' baseline.
//
// The processes run from source (`node --import tsx src/cli/main.ts serve`, as test/server-process.ts does)
// or, for the benchmarks, from the compiled dist (`node bin/signoff.js serve`, after `npm run build`).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent } from '../src/store/db.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export type ClusterDatabase = { kind: 'postgres'; url: string } | { kind: 'pglite' };

export interface ClusterOptions {
  instances: number;
  /** `postgres`: a server URL; the cluster creates a database of its own on it and drops it at close. */
  database: ClusterDatabase;
  /** `source` (tsx, the code as it stands; default) or `dist` (compiled: starts about 3× faster). */
  entry?: 'source' | 'dist';
  /** More environment for every instance (e.g. SIGNOFF_LOG_LEVEL). */
  env?: Record<string, string>;
  /** Keep each instance's output here (one file per start); default a temporary directory, removed at close. */
  logDir?: string;
  /** Directory for each instance's data (workspaces); default a temporary one. */
  dataDir?: string;
}

export interface ClusterInstance {
  index: number;
  /** `up` once its /readyz answered 200; `down` from the moment it is killed or exits. */
  state: 'starting' | 'up' | 'down';
  /** Where it listens now (a new port at every start). */
  url: string | undefined;
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** How many times it was started, and killed with SIGKILL. */
  starts: number;
  kills: number;
  /** The current start's log file. */
  logFile: string | undefined;
}

export interface BalancerStats {
  /** Requests answered by each instance. */
  served: number[];
  /**
   * Requests sent again because they never reached the chosen instance: it refused the connection (it was
   * down), or closed the kept-alive connection as idle just then.
   */
  rerouted: number;
  /** Requests cut off because their instance died while handling them (answered 502). */
  cutOff: number;
  /** Requests answered 503 because no instance was up. */
  unavailable: number;
}

export interface Cluster {
  /** The load balancer: the instances' public URL. */
  url: string;
  /** The database the instances share (postgres), for assertions that read it directly. */
  databaseUrl: string | undefined;
  token: string;
  instances: ClusterInstance[];
  balancer: BalancerStats;
  /** Calls the API through the load balancer as the admin; a string body is sent as YAML. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Starts instance `index` (again); resolves when it is ready. */
  start(index: number): Promise<ClusterInstance>;
  /** SIGKILL: no shutdown at all, as a crash or an OOM kill. Resolves when the process is gone. */
  kill(index: number): Promise<void>;
  /** Indexes of the instances that are up. */
  up(): number[];
  /**
   * SIGTERM to every instance (the graceful stop), the load balancer closed, the database dropped (kept
   * with `keepDatabase`, for a failure to be looked into).
   */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** Hop-by-hop headers: they describe one connection, not the request, and are not forwarded. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name.toLowerCase())));
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.database.kind === 'pglite' && options.instances !== 1)
    throw new Error('PGlite serves one instance only (its data directory is locked)');
  const token = `cluster-admin-${randomBytes(12).toString('hex')}`;
  const secretKey = randomBytes(32).toString('hex');
  const ownLogDir = !options.logDir;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'signoff-cluster-logs-'));
  mkdirSync(logDir, { recursive: true });
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'signoff-cluster-data-'));

  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (options.database.kind === 'postgres') {
    const created = await createDatabase(options.database.url);
    databaseUrl = created.url;
    dropDatabase = created.drop;
  }

  const instances: ClusterInstance[] = Array.from({ length: options.instances }, (_, index) => ({
    index,
    state: 'down',
    url: undefined,
    child: undefined,
    pid: undefined,
    starts: 0,
    kills: 0,
    logFile: undefined,
  }));
  /** One keep-alive agent per start of an instance: a new process never inherits a dead one's sockets. */
  const agents = new Map<number, http.Agent>();
  const balancer: BalancerStats = {
    served: instances.map(() => 0),
    rerouted: 0,
    cutOff: 0,
    unavailable: 0,
  };

  // ---- the load balancer ----------------------------------------------------------------------------
  let next = 0;
  const forward = (
    instance: ClusterInstance,
    request: http.IncomingMessage,
    body: Buffer,
  ): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const target = new URL(request.url ?? '/', instance.url);
      const upstream = http.request(
        target,
        {
          method: request.method,
          headers: { ...forwardable(request.headers), 'content-length': String(body.length) },
          agent: agents.get(instance.pid ?? -1),
        },
        resolve,
      );
      upstream.once('error', (error) =>
        reject(Object.assign(error, { reusedSocket: upstream.reusedSocket })),
      );
      upstream.end(body);
    });
  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const tried = new Set<number>();
    for (let sends = 0; ; sends++) {
      const live = instances.filter((instance) => instance.state === 'up' && !tried.has(instance.index));
      if (live.length === 0 || sends >= 10) {
        balancer.unavailable++;
        response.writeHead(503, { 'content-type': 'text/plain' }).end('no Signoff instance could take it');
        return;
      }
      const instance = live[next++ % live.length]!;
      tried.add(instance.index);
      let answer: http.IncomingMessage;
      try {
        answer = await forward(instance, request, body);
      } catch (error) {
        // Refused: the request never reached a server, so another may take it. A reset on a kept-alive
        // connection of an instance that is still up: the server closed it as idle just as the request went
        // out (Node's documented race), so it never saw the request either. Anything else (a reset by an
        // instance that was killed) may have happened after the server acted: not safe to repeat, so the
        // client is told.
        const { code } = error as NodeJS.ErrnoException;
        const idleClose =
          code === 'ECONNRESET' &&
          (error as { reusedSocket?: boolean }).reusedSocket &&
          instance.state === 'up';
        if (code === 'ECONNREFUSED' || idleClose) {
          if (idleClose) tried.delete(instance.index);
          balancer.rerouted++;
          continue;
        }
        balancer.cutOff++;
        if (!response.headersSent)
          response
            .writeHead(502, { 'content-type': 'text/plain' })
            .end(`instance ${instance.index} went away: ${(error as Error).message}`);
        return;
      }
      balancer.served[instance.index]!++;
      response.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(response);
      answer.once('error', () => response.destroy());
      return;
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ---- the instances ----------------------------------------------------------------------------------
  const exited = new Map<number, Promise<void>>();
  const start = async (index: number): Promise<ClusterInstance> => {
    const instance = instances[index]!;
    if (instance.state !== 'down') throw new Error(`instance ${index} is ${instance.state}`);
    instance.state = 'starting';
    instance.starts++;
    instance.url = undefined;
    const instanceDir = join(dataDir, `instance-${index}`);
    const args =
      options.entry === 'dist'
        ? ['bin/signoff.js', 'serve']
        : ['--import', 'tsx', 'src/cli/main.ts', 'serve'];
    // A port chosen here (rather than PORT=0 and the "ready" log line) so that readiness is seen through
    // /readyz whatever the log level.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        SIGNOFF_DATA_DIR: instanceDir,
        SIGNOFF_ADMIN_TOKEN: token,
        SIGNOFF_SECRET_KEY: secretKey,
        SIGNOFF_PUBLIC_URL: url,
        SIGNOFF_SANDBOX: 'false',
        SIGNOFF_LOG_LEVEL: 'info',
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    instance.child = child;
    instance.pid = child.pid;
    const logFile = join(logDir, `instance-${index}-start-${instance.starts}-pid-${child.pid}.log`);
    instance.logFile = logFile;
    const log: WriteStream = createWriteStream(logFile);
    let head = '';
    // Keep draining both pipes: a full pipe would block the server's synchronous log writes.
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      if (head.length < 20_000) head += chunk.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let gone = false;
    exited.set(
      child.pid ?? -1,
      new Promise<void>((resolve) =>
        child.once('exit', () => {
          gone = true;
          if (instance.child === child) instance.state = 'down';
          agents.get(child.pid ?? -1)?.destroy();
          agents.delete(child.pid ?? -1);
          log.end();
          resolve();
        }),
      ),
    );
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (gone) throw new Error(`instance ${index} exited before it was ready (log: ${logFile}):\n${head}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`instance ${index} was not ready within ${startTimeoutMs} ms (log: ${logFile})`);
      }
      const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) })
        .then(async (answer) => {
          await answer.text();
          return answer.ok;
        })
        .catch(() => false);
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (gone || instance.child !== child)
      throw new Error(`instance ${index} went away as it became ready (log: ${logFile})`);
    agents.set(child.pid ?? -1, new http.Agent({ keepAlive: true, maxSockets: 32 }));
    instance.url = base;
    instance.state = 'up';
    return instance;
  };

  const kill = async (index: number): Promise<void> => {
    const instance = instances[index]!;
    const child = instance.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Out of the rotation first, so that only requests already with it are cut off.
    instance.state = 'down';
    instance.kills++;
    child.kill('SIGKILL');
    await exited.get(child.pid ?? -1);
  };

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined
          ? {}
          : { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' }),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // The load balancer's own 502/503 answers are plain text.
    }
    return { status: response.status, body: parsed as any };
  };

  const cluster: Cluster = {
    url,
    databaseUrl,
    token,
    instances,
    balancer,
    call,
    start,
    kill,
    up: () => instances.filter((instance) => instance.state === 'up').map((instance) => instance.index),
    async close(closeOptions = {}) {
      await Promise.all(
        instances.map(async (instance) => {
          const child = instance.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return;
          instance.state = 'down';
          child.kill('SIGTERM');
          const stopped = exited.get(child.pid ?? -1);
          const late = setTimeout(() => child.kill('SIGKILL'), 20_000);
          await stopped;
          clearTimeout(late);
        }),
      );
      for (const agent of agents.values()) agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!closeOptions.keepDatabase) await dropDatabase?.();
      if (ownLogDir) rmSync(logDir, { recursive: true, force: true });
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    // The first start migrates the database; the others find it done (migrations take an advisory lock,
    // so starting them together would also work, but in turn each start gets the CPU to itself).
    await start(0);
    await Promise.all(instances.slice(1).map((instance) => start(instance.index)));
  } catch (error) {
    await cluster.close().catch(() => {});
    throw error;
  }
  return cluster;
}

/** How long a start may take (a busy 2-core machine starting from source takes 5–10 s). */
const startTimeoutMs = 60_000;

/** A port nobody listens on now (the instance binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A new, empty database on the server at `serverUrl`; `drop` removes it (closing what still uses it). */
export async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `signoff_cluster_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${quoteIdent(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`drop database if exists ${quoteIdent(name)} with (force)`),
  };
}
