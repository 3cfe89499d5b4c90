// What an operator's probes and Prometheus see, on every test database: /readyz with each of its checks,
// and /metrics after real work — a run decided through the API with a robot notification, an approval
// decided in the sandbox's fake Feishu (its callback), forged callbacks, a platform refusing a secret —
// read back as the metric lines a scrape returns, labels and values. No secret ever reaches a label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxVendors } from '../src/sandbox/vendors.js';
import { adminToken, databases, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

/** Long enough that an approval in these tests is decided by its callback, never by a poll. */
const quietPolls = { first: 60_000, max: 300_000 };
const metricsToken = 'metrics-scraper-token-0123456789';

interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  /** `name{a="1",b="2"}` (labels sorted) → value. */
  samples: Map<string, number>;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function key(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}="${value}"`);
  return pairs.length > 0 ? `${name}{${pairs.join(',')}}` : name;
}

/** Parses the exposition format strictly: every line is a comment, HELP/TYPE, or a well-formed sample. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram']).toContain(meta[3]);
        typed.add(meta[2]!);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const [, name, labelText = '', value] = match!;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(name!) || typed.has(family), `${name} has no # TYPE before it`).toBe(true);
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(labelPair)) labels[pair[1]!] = pair[2]!;
    const sample = key(name!, labels);
    expect(samples.has(sample), `${sample} appears twice`).toBe(false);
    samples.set(sample, Number(value === '+Inf' ? Number.POSITIVE_INFINITY : value));
  }
  return samples;
}

