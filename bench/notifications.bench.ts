// 1,000 notifications to 10 DingTalk robots and 10 Feishu chats at once, against the vendors' rate limits.
//
// A real Signoff in this process (PGlite on disk, the queue, the engine, the outbox: bench/in-process-signoff.ts)
// sends to the Feishu and DingTalk fakes served on loopback ports, over real HTTP. The fakes enforce the
// vendors' documented limits on arrival (DingTalk: 20 messages a minute per robot, then 130101 and a
// 10-minute mute; Feishu im/v1 send: 5/s into one chat → 230020, 50/s and 1,000/min per app → 99991400).
//
// One workflow: a shell job `true` and 20 `notify` rules on `passed` — 10 `dingtalk_robot` rules (one per
// robot, each signed with its robot's 加签 secret) and 10 `feishu_app` rules (one per chat, through one
// Feishu app registered in poll mode). 50 runs started at once through the API make 1,000 outbox rows,
// 50 per destination, written within a second or two of each other.
//
// Figures:
// - time from the first outbox row's created_at to the last row's delivered_at (the database's clock),
//   against the theoretical minimum the documented limits set: for n messages through a key limited to L
//   per window W, the last can leave floor((n - 1) / L) × W after the first; the minimum is the largest
//   over every key (each robot, each chat, the Feishu app) and every limit on it. Goal: within 5 % of it.
// - vendor rate-limit refusals, read from every answer the fakes gave (Feishu code 230020 / 99991400 /
//   HTTP 429, DingTalk errcode 130101). Goal: 0. Other refusals are counted apart.
// - messages lost (never accepted by the vendor) and duplicated (accepted twice for the same destination and
//   run), from what the fakes accepted; the run is read from the run URL every message carries. Goal: 0.
// - without goals, what explains a miss: each channel's own span against its minimum; rows the vendor has
//   although they are not delivered (a resend would show twice: DingTalk robots have no idempotency key);
//   Feishu sends repeated under one uuid; queue jobs beyond one per row (rate-slot re-checks); how long
//   the rows took to be written and the first message to reach a vendor; the longest gap between a
//   DingTalk request being signed and answered; the longest event-loop stall (PGlite runs on this thread).
// Waiting stops at the minimum plus a minute (a muted robot would take 10 more): the figures then say so.
// SIGNOFF_BENCH_NOTIFY_DUMP=<file> writes every row, rate-log entry, queue job and vendor answer as JSON.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDingTalkFake } from '../src/providers/dingtalk/fake.js';
import { createFeishuFake } from '../src/providers/feishu/fake.js';
import { feishuSeed, seedAppId } from '../src/providers/feishu/seed.js';
import { type Served, serveFetch } from '../test/vendor-harness.js';
import { type BenchSignoff, inParallel, startBenchSignoff } from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';

const robotCount = 10;
const chatCount = 10;
const runCount = 50;
const total = runCount * (robotCount + chatCount);
/**
 * How long to wait for the last message, after the theoretical minimum: once a DingTalk robot is muted (10
 * minutes) nothing more arrives in time, so the figures are taken as they stand then.
 */
const graceMs = 60_000;
/** Where to write every row, rate-log entry and vendor answer, for a closer look (optional). */
const dumpPath = process.env.SIGNOFF_BENCH_NOTIFY_DUMP;
const progressEveryMs = 10_000;

interface Limit {
  limit: number;
  windowMs: number;
}

/** The documented vendor limits (reference/platforms.md §4.8, §6.3), as the fakes enforce them. */
const documented = {
  dingtalkRobot: [{ limit: 20, windowMs: 60_000 }],
  feishuChat: [{ limit: 5, windowMs: 1_000 }],
  feishuApp: [
    { limit: 50, windowMs: 1_000 },
    { limit: 1_000, windowMs: 60_000 },
  ],
} satisfies Record<string, Limit[]>;

