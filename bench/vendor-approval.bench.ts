// Approvals decided in Feishu, Lark, DingTalk and WeCom (src/engine/vendor-approval.ts), against the sandbox's
// vendor fakes, with a Zadig-style fixed poll measured in the same run as the baseline.
//
// 1. Decision latency: a fake person decides in the vendor's app (POST /sandbox/decide) → the next job
//    started. The figure is the shell job's `started_at` (stamped by the database when the engine claims the
//    job) minus `Date.now()` taken just before the decision, as in decision-latency.bench.ts. Workflow: stage
//    1 the vendor approval (one approver, OR), stage 2 a shell job `true`. Signoff in-process.
//    - event mode: the sandbox apps (webhook; the fake POSTs its callback, which triggers the read). One
//      decision at a time, the platforms interleaved, each run left to end before the next decision; deciding
//      starts once the creation's own vendor traffic is over.
//    - poll mode: IM apps with `event_mode: poll` on the same fakes and credentials; their instances' callbacks
//      go to the sandbox apps (which own no such instance), so only reconcile polls can see a decision. The
//      server runs as shipped: polls every 10 s, due polls looked for every second.
//    - Zadig-style: the same engine and poll apps with approvalPolls {first: X, max: X} (Feishu and Lark 2 s,
//      DingTalk 3 s, WeCom 1 s), a fixed-interval poll. Zadig's loop sleeps X between reads, so here the
//      bench also runs the engine's due-poll check every 50 ms (not every 1 s): no extra delay.
//    Poll modes keep a pool of approvals waiting per platform; each is decided at a random moment 0–2 poll
//    intervals after its instance was created, i.e. at a random point of its poll cycle. Signoff's server
//    runs first, then the three Zadig-style servers side by side. Pools are sized so that the reads stay
//    inside each vendor's rate limit (WeCom approval APIs 600/min, DingTalk 20/s).
// 2. Vendor API calls per waiting approval per hour, on a simulated hour: own fakes whose clock is the
//    simulated one, and an engine with `pollClock` whose `pollApprovals()` runs at every simulated second at
//    which a poll is due; every request that engine sends to a vendor is counted, per app. Modes: webhook with
//    events arriving (callback URL verified), long_connection (Feishu, Lark) and stream (DingTalk) over real
//    connections to the fakes' socket servers, poll, and the Zadig-style fixed polls (counted over 10
//    simulated minutes once every approval has been polled, then ×6: a fixed poll is linear in time).
// 3. 2,000 approvals (500 per platform) waiting at once in a real `signoff serve` process (compiled, PGlite,
//    sandbox on), then all decided in one burst through POST /sandbox/decide (64 in flight): the time until
//    every run has passed, read through the API, and the server's peak RSS from ready (after a restart, so
//    the first start's database creation is not in it) to the end.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { approvalApps } from '../src/engine/approval-apps.js';
import { Engine } from '../src/engine/engine.js';
import { createLogger } from '../src/log.js';
import { ImClients } from '../src/providers/clients.js';
import { createDingTalkFake } from '../src/providers/dingtalk/fake.js';
import { type DingTalkStreamFake, startDingTalkStreamFake } from '../src/providers/dingtalk/fake-stream.js';
import { dingTalkDemoSeed } from '../src/providers/dingtalk/seed.js';
import type { FakeClock } from '../src/providers/fake-kit.js';
import { createFeishuFake, type FeishuFake } from '../src/providers/feishu/fake.js';
import {
  type FeishuLongConnectionServer,
  startFeishuLongConnectionServer,
} from '../src/providers/feishu/fake-ws.js';
import { feishuSeed, seedOpenId } from '../src/providers/feishu/seed.js';
import type { Fetch } from '../src/providers/http.js';
import { createWeComFake } from '../src/providers/wecom/fake.js';
import { wecomSandboxSeed } from '../src/providers/wecom/seed.js';
import { localFetch } from '../src/sandbox/local-fetch.js';
import { ImAppConfigs } from '../src/store/im-app-configs.js';
import { createSecretBox, loadMasterKey } from '../src/store/secret-box.js';
import { sandboxCredentials } from '../test/callback-requests.js';
import {
  type BenchSignoff,
  benchToken,
  inParallel,
  jobOf,
  poll,
  startBenchSignoff,
} from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';
import { type SignoffProcess, startSignoffProcess } from './signoff-process.js';
import { summarize } from './stats.js';

type Platform = 'feishu' | 'lark' | 'dingtalk' | 'wecom';
const platforms: Platform[] = ['feishu', 'lark', 'dingtalk', 'wecom'];
type Polls = { first: number; max: number };