describe.each(databases)('operations: /readyz and /metrics (%s)', (kind) => {
  let stack: TestStack;
  let workflows = 0;

  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true, approvalPolls: quietPolls });
  }, 60_000);
  afterAll(() => stack?.close());

  async function scrape(authorization?: string): Promise<Scrape> {
    const response = await stack.signoff.app.request('/metrics', {
      ...(authorization ? { headers: { authorization } } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      text,
      samples: response.status === 200 ? parse(text) : new Map(),
    };
  }
  const metric = (scraped: Scrape, name: string, labels: Record<string, string> = {}) =>
    scraped.samples.get(key(name, labels)) ?? 0;

  async function readyz(): Promise<{ status: number; body: any }> {
    const response = await stack.signoff.app.request('/readyz');
    return { status: response.status, body: await response.json() };
  }

  async function startRun(yaml: string): Promise<number> {
    const name = `ops-${++workflows}`;
    const saved = await stack.call('POST', '/api/workflows', `name: ${name}\n${yaml}`);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await stack.call('POST', `/api/workflows/${name}/runs`, {});
    expect(started.status).toBe(201);
    return started.body.id;
  }

  async function waitForJob(runId: number, name: string, status: string): Promise<any> {
    return waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}`);
      const found = job(body, name);
      if (found.status === 'failed') throw new Error(`${name} failed: ${found.reason}`);
      return found.status === status ? found : undefined;
    }, `${name} to be ${status}`);
  }

  it('is ready: database, queue and migrations all answer (no token needed)', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok', migrations: 'ok' } });
  });

  it('serves every metric in the Prometheus text format, open when no metrics token is set', async () => {
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const family of [
      'signoff_runs',
      'signoff_approvals_waiting',
      'signoff_decision_latency_seconds',
      'signoff_callbacks_total',
      'signoff_notifications_total',
      'signoff_vendor_api_calls_total',
      'signoff_vendor_api_errors_total',
      'signoff_queue_jobs',
    ])
      expect(scraped.text).toMatch(new RegExp(`^# TYPE ${family} (counter|gauge|histogram)$`, 'm'));
    expect(metric(scraped, 'signoff_build_info', { version: '0.1.0' })).toBe(1);
    expect(metric(scraped, 'signoff_metrics_source_up', { source: 'database' })).toBe(1);
    expect(metric(scraped, 'signoff_metrics_source_up', { source: 'queue' })).toBe(1);
    // Every status and kind has a line, zero included, so none vanishes from a graph.
    for (const status of [
      'running',
      'waiting_for_approval',
      'passed',
      'failed',
      'rejected',
      'timeout',
      'cancelled',
    ])
      expect(scraped.samples.has(key('signoff_runs', { status }))).toBe(true);
    for (const kind of ['native', 'feishu', 'lark', 'dingtalk', 'wecom'])
      expect(scraped.samples.has(key('signoff_approvals_waiting', { kind }))).toBe(true);
    for (const queue of ['execute-job', 'approval-deadline', 'notification-send'])
      for (const state of ['due', 'scheduled', 'active'])
        expect(scraped.samples.has(key('signoff_queue_jobs', { queue, state }))).toBe(true);
  });

  it('counts a run decided through the API: runs by status, the waiting approval, decision latency, the robot notification', async () => {
    const before = await scrape();
    const runId = await startRun(`stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [admin], timeout: 1h }
notify:
  - on: [passed]
    channel: dingtalk_robot
    url: http://signoff.test/sandbox/dingtalk/robot/send?access_token=signoff-demo-robot
    secret: SECsignoffdemorobotsecret
`);
    await waitForJob(runId, 'approve', 'waiting_for_approval');
    const waiting = await scrape();
    expect(metric(waiting, 'signoff_runs', { status: 'waiting_for_approval' })).toBe(
      metric(before, 'signoff_runs', { status: 'waiting_for_approval' }) + 1,
    );
    expect(metric(waiting, 'signoff_approvals_waiting', { kind: 'native' })).toBe(
      metric(before, 'signoff_approvals_waiting', { kind: 'native' }) + 1,
    );
    expect(
      metric(waiting, 'signoff_approvals_waiting_oldest_seconds', { kind: 'native' }),
    ).toBeGreaterThanOrEqual(0);
    // Its deadline waits on the queue as a scheduled job.
    expect(
      metric(waiting, 'signoff_queue_jobs', { queue: 'approval-deadline', state: 'scheduled' }),
    ).toBeGreaterThanOrEqual(1);

    const decided = await stack.call('POST', `/api/runs/${runId}/jobs/approve/decision`, {
      decision: 'approve',
    });
    expect(decided.status).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('passed');
    await waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}/notifications`);
      return (
        body.notifications.length > 0 && body.notifications.every((row: any) => row.status === 'delivered')
      );
    }, 'the robot notification to be delivered');

    const after = await scrape();
    const latency = { kind: 'native', source: 'api' };
    expect(metric(after, 'signoff_runs', { status: 'passed' })).toBe(
      metric(before, 'signoff_runs', { status: 'passed' }) + 1,
    );
    expect(metric(after, 'signoff_runs', { status: 'waiting_for_approval' })).toBe(
      metric(before, 'signoff_runs', { status: 'waiting_for_approval' }),
    );
    expect(metric(after, 'signoff_decision_latency_seconds_count', latency)).toBe(
      metric(before, 'signoff_decision_latency_seconds_count', latency) + 1,
    );
    expect(metric(after, 'signoff_decision_latency_seconds_bucket', { ...latency, le: '+Inf' })).toBe(
      metric(after, 'signoff_decision_latency_seconds_count', latency),
    );
    expect(metric(after, 'signoff_decision_latency_seconds_bucket', { ...latency, le: '30' })).toBe(
      metric(after, 'signoff_decision_latency_seconds_count', latency),
    );
    expect(metric(after, 'signoff_decision_latency_seconds_sum', latency)).toBeGreaterThan(
      metric(before, 'signoff_decision_latency_seconds_sum', latency),
    );
    const delivered = { channel: 'dingtalk_robot', result: 'delivered' };
    expect(metric(after, 'signoff_notifications_total', delivered)).toBe(
      metric(before, 'signoff_notifications_total', delivered) + 1,
    );
    expect(metric(after, 'signoff_vendor_api_calls_total', { vendor: 'dingtalk' })).toBeGreaterThan(
      metric(before, 'signoff_vendor_api_calls_total', { vendor: 'dingtalk' }),
    );
    expect(metric(after, 'signoff_vendor_api_call_duration_seconds_count', { vendor: 'dingtalk' })).toBe(
      metric(after, 'signoff_vendor_api_calls_total', { vendor: 'dingtalk' }),
    );
    expect(metric(after, 'signoff_approvals_waiting', { kind: 'native' })).toBe(
      metric(before, 'signoff_approvals_waiting', { kind: 'native' }),
    );
  });

  it("counts callbacks by vendor and result, and a Feishu decision's latency from its callback", async () => {
    const feishu = stack.signoff.sandbox!.find((vendor) => vendor.type === 'feishu')!;
    const people = feishu.people();
    const before = await scrape();
    const runId = await startRun(`stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec:
          type: feishu
          app: sandbox-feishu
          initiator: { id: ${people[0]!.id} }
          nodes: [{ type: OR, approvers: [{ id: ${people[1]!.id} }] }]
`);
    const waiting = await waitForJob(runId, 'approve', 'waiting_for_approval');
    await feishu.decide(waiting.approval.vendor.instance_id, people[1]!.id, 'approve', 'ship it');
    expect((await waitForRun(stack, runId)).status).toBe('passed');

    // A forged callback to the same app, and one to a platform that does not exist.
    const forged = await stack.signoff.app.request('/callbacks/feishu/ima_sandbox_feishu', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: 'AAAA' }),
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const refusal = ((await forged.json()) as any).error.code as string;
    const nowhere = await stack.signoff.app.request('/callbacks/myspace/ima_nope', {
      method: 'POST',
      body: '{}',
    });
    expect(nowhere.status).toBe(404);

    const after = await scrape();
    const accepted = { vendor: 'feishu', result: 'accepted' };
    expect(metric(after, 'signoff_callbacks_total', accepted)).toBeGreaterThan(
      metric(before, 'signoff_callbacks_total', accepted),
    );
    const refused = { vendor: 'feishu', result: refusal };
    expect(metric(after, 'signoff_callbacks_total', refused)).toBe(
      metric(before, 'signoff_callbacks_total', refused) + 1,
    );
    // The path's platform is not trusted as a label value.
    const unknown = { vendor: 'unknown', result: 'not_found' };
    expect(metric(after, 'signoff_callbacks_total', unknown)).toBe(
      metric(before, 'signoff_callbacks_total', unknown) + 1,
    );
    expect(after.text).not.toContain('myspace');

    const latency = { kind: 'feishu', source: 'event' };
    expect(metric(after, 'signoff_decision_latency_seconds_count', latency)).toBe(
      metric(before, 'signoff_decision_latency_seconds_count', latency) + 1,
    );
    expect(metric(after, 'signoff_vendor_api_calls_total', { vendor: 'feishu' })).toBeGreaterThan(
      metric(before, 'signoff_vendor_api_calls_total', { vendor: 'feishu' }),
    );
  });

  it("counts a platform's refusal under its own error code", async () => {
    const sandbox = createSandboxVendors({ callbackFetch: fetch }).find(
      (vendor) => vendor.type === 'feishu',
    )!;
    const before = await scrape();
    const refused = await stack.call('POST', '/api/im-apps', {
      type: 'feishu',
      name: 'wrong-secret',
      app_id: sandbox.imApp.settings.app_id,
      app_secret: 'not-the-secret-0123456789',
      api_base: 'http://signoff.test/sandbox/feishu',
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(refused.body)).toContain('10014');
    const after = await scrape();
    const code = { vendor: 'feishu', code: '10014' };
    expect(metric(after, 'signoff_vendor_api_errors_total', code)).toBe(
      metric(before, 'signoff_vendor_api_errors_total', code) + 1,
    );
  });

  it('never puts a secret, token or webhook URL into the metrics', async () => {
    const { text } = await scrape();
    const secrets = [
      adminToken,
      'signoff-demo-robot',
      'SECsignoffdemorobotsecret',
      'not-the-secret',
      'http://',
      ...createSandboxVendors({ callbackFetch: fetch }).flatMap((vendor) =>
        Object.values(vendor.imApp.secrets),
      ),
    ];
    for (const secret of secrets.filter(Boolean)) expect(text).not.toContain(secret);
  });

  it('answers 503 naming the migrations that are missing', async () => {
    const [last] = await stack.signoff.db.query<{ name: string }>(
      'select name from schema_migrations order by name desc limit 1',
    );
    await stack.signoff.db.query('delete from schema_migrations where name = $1', [last!.name]);
    try {
      const { status, body } = await readyz();
      expect(status).toBe(503);
      expect(body).toEqual({
        status: 'not_ready',
        checks: { database: 'ok', queue: 'ok', migrations: `pending: ${last!.name}` },
      });
    } finally {
      await stack.signoff.db.query('insert into schema_migrations (name) values ($1)', [last!.name]);
    }
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 when the queue is stopped', async () => {
    await stack.signoff.queue.stop();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.status).toBe('not_ready');
    expect(body.checks).toEqual({ database: 'ok', queue: 'stopped', migrations: 'ok' });
    await stack.restart();
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 as soon as a shutdown begins, before anything has closed', async () => {
    const closing = stack.signoff.close();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.status).toBe('stopping');
    await closing;
    await stack.restart();
    expect((await readyz()).status).toBe(200);
  });

  it('asks for SIGNOFF_METRICS_TOKEN as a bearer token when it is set', async () => {
    await stack.restart(undefined, { config: { metricsToken } });
    const without = await scrape();
    expect(without.status).toBe(401);
    expect(JSON.parse(without.text).error.code).toBe('unauthorized');
    expect((await stack.signoff.app.request('/metrics')).headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await scrape(`Bearer ${metricsToken}x`)).status).toBe(401);
    expect((await scrape(`Bearer ${adminToken}`)).status).toBe(401);
    const scraped = await scrape(`Bearer ${metricsToken}`);
    expect(scraped.status).toBe(200);
    expect(metric(scraped, 'signoff_metrics_source_up', { source: 'database' })).toBe(1);
    // Probes stay open.
    expect((await readyz()).status).toBe(200);
    expect(scraped.text).not.toContain(metricsToken);
  });
});

describe.each(databases)('operations: stopping with a request in flight (%s)', (kind) => {
  let stack: TestStack;
  /** Calls to the slow vendor wait for this. */
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let slowCalls = 0;

  beforeAll(async () => {
    stack = await startStack(kind, {
      listen: true,
      sandbox: true,
      // A vendor that takes its time: the sandbox's fake Feishu behind a host of its own.
      fetch: async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.host !== 'slow.vendor.test') return fetch(input, init);
        slowCalls += 1;
        await gate;
        return stack.signoff.app.request(`${url.pathname}${url.search}`, init);
      },
    });
  }, 60_000);
  afterAll(() => stack?.close());

  it('answers a request in flight, takes no new connection, then closes', async () => {
    const feishu = createSandboxVendors({ callbackFetch: fetch }).find((vendor) => vendor.type === 'feishu')!;
    const created = await stack.call('POST', '/api/im-apps?check=false', {
      type: 'feishu',
      name: 'slow-feishu',
      ...feishu.imApp.settings,
      ...feishu.imApp.secrets,
      event_mode: 'poll',
      api_base: 'http://slow.vendor.test/sandbox/feishu',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const url = stack.signoff.url!;
    const inFlight = fetch(`${url}/api/im-apps/${created.body.id}/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await waitFor(async () => slowCalls > 0, 'the request to reach the vendor');

    const closing = stack.signoff.close({ graceMs: 10_000 });
    expect((await readyzOf(stack)).body.status).toBe('stopping');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    release();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ ok: true, error: null });
    await closing;
  });
});

async function readyzOf(stack: TestStack): Promise<{ status: number; body: any }> {
  const response = await stack.signoff.app.request('/readyz');
  return { status: response.status, body: await response.json() };
}
