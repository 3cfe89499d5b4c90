// Durability with a real server process on PGlite: SIGKILL it at the worst moments and start it again.
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RestartableServer, startServerProcess } from './server-process.js';
import { job, waitFor } from './stack.js';

const token = 'crash-test-admin-token-0123456789';
let server: RestartableServer;

async function runOf(id: number): Promise<any> {
  return (await server.call('GET', `/api/runs/${id}`)).body;
}

async function waitForJob(id: number, name: string, status: string): Promise<any> {
  return waitFor(
    async () => {
      const run = await runOf(id);
      return job(run, name).status === status ? run : undefined;
    },
    `${name} to be ${status}`,
    20_000,
  );
}

// Real processes (tsx start, SIGKILL, restart) take seconds each; on a loaded 2-core CI machine, more than 30.
describe('crash recovery (real process, PGlite)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    server = new RestartableServer('signoff-crash-', token, { SIGNOFF_LOG_LEVEL: 'info' });
    await server.start();
    const workflow = `
name: release
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [admin], timeout: 1h }
  - name: ship
    jobs:
      - name: deploy
        type: shell
        spec: { script: echo deployed }
`;
    expect((await server.call('POST', '/api/workflows', workflow)).status).toBe(201);
    const slow = `
name: slow
stages:
  - name: work
    jobs:
      - name: long
        type: shell
        spec: { script: "echo begun; sleep 3; echo never-seen" }
`;
    expect((await server.call('POST', '/api/workflows', slow)).status).toBe(201);
  });
  afterEach(() => server.startIfStopped());
  afterAll(() => server?.stop());

  it('keeps a pending approval across SIGKILL; deciding it after restart finishes the run', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/release/runs', {});
    await waitForJob(run.id, 'approve', 'waiting_for_approval');
    await server.kill('SIGKILL');
    await server.start();
    const after = await runOf(run.id);
    expect(after.status).toBe('waiting_for_approval');
    expect(job(after, 'approve').approval.status).toBe('pending');
    const decided = await server.call('POST', `/api/runs/${run.id}/jobs/approve/decision`, {
      decision: 'approve',
    });
    expect(decided.status).toBe(200);
    const done = await waitFor(async () => {
      const current = await runOf(run.id);
      return current.finished_at ? current : undefined;
    }, 'the run to end');
    expect(done.status).toBe('passed');
    expect(job(done, 'deploy').status).toBe('passed');
  });

  it('ends a shell job cut off by a crash as failed (interrupted), never re-running it', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/slow/runs', {});
    await waitFor(async () => {
      const logs = (await server.call('GET', `/api/runs/${run.id}/logs`)).body;
      return logs.chunks.some((chunk: any) => chunk.text.includes('begun'));
    }, 'the script to start');
    await server.kill('SIGKILL');
    await server.start();
    const done = await waitFor(async () => {
      const current = await runOf(run.id);
      return current.finished_at ? current : undefined;
    }, 'the run to end');
    expect(done.status).toBe('failed');
    expect(job(done, 'long')).toMatchObject({ status: 'failed' });
    expect(job(done, 'long').reason).toMatch(/^interrupted/);
    expect(job(done, 'long').attempts).toBe(1);
  });

  it('fires at start an approval deadline that passed while the server was down', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/release/runs', {});
    await waitForJob(run.id, 'approve', 'waiting_for_approval');
    await server.kill('SIGKILL');
    // While it is down, the deadline passes (moved into the past rather than waiting an hour).
    const db = new PGlite(join(server.dataDir, 'pg'));
    await db.query(`update approvals set deadline = now() - interval '1 minute' where run_id = $1`, [run.id]);
    await db.close();
    await server.start();
    const done = await waitFor(
      async () => {
        const current = await runOf(run.id);
        return current.finished_at ? current : undefined;
      },
      'the run to end',
      30_000,
    );
    expect(done.status).toBe('timeout');
    expect(job(done, 'approve').approval.status).toBe('timeout');
  });

  it('refuses a second server on the same data directory with a clear message', async () => {
    const second = startServerProcess(
      { SIGNOFF_DATA_DIR: server.dataDir, SIGNOFF_ADMIN_TOKEN: token },
      token,
    );
    await expect(second).rejects.toThrow(/Another Signoff server \(pid \d+\) is using the data directory/);
    // the first one is unharmed
    expect((await server.call('GET', '/api/runs?limit=1')).status).toBe(200);
  });
});
