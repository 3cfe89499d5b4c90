// SIGTERM on a real `signoff serve` (PGlite), the way an orchestrator stops it: the process exits 0 on its
// own, work in flight is finished or settled, nothing waiting is lost, and after a restart runs go on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RestartableServer } from './server-process.js';
import { job, waitFor } from './stack.js';

const token = 'shutdown-test-admin-token-0123456789';
let server: RestartableServer;

const runOf = async (id: number): Promise<any> => (await server.call('GET', `/api/runs/${id}`)).body;

async function ended(id: number): Promise<any> {
  return waitFor(
    async () => {
      const run = await runOf(id);
      return run.finished_at ? run : undefined;
    },
    `run ${id} to end`,
    20_000,
  );
}

async function logged(id: number, text: string): Promise<void> {
  await waitFor(async () => {
    const logs = (await server.call('GET', `/api/runs/${id}/logs`)).body;
    return logs.chunks.some((chunk: any) => chunk.text.includes(text));
  }, `"${text}" in the logs of run ${id}`);
}

// Real processes (tsx start, signals, restart) take seconds each; on a loaded 2-core CI machine, more than 30.
describe('graceful shutdown on SIGTERM (real process, PGlite)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    // SIGNOFF_SHUTDOWN_TIMEOUT=8: in-flight work gets 3 s, the process is gone within 8 s whatever happens.
    server = new RestartableServer('signoff-shutdown-', token, {
      SIGNOFF_LOG_LEVEL: 'info',
      SIGNOFF_SANDBOX: 'false',
      SIGNOFF_SHUTDOWN_TIMEOUT: '8',
    });
    await server.start();
    const workflows = [
      `
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
`,
      `
name: build
stages:
  - name: make
    jobs:
      - name: compile
        type: shell
        spec: { script: "echo begun; sleep 1.5; echo compiled" }
  - name: ship
    jobs:
      - name: deploy
        type: shell
        spec: { script: echo deployed }
`,
      `
name: endless
stages:
  - name: work
    jobs:
      - name: forever
        type: shell
        spec: { script: "echo begun; sleep 60; echo never-seen" }
`,
    ];
    for (const workflow of workflows)
      expect((await server.call('POST', '/api/workflows', workflow)).status).toBe(201);
  });
  afterEach(() => server.startIfStopped());
  afterAll(() => server?.stop());

  it('exits 0 while a run waits for an approval; after a restart the run goes on', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/release/runs', {});
    await waitFor(
      async () => job(await runOf(run.id), 'approve').status === 'waiting_for_approval',
      'the approval to wait',
    );
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    expect(await server.kill('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopping: taking no new work/);
    expect(server.output()).toMatch(/"msg":"stopped"/);

    await server.start();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const after = await runOf(run.id);
    expect(after.status).toBe('waiting_for_approval');
    expect(job(after, 'approve').approval.status).toBe('pending');
    const decided = await server.call('POST', `/api/runs/${run.id}/jobs/approve/decision`, {
      decision: 'approve',
    });
    expect(decided.status).toBe(200);
    const done = await ended(run.id);
    expect(done.status).toBe('passed');
    expect(job(done, 'deploy').status).toBe('passed');
  });

  it('lets a shell job in flight finish; the job after it runs once the server is back', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/build/runs', {});
    await logged(run.id, 'begun');
    expect(await server.kill('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/waiting for shell jobs running here to finish/);

    await server.start();
    const done = await ended(run.id);
    expect(done.status).toBe('passed');
    expect(job(done, 'compile')).toMatchObject({ status: 'passed', attempts: 1 });
    expect(job(done, 'deploy').status).toBe('passed');
    await logged(run.id, 'compiled');
  });

  it('ends a shell job that outlasts the grace period failed (interrupted), and still exits 0', async () => {
    const { body: run } = await server.call('POST', '/api/workflows/endless/runs', {});
    await logged(run.id, 'begun');
    expect(await server.kill('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/stopping a shell job: the server is shutting down/);

    await server.start();
    // Settled by the stopping server itself: already failed when the new one starts, never re-run.
    const done = await runOf(run.id);
    expect(done.status).toBe('failed');
    expect(job(done, 'forever')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job(done, 'forever').reason).toMatch(/^interrupted/);
    const logs = (await server.call('GET', `/api/runs/${run.id}/logs`)).body;
    expect(logs.chunks.map((chunk: any) => chunk.text).join('')).not.toContain('never-seen');
  });
});
