// Approval jobs decided in Feishu, Lark, DingTalk and WeCom, end to end over real HTTP: each vendor fake on
// a loopback port (test/vendor-harness.ts), the IM apps registered through the API, Signoff listening on a
// port of its own, the fakes' callbacks (or long connection / Stream pushes) going to it over the network.
// Every assertion is about what a user sees through the API: the job's status and reason, the run, and
// the vendor instance with each node's approvers, decisions, comments and times.
//
// Reconcile polls are set to one minute, longer than any wait here, so a test in webhook or live mode can
// only pass because the event arrived; the poll-mode test switches to quick polls (a restart), and the
// "server down" test relies on the poll every waiting instance gets when the server starts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { databases, job, startStack, type TestStack } from './stack.js';
import {
  type Account,
  api,
  type Mode,
  type Person,
  type Platform,
  platforms,
  startVendor,
  type VendorHarness,
} from './vendor-harness.js';

/** Longer than any wait of these tests: in event modes only the event can decide in time. */
const quietPolls = { first: 60_000, max: 300_000 };
/** For the poll-mode test. */
const quickPolls = { first: 300, max: 1000 };

const labels: Record<Platform, string> = {
  feishu: 'Feishu',
  lark: 'Lark',
  dingtalk: 'DingTalk',
  wecom: 'WeCom',
};

type PersonRef = { id: string } | { email: string };
interface NodeSpec {
  type: 'AND' | 'OR';
  approvers: PersonRef[];
}

let workflows = 0;

/**
 * stack.ts's waitFor, looking every 40 ms instead of 20: each look is a whole run read over HTTP, and
 * halving them leaves the CPU to the server under test (the suite runs on two cores).
 */
async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

