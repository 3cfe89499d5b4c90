// The shared test stack: a real Signoff (engine, queue, HTTP app) on a real database. Every suite that
// uses it runs on PGlite, and also on PostgreSQL when TEST_DATABASE_URL is set (CI sets it), each test
// file in a schema of its own that is dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { type Config, readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { Fetch } from '../src/providers/http.js';
import { type Signoff, startSignoff } from '../src/server.js';
import { openDb, quoteIdent } from '../src/store/db.js';
import { apiRequest } from './api-request.js';

export const adminToken = 'test-admin-token-0123456789abcdef';

export type DatabaseKind = 'pglite' | 'postgres';

/** The databases this run tests on: always PGlite, PostgreSQL too when TEST_DATABASE_URL is set. */
export const databases: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestStack {
  /** The running server (a new one after `restart`). */
  readonly signoff: Signoff;
  kind: DatabaseKind;
  dataDir: string;
  /** Everything the server logged, for assertions (e.g. no secret ever appears). */
  logs: string[];
  /** Calls the API as the admin (or with `token`). Bodies that are strings are sent as YAML. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /**
   * Stops the server (the database stays), runs `whileDown`, and starts a new one on the same database
   * (and the same port when listening); `options` replace the reconcile poll intervals and settings
   * (e.g. a new `secretKey`) from then on.
   */
  restart(
    whileDown?: () => Promise<void>,
    options?: { approvalPolls?: { first: number; max: number }; config?: Partial<Config> },
  ): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(
  kind: DatabaseKind,
  options: {
    fetch?: Fetch;
    /** Also serve HTTP on a free loopback port (signoff.url). */
    listen?: boolean;
    /** Mount the vendor fakes at /sandbox with an IM app for each (ids `ima_sandbox_<type>`). */
    sandbox?: boolean;
    /** Reconcile poll intervals of vendor approvals (startSignoff's `approvalPolls`). */
    approvalPolls?: { first: number; max: number };
    /** Settings over the test defaults (e.g. `mail`, `language`). */
    config?: Partial<Config>;
  } = {},
): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-test-'));
  const logs: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  });
  const schema = kind === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const url = kind === 'postgres' ? process.env.TEST_DATABASE_URL! : 'memory://';
  const db = await openDb({ url, ...(schema ? { schema } : {}) });
  let config: Config = {
    ...readConfig({}),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: kind === 'postgres' ? url : undefined,
    adminToken,
    publicUrl: 'http://signoff.test',
    logLevel: 'debug',
    secrets: { hook_key: 'the-hook-signing-secret' },
    sandbox: options.sandbox ?? false,
    ...options.config,
  };
  const start = (port: number, approvalPolls = options.approvalPolls) =>
    startSignoff({
      config: { ...config, port },
      log,
      db,
      listen: options.listen ?? false,
      ...(schema ? { schema } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(approvalPolls ? { approvalPolls } : {}),
    });
  let signoff = await start(0);
  return {
    get signoff() {
      return signoff;
    },
    kind,
    dataDir,
    logs,
    async call(method, path, body, token = adminToken) {
      const { status, text } = await apiRequest(signoff.app, token, method, path, body);
      return { status, body: text ? JSON.parse(text) : undefined };
    },
    async restart(whileDown, restartOptions = {}) {
      const port = signoff.url ? Number(new URL(signoff.url).port) : 0;
      await signoff.close();
      await whileDown?.();
      if (restartOptions.config) config = { ...config, ...restartOptions.config };
      signoff = await start(port, restartOptions.approvalPolls ?? options.approvalPolls);
    },
    async close() {
      await signoff.close();
      await db.close();
      if (schema) await dropSchemas(url, [schema, `${schema}_boss`]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists ${quoteIdent(schema)} cascade`);
  } finally {
    await client.end();
  }
}

/** Waits until `check` returns a truthy value (polling the real system, never sleeping blindly). */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the run has ended and returns it. */
export async function waitForRun(stack: TestStack, runId: number, statuses?: string[]): Promise<any> {
  return waitFor(
    async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}`);
      const done = statuses ? statuses.includes(body.status) : body.finished_at !== null;
      return done ? body : undefined;
    },
    `run ${runId} to reach ${statuses?.join('/') ?? 'an end'}`,
  );
}

export function job(run: any, name: string): any {
  for (const stage of run.stages)
    for (const candidate of stage.jobs) if (candidate.name === name) return candidate;
  throw new Error(`run has no job ${name}`);
}
