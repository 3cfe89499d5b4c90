// The engine's side of vendor approvals, on every test database, against the sandbox's fakes (in-process):
// one definition per shape however many runs ask at once, a definition deleted in the vendor's console
// recreated once, an instance created before a crash found again rather than created twice, reminders to
// the approvers still to decide, and the refusals a user can meet. (The decision paths end to end over real
// HTTP are in vendor-approvals.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxVendor } from '../src/sandbox/vendors.js';
import { databases, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

type Platform = 'feishu' | 'dingtalk' | 'wecom';
const platforms: Platform[] = ['feishu', 'dingtalk', 'wecom'];

/** What the vendor holds: its definitions with their names, and how many instances carry a text. */
function vendorState(vendor: SandboxVendor) {
  const raw = vendor.raw;
  switch (raw.type) {
    case 'feishu':
    case 'lark':
      return {
        definitions: () =>
          [...raw.fake.definitions.values()].map((d) => ({ code: d.approval_code, name: d.approval_name })),
        instancesWith: (text: string) =>
          [...raw.fake.instances.values()].filter((instance) => instance.form.includes(text)).length,
        deleteDefinition: (code: string) => void raw.fake.deleteDefinition(code),
      };
    case 'dingtalk':
      return {
        definitions: () => [...raw.fake.forms.values()].map((f) => ({ code: f.processCode, name: f.name })),
        instancesWith: (text: string) =>
          [...raw.fake.instances.values()].filter((instance) =>
            instance.formComponentValues.some((value) => value.value.includes(text)),
          ).length,
        deleteDefinition: (code: string) => raw.fake.deleteForm(code),
      };
    case 'wecom':
      return {
        definitions: () => raw.fake.templates().map((t) => ({ code: t.template_id, name: t.name })),
        instancesWith: (text: string) =>
          raw.fake.approvals().filter((approval) => JSON.stringify(approval.apply_data).includes(text))
            .length,
        deleteDefinition: (code: string) => raw.fake.deleteTemplate(code),
      };
  }
}

describe.each(databases)('vendor approvals in the engine (%s)', (kind) => {
  let stack: TestStack;
  let counter = 0;

  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true });
  }, 60_000);
  afterAll(() => stack?.close());

  const vendorOf = (type: Platform) => stack.signoff.sandbox!.find((vendor) => vendor.type === type)!;

  /** A workflow: the vendor approval, then a shell job; returns its name. */
  async function workflow(type: Platform, nodes: string, extra = ''): Promise<string> {
    const name = `wf-${type}-${++counter}`;
    const people = vendorOf(type).people();
    const yaml = `name: ${name}
stages:
  - name: approve
    jobs:
      - name: ok
        type: approval
        spec:
          type: ${type}
          app: sandbox-${type}
          initiator: { id: ${people[0]!.id} }
          nodes: ${nodes.replaceAll('$1', people[1]!.id).replaceAll('$2', people[2]!.id)}
${extra}
  - name: ship
    jobs:
      - name: after
        type: shell
        spec: { script: "true" }
`;
    const created = await stack.call('POST', '/api/workflows', yaml);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return name;
  }

  async function startRun(name: string): Promise<number> {
    const started = await stack.call('POST', `/api/workflows/${name}/runs`, {});
    expect(started.status).toBe(201);
    return started.body.id;
  }

  /** Waits until the approval job waits, with its vendor instance created. */
  async function waiting(runId: number) {
    return waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}`);
      const approval = job(body, 'ok');
      if (approval.status === 'failed') throw new Error(`approval job failed: ${approval.reason}`);
      return approval.status === 'waiting_for_approval' && approval.approval?.vendor?.instance_id
        ? approval
        : undefined;
    }, `run ${runId} to wait for its vendor approval`);
  }

  describe.each(platforms)('%s', (type) => {
    it('creates one definition for a shape however many runs ask for it at once', async () => {
      const name = await workflow(
        type,
        '[{ type: OR, approvers: [{ id: $1 }] }, { type: OR, approvers: [{ id: $2 }] }, { type: AND, approvers: [{ id: $1 }] }]',
      );
      const runs = await Promise.all(Array.from({ length: 6 }, () => startRun(name)));
      const jobs = await Promise.all(runs.map(waiting));
      const definitions = vendorState(vendorOf(type))
        .definitions()
        .filter((definition) => definition.name.includes('OR-OR-AND'));
      expect(definitions).toHaveLength(1);
      expect(new Set(jobs.map((waitingJob) => waitingJob.approval.vendor.instance_id)).size).toBe(6);
    });

    it('recreates a definition deleted in the vendor console, once, and goes on', async () => {
      const name = await workflow(
        type,
        '[{ type: AND, approvers: [{ id: $1 }, { id: $2 }] }, { type: AND, approvers: [{ id: $2 }] }]',
      );
      await waiting(await startRun(name));
      const vendor = vendorState(vendorOf(type));
      const [before] = vendor.definitions().filter((definition) => definition.name.includes('AND-AND)'));
      expect(before).toBeDefined();
      vendor.deleteDefinition(before!.code);

      const second = await waiting(await startRun(name));
      expect(second.approval.vendor.instance_id).toBeTruthy();
      const [row] = await stack.signoff.db.query<{ code: string }>(
        `select code from im_approval_definitions where shape_key = 'AND-AND' and im_app_id = $1`,
        [`ima_sandbox_${type}`],
      );
      expect(row?.code).toBeTruthy();
      expect(row?.code).not.toBe(before!.code);
    });

    it('finds the instance an interrupted attempt created instead of creating a second one', async () => {
      const name = await workflow(type, '[{ type: OR, approvers: [{ id: $1 }] }]');
      const runId = await startRun(name);
      const first = await waiting(runId);
      const instanceId = first.approval.vendor.instance_id;
      const [approval] = await stack.signoff.db.query<{ id: number; vendor_key: string }>(
        'select id, vendor_key from approvals where job_id = $1',
        [first.id],
      );
      // The state a crash leaves between "created at the vendor" and "recorded here": the attempt is
      // on record, its answer is not, and the job is back on the queue.
      await stack.signoff.db.query(
        'update approvals set vendor_instance_id = null, next_poll_at = null where id = $1',
        [approval!.id],
      );
      await stack.signoff.db.query(`update jobs set status = 'queued' where id = $1`, [first.id]);
      await stack.signoff.engine.executeJob(first.id);

      const again = await waiting(runId);
      expect(again.approval.vendor.instance_id).toBe(instanceId);
      expect(vendorState(vendorOf(type)).instancesWith(approval!.vendor_key)).toBe(1);

      await vendorOf(type).decide(instanceId, vendorOf(type).people()[1]!.id, 'approve');
      const done = await waitForRun(stack, runId);
      expect(done.status).toBe('passed');
    });

    it('reminds the approvers who still have to decide', async () => {
      const name = await workflow(
        type,
        '[{ type: OR, approvers: [{ id: $2 }] }]',
        '          timeout: 2h\n          remind_before: 30m',
      );
      const runId = await startRun(name);
      const waitingJob = await waiting(runId);
      const depth = await stack.signoff.queue.depth();
      expect(depth['approval-remind']).toBeGreaterThan(0);
      const approver = vendorOf(type).people()[2]!.id;
      const before = vendorOf(type)
        .messages()
        .filter((message) => message.to.includes(approver)).length;

      // The queue fires this 30 minutes before the deadline; the test does not wait that long.
      await stack.signoff.engine.remindApproval(waitingJob.approval.id);
      const messages = vendorOf(type)
        .messages()
        .filter((message) => message.to.includes(approver));
      expect(messages).toHaveLength(before + 1);
      expect(messages.at(-1)!.content).toContain('waiting for your decision');

      // Once is enough: a second firing sends nothing more.
      await stack.signoff.engine.remindApproval(waitingJob.approval.id);
      expect(
        vendorOf(type)
          .messages()
          .filter((message) => message.to.includes(approver)),
      ).toHaveLength(before + 1);
    });
  });

  // Found by the chaos test (test/chaos.test.ts): an instance dies after recording the vendor instance but
  // before the job waits; recovery puts the job back on the queue. A decision (or the deadline) settled the
  // approval but left the job queued; the job then ran again and waited for good on an approval that was no
  // longer pending. Now the decision ends the queued job.
  it('ends a job that is back on the queue when its approval is decided or times out meanwhile', async () => {
    const name = await workflow('feishu', '[{ type: OR, approvers: [{ id: $1 }] }]');
    const requeued = async () => {
      const runId = await startRun(name);
      const first = await waiting(runId);
      // What recovery does with an approval job whose instance died while it ran.
      await stack.signoff.db.query(`update jobs set status = 'queued', instance_id = null where id = $1`, [
        first.id,
      ]);
      return { runId, jobId: first.id, approval: first.approval };
    };

    const decided = await requeued();
    await vendorOf('feishu').decide(
      decided.approval.vendor.instance_id,
      vendorOf('feishu').people()[1]!.id,
      'approve',
    );
    await waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${decided.runId}`);
      return job(body, 'ok').approval.status === 'approved';
    }, 'the approval to be approved');
    // The queue delivers the requeued job afterwards: it finds nothing left to do.
    await stack.signoff.engine.executeJob(decided.jobId);
    const done = await waitForRun(stack, decided.runId);
    expect(done.status).toBe('passed');
    expect(job(done, 'ok').reason).toContain('approved in Feishu');

    const expired = await requeued();
    await stack.signoff.db.query(
      `update approvals set deadline = now() - interval '1 second' where id = $1`,
      [expired.approval.id],
    );
    await stack.signoff.engine.expireApproval(expired.approval.id);
    await stack.signoff.engine.executeJob(expired.jobId);
    const late = await waitForRun(stack, expired.runId);
    expect(late.status).toBe('timeout');
    expect(job(late, 'ok').status).toBe('timeout');
  });

  it('refuses a decision through Signoff for an approval decided in the vendor app', async () => {
    const name = await workflow('feishu', '[{ type: OR, approvers: [{ id: $1 }] }]');
    const runId = await startRun(name);
    await waiting(runId);
    const refused = await stack.call('POST', `/api/runs/${runId}/jobs/ok/decision`, { decision: 'approve' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("decided in feishu's approval app");
  });

  it('fails the job naming an IM app that does not exist or is of another type', async () => {
    const people = vendorOf('feishu').people();
    const yaml = (app: string) => `name: wf-missing-${app}
stages:
  - name: approve
    jobs:
      - name: ok
        type: approval
        spec:
          type: feishu
          app: ${app}
          nodes: [{ approvers: [{ id: ${people[1]!.id} }] }]
`;
    for (const [app, reason] of [
      ['nowhere', 'no IM app named nowhere'],
      ['sandbox-wecom', 'IM app sandbox-wecom is a wecom app, but this approval is type feishu'],
    ] as const) {
      expect((await stack.call('POST', '/api/workflows', yaml(app))).status).toBe(201);
      const runId = await startRun(`wf-missing-${app}`);
      const done = await waitForRun(stack, runId);
      expect(done.status).toBe('failed');
      expect(job(done, 'ok').reason).toContain(reason);
    }
  });
});