/** Event mode: decisions per platform, one at a time (after `eventWarmup` each). */
const eventDecisions = 200;
const eventWarmup = 3;
/** Poll modes: samples per platform and configuration. */
const pollSamples = 100;
/** Zadig's fixed poll intervals (Lark as Feishu). */
const zadigMs: Record<Platform, number> = { feishu: 2000, lark: 2000, dingtalk: 3000, wecom: 1000 };
/**
 * Approvals waiting at once per platform in each poll configuration, sized to keep reads inside the
 * vendors' limits (WeCom approval APIs 600/min = 10/s, DingTalk 20/s per API): reads/s = pool / interval.
 */
const signoffPollPool = 80;
const zadigPool: Record<Platform, number> = { feishu: 25, lark: 25, dingtalk: 25, wecom: 8 };
/** Simulated hour: approvals waiting per app (the counts are per approval; more only cost run time). */
const hourEventApprovals = 3;
const hourPollApprovals = 1;
/** A fixed poll's count is linear in time: Zadig-style polls are counted over this, then scaled to an hour. */
const zadigCountedMs = 600_000;
/** The burst. */
const burstPerPlatform = 500;
const burstCreators = 16;
const burstDeciders = 64;

const publicUrl = 'http://signoff.bench';
const person: Record<Platform, string> = {
  feishu: seedOpenId('li.na'),
  lark: seedOpenId('li.na'),
  dingtalk: 'zhangwei',
  wecom: 'ZhangWei',
};

function workflowYaml(name: string, type: Platform, app: string): string {
  return `
name: ${name}
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec:
          type: ${type}
          app: ${app}
          initiator: { id: ${person[type]} }
          nodes: [{ type: OR, approvers: [{ id: ${person[type]} }] }]
          timeout: 2h
  - name: ship
    jobs:
      - name: deploy
        type: shell
        spec: { script: "true" }
`;
}

// ---- an in-process Signoff (bench/in-process-signoff.ts) ---------------------------------------------

type Stack = BenchSignoff;
const startStack = startBenchSignoff;

/** An IM app on the same vendor account as the sandbox's (its credentials), in another event mode. */
async function addImApp(
  stack: Stack,
  type: Platform,
  name: string,
  eventMode: string,
  apiBase: string,
): Promise<{ id: string; callback_url: string | null }> {
  const { settings, secrets } = sandboxCredentials(type);
  return stack.call('POST', '/api/im-apps', {
    type,
    name,
    event_mode: eventMode,
    ...settings,
    ...secrets,
    api_base: apiBase,
    ...(type === 'dingtalk' ? { oapi_base: apiBase } : {}),
  });
}

/** Starts a run and waits until its approval job waits on a vendor instance. */
async function startWaitingRun(
  call: Stack['call'],
  workflow: string,
  checkMs: number,
): Promise<{ runId: number; instance: string }> {
  const run = await call('POST', `/api/workflows/${workflow}/runs`, {});
  await sleep(checkMs);
  return poll(
    async () => {
      const current = await call('GET', `/api/runs/${run.id}`);
      const job = jobOf(current, 'approve');
      const instance = job.approval?.vendor?.instance_id;
      if (job.status === 'waiting_for_approval' && instance) return { runId: run.id as number, instance };
      if (!['running', 'waiting_for_approval'].includes(current.status))
        throw new Error(`run ${run.id} of ${workflow} is ${current.status}: ${current.reason ?? job.reason}`);
      return undefined;
    },
    `run ${run.id} of ${workflow} to wait for its vendor approval`,
    { intervalMs: checkMs, timeoutMs: 120_000 },
  );
}

/** A fake person approves in the vendor's app (the sandbox page's form); the fake sends its callback. */
async function sandboxDecide(
  send: (path: string, init: RequestInit) => Promise<Response>,
  vendor: Platform,
  approval: string,
  approver: string,
): Promise<void> {
  const response = await send('/sandbox/decide', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ vendor, approval, person: approver, decision: 'approve' }).toString(),
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`deciding ${vendor} ${approval} answered ${response.status}: ${text}`);
}

/** Waits (a first look after `firstMs`, then every `everyMs`) until the run's next job has started. */
async function nextJobStarted(
  call: Stack['call'],
  runId: number,
  { firstMs = 0, everyMs = 10, timeoutMs = 60_000 } = {},
): Promise<number> {
  if (firstMs > 0) await sleep(firstMs);
  const run = await poll(
    async () => {
      const current = await call('GET', `/api/runs/${runId}`);
      if (jobOf(current, 'deploy').started_at) return current;
      if (!['running', 'waiting_for_approval'].includes(current.status))
        throw new Error(`run ${runId} ended ${current.status}: ${current.reason}`);
      return undefined;
    },
    `run ${runId} to start its next job after the decision`,
    { intervalMs: everyMs, timeoutMs },
  );
  return Date.parse(jobOf(run, 'deploy').started_at);
}

async function runEnded(call: Stack['call'], runId: number): Promise<void> {
  const run = await poll(
    async () => {
      const current = await call('GET', `/api/runs/${runId}`);
      return ['running', 'waiting_for_approval'].includes(current.status) ? undefined : current;
    },
    `run ${runId} to end`,
    { intervalMs: 10, timeoutMs: 60_000 },
  );
  if (run.status !== 'passed') throw new Error(`run ${runId} ended ${run.status}: ${run.reason}`);
}

