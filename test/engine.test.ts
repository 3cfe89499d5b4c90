// Engine semantics through the API, on every test database: stage order, parallel jobs, failure stops
// later stages, N-of-M approvals, reject, timeout with each outcome, cancel, params and templating.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

describe.each(databases)('engine on %s', (kind) => {
  let stack: TestStack;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startStack(kind);
    for (const name of ['alice', 'bob', 'carol']) {
      const { status, body } = await stack.call('POST', '/api/users', { name, email: `${name}@example.com` });
      expect(status).toBe(201);
      tokens[name] = body.token;
    }
  });
  afterAll(async () => stack?.close());

  async function apply(yaml: string): Promise<void> {
    const { status, body } = await stack.call('POST', '/api/workflows', yaml);
    expect(status, JSON.stringify(body)).toBeLessThan(300);
  }

  async function start(workflow: string, params: Record<string, string> = {}): Promise<number> {
    const { status, body } = await stack.call('POST', `/api/workflows/${workflow}/runs`, { params });
    expect(status, JSON.stringify(body)).toBe(201);
    return body.id;
  }

  async function logsOf(runId: number, jobName: string): Promise<string> {
    const { body } = await stack.call('GET', `/api/runs/${runId}/logs?job=${jobName}`);
    return body.chunks.map((chunk: { text: string }) => chunk.text).join('');
  }

  async function waitForJob(runId: number, name: string, status: string): Promise<any> {
    return waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}`);
      return job(body, name).status === status ? body : undefined;
    }, `${name} to be ${status}`);
  }

  it('numbers runs of one workflow started at the same moment one after another', async () => {
    await apply(`
name: numbered
stages:
  - name: only
    jobs:
      - name: a
        type: shell
        spec: { script: "true" }
`);
    const started = await Promise.all(
      Array.from({ length: 8 }, () => stack.call('POST', '/api/workflows/numbered/runs', {})),
    );
    expect(started.map((response) => response.status)).toEqual(Array(8).fill(201));
    expect(started.map((response) => response.body.number).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('runs stages in order and the jobs of a stage in parallel', async () => {
    await apply(`
name: ordered
stages:
  - name: first
    jobs:
      - name: a
        type: shell
        spec: { script: "sleep 0.3; echo a-done" }
      - name: b
        type: shell
        spec: { script: "sleep 0.3; echo b-done" }
  - name: second
    jobs:
      - name: c
        type: shell
        spec: { script: echo c-done }
`);
    const run = await waitForRun(stack, await start('ordered'));
    expect(run.status).toBe('passed');
    const [a, b, c] = ['a', 'b', 'c'].map((name) => job(run, name));
    // parallel: b started before a finished; ordered: c started after both finished
    expect(Date.parse(b.started_at)).toBeLessThan(Date.parse(a.finished_at));
    expect(Date.parse(c.started_at)).toBeGreaterThanOrEqual(
      Math.max(Date.parse(a.finished_at), Date.parse(b.finished_at)),
    );
    expect(await logsOf(run.id, 'c')).toContain('c-done');
  });

  it('stops at a failing job: its stage fails, later stages are skipped', async () => {
    await apply(`
name: failing
stages:
  - name: build
    jobs:
      - name: broken
        type: shell
        spec: { script: "echo oops >&2; exit 3" }
  - name: deploy
    jobs:
      - name: never
        type: shell
        spec: { script: echo should-not-run }
`);
    const run = await waitForRun(stack, await start('failing'));
    expect(run.status).toBe('failed');
    expect(run.reason).toContain('broken');
    expect(job(run, 'broken')).toMatchObject({ status: 'failed', reason: 'exit code 3' });
    expect(job(run, 'never').status).toBe('skipped');
    expect(await logsOf(run.id, 'broken')).toContain('oops');
  });

  it('passes a 2-of-3 native approval only after two approvals, and records who decided', async () => {
    await apply(`
name: two-of-three
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [alice, bob, carol@example.com], needed_approvers: 2, description: "Ship it?" }
  - name: after
    jobs:
      - name: ship
        type: shell
        spec: { script: echo shipped }
`);
    const runId = await start('two-of-three');
    await waitForJob(runId, 'approve', 'waiting_for_approval');
    const pending = await stack.call('GET', '/api/approvals');
    expect(pending.body.approvals.some((approval: any) => approval.run_id === runId)).toBe(true);

    const first = await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve', comment: 'lgtm' },
      tokens.alice,
    );
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pending');
    const twice = await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve' },
      tokens.alice,
    );
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('already decided');

    const second = await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve' },
      tokens.carol,
    );
    expect(second.body.status).toBe('approved');
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('passed');
    const decisions = job(run, 'approve').approval.decisions;
    expect(
      decisions.map((decision: any) => [decision.user_name, decision.decision, decision.comment]),
    ).toEqual([
      ['alice', 'approve', 'lgtm'],
      ['carol', 'approve', null],
    ]);
  });

  it('rejects on the first reject, refuses people who are not approvers, and records an admin as such', async () => {
    await apply(`
name: gate
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [alice, bob], needed_approvers: 2 }
  - name: after
    jobs:
      - name: ship
        type: shell
        spec: { script: echo shipped }