/** The earliest the last of `count` messages through one key can leave after the first, in ms. */
function lastSendAfterMs(count: number, limits: readonly Limit[]): number {
  return Math.max(0, ...limits.map(({ limit, windowMs }) => Math.floor((count - 1) / limit) * windowMs));
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Counts every answer a fake gives: accepted sends, rate-limit refusals, other refusals. */
interface Answers {
  accepted: number;
  rateLimited: number;
  otherErrors: number;
  /** A few of the refusals, to name them in the report. */
  samples: string[];
}

const newAnswers = (): Answers => ({ accepted: 0, rateLimited: 0, otherErrors: 0, samples: [] });

function noteError(answers: Answers, kind: 'rateLimited' | 'otherErrors', what: string): void {
  answers[kind]++;
  if (answers.samples.length < 5) answers.samples.push(what);
}

/** Serves a fake on loopback, with every answer looked at by `inspect` before it leaves. */
async function serveInspected(
  handler: (request: Request) => Response | Promise<Response>,
  inspect: (request: Request, body: string, response: Response, text: string) => void,
): Promise<Served> {
  return serveFetch(async (request) => {
    const body = request.method === 'POST' ? await request.clone().text() : '';
    const response = await handler(request);
    const text = await response.clone().text();
    inspect(request, body, response, text);
    return response;
  });
}

const parse = (text: string): any => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The run a message is about, from the run URL it carries (plain or URL-encoded in a dingtalk:// link). */
function runIdOf(content: string): number | undefined {
  const match = /\/runs\/(\d+)/.exec(content) ?? /%2Fruns%2F(\d+)/i.exec(content);
  return match ? Number(match[1]) : undefined;
}

function workflowYaml(robots: { url: string; secret: string }[], app: string, chats: string[]): string {
  return `
name: notify-burst
stages:
  - name: build
    jobs:
      - { name: check, type: shell, spec: { script: "true" } }
notify:
${robots.map((robot) => `  - { on: [passed], channel: dingtalk_robot, url: "${robot.url}", secret: "${robot.secret}" }`).join('\n')}
${chats.map((chat) => `  - { on: [passed], channel: feishu_app, app: ${app}, chat: ${chat} }`).join('\n')}
`;
}

interface Timing {
  first: number | null;
  lastCreated: number | null;
  last: number | null;
  delivered: number;
  failed: number;
  rows: number;
}

async function outboxTiming(stack: BenchSignoff, channel?: string): Promise<Timing> {
  const [row] = await stack.signoff.db.query<{
    first: number | null;
    lastCreated: number | null;
    last: number | null;
    delivered: number;
    failed: number;
    rows: number;
  }>(
    `select extract(epoch from min(created_at))::float8 * 1000 as first,
            extract(epoch from max(created_at))::float8 * 1000 as "lastCreated",
            extract(epoch from max(delivered_at))::float8 * 1000 as last,
            (count(*) filter (where status = 'delivered'))::int as delivered,
            (count(*) filter (where status in ('failed', 'skipped')))::int as failed,
            count(*)::int as rows
       from notifications where $1::text is null or channel = $1`,
    [channel ?? null],
  );
  return {
    first: row?.first ?? null,
    lastCreated: row?.lastCreated ?? null,
    last: row?.last ?? null,
    delivered: Number(row?.delivered ?? 0),
    failed: Number(row?.failed ?? 0),
    rows: Number(row?.rows ?? 0),
  };
}

/** One answer a fake gave to a send, for the dump and the lag figure. */
interface Answered {
  vendor: 'feishu' | 'dingtalk';
  /** When the fake had answered (ms). */
  at: number;
  to: string | undefined;
  code: number;
  status: number;
  /** DingTalk: the signature's timestamp, taken just before the request was made. */
  signedAt?: number;
  uuid?: string;
}

export const benchmark: Benchmark = {
  name: 'notifications',
  title:
    '1,000 notifications at once to 10 DingTalk robots and 10 Feishu chats (fakes over loopback HTTP): time to deliver all vs the minimum the rate limits allow, rate-limit errors, messages lost or duplicated',
  async run(context) {
    const began = performance.now();
    const progress = (message: string) =>
      context.progress(`${message} (at ${((performance.now() - began) / 1000).toFixed(0)} s)`);
    const served: Served[] = [];
    let stack: BenchSignoff | undefined;
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    try {
      stack = await startBenchSignoff();
      const answered: Answered[] = [];

      // Feishu: one self-built app whose bot is in every project chat.
      const credentials = { app_id: seedAppId(`notify-bench-${hex(3)}`), app_secret: `secret-${hex(12)}` };
      const feishu = createFeishuFake({ apps: [credentials], seed: feishuSeed({ extraChats: chatCount }) });
      const chats = feishu.seed.chats
        .filter((chat) => chat.bot_member && chat.name.startsWith('项目群'))
        .slice(0, chatCount)
        .map((chat) => chat.chat_id);
      if (chats.length !== chatCount) throw new Error(`the Feishu seed has ${chats.length} project chats`);
      const feishuAnswers = newAnswers();
      const feishuServed = await serveInspected(
        (request) => feishu.app.fetch(request),
        (request, body, response, text) => {
          const path = new URL(request.url).pathname;
          const answer = parse(text);
          const code = Number(answer?.code ?? (response.status === 200 ? 0 : -1));
          if (response.status === 429 || code === 230020 || code === 99991400) {
            noteError(feishuAnswers, 'rateLimited', `Feishu ${path}: HTTP ${response.status}, code ${code}`);
          } else if (response.status !== 200 || code !== 0) {
            noteError(
              feishuAnswers,
              'otherErrors',
              `Feishu ${path}: HTTP ${response.status}, code ${code} ${answer?.msg ?? ''}`,
            );
          } else if (request.method === 'POST' && path === '/open-apis/im/v1/messages') {
            feishuAnswers.accepted++;
          }
          if (request.method === 'POST' && path === '/open-apis/im/v1/messages') {
            const sent = parse(body);
            answered.push({
              vendor: 'feishu',
              at: Date.now(),
              to: sent?.receive_id,
              code,
              status: response.status,
              uuid: sent?.uuid,
            });
          }
        },
      );
      served.push(feishuServed);
      await stack.call('POST', '/api/im-apps', {
        type: 'feishu',
        name: 'feishu-bench',
        ...credentials,
        event_mode: 'poll',
        api_base: feishuServed.url,
      });

      // DingTalk: 10 custom robots with 加签.
      const dingtalk = createDingTalkFake();
      const dingAnswers = newAnswers();
      const dingServed = await serveInspected(
        (request) => dingtalk.app.fetch(request),
        (request, _body, response, text) => {
          const url = new URL(request.url);
          const answer = parse(text);
          const errcode = Number(answer?.errcode ?? (response.status === 200 ? 0 : -1));
          if (response.status === 429 || errcode === 130101) {
            noteError(
              dingAnswers,
              'rateLimited',
              `DingTalk ${url.pathname}: HTTP ${response.status}, errcode ${errcode}`,
            );
          } else if (response.status !== 200 || errcode !== 0) {
            noteError(
              dingAnswers,
              'otherErrors',
              `DingTalk ${url.pathname}: HTTP ${response.status}, errcode ${errcode} ${answer?.errmsg ?? ''}`,
            );
          } else if (url.pathname === '/robot/send') {
            dingAnswers.accepted++;
          }
          if (url.pathname === '/robot/send')
            answered.push({
              vendor: 'dingtalk',
              at: Date.now(),
              to: url.searchParams.get('access_token') ?? undefined,
              code: errcode,
              status: response.status,
              signedAt: Number(url.searchParams.get('timestamp')),
            });
        },
      );
      served.push(dingServed);
      const robots = Array.from({ length: robotCount }, () => {
        const robot = { accessToken: hex(32), secret: `SEC${hex(32)}` };
        dingtalk.addRobot(robot);
        return { ...robot, url: `${dingServed.url}/robot/send?access_token=${robot.accessToken}` };
      });
      await stack.call('POST', '/api/workflows', workflowYaml(robots, 'feishu-bench', chats));

      // The theoretical minimum: the largest over every key and limit.
      const perRobot = runCount;
      const perChat = runCount;
      const dingMinMs = lastSendAfterMs(perRobot, documented.dingtalkRobot);
      const feishuMinMs = Math.max(
        lastSendAfterMs(perChat, documented.feishuChat),
        lastSendAfterMs(perChat * chatCount, documented.feishuApp),
      );
      const minimumMs = Math.max(dingMinMs, feishuMinMs);

      progress(
        `starting ${runCount} runs at once; each passes and sends ${robotCount + chatCount} messages (${total} in all); ` +
          `the limits allow the last to leave ${(minimumMs / 1000).toFixed(0)} s after the first`,
      );
      stalls.enable();
      const runIds: number[] = [];
      await inParallel(
        Array.from({ length: runCount }, (_, index) => index),
        runCount,
        async () => {
          runIds.push((await stack!.call('POST', '/api/workflows/notify-burst/runs', {})).id);
        },
      );

      // Until every row has reached a final status, or the minimum plus the grace has passed.
      let nextProgress = Date.now() + progressEveryMs;
      let timing = await outboxTiming(stack);
      let timedOut = false;
      while (timing.rows < total || timing.delivered + timing.failed < total) {
        if (timing.first !== null && Date.now() > timing.first + minimumMs + graceMs) {
          timedOut = true;
          break;
        }
        await sleep(250);
        timing = await outboxTiming(stack);
        if (Date.now() >= nextProgress) {
          nextProgress += progressEveryMs;
          progress(
            `${timing.delivered} of ${total} delivered (vendors accepted ${feishuAnswers.accepted} Feishu, ${dingAnswers.accepted} DingTalk; ` +
              `${feishuAnswers.rateLimited + dingAnswers.rateLimited} rate-limit refusals)`,
          );
        }
      }
      stalls.disable();
      if (timedOut)
        progress(
          `stopped waiting ${((minimumMs + graceMs) / 1000).toFixed(0)} s after the first row: ${total - timing.delivered - timing.failed} rows not final`,
        );
      const dingTiming = await outboxTiming(stack, 'dingtalk_robot');
      const feishuTiming = await outboxTiming(stack, 'feishu_app');
      const [queued] = await stack.signoff.db.query<{ count: number }>(
        `select count(*)::int as count from pgboss.job where name = 'notification-send'`,
      );

      const { runs } = await stack.call('GET', '/api/runs?workflow=notify-burst&limit=500');
      const notPassed = runs.filter((run: any) => run.status !== 'passed');
      if (runs.length !== runCount || notPassed.length > 0)
        throw new Error(`${runs.length} runs, ${notPassed.length} not passed`);
      const started = new Set(runIds);

      // What each destination received, by run.
      const received = new Map<string, number>();
      let unattributed = 0;
      const receive = (destination: string, content: string) => {
        const runId = runIdOf(content);
        if (runId === undefined || !started.has(runId)) {
          unattributed++;
          return;
        }
        const key = `${destination} ${runId}`;
        received.set(key, (received.get(key) ?? 0) + 1);
      };
      const chatSet = new Set(chats);
      for (const message of feishu.messages)
        if (chatSet.has(message.receive_id)) receive(`feishu:${message.receive_id}`, message.content);
      for (const message of dingtalk.robotMessages)
        receive(`dingtalk:${message.robot}`, JSON.stringify(message.body));
      const receivedCount = [...received.values()].reduce((sum, count) => sum + count, 0);
      const distinct = received.size;
      const lost = total - distinct;
      const duplicated = receivedCount - distinct;

      // Rows not delivered although their destination has the message: a later resend would show it twice
      // (a DingTalk robot has no idempotency key; Feishu drops a repeated uuid).
      const rows = await stack.signoff.db.query<{
        run_id: number;
        channel: string;
        status: string;
        dest: string;
      }>(`select run_id, channel, status, coalesce(recipient->>'chat', '') as dest from notifications`);
      // A DingTalk row names its robot only in its sealed destination: compare, per run, how many robots
      // have the run's message with how many of the run's DingTalk rows are delivered.
      const dingReceivedPerRun = new Map<number, number>();
      for (const key of received.keys())
        if (key.startsWith('dingtalk:')) {
          const runId = Number(key.split(' ')[1]);
          dingReceivedPerRun.set(runId, (dingReceivedPerRun.get(runId) ?? 0) + 1);
        }
      const dingDeliveredPerRun = new Map<number, number>();
      for (const row of rows)
        if (row.channel === 'dingtalk_robot' && row.status === 'delivered')
          dingDeliveredPerRun.set(row.run_id, (dingDeliveredPerRun.get(row.run_id) ?? 0) + 1);
      let resendPending = 0;
      for (const [runId, count] of dingReceivedPerRun)
        resendPending += Math.max(0, count - (dingDeliveredPerRun.get(runId) ?? 0));
      for (const row of rows)
        if (
          row.channel === 'feishu_app' &&
          row.status !== 'delivered' &&
          received.has(`feishu:${row.dest} ${row.run_id}`)
        )
          resendPending++;

      const uuids = new Map<string, number>();
      for (const answer of answered)
        if (answer.vendor === 'feishu' && answer.code === 0 && answer.uuid)
          uuids.set(answer.uuid, (uuids.get(answer.uuid) ?? 0) + 1);
      const hiddenResends = [...uuids.values()].reduce((sum, count) => sum + count - 1, 0);
      const signedToArrived = answered
        .filter((answer) => answer.vendor === 'dingtalk' && answer.signedAt)
        .map((answer) => answer.at - answer.signedAt!);
      const firstAccepted = Math.min(
        ...answered.filter((answer) => answer.code === 0).map((answer) => answer.at),
      );

      if (dumpPath) {
        const all = await stack.signoff.db.query(
          `select id, run_id, channel, status, attempts, last_error,
                  extract(epoch from created_at)::float8 * 1000 as created,
                  extract(epoch from delivered_at)::float8 * 1000 as delivered
             from notifications order by id`,
        );
        const rate = await stack.signoff.db.query(
          'select key, at::float8 as at from rate_log order by key, at',
        );
        const jobs = await stack.signoff.db.query(
          `select (data->>'notificationId')::int as id,
                  extract(epoch from created_on)::float8 * 1000 as created,
                  extract(epoch from start_after)::float8 * 1000 as due,
                  extract(epoch from started_on)::float8 * 1000 as started,
                  extract(epoch from completed_on)::float8 * 1000 as completed
             from pgboss.job where name = 'notification-send' order by created_on`,
        );
        writeFileSync(
          dumpPath,
          JSON.stringify({
            rows: all,
            jobs,
            rate,
            answered,
            robots: robots.map((robot) => robot.accessToken),
            chats,
          }),
        );
        context.progress(`wrote the rows, the rate log and every vendor answer to ${dumpPath}`);
      }
      for (const sample of [...feishuAnswers.samples, ...dingAnswers.samples])
        context.progress(`refusal: ${sample}`);
      if (unattributed > 0)
        context.progress(`${unattributed} received messages name no run of this benchmark`);

      const lastMs = timedOut ? timing.first! + minimumMs + graceMs : timing.last!;
      const elapsedMs = lastMs - timing.first!;
      const span = (part: Timing) =>
        ((part.delivered === part.rows ? part.last! : lastMs) - part.first!) / 1000;
      const unfinished = timedOut ? ` — NOT all delivered, waiting stopped` : '';
      const rateLimited = feishuAnswers.rateLimited + dingAnswers.rateLimited;
      const otherErrors = feishuAnswers.otherErrors + dingAnswers.otherErrors;
      const count = (name: string, value: number, goal?: Figure['goal']): Figure => ({
        name,
        value,
        unit: '',
        digits: 0,
        ...(goal ? { goal } : {}),
      });
      return [
        {
          name: `first outbox row created → last delivered (${total} messages)${unfinished}`,
          value: elapsedMs / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: `theoretical minimum set by the documented limits (${perRobot} per robot at 20/min; ${perChat} per chat at 5/s, ${perChat * chatCount} per app at 50/s)`,
          value: minimumMs / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: 'time over the theoretical minimum',
          value: ((elapsedMs - minimumMs) / minimumMs) * 100,
          unit: '%',
          digits: 2,
          goal: { op: '<', value: 5 },
        },
        {
          name: `DingTalk robots: first row created → last delivered (minimum ${(dingMinMs / 1000).toFixed(0)} s)`,
          value: span(dingTiming),
          unit: 's',
          digits: 2,
        },
        {
          name: `Feishu chats: first row created → last delivered (minimum ${(feishuMinMs / 1000).toFixed(0)} s)`,
          value: span(feishuTiming),
          unit: 's',
          digits: 2,
        },
        count('vendor rate-limit errors (Feishu 230020/99991400/HTTP 429, DingTalk 130101)', rateLimited, {
          op: '<',
          value: 1,
        }),
        count('other vendor errors (any other non-zero answer)', otherErrors),
        count('messages lost (not received by their destination)', lost, { op: '<', value: 1 }),
        count('messages duplicated (received twice by one destination for one run)', duplicated, {
          op: '<',
          value: 1,
        }),
        count(
          'rows not delivered although the destination has the message (a resend would duplicate)',
          resendPending,
        ),
        count('outbox rows failed or skipped', timing.failed),
        count('outbox rows not final when waiting stopped', total - timing.delivered - timing.failed),
        count('Feishu sends repeated with the same uuid (dropped by Feishu as duplicates)', hiddenResends),
        count(
          'notification-send queue jobs beyond one per row (rate-slot waits, retries)',
          (queued?.count ?? 0) - total,
        ),
        {
          name: 'outbox rows written over (first → last created_at)',
          value: (timing.lastCreated! - timing.first!) / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: 'first row created → first message accepted by a vendor',
          value: (firstAccepted - timing.first!) / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: 'DingTalk robot requests: signed → answered by the fake, max (send path lag)',
          value: signedToArrived.length ? Math.max(...signedToArrived) : 0,
          unit: 'ms',
          digits: 0,
        },
        {
          name: 'longest event-loop stall during the burst',
          value: stalls.max / 1e6,
          unit: 'ms',
          digits: 0,
        },
      ];
    } finally {
      stalls.disable();
      await stack?.close();
      for (const one of served) await one.close();
    }
  },
};