const inProcess = (stack: Stack) => async (path: string, init: RequestInit) =>
  stack.signoff.app.request(path, init);

// ---- 1a. event mode ------------------------------------------------------------------------------------

interface EventResult {
  latency: Record<Platform, number[]>;
  roundTrip: number[];
}

async function eventMode(progress: (message: string) => void): Promise<EventResult> {
  const stack = await startStack({ sandbox: true });
  try {
    for (const type of platforms)
      await stack.call('POST', '/api/workflows', workflowYaml(`event-${type}`, type, `sandbox-${type}`));
    const perPlatform = eventWarmup + eventDecisions;
    progress(`event mode: starting ${perPlatform * 4} runs that wait on an instance in the sandbox fakes`);
    const runs: Record<Platform, number[]> = { feishu: [], lark: [], dingtalk: [], wecom: [] };
    const order = Array.from({ length: perPlatform }, () => platforms).flat();
    await inParallel(order, 8, async (type) => {
      runs[type].push((await stack.call('POST', `/api/workflows/event-${type}/runs`, {})).id);
    });
    // Deciding starts once the creation's own vendor traffic is over: the reads that DingTalk's and WeCom's
    // start events trigger wait in line at those vendors' rate limits (20/s, 10/s). Part 3 measures
    // decisions in such a crowd.
    const instances = await waitForInstances(stack.call, order.length, ['dingtalk', 'wecom']);

    progress(
      `event mode: ${eventWarmup} warm-up decisions per platform, then ${eventDecisions} measured, one at a time`,
    );
    const latency: EventResult['latency'] = { feishu: [], lark: [], dingtalk: [], wecom: [] };
    const roundTrip: number[] = [];
    for (let i = 0; i < perPlatform; i++) {
      for (const type of platforms) {
        const runId = runs[type][i]!;
        const decidedAt = Date.now();
        const start = performance.now();
        await sandboxDecide(inProcess(stack), type, instances.get(runId)!, person[type]);
        const trip = performance.now() - start;
        const started = await nextJobStarted(stack.call, runId);
        // The run ends before the next decision, so each decision is measured alone (not beside the
        // previous run's shell job), as in decision-latency.bench.ts.
        await runEnded(stack.call, runId);
        if (i < eventWarmup) continue;
        latency[type].push(started - decidedAt);
        roundTrip.push(trip);
      }
    }
    return { latency, roundTrip };
  } finally {
    await stack.close();
  }
}

/**
 * Waits until `count` pending approvals have their vendor instance; run id → instance id. With `readBack`,
 * also until those of the platforms in it have been read back once (DingTalk and WeCom send an event when
 * an instance starts, and each triggers a read of it).
 */
async function waitForInstances(
  call: Stack['call'],
  count: number,
  readBack: Platform[] = [],
): Promise<Map<number, string>> {
  return poll(
    async () => {
      const { approvals } = await call('GET', '/api/approvals?status=pending');
      const created = approvals.filter(
        (approval: any) =>
          approval.vendor?.instance_id &&
          (!readBack.includes(approval.kind) || approval.vendor.last_synced_at),
      );
      return created.length >= count
        ? new Map<number, string>(
            created.map((approval: any) => [approval.run_id, approval.vendor.instance_id]),
          )
        : undefined;
    },
    `${count} vendor instances`,
    { intervalMs: 500, timeoutMs: 600_000 },
  );
}

// ---- 1b. poll modes ------------------------------------------------------------------------------------

interface PollServer {
  label: string;
  stack: Stack;
  platforms: { type: Platform; workflow: string; intervalMs: number; pool: number }[];
  fastCheck?: NodeJS.Timeout;
}

async function startPollServer(
  label: string,
  types: Platform[],
  approvalPolls: Polls | undefined,
  intervalOf: (type: Platform) => number,
  poolOf: (type: Platform) => number,
  fastCheckMs?: number,
): Promise<PollServer> {
  const stack = await startStack({ sandbox: true, ...(approvalPolls ? { approvalPolls } : {}) });
  const entries: PollServer['platforms'] = [];
  for (const type of types) {
    await addImApp(stack, type, `poll-${type}`, 'poll', `${publicUrl}/sandbox/${type}`);
    const workflow = `poll-${type}`;
    await stack.call('POST', '/api/workflows', workflowYaml(workflow, type, `poll-${type}`));
    entries.push({ type, workflow, intervalMs: intervalOf(type), pool: poolOf(type) });
  }
  const server: PollServer = { label, stack, platforms: entries };
  if (fastCheckMs) {
    let busy = false;
    server.fastCheck = setInterval(() => {
      if (busy) return;
      busy = true;
      void stack.signoff.engine
        .pollApprovals()
        .catch(() => {})
        .finally(() => {
          busy = false;
        });
    }, fastCheckMs);
  }
  return server;
}