`);
    const runId = await start('gate');
    await waitForJob(runId, 'approve', 'waiting_for_approval');
    const outsider = await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve' },
      tokens.carol,
    );
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.message).toContain('not an approver');

    await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve' },
      tokens.alice,
    );
    const rejected = await stack.call('POST', `/api/runs/${runId}/jobs/approve/decision`, {
      decision: 'reject',
      comment: 'not today',
    });
    expect(rejected.body.status).toBe('rejected');
    expect(rejected.body.decisions.find((decision: any) => decision.user_name === 'admin').as_admin).toBe(
      true,
    );
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('rejected');
    expect(job(run, 'approve')).toMatchObject({ status: 'rejected', reason: 'rejected by admin: not today' });
    expect(job(run, 'ship').status).toBe('skipped');
  });

  it.each([
    ['reject', 'timeout', 'timeout'],
    ['approve', 'passed', 'passed'],
  ])('applies timeout_outcome %s when nobody decides in time', async (outcome, jobStatus, runStatus) => {
    const name = `timeout-${outcome}`;
    // The smallest timeout the format allows is 1m; the test moves the deadline instead of waiting.
    await apply(`
name: ${name}
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [alice], timeout: 1m, timeout_outcome: ${outcome} }
`);
    const runId = await start(name);
    await waitForJob(runId, 'approve', 'waiting_for_approval');
    await stack.signoff.db.query(
      `update approvals set deadline = now() - interval '1 second' where run_id = $1`,
      [runId],
    );
    const [approval] = await stack.signoff.db.query<{ id: number }>(
      'select id from approvals where run_id = $1',
      [runId],
    );
    await stack.signoff.engine.expireApproval(approval!.id);
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe(runStatus);
    expect(job(run, 'approve').status).toBe(jobStatus);
    expect(job(run, 'approve').approval.status).toBe('timeout');
  });

  it('cancels a run during a shell job: the process is stopped and the run ends cancelled', async () => {
    await apply(`
name: long
stages:
  - name: work
    jobs:
      - name: sleeper
        type: shell
        spec: { script: "echo started; sleep 30; echo finished" }
`);
    const runId = await start('long');
    await waitFor(async () => (await logsOf(runId, 'sleeper')).includes('started'), 'the script to start');
    const cancelled = await stack.call('POST', `/api/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const run = await waitForRun(stack, runId);
    expect(job(run, 'sleeper')).toMatchObject({ status: 'cancelled', reason: 'cancelled by admin' });
    expect(await logsOf(runId, 'sleeper')).not.toContain('finished');
    const again = await stack.call('POST', `/api/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
  });

  it('cancels a run during an approval: the approval is withdrawn and can no longer be decided', async () => {
    const runId = await start('gate');
    await waitForJob(runId, 'approve', 'waiting_for_approval');
    await stack.call('POST', `/api/runs/${runId}/cancel`);
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('cancelled');
    expect(job(run, 'approve').approval.status).toBe('cancelled');
    expect(job(run, 'ship').status).toBe('skipped');
    const late = await stack.call(
      'POST',
      `/api/runs/${runId}/jobs/approve/decision`,
      { decision: 'approve' },
      tokens.alice,
    );
    expect(late.status).toBe(409);
  });

  it('renders params and earlier outputs as data: a value containing {{ }} appears literally', async () => {
    await apply(`
name: templated
params:
  - name: version
    required: true
  - name: greeting
    default: hello
stages:
  - name: one
    jobs:
      - name: produce
        type: shell
        spec:
          script: |
            echo "version={{ params.version }}"
            echo "artifact=app-{{ params.version }}.tar" >> "$SIGNOFF_OUTPUT"
  - name: two
    jobs:
      - name: consume
        type: shell
        spec:
          script: echo "got {{ jobs.produce.outputs.artifact }} {{ params.greeting }} $NOTE"
          env: { NOTE: "run {{ run.number }}" }
`);
    const tricky = '{{ run.id }}; $(echo pwned) `id`';
    const run = await waitForRun(stack, await start('templated', { version: tricky }));
    expect(run.status).toBe('passed');
    expect(await logsOf(run.id, 'produce')).toContain(`version=${tricky}`);
    expect(job(run, 'produce').outputs.artifact).toBe(`app-${tricky}.tar`);
    expect(await logsOf(run.id, 'consume')).toContain(`got app-${tricky}.tar hello run 1`);
  });

  it('refuses a run with a missing required param or an unknown one, naming them', async () => {
    const missing = await stack.call('POST', '/api/workflows/templated/runs', { params: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain('version is required');
    const unknown = await stack.call('POST', '/api/workflows/templated/runs', {
      params: { version: '1', colour: 'red' },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.problems[0].path).toBe('params.colour');
  });

  it('fails an approval job whose approver is not a user, before anyone is asked', async () => {
    await apply(`
name: ghost
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [alice, ghost@example.com] }
`);
    const run = await waitForRun(stack, await start('ghost'));
    expect(run.status).toBe('failed');
    expect(job(run, 'approve').reason).toContain('ghost@example.com');
    expect(job(run, 'approve').approval).toBeUndefined();
  });

  it('times out a shell job that runs too long', async () => {
    await apply(`
name: slow
stages:
  - name: work
    jobs:
      - name: slow
        type: shell
        spec: { script: sleep 20, timeout: 1s }
`);
    const run = await waitForRun(stack, await start('slow'));
    expect(run.status).toBe('timeout');
    expect(job(run, 'slow').status).toBe('timeout');
  });
});
