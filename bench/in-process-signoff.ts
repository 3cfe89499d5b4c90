// A real Signoff in this process, the way `signoff serve` wires it (PGlite in a data directory on disk, the
// queue, the engine), minus the socket: benchmarks call the HTTP app with `app.request`, so they measure
// routing, auth, validation, the engine and the database, but not loopback TCP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { Fetch } from '../src/providers/http.js';
import { type Signoff, startSignoff } from '../src/server.js';
import { apiRequest } from '../test/api-request.js';

export const benchToken = 'bench-admin-token-0123456789abcdef';

export interface BenchSignoff {
  signoff: Signoff;
  dataDir: string;
  /** Calls the API as the admin; a string body is sent as YAML. Throws unless the status is `expect`. */
  call(method: string, path: string, body?: unknown, expect?: number): Promise<any>;
  close(): Promise<void>;
}

export interface BenchSignoffOptions {
  sandbox?: boolean;
  approvalPolls?: { first: number; max: number };
  fetch?: Fetch;
}

export async function startBenchSignoff(options: BenchSignoffOptions = {}): Promise<BenchSignoff> {
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bench-'));
  let signoff: Signoff;
  try {
    // Through readConfig, like `signoff serve`: every setting not named here keeps the default a user gets.
    const config = readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SIGNOFF_DATA_DIR: dataDir,
      SIGNOFF_ADMIN_TOKEN: benchToken,
      SIGNOFF_PUBLIC_URL: 'http://signoff.bench',
      SIGNOFF_LOG_LEVEL: 'silent',
      ...(options.sandbox ? { SIGNOFF_SANDBOX: '1' } : {}),
    });
    signoff = await startSignoff({
      config,
      log: createLogger({ level: config.logLevel }),
      listen: false,
      ...(options.approvalPolls ? { approvalPolls: options.approvalPolls } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    signoff,
    dataDir,
    async call(method, path, body, expect) {
      const { status, text } = await apiRequest(signoff.app, benchToken, method, path, body);
      const expected =
        expect ?? (method === 'POST' && /\/runs$|\/workflows$|\/im-apps$/.test(path) ? 201 : 200);
      if (status !== expected) {
        throw new Error(`${method} ${path} answered ${status} (expected ${expected}): ${text}`);
      }
      return text ? JSON.parse(text) : undefined;
    },
    async close() {
      try {
        await signoff.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Polls `check` (a real API read) until it returns a value; `what` names it in the timeout error. */
export async function poll<T>(
  check: () => Promise<T | undefined>,
  what: string,
  { intervalMs = 2, timeoutMs = 20_000 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The benchmark workflow: a native approval by the admin, then a shell job `true`. */
export function approvalThenShell(name: string): string {
  return `
name: ${name}
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [admin], timeout: 2h }
  - name: ship
    jobs:
      - name: deploy
        type: shell
        spec: { script: "true" }
`;
}

export function jobOf(run: any, name: string): any {
  for (const stage of run.stages) for (const job of stage.jobs) if (job.name === name) return job;
  throw new Error(`run ${run.id} has no job ${name}`);
}