async function stopPollServer(server: PollServer): Promise<void> {
  if (server.fastCheck) clearInterval(server.fastCheck);
  await server.stack.close();
}

/**
 * `pool` approvals waiting at any time; each decided at a random moment 0–2 intervals after its instance was
 * created (a random point of its poll cycle); a new one is started as each run passes.
 */
async function rollingPool(server: PollServer, entry: PollServer['platforms'][number]): Promise<number[]> {
  const latencies: number[] = [];
  let claimed = 0;
  const rampMs = (1.5 * entry.intervalMs) / entry.pool;
  const slot = async (index: number) => {
    await sleep(index * rampMs);
    while (claimed < pollSamples) {
      claimed++;
      const { runId, instance } = await startWaitingRun(server.stack.call, entry.workflow, 100);
      await sleep(Math.random() * 2 * entry.intervalMs);
      const decidedAt = Date.now();
      await sandboxDecide(inProcess(server.stack), entry.type, instance, person[entry.type]);
      // No poll can see it sooner than the next one, at most an interval away: look from then on.
      const started = await nextJobStarted(server.stack.call, runId, {
        firstMs: Math.max(0, decidedAt + entry.intervalMs - Date.now()),
        everyMs: 250,
        timeoutMs: 5 * entry.intervalMs + 60_000,
      });
      latencies.push(started - decidedAt);
    }
  };
  await Promise.all(Array.from({ length: entry.pool }, (_, index) => slot(index)));
  return latencies;
}

/** Signoff's poll mode and the Zadig-style fixed polls, all servers at the same time. */
/**
 * Runs rolling pools on the servers that `start` makes (all at once), then stops them; platform →
 * latencies.
 */
async function pollPhase(start: () => Promise<PollServer>[]): Promise<Record<Platform, number[]>> {
  const started = await Promise.allSettled(start());
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const results = await Promise.all(
      servers.flatMap((server) =>
        server.platforms.map(async (entry) => [entry.type, await rollingPool(server, entry)] as const),
      ),
    );
    return Object.fromEntries(results) as Record<Platform, number[]>;
  } finally {
    for (const server of servers) await stopPollServer(server);
  }
}

/** Signoff's poll mode, then the Zadig-style fixed polls (three servers side by side). */
async function pollModes(
  progress: (message: string) => void,
): Promise<{ signoff: Record<Platform, number[]>; zadig: Record<Platform, number[]> }> {
  progress(
    `poll mode as shipped (10 s): ${signoffPollPool} approvals waiting per platform, ${pollSamples} decisions per platform`,
  );
  const signoff = await pollPhase(() => [
    startPollServer(
      'signoff',
      platforms,
      undefined,
      () => 10_000,
      () => signoffPollPool,
    ),
  ]);
  progress(
    `Zadig-style fixed polls (Feishu/Lark 2 s, DingTalk 3 s, WeCom 1 s): ${pollSamples} decisions per platform`,
  );
  const zadig = await pollPhase(() => [
    startPollServer(
      'zadig',
      ['feishu', 'lark'],
      fixed(2000),
      () => 2000,
      (type) => zadigPool[type],
      50,
    ),
    startPollServer(
      'zadig',
      ['dingtalk'],
      fixed(3000),
      () => 3000,
      (type) => zadigPool[type],
      50,
    ),
    startPollServer(
      'zadig',
      ['wecom'],
      fixed(1000),
      () => 1000,
      (type) => zadigPool[type],
      50,
    ),
  ]);
  return { signoff, zadig };
}

const fixed = (ms: number): Polls => ({ first: ms, max: ms });

// ---- 2. a simulated hour -------------------------------------------------------------------------------

interface HourCounts {
  /** Instance reads (and any other non-token call) per waiting approval in the simulated hour. */
  perApproval: number;
  /** Token requests (shared by every approval of the vendor app; apps on one vendor app share a token). */
  tokens: number;
}

type HourMode = 'webhook' | 'long_connection' | 'poll' | 'zadig';
type HourResult = Record<HourMode, Partial<Record<Platform, HourCounts>>>;