describe.each(databases)('approvals in vendor apps, over HTTP, on %s', (kind) => {
  let stack: TestStack;
  const vendors: VendorHarness[] = [];

  beforeAll(async () => {
    stack = await startStack(kind, { listen: true, approvalPolls: quietPolls });
  });
  afterAll(async () => {
    for (const vendor of vendors) await vendor.close();
    await stack?.close();
  });

  const run = async (id: number) => (await api(stack, 'GET', `/api/runs/${id}`)).body;

  /**
   * Saves a workflow gate (one approval job) → ship (one shell job, left out with `ship: false` where no
   * test looks at it), starts it, returns the run id.
   */
  async function startWorkflow(
    label: string,
    approval: Record<string, unknown>,
    ship = true,
  ): Promise<number> {
    const name = `${label}-${++workflows}`;
    const document = stringify({
      name,
      stages: [
        { name: 'gate', jobs: [{ name: 'approve', type: 'approval', spec: approval }] },
        ...(ship
          ? [{ name: 'ship', jobs: [{ name: 'deploy', type: 'shell', spec: { script: 'echo shipped' } }] }]
          : []),
      ],
    });
    const saved = await api(stack, 'POST', '/api/workflows', document);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await api(stack, 'POST', `/api/workflows/${name}/runs`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return started.body.id;
  }

  /** Waits until the approval job waits on its vendor instance; fails at once if the job ended instead. */
  async function waitForInstance(runId: number): Promise<{ instanceId: string; approvalId: number }> {
    return until(async () => {
      const approve = job(await run(runId), 'approve');
      if (['failed', 'passed', 'rejected', 'timeout', 'cancelled'].includes(approve.status))
        throw new Error(`the approval job ended ${approve.status}: ${approve.reason}`);
      const instanceId = approve.approval?.vendor?.instance_id;
      return approve.status === 'waiting_for_approval' && instanceId
        ? { instanceId, approvalId: approve.approval.id as number }
        : undefined;
    }, `run ${runId} to wait on its vendor instance`);
  }

  async function finished(runId: number): Promise<any> {
    return until(async () => {
      const current = await run(runId);
      return current.finished_at ? current : undefined;
    }, `run ${runId} to end`);
  }

  describe.each(platforms)('%s', (platform) => {
    let vendor: VendorHarness;
    let people: VendorHarness['people'];
    const label = labels[platform];

    beforeAll(async () => {
      vendor = await startVendor(stack, platform);
      vendors.push(vendor);
      people = vendor.people;
    });

    const spec = (account: Account, nodes: NodeSpec[], extra: Record<string, unknown> = {}) => ({
      type: platform,
      app: account.appName,
      title: 'Release {{ run.workflow }}',
      description: 'Ship it?',
      initiator: { id: people.initiator.id },
      nodes,
      ...extra,
    });
    const one = (person: Person): NodeSpec[] => [{ type: 'OR', approvers: [{ id: person.id }] }];

    /** Starts a run whose approval goes to this account; resolves once its instance exists. */
    async function open(
      mode: Mode,
      nodes: NodeSpec[],
      options: { extra?: Record<string, unknown>; ship?: boolean } = {},
    ) {
      const account = vendor.account(mode);
      const runId = await startWorkflow(
        `${platform}-${mode}`,
        spec(account, nodes, options.extra),
        options.ship,
      );
      return { account, runId, ...(await waitForInstance(runId)) };
    }

    const approverView = (current: any, node: number) =>
      job(current, 'approve').approval.vendor.nodes[node].approvers as any[];

    it('approve: the next job runs and the run passes; who, what and when are recorded', async () => {
      const before = Date.now();
      const { account, runId, instanceId } = await open('webhook', one(people.a));
      expect((await run(runId)).status).toBe('waiting_for_approval');
      await account.decide(instanceId, people.a, 'approve', 'Looks good 👍');
      const done = await finished(runId);
      expect(done.status).toBe('passed');
      const approve = job(done, 'approve');
      expect(approve.status).toBe('passed');
      expect(approve.reason).toBe(`approved in ${label} by ${people.a.name}`);
      expect(job(done, 'deploy')).toMatchObject({ status: 'passed', attempts: 1 });
      expect(approve.approval.status).toBe('approved');
      const view = approve.approval.vendor;
      expect(view).toMatchObject({ platform, instance_id: instanceId, im_app_id: account.appId });
      expect(view.nodes).toHaveLength(1);
      expect(view.nodes[0]).toMatchObject({ type: 'OR', status: 'approved' });
      const [approver] = view.nodes[0].approvers;
      expect(approver).toMatchObject({
        id: people.a.id,
        name: people.a.name,
        decision: 'approved',
        comment: 'Looks good 👍',
      });
      const decidedAt = Date.parse(approver.decided_at);
      // The time of the decision, to the vendor's precision: Feishu milliseconds, WeCom seconds, DingTalk
      // minutes (its operation records read "2026-01-01T10:00Z").
      const precision = { feishu: 1, lark: 1, dingtalk: 60_000, wecom: 1000 }[platform];
      expect(decidedAt).toBeGreaterThanOrEqual(Math.floor(before / precision) * precision);
      expect(decidedAt).toBeLessThanOrEqual(Date.now());
      // The callback said so, and it was answered.
      expect(account.events(instanceId).some((event) => event.status === 200)).toBe(true);
    });

    it('reject: the job is rejected, the run stops, and the reason names who and why', async () => {
      const { account, runId, instanceId } = await open('webhook', one(people.b));
      await account.decide(instanceId, people.b, 'reject', 'Not on a Friday');
      const done = await finished(runId);
      expect(done.status).toBe('rejected');
      const approve = job(done, 'approve');
      expect(approve.status).toBe('rejected');
      expect(approve.reason).toBe(`rejected in ${label} by ${people.b.name}: Not on a Friday`);
      expect(done.reason).toBe(`approve: rejected in ${label} by ${people.b.name}: Not on a Friday`);
      expect(job(done, 'deploy').status).toBe('skipped');
      expect(approverView(done, 0)[0]).toMatchObject({
        id: people.b.id,
        decision: 'rejected',
        comment: 'Not on a Friday',
      });
    });

    it('an AND node of two, then an OR node: decisions in order, and the run waits for both', async () => {
      const { account, runId, instanceId } = await open('webhook', [
        { type: 'AND', approvers: [{ id: people.a.id }, { email: people.b.email }] },
        { type: 'OR', approvers: [{ id: people.c.id }] },
      ]);
      const waiting = await run(runId);
      expect(job(waiting, 'approve').approval.vendor.nodes).toMatchObject([
        { type: 'AND', status: 'pending', approvers: [{ id: people.a.id }, { id: people.b.id }] },
        { type: 'OR', status: 'waiting', approvers: [{ id: people.c.id, decision: 'waiting' }] },
      ]);

      await account.decide(instanceId, people.a, 'approve', 'first');
      const afterA = await until(async () => {
        const current = await run(runId);
        return approverView(current, 0)[0].decision === 'approved' ? current : undefined;
      }, 'the first approval to show');
      // One of two AND approvers: still waiting.
      expect(afterA.status).toBe('waiting_for_approval');
      expect(job(afterA, 'approve').status).toBe('waiting_for_approval');
      expect(job(afterA, 'approve').approval.vendor.nodes[0].status).toBe('pending');
      expect(approverView(afterA, 0)[1]).toMatchObject({ id: people.b.id, decision: 'pending' });
      expect(job(afterA, 'deploy').status).toBe('pending');

      await account.decide(instanceId, people.b, 'approve', 'second');
      const afterB = await until(async () => {
        const current = await run(runId);
        return approverView(current, 0)[1].decision === 'approved' ? current : undefined;
      }, 'the second approval to show');
      expect(afterB.status).toBe('waiting_for_approval');
      expect(job(afterB, 'approve').approval.vendor.nodes.map((node: any) => node.status)).toEqual([
        'approved',
        'pending',
      ]);

      await account.decide(instanceId, people.c, 'approve', 'third');
      const done = await finished(runId);
      expect(done.status).toBe('passed');
      expect(job(done, 'approve').reason).toBe(
        `approved in ${label} by ${people.a.name}, ${people.b.name}, ${people.c.name}`,
      );
      const nodes = job(done, 'approve').approval.vendor.nodes;
      expect(nodes).toMatchObject([
        {
          type: 'AND',
          status: 'approved',
          approvers: [
            { id: people.a.id, name: people.a.name, decision: 'approved', comment: 'first' },
            { id: people.b.id, name: people.b.name, decision: 'approved', comment: 'second' },
          ],
        },
        {
          type: 'OR',
          status: 'approved',
          approvers: [{ id: people.c.id, name: people.c.name, decision: 'approved', comment: 'third' }],
        },
      ]);
      const times = [nodes[0].approvers[0], nodes[0].approvers[1], nodes[1].approvers[0]].map((approver) =>
        Date.parse(approver.decided_at),
      );
      expect([...times].sort((x, y) => x - y)).toEqual(times);
    });

    it('cancelled at the vendor: the job is cancelled at once, with the vendor’s reason', async () => {
      const { account, runId, instanceId } = await open('webhook', one(people.a));
      await account.cancel(instanceId, 'Wrong build');
      const done = await finished(runId);
      expect(done.status).toBe('cancelled');
      const approve = job(done, 'approve');
      expect(approve.status).toBe('cancelled');
      expect(approve.approval.status).toBe('cancelled');
      const reasons: Record<Platform, RegExp> = {
        feishu: /^withdrawn \(撤回\) in Feishu by its initiator.*\(CANCELED\)$/,
        lark: /^withdrawn \(撤回\) in Lark by its initiator.*\(CANCELED\)$/,
        dingtalk: new RegExp(`^terminated \\(撤销\\) in DingTalk by ${people.initiator.name}: Wrong build$`),
        wecom: /^withdrawn by the initiator in WeCom \(SpStatus 4/,
      };
      expect(approve.reason).toMatch(reasons[platform]);
      // Decided by the vendor's event, long before the deadline (1h) or a reconcile poll (1 min).
      expect(Date.parse(approve.approval.deadline)).toBeGreaterThan(Date.now() + 30 * 60_000);
      expect(job(done, 'deploy').status).toBe('skipped');
    });

    it.each(['reject', 'approve'] as const)(
      'timeout with timeout_outcome %s: the job ends and the instance is withdrawn where the vendor allows',
      async (outcome) => {
        const { account, runId, instanceId, approvalId } = await open('webhook', one(people.c), {
          extra: { timeout: '1h', timeout_outcome: outcome },
        });
        // The shortest timeout a workflow may set is 1m, too slow for a test: the deadline is moved to now
        // and the deadline job's handler is run, as the queue would run it at the deadline.
        await stack.signoff.db.query('update approvals set deadline = now() where id = $1', [approvalId]);
        await stack.signoff.engine.expireApproval(approvalId);
        const done = await finished(runId);
        const approve = job(done, 'approve');
        if (outcome === 'reject') {
          expect(done.status).toBe('timeout');
          expect(approve.status).toBe('timeout');
          expect(approve.reason).toMatch(/^nobody decided before the deadline/);
          expect(job(done, 'deploy').status).toBe('skipped');
        } else {
          expect(done.status).toBe('passed');
          expect(approve.status).toBe('passed');
          expect(approve.reason).toMatch(/^approved automatically when the approval timed out/);
          expect(job(done, 'deploy').status).toBe('passed');
        }
        expect(approve.approval.status).toBe('timeout');
        if (platform === 'wecom') {
          // WeCom has no API to withdraw an approval: it stays open there, and the job says so.
          const said = await until(async () => {
            const reason: string = job(await run(runId), 'approve').reason;
            return reason.includes('no API to withdraw') ? reason : undefined;
          }, 'the job to say the instance stays open');
          expect(said).toMatch(/WeCom has no API to withdraw an approval, so it stays open in WeCom/);
          expect(account.vendorStatus(instanceId)).toBe('1');
        } else {
          const withdrawn = platform === 'dingtalk' ? 'TERMINATED' : 'CANCELED';
          await until(
            async () => account.vendorStatus(instanceId) === withdrawn,
            `the ${label} instance to be withdrawn`,
          );
          const text = await until(async () => {
            const current = job(await run(runId), 'approve').approval.vendor.status_text;
            return current?.startsWith('withdrawn') ? current : undefined;
          }, 'the status text');
          expect(text).toBe(`withdrawn in ${label}`);
        }
      },
    );

    it('duplicate and out-of-order events: one outcome, nothing changes after', async () => {
      const { account, runId, instanceId, approvalId } = await open('webhook', [
        { type: 'AND', approvers: [{ id: people.a.id }, { id: people.b.id }] },
      ]);
      await account.decide(instanceId, people.a, 'approve', 'one');
      await until(async () => {
        const current = await run(runId);
        return approverView(current, 0)[0].decision === 'approved';
      }, 'the first approval to show');
      await account.decide(instanceId, people.b, 'approve', 'two');
      const done = await finished(runId);
      expect(done.status).toBe('passed');

      const events = account.events(instanceId);
      const older = events[0]!;
      const latest = events.at(-1)!;
      // The same request again (a vendor retry): accepted as a duplicate or refused as a replay.
      expect([200, 409]).toContain(await account.resend(latest));
      expect([200, 409]).toContain(await account.resend(latest));
      // The same event sealed anew, twice, then an event from while the instance was still pending.
      expect(await account.reseal(latest)).toBe(200);
      expect(await account.reseal(latest)).toBe(200);
      expect(await account.reseal(older)).toBe(200);

      const after = await run(runId);
      expect(after).toEqual(done);
      expect(job(after, 'deploy').attempts).toBe(1);
      const decided = stack.logs.filter(
        (line) => line.includes('vendor approval decided') && line.includes(`"approval":${approvalId},`),
      );
      expect(decided).toHaveLength(1);
    });

    it('a decision taken while Signoff is down moves the run once it is back (reconcile poll at start)', async () => {
      const { account, runId, instanceId } = await open('webhook', one(people.a), { ship: false });
      await stack.restart(async () => {
        await account.decide(instanceId, people.a, 'approve', 'decided during the outage');
      });
      // The vendor's callback found nobody listening.
      const pushes = account.events(instanceId).filter((event) => event.plaintext.length > 0);
      expect(pushes.length).toBeGreaterThan(0);
      expect(pushes.at(-1)!.status).toBeUndefined();
      expect(pushes.at(-1)!.error).toBeTruthy();
      const done = await finished(runId);
      expect(done.status).toBe('passed');
      expect(job(done, 'approve').reason).toBe(`approved in ${label} by ${people.a.name}`);
      expect(approverView(done, 0)[0]).toMatchObject({
        decision: 'approved',
        comment: 'decided during the outage',
      });
    });

    it('with callbacks off (event_mode poll) the reconcile poll sees the decision', async () => {
      await stack.restart(undefined, { approvalPolls: quickPolls });
      try {
        const { account, runId, instanceId } = await open('poll', one(people.b), { ship: false });
        expect(account.deliveries).toEqual([]);
        await account.decide(instanceId, people.b, 'approve', 'seen by a poll');
        const done = await finished(runId);
        expect(done.status).toBe('passed');
        expect(approverView(done, 0)[0]).toMatchObject({ decision: 'approved', comment: 'seen by a poll' });
        expect(account.deliveries).toEqual([]);
      } finally {
        await stack.restart(undefined, { approvalPolls: quietPolls });
      }
    });

    // WeCom has no long connection or stream: its events come only by callback (or a poll).
    if (platform !== 'wecom')
      it('over the Feishu long connection / DingTalk Stream, with no callback URL', async () => {
        const { account, runId, instanceId } = await open('live', one(people.c), { ship: false });
        await account.decide(instanceId, people.c, 'approve', 'pushed');
        const done = await finished(runId);
        expect(done.status).toBe('passed');
        expect(approverView(done, 0)[0]).toMatchObject({
          id: people.c.id,
          decision: 'approved',
          comment: 'pushed',
        });
        expect(account.deliveries).toEqual([]);
        expect(account.pushed.some((event) => event.includes(instanceId))).toBe(true);
      });

    it('an approver whose email is not in the address book: the job fails naming them, nothing is created', async () => {
      const account = vendor.account('webhook');
      const instances = account.instanceCount();
      const runId = await startWorkflow(
        `${platform}-unknown`,
        spec(account, [
          { type: 'OR', approvers: [{ id: people.a.id }, { email: 'nobody.here@example.com' }] },
        ]),
      );
      const done = await finished(runId);
      expect(done.status).toBe('failed');
      const approve = job(done, 'approve');
      expect(approve.status).toBe('failed');
      expect(approve.reason).toContain('nobody.here@example.com');
      expect(approve.reason).toMatch(/nothing was created/);
      expect(approve.approval?.vendor?.instance_id ?? null).toBeNull();
      expect(account.instanceCount()).toBe(instances);
    });

    it('Zadig-style YAML runs the same way', async () => {
      const account = vendor.account('webhook');
      const zadig: Record<Platform, Record<string, unknown>> = {
        feishu: {
          type: 'lark',
          timeout: 60,
          lark_approval: {
            approval_id: account.appName,
            default_approval_initiator: { id: people.initiator.id },
            approval_nodes: [{ type: 'AND', approve_users: [{ id: people.a.id, name: people.a.name }] }],
          },
        },
        lark: {
          type: 'lark_intl',
          timeout: 60,
          lark_approval: {
            approval_id: account.appName,
            default_approval_initiator: { id: people.initiator.id },
            approval_nodes: [{ type: 'AND', approve_users: [{ id: people.a.id, name: people.a.name }] }],
          },
        },
        dingtalk: {
          type: 'dingtalk',
          timeout: 60,
          dingtalk_approval: {
            approval_id: account.appName,
            default_approval_initiator: { id: people.initiator.id },
            approval_nodes: [{ type: 'AND', approve_users: [{ id: people.a.id }] }],
          },
        },
        wecom: {
          type: 'workwx',
          timeout: 60,
          workwx_approval: {
            approval_id: account.appName,
            creator_user: { id: people.initiator.id },
            approval_nodes: [{ type: 1, apv_rel: 2, users: [{ id: people.a.id }] }],
          },
        },
      };
      const runId = await startWorkflow(`${platform}-zadig`, zadig[platform], false);
      const { instanceId } = await waitForInstance(runId);
      await account.decide(instanceId, people.a, 'approve', 'zadig');
      const done = await finished(runId);
      expect(done.status).toBe('passed');
      expect(job(done, 'approve').approval.vendor).toMatchObject({ platform, instance_id: instanceId });
      expect(approverView(done, 0)[0]).toMatchObject({
        id: people.a.id,
        decision: 'approved',
        comment: 'zadig',
      });
    });
  });

  it('never logs an app secret, key or token', () => {
    const secrets = vendors.flatMap((vendor) => vendor.secrets);
    expect(secrets.length).toBeGreaterThan(0);
    const text = stack.logs.join('');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