async function simulatedHour(progress: (message: string) => void): Promise<HourResult> {
  // One clock for the fakes (token lifetimes), the simulating engine and its clients: real time until the
  // simulation starts, then only what the simulation advances.
  let simulated: number | undefined;
  const now = () => simulated ?? Date.now();
  const clock: FakeClock = {
    now,
    advance: (ms) => {
      simulated = now() + ms;
    },
  };
  let stack: Stack | undefined;
  const callbackFetch: Fetch = (input, init) =>
    localFetch(publicUrl, () => stack!.signoff.app, fetch)(input, init);
  const feishuLike = (type: 'feishu' | 'lark'): FeishuFake => {
    const { settings, secrets } = sandboxCredentials(type);
    return createFeishuFake({
      apps: [
        {
          app_id: settings.app_id!,
          app_secret: secrets.app_secret!,
          encrypt_key: secrets.encrypt_key!,
          verification_token: secrets.verification_token!,
        },
      ],
      seed: feishuSeed({ extraUsers: 20, extraChats: 3 }),
      clock,
    });
  };
  const fakes = {
    feishu: feishuLike('feishu'),
    lark: feishuLike('lark'),
    // qpsLimit 0: DingTalk's per-second limit is on wall time, which a simulated hour compresses.
    dingtalk: createDingTalkFake({ seed: dingTalkDemoSeed, callbackFetch, clock, qpsLimit: 0 }),
    wecom: createWeComFake({ seed: wecomSandboxSeed, fetch: callbackFetch, clock }),
  };
  const sockets: {
    feishu?: FeishuLongConnectionServer;
    lark?: FeishuLongConnectionServer;
    dingtalk?: DingTalkStreamFake;
  } = {};
  // Every app gets its own API host, so requests are counted per app.
  const hosts = new Map<
    string,
    { fake: { request(path: string, init?: RequestInit): Response | Promise<Response> }; key: string }
  >();
  const counted = new Map<string, { calls: number; tokens: number }>();
  let counting = false;
  const route =
    (count: boolean): Fetch =>
    async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const target = hosts.get(url.host);
      if (!target) return fetch(input, init);
      if (count && counting) {
        const entry = counted.get(target.key) ?? { calls: 0, tokens: 0 };
        if (/token/i.test(url.pathname)) entry.tokens++;
        else entry.calls++;
        counted.set(target.key, entry);
      }
      return target.fake.request(`${url.pathname}${url.search}`, {
        method: init?.method ?? 'GET',
        ...(init?.headers ? { headers: init.headers } : {}),
        ...(init?.body !== undefined ? { body: init.body } : {}),
      });
    };

  try {
    stack = await startStack({ fetch: route(false) });
    const apps: { type: Platform; mode: HourMode; id: string; workflow: string; waiting: number }[] = [];
    const register = async (type: Platform, mode: HourMode, eventMode: string, base: string) => {
      const host = new URL(base).host;
      hosts.set(host, { fake: fakes[type].app, key: `${mode}:${type}` });
      const app = await addImApp(stack!, type, `hour-${mode}-${type}`, eventMode, base);
      const workflow = `hour-${mode}-${type}`;
      await stack!.call('POST', '/api/workflows', workflowYaml(workflow, type, app.id));
      apps.push({
        type,
        mode,
        id: app.id,
        workflow,
        waiting: mode === 'poll' || mode === 'zadig' ? hourPollApprovals : hourEventApprovals,
      });
      return app;
    };

    progress('simulated hour: IM apps in webhook, long_connection, stream and poll mode on own fakes');
    for (const type of platforms) {
      const app = await register(type, 'webhook', 'webhook', `http://${type}-webhook.fake`);
      const url = app.callback_url!;
      // What the operator's console does when the callback URL is saved: the vendor verifies it.
      const { settings, secrets } = sandboxCredentials(type);
      const fake = fakes[type];
      const verified =
        type === 'dingtalk'
          ? await fakes.dingtalk.subscribe(url)
          : type === 'wecom'
            ? (
                await fakes.wecom.configureCallback(settings.corp_id!, settings.agent_id!, {
                  url,
                  token: secrets.token!,
                  encodingAesKey: secrets.encoding_aes_key!,
                })
              ).ok
            : (
                await (fake as FeishuFake).deliver(
                  url,
                  (fake as FeishuFake).urlVerificationRequest(settings.app_id!),
                  callbackFetch,
                )
              ).ok;
      if (!verified) throw new Error(`the ${type} fake could not verify ${url}`);
    }
    for (const type of ['feishu', 'lark'] as const) {
      const server = await startFeishuLongConnectionServer(fakes[type]);
      sockets[type] = server;
      await register(type, 'long_connection', 'long_connection', server.domain);
    }
    const { settings: dingSettings, secrets: dingSecrets } = sandboxCredentials('dingtalk');
    sockets.dingtalk = await startDingTalkStreamFake({
      apps: [{ app_key: dingSettings.app_key!, app_secret: dingSecrets.app_secret! }],
    });
    await register('dingtalk', 'long_connection', 'stream', sockets.dingtalk.base);
    for (const type of platforms) await register(type, 'poll', 'poll', `http://${type}-poll.fake`);
    for (const type of platforms) await register(type, 'zadig', 'poll', `http://${type}-zadig.fake`);

    const { im_apps: listed } = await stack.call('GET', '/api/im-apps');
    for (const app of apps.filter((candidate) => candidate.mode === 'webhook')) {
      const status = listed.find((candidate: any) => candidate.id === app.id)?.status.callback;
      if (status !== 'verified') throw new Error(`${app.type} webhook app: callback ${status}`);
    }
    const live = (appId: string): boolean => {
      const app = apps.find((candidate) => candidate.id === appId);
      if (app?.mode !== 'long_connection') return false;
      if (app.type === 'dingtalk')
        return (sockets.dingtalk?.connections(dingSettings.app_key!).length ?? 0) > 0;
      const server = sockets[app.type as 'feishu' | 'lark'];
      return (server?.connections(sandboxCredentials(app.type).settings.app_id) ?? 0) > 0;
    };
    await poll(
      async () =>
        apps.filter((app) => app.mode === 'long_connection').every((app) => live(app.id)) ? true : undefined,
      'the long connections and the stream to open',
      { intervalMs: 100, timeoutMs: 30_000 },
    );

    const secretBox = createSecretBox(loadMasterKey(undefined, stack.dataDir));
    const clients = new ImClients({ fetch: route(true), now });
    const simulator = (approvalPolls: Polls | undefined) =>
      new Engine({
        db: stack!.signoff.db,
        queue: stack!.signoff.queue,
        log: createLogger({ level: 'silent' }),
        instanceId: `bench-simulated-${randomUUID()}`,
        publicUrl,
        workspaceDir: join(stack!.dataDir, 'simulated'),
        approvalApps: approvalApps({
          db: stack!.signoff.db,
          configs: new ImAppConfigs(stack!.signoff.db, secretBox),
          clients,
        }),
        liveEvents: live,
        pollClock: now,
        ...(approvalPolls ? { approvalPolls } : {}),
      });

    const result: HourResult = { webhook: {}, long_connection: {}, poll: {}, zadig: {} };
    /**
     * Starts the apps' waiting runs, simulates `countMs` with `engine` (calling its `pollApprovals()` at every
     * simulated second), counts, scales to an hour, then cancels the runs. With `fromFirstPoll`, counting
     * starts once every approval has been polled once (a fixed poll's steady rate).
     */
    const hour = async (selected: typeof apps, engine: Engine, countMs: number, fromFirstPoll: boolean) => {
      const runs: number[] = [];
      await inParallel(
        selected.flatMap((app) => Array.from({ length: app.waiting }, () => app)),
        8,
        async (app) => {
          runs.push((await startWaitingRun(stack!.call, app.workflow, 20)).runId);
        },
      );
      simulated = Date.now();
      /**
       * Advances the simulated clock by whole seconds to the next second at which a poll is due (no further
       * than `end`), and runs every poll due then; false when `end` came first.
       */
      const step = async (end = Number.POSITIVE_INFINITY): Promise<number | false> => {
        const [next] = await stack!.signoff.db.query<{ at: Date | null }>(
          `select min(next_poll_at) as at from approvals where status = 'pending' and vendor_instance_id is not null`,
        );
        const seconds = Math.max(1, Math.ceil(((next?.at?.getTime() ?? end) - now()) / 1000));
        if (now() + seconds * 1000 > end) {
          clock.advance(end - now());
          return false;
        }
        clock.advance(seconds * 1000);
        let polled = 0;
        for (;;) {
          const count = await engine.pollApprovals();
          if (count === 0) return polled;
          polled += count;
        }
      };
      if (fromFirstPoll) {
        let polled = 0;
        while (polled < runs.length) polled += (await step()) || 0;
      }
      counted.clear();
      counting = true;
      const end = now() + countMs;
      while ((await step(end)) !== false) {}
      counting = false;
      simulated = undefined;
      for (const app of selected) {
        const entry = counted.get(`${app.mode}:${app.type}`) ?? { calls: 0, tokens: 0 };
        const scale = 3_600_000 / countMs;
        result[app.mode][app.type] = {
          perApproval: (entry.calls * scale) / app.waiting,
          tokens: entry.tokens * scale,
        };
      }
      for (const id of runs) await stack!.call('POST', `/api/runs/${id}/cancel`, undefined, 200);
    };

    progress(
      `simulated hour, Signoff's schedule: ${hourEventApprovals} approvals per app with events, ${hourPollApprovals} per poll app`,
    );
    await hour(
      apps.filter((app) => app.mode !== 'zadig'),
      simulator(undefined),
      3_600_000,
      false,
    );
    const zadigGroups: Platform[][] = [['feishu', 'lark'], ['dingtalk'], ['wecom']];
    for (const group of zadigGroups) {
      const interval = zadigMs[group[0]!];
      progress(
        `Zadig-style fixed ${interval / 1000} s poll (${group.join(', ')}): ${zadigCountedMs / 60_000} simulated minutes`,
      );
      await hour(
        apps.filter((app) => app.mode === 'zadig' && group.includes(app.type)),
        simulator({ first: interval, max: interval }),
        zadigCountedMs,
        true,
      );
    }
    return result;
  } finally {
    counting = false;
    simulated = undefined;
    await stack?.close();
    await Promise.all(Object.values(sockets).map((socket) => socket.close().catch(() => {})));
  }
}

// ---- 3. the burst ----------------------------------------------------------------------------------------

interface BurstResult {
  readyRssMiB: number;
  waitingRssMiB: number;
  peakMiB: number;
  createSeconds: number;
  sendSeconds: number;
  allPassedSeconds: number;
  /** Decision request sent → run passed, per platform. */
  latency: Record<Platform, number[]>;
  /** The decision request's round trip (the fake decides and delivers its callback). */
  roundTrip: number[];
}

/** Every run, newest first, through the list API (500 a page). */
async function allRuns(call: Stack['call']): Promise<any[]> {
  const all: any[] = [];
  for (let before: number | undefined; ; ) {
    const { runs } = await call('GET', `/api/runs?limit=500${before ? `&before=${before}` : ''}`);
    all.push(...runs);
    if (runs.length < 500) return all;
    before = runs.at(-1).id;
  }
}

async function burst(progress: (message: string) => void): Promise<BurstResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bench-burst-'));
  let server: SignoffProcess | undefined;
  try {
    const env = { SIGNOFF_DATA_DIR: dataDir, SIGNOFF_SANDBOX: '1', SIGNOFF_PUBLIC_URL: publicUrl };
    // The first start creates the database (a passing peak, see waiting-runs); measure from a restart.
    server = await startSignoffProcess(env, benchToken);
    await server.stop();
    server = await startSignoffProcess(env, benchToken);
    const api = server;
    const readyRssMiB = api.memory().rssMiB;
    // From here VmHWM is the peak of this benchmark's work (Linux: "5" to clear_refs resets it).
    writeFileSync(`/proc/${api.child.pid}/clear_refs`, '5');
    for (const type of platforms)
      await api.call('POST', '/api/workflows', workflowYaml(`burst-${type}`, type, `sandbox-${type}`), 201);
    const total = burstPerPlatform * platforms.length;
    progress(`burst: creating ${total} vendor approvals (${burstCreators} run starts in flight)`);
    const order = Array.from({ length: burstPerPlatform }, () => platforms).flat();
    const createStart = performance.now();
    await inParallel(order, burstCreators, async (type) => {
      await api.call('POST', `/api/workflows/burst-${type}/runs`, {}, 201);
    });
    const instances = await waitForInstances(api.call, total);
    const createSeconds = (performance.now() - createStart) / 1000;
    const waitingRssMiB = api.memory().rssMiB;

    progress(`burst: deciding all ${total} through POST /sandbox/decide, ${burstDeciders} in flight`);
    const workflowOf = new Map<number, Platform>(
      (await allRuns(api.call)).map((run) => [run.id, run.workflow.slice('burst-'.length)]),
    );
    const decisions = [...instances]
      .map(([runId, instance]) => ({ type: workflowOf.get(runId)!, runId, instance }))
      .sort(() => Math.random() - 0.5);
    const sentAt = new Map<number, number>();
    const roundTrip: number[] = [];
    const firstDecision = Date.now();
    await inParallel(decisions, burstDeciders, async ({ type, runId, instance }) => {
      const sent = Date.now();
      sentAt.set(runId, sent);
      await sandboxDecide((path, init) => fetch(`${api.url}${path}`, init), type, instance, person[type]);
      roundTrip.push(Date.now() - sent);
    });
    const sendSeconds = (Date.now() - firstDecision) / 1000;
    await poll(
      async () => {
        for (const status of ['running', 'waiting_for_approval']) {
          const { runs } = await api.call('GET', `/api/runs?status=${status}&limit=1`);
          if (runs.length > 0) return undefined;
        }
        return true;
      },
      `all ${total} runs to end`,
      { intervalMs: 250, timeoutMs: 600_000 },
    );
    const { peakMiB } = api.memory();

    const ended = await allRuns(api.call);
    const notPassed = ended.filter((run) => run.status !== 'passed');
    if (ended.length !== total || notPassed.length > 0)
      throw new Error(
        `${ended.length} runs, ${notPassed.length} not passed: ${notPassed
          .slice(0, 3)
          .map((run) => `${run.id} ${run.status} ${run.reason}`)
          .join('; ')}`,
      );
    const finished = (run: any) => Date.parse(run.finished_at);
    const latency: BurstResult['latency'] = { feishu: [], lark: [], dingtalk: [], wecom: [] };
    for (const run of ended) latency[workflowOf.get(run.id)!].push(finished(run) - sentAt.get(run.id)!);
    return {
      readyRssMiB,
      waitingRssMiB,
      peakMiB,
      createSeconds,
      sendSeconds,
      allPassedSeconds: (Math.max(...ended.map(finished)) - firstDecision) / 1000,
      latency,
      roundTrip,
    };
  } finally {
    if (server) await server.stop(10_000).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---- the benchmark ---------------------------------------------------------------------------------------

export const benchmark: Benchmark = {
  name: 'approvals',
  title:
    'Approvals in Feishu, Lark, DingTalk and WeCom (sandbox fakes): decision latency by event and by poll vs a Zadig-style fixed poll, vendor calls per hour, 2,000 decided in a burst',
  async run(context) {
    const began = performance.now();
    const progress = (message: string) =>
      context.progress(`${message} (at ${((performance.now() - began) / 1000).toFixed(0)} s)`);
    const figures: Figure[] = [];
    const ms = (value: number) => ({ value, unit: 'ms', digits: 0 });

    // 1a. Event mode.
    const events = await eventMode(progress);
    for (const type of platforms) {
      const summary = summarize(events.latency[type]);
      figures.push(
        { name: `event mode (webhook), ${type}: decision → next job started, p50`, ...ms(summary.p50) },
        {
          name: `event mode (webhook), ${type}: decision → next job started, p99 (${summary.count} decisions)`,
          ...ms(summary.p99),
          goal: { op: '<', value: 100 },
        },
      );
    }
    const trip = summarize(events.roundTrip);
    figures.push({
      name: 'event mode: POST /sandbox/decide round trip (decision + callback), p50',
      ...ms(trip.p50),
    });

    // 1b. Poll modes; 2. the simulated hour.
    const pollResults = await pollModes(progress);
    const hourResult = await simulatedHour(progress);
    for (const type of platforms) {
      const signoff = summarize(pollResults.signoff[type]);
      const zadig = summarize(pollResults.zadig[type]);
      figures.push(
        { name: `poll mode (10 s), ${type}: decision → next job started, p50`, ...ms(signoff.p50) },
        { name: `poll mode (10 s), ${type}: p99 (${signoff.count} decisions)`, ...ms(signoff.p99) },
        {
          name: `baseline: Zadig-style fixed ${zadigMs[type] / 1000} s poll, ${type}: p50`,
          ...ms(zadig.p50),
        },
        {
          name: `baseline: Zadig-style fixed ${zadigMs[type] / 1000} s poll, ${type}: p99 (${zadig.count})`,
          ...ms(zadig.p99),
        },
      );
    }

    const modeName: Record<HourMode, string> = {
      webhook: 'webhook, events arriving',
      long_connection: 'long_connection / stream',
      poll: 'poll mode',
      zadig: 'baseline: Zadig-style fixed poll',
    };
    for (const mode of ['webhook', 'long_connection', 'poll', 'zadig'] as const) {
      for (const type of platforms) {
        const counts = hourResult[mode][type];
        if (!counts) continue;
        const eventsOn = mode === 'webhook' || mode === 'long_connection';
        figures.push({
          name: `vendor calls per waiting approval per hour, ${modeName[mode]}${mode === 'zadig' ? ` ${zadigMs[type] / 1000} s` : ''}, ${type}`,
          value: counts.perApproval,
          unit: '/h',
          digits: 0,
          ...(eventsOn ? { goal: { op: '<', value: 30.001 } } : {}),
        });
      }
    }
    const tokens = (['webhook', 'long_connection', 'poll'] as const)
      .flatMap((mode) => Object.values(hourResult[mode]))
      .reduce((sum, counts) => sum + counts.tokens, 0);
    figures.push({
      name: 'token requests in the simulated hour, all 11 apps (not in the figures above)',
      value: tokens,
      unit: '',
      digits: 0,
    });

    // 3. The burst.
    const burstResult = await burst(progress);
    const total = burstPerPlatform * platforms.length;
    figures.push(
      {
        name: `burst: creating ${total} vendor instances (first run start → last instance recorded)`,
        value: burstResult.createSeconds,
        unit: 's',
      },
      {
        name: `burst: sending ${total} decisions (${burstDeciders} in flight)`,
        value: burstResult.sendSeconds,
        unit: 's',
      },
      { name: `burst: first decision → every run passed`, value: burstResult.allPassedSeconds, unit: 's' },
      {
        name: 'burst: decision request round trip (queued behind the others), p50',
        value: summarize(burstResult.roundTrip).p50 / 1000,
        unit: 's',
        digits: 2,
      },
      {
        name: 'burst: decision request round trip, p99',
        value: summarize(burstResult.roundTrip).p99 / 1000,
        unit: 's',
        digits: 2,
      },
      ...platforms.flatMap((type) => {
        const latency = summarize(burstResult.latency[type]);
        return [
          {
            name: `burst, ${type}: decision sent → run passed, p50`,
            value: latency.p50 / 1000,
            unit: 's',
            digits: 2,
          },
          {
            name: `burst, ${type}: decision sent → run passed, p99`,
            value: latency.p99 / 1000,
            unit: 's',
            digits: 2,
          },
        ];
      }),
      { name: 'burst: server RSS at ready, no runs (baseline)', value: burstResult.readyRssMiB, unit: 'MiB' },
      { name: `burst: server RSS with ${total} waiting`, value: burstResult.waitingRssMiB, unit: 'MiB' },
      {
        name: 'burst: server peak RSS (VmHWM) from ready to the end',
        value: burstResult.peakMiB,
        unit: 'MiB',
      },
    );
    return figures;
  },
};
