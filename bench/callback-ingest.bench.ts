// Callback ingest: vendor approval callbacks, each valid and distinct (a new event id or dedup key, a fresh
// timestamp and nonce, encrypted and signed the vendor's way), sent over loopback HTTP by 200 concurrent
// keep-alive senders to a real `signoff serve` process, which verifies, decrypts and records each one.
// The ceiling is a bare node:http server in its own process that only verifies and decrypts the same
// requests with the same crypto functions and answers (this file is its entry point too, see the end):
// what this machine allows at best. Each round sends one batch to both, the order alternating, so drift in
// the machine's load falls on both; callbacks/s is the median round, reply times pool every round.
// Afterwards the server's PGlite data directory is opened to check every accepted callback left one row in
// im_events.
//
// Lark shares Feishu's callback code path (handleFeishuCallback, the same crypto), so it is not measured apart.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type OutgoingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { createDingTalkCrypto } from '../src/providers/dingtalk/crypto.js';
import { decryptFeishuEvent, verifyFeishuSignature } from '../src/providers/feishu/crypto.js';
import { createWeComCrypto, extractWeComEncrypt } from '../src/providers/wecom/crypto.js';
import {
  callbackUrl,
  dingTalkApprovalEvent,
  dingTalkCallback,
  feishuApprovalEvent,
  feishuCallback,
  type RawCallback,
  sandboxCredentials,
  weComApprovalChange,
  weComCallback,
} from '../test/callback-requests.js';
import { benchToken } from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';
import { startSignoffProcess } from './signoff-process.js';
import { median, summarize } from './stats.js';

type Platform = 'feishu' | 'dingtalk' | 'wecom';
const platforms: Platform[] = ['feishu', 'dingtalk', 'wecom'];
const perRound = 3000;
const rounds = 3;
const warmup = 600;
const senders = 200;
/** Sent one at a time after the rounds: the reply time with no queue in front of it. */
const alone = 200;
const ceilingEnv = 'SIGNOFF_BENCH_CALLBACK_CEILING';
const thisFile = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));

// ---- requests ----------------------------------------------------------------------------------------

interface Prepared {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

let batchCounter = 0;

/** `count` approval status callbacks for the sandbox app, each a new event, timestamped now. */
function batch(platform: Platform, count: number): Prepared[] {
  const tag = `${process.pid}-${Date.now().toString(36)}-${++batchCounter}`;
  return Array.from({ length: count }, (_, index) => {
    const id = `bench-${tag}-${index}`;
    const raw: RawCallback =
      platform === 'feishu'
        ? feishuCallback({ type: 'feishu', plaintext: feishuApprovalEvent('feishu', { eventId: id }) })
        : platform === 'dingtalk'
          ? dingTalkCallback({ plaintext: dingTalkApprovalEvent({ processInstanceId: id }) })
          : weComCallback({ plaintext: weComApprovalChange({ spNo: id }) });
    const body = Buffer.from(raw.body);
    return {
      method: raw.method,
      path: callbackUrl(raw),
      headers: { ...Object.fromEntries(raw.headers), 'content-length': String(body.length) },
      body,
    };
  });
}

// ---- sender ------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  text: string;
}

function send(base: URL, agent: Agent, prepared: Prepared): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const outgoing = request(
      {
        host: base.hostname,
        port: base.port,
        method: prepared.method,
        path: prepared.path,
        headers: prepared.headers,
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolveAnswer({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(prepared.body);
  });
}

interface Blast {
  seconds: number;
  latenciesMs: number[];
  accepted: number;
  refused: Answer[];
  /** CPU seconds the server process used meanwhile, and this (sending) process. */
  serverCpu: number;
  senderCpu: number;
}

/**
 * Sends every request with `concurrency` senders, each waiting for its answer before sending the next,
 * over keep-alive connections of an agent of its own: no socket left idle by an earlier phase (which the
 * server may be closing just then, after its 5 s keep-alive timeout) is ever reused. The connections are
 * opened before the clock starts (one cheap GET each, all at once): when 200 connections open while the
 * server is saturated, Node serves the first request of the late ones only once the load drains (seconds,
 * even with a bare node:http server), which would measure the connection burst, not the ingest.
 */
async function blast(base: URL, pid: number, requests: Prepared[], concurrency = senders): Promise<Blast> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const opening: Prepared = { method: 'GET', path: '/healthz', headers: {}, body: Buffer.alloc(0) };
  await Promise.all(Array.from({ length: concurrency }, () => send(base, agent, opening)));
  const latenciesMs: number[] = [];
  const refused: Answer[] = [];
  let accepted = 0;
  let next = 0;
  const sender = async () => {
    while (next < requests.length) {
      const prepared = requests[next++]!;
      const sent = performance.now();
      // A connection error counts as a refusal (status 0) rather than ending the whole run.
      const answer = await send(base, agent, prepared).catch(
        (error: Error): Answer => ({
          status: 0,
          text: `${error.message} (${(error as { code?: string }).code ?? 'no code'})`,
        }),
      );
      latenciesMs.push(performance.now() - sent);
      if (answer.status >= 200 && answer.status < 300) accepted++;
      else refused.push(answer);
    }
  };
  const serverBefore = cpuSeconds(pid);
  const senderBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, sender));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const senderUsage = process.cpuUsage(senderBefore);
  return {
    seconds,
    latenciesMs,
    accepted,
    refused,
    serverCpu: cpuSeconds(pid) - serverBefore,
    senderCpu: (senderUsage.user + senderUsage.system) / 1e6,
  };
}

/** utime + stime of a process from /proc (in USER_HZ ticks, 100 per second on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---- the ceiling server ------------------------------------------------------------------------------

interface CeilingProcess {
  url: URL;
  pid: number;
  stop(): Promise<void>;
}

function startCeiling(): Promise<CeilingProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', thisFile], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', [ceilingEnv]: 'serve' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ceiling server did not start:\n${output}`));
    }, 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ceiling ready on (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolveStart({
        url: new URL(match[1]!),
        pid: child.pid!,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the ceiling server exited before it was ready:\n${output}`));
    });
  });
}

const windowMs = 5 * 60_000;

function checkWindow(timestampMs: number): void {
  if (!Number.isFinite(timestampMs) || Math.abs(Date.now() - timestampMs) > windowMs) {
    throw new Error('stale timestamp');
  }
}

/** Verifies and decrypts like Signoff does (same functions, same checks), then answers as the vendor wants. */
function ceilingHandlers(): Record<
  Platform,
  (query: URLSearchParams, headers: Record<string, string | string[] | undefined>, body: string) => string
> {
  const feishuKey = sandboxCredentials('feishu').secrets.encrypt_key!;
  const dingtalk = sandboxCredentials('dingtalk');
  const dingtalkCrypto = createDingTalkCrypto({
    token: dingtalk.secrets.token!,
    aesKey: dingtalk.secrets.aes_key!,
    ownerKey: dingtalk.settings.app_key!,
  });
  const wecom = sandboxCredentials('wecom');
  const wecomCrypto = createWeComCrypto({
    token: wecom.secrets.token!,
    encodingAesKey: wecom.secrets.encoding_aes_key!,
    corpId: wecom.settings.corp_id!,
  });
  const text = (value: string | string[] | undefined) => (typeof value === 'string' ? value : '');
  return {
    feishu(_query, headers, body) {
      const encrypt = (JSON.parse(body) as { encrypt: string }).encrypt;
      const timestamp = text(headers['x-lark-request-timestamp']);
      const nonce = text(headers['x-lark-request-nonce']);
      const signature = text(headers['x-lark-signature']);
      if (!verifyFeishuSignature(feishuKey, { timestamp, nonce, body, signature })) {
        throw new Error('bad signature');
      }
      checkWindow(Number(timestamp) * 1000);
      decryptFeishuEvent(feishuKey, encrypt);
      return '{}';
    },
    dingtalk(query, _headers, body) {
      const timestamp = query.get('timestamp') ?? '';
      checkWindow(Number(timestamp));
      dingtalkCrypto.open({
        signature: query.get('msg_signature') ?? undefined,
        timestamp,
        nonce: query.get('nonce') ?? '',
        encrypt: (JSON.parse(body) as { encrypt: string }).encrypt,
      });
      return JSON.stringify(dingtalkCrypto.successReply());
    },
    wecom(query, _headers, body) {
      const timestamp = query.get('timestamp') ?? '';
      checkWindow(Number(timestamp) * 1000);
      wecomCrypto.open({
        signature: query.get('msg_signature') ?? undefined,
        timestamp,
        nonce: query.get('nonce') ?? '',
        encrypt: extractWeComEncrypt(body),
      });
      return 'success';
    },
  };
}

function serveCeiling(): void {
  const handlers = ceilingHandlers();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://ceiling');
      const platform = url.pathname.split('/')[2] as Platform;
      const handler = handlers[platform];
      try {
        if (!handler || size > 1024 * 1024) throw new Error('not a callback');
        const answer = handler(url.searchParams, req.headers, Buffer.concat(chunks).toString());
        res.writeHead(200, {
          'content-type': platform === 'wecom' ? 'text/plain' : 'application/json',
        });
        res.end(answer);
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('refused');
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object')
      console.log(`ceiling ready on http://127.0.0.1:${address.port}`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
  });
}

// ---- the benchmark -----------------------------------------------------------------------------------

type SideName = 'signoff' | 'ceiling';

interface Side {
  perSecond: number[];
  latenciesMs: number[];
  aloneMs: number[];
  accepted: number;
  refused: Answer[];
  /** CPU seconds of the server and of the sender during the measured rounds, and their length. */
  serverCpu: number;
  senderCpu: number;
  seconds: number;
}

const emptySide = (): Side => ({
  perSecond: [],
  latenciesMs: [],
  aloneMs: [],
  accepted: 0,
  refused: [],
  serverCpu: 0,
  senderCpu: 0,
  seconds: 0,
});

interface Target {
  url: URL;
  pid: number;
}

async function measurePlatform(
  platform: Platform,
  targets: Record<SideName, Target>,
  progress: (message: string) => void,
): Promise<Record<SideName, Side>> {
  const sides: Record<SideName, Side> = { signoff: emptySide(), ceiling: emptySide() };
  const sendTo = async (side: SideName, requests: Prepared[], concurrency?: number) => {
    const { url, pid } = targets[side];
    const outcome = await blast(url, pid, requests, concurrency);
    sides[side].accepted += outcome.accepted;
    sides[side].refused.push(...outcome.refused);
    return outcome;
  };
  progress(`${platform}: ${warmup} warm-up callbacks to each server`);
  for (const side of ['ceiling', 'signoff'] as const) await sendTo(side, batch(platform, warmup));
  for (let round = 0; round < rounds; round++) {
    // The same requests to both servers, in alternating order.
    const requests = batch(platform, perRound);
    const order: SideName[] = round % 2 === 0 ? ['ceiling', 'signoff'] : ['signoff', 'ceiling'];
    for (const side of order) {
      const outcome = await sendTo(side, requests);
      const into = sides[side];
      into.perSecond.push(perRound / outcome.seconds);
      into.latenciesMs.push(...outcome.latenciesMs);
      into.serverCpu += outcome.serverCpu;
      into.senderCpu += outcome.senderCpu;
      into.seconds += outcome.seconds;
    }
    progress(
      `${platform} round ${round + 1}: signoff ${sides.signoff.perSecond.at(-1)!.toFixed(0)}/s, ceiling ${sides.ceiling.perSecond.at(-1)!.toFixed(0)}/s`,
    );
  }
  for (const side of ['ceiling', 'signoff'] as const) {
    sides[side].aloneMs.push(...(await sendTo(side, batch(platform, alone), 1)).latenciesMs);
  }
  for (const side of ['signoff', 'ceiling'] as const) {
    for (const answer of sides[side].refused.slice(0, 3)) {
      progress(
        `${platform}: ${side} refused a valid callback: ${answer.status} ${answer.text.slice(0, 300)}`,
      );
    }
  }
  return sides;
}

/** Rows in im_events per IM app, read from a stopped server's data directory. */
async function recordedEvents(dataDir: string): Promise<Map<string, number>> {
  const db = new PGlite(join(dataDir, 'pg'));
  try {
    const { rows } = await db.query<{ im_app_id: string; n: number }>(
      'select im_app_id, count(*)::int as n from im_events group by im_app_id',
    );
    return new Map(rows.map((row) => [row.im_app_id, row.n]));
  } finally {
    await db.close();
  }
}

function figuresOf(results: Map<Platform, Record<SideName, Side>>): Figure[] {
  const figures: Figure[] = [];
  for (const [platform, { signoff, ceiling }] of results) {
    const signoffRate = median(signoff.perSecond);
    const ceilingRate = median(ceiling.perSecond);
    const signoffTimes = summarize(signoff.latenciesMs);
    const ceilingTimes = summarize(ceiling.latenciesMs);
    figures.push(
      { name: `${platform}: signoff, callbacks/s (median round)`, value: signoffRate, unit: '/s', digits: 0 },
      { name: `${platform}: ceiling, callbacks/s (median round)`, value: ceilingRate, unit: '/s', digits: 0 },
      {
        // In percent, not ×: the table prints goals with no decimals, and 0.5× would read "> 1×".
        name: `${platform}: signoff / ceiling`,
        value: (100 * signoffRate) / ceilingRate,
        unit: '%',
        digits: 0,
        goal: { op: '>', value: 50 },
      },
      { name: `${platform}: signoff reply time, p50`, value: signoffTimes.p50, unit: 'ms' },
      {
        name: `${platform}: signoff reply time, p99`,
        value: signoffTimes.p99,
        unit: 'ms',
        goal: { op: '<', value: 50 },
      },
      { name: `${platform}: ceiling reply time, p50`, value: ceilingTimes.p50, unit: 'ms' },
      { name: `${platform}: ceiling reply time, p99`, value: ceilingTimes.p99, unit: 'ms' },
      {
        name: `${platform}: signoff reply time, 1 sender, p50`,
        value: summarize(signoff.aloneMs).p50,
        unit: 'ms',
        digits: 2,
      },
      {
        name: `${platform}: ceiling reply time, 1 sender, p50`,
        value: summarize(ceiling.aloneMs).p50,
        unit: 'ms',
        digits: 2,
      },
    );
  }
  const all = [...results.values()];
  figures.push({
    name: 'valid callbacks refused (either server)',
    value: all.reduce((sum, sides) => sum + sides.signoff.refused.length + sides.ceiling.refused.length, 0),
    unit: '',
    digits: 0,
    goal: { op: '<', value: 1 },
  });
  // 100 % = one core busy: whether the server or the sender (sharing this machine's cores) was the limit.
  for (const side of ['signoff', 'ceiling'] as const) {
    const seconds = all.reduce((sum, sides) => sum + sides[side].seconds, 0);
    for (const [who, key] of [
      ['server', 'serverCpu'],
      ['sender', 'senderCpu'],
    ] as const) {
      figures.push({
        name: `CPU while measuring ${side}: ${who}`,
        value: (100 * all.reduce((sum, sides) => sum + sides[side][key], 0)) / seconds,
        unit: '%',
        digits: 0,
      });
    }
  }
  return figures;
}

export const benchmark: Benchmark = {
  name: 'callback-ingest',
  title: `Callback ingest over loopback HTTP: ${rounds} × ${perRound} valid approval callbacks per platform, ${senders} concurrent keep-alive senders; signoff serve (PGlite) vs a bare node:http server that only verifies and decrypts (Lark = Feishu path)`,
  async run({ progress }) {
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bench-callbacks-'));
    const results = new Map<Platform, Record<SideName, Side>>();
    try {
      progress('starting signoff serve (sandbox apps) and the ceiling server');
      const signoff = await startSignoffProcess(
        { SIGNOFF_DATA_DIR: dataDir, SIGNOFF_PUBLIC_URL: 'http://signoff.bench', SIGNOFF_LOG_LEVEL: 'info' },
        benchToken,
      );
      let ceiling: CeilingProcess | undefined;
      try {
        ceiling = await startCeiling();
        const { im_apps: apps } = (await signoff.call('GET', '/api/im-apps')) as {
          im_apps: { id: string }[];
        };
        for (const platform of platforms) {
          if (!apps.some((app) => app.id === `ima_sandbox_${platform}`)) {
            throw new Error(`signoff serve has no sandbox ${platform} app`);
          }
        }
        const targets: Record<SideName, Target> = {
          signoff: { url: new URL(signoff.url), pid: signoff.child.pid! },
          ceiling: { url: ceiling.url, pid: ceiling.pid },
        };
        for (const platform of platforms)
          results.set(platform, await measurePlatform(platform, targets, progress));
      } finally {
        await ceiling?.stop();
        const stopped = await signoff.stop();
        progress(
          `signoff serve stopped in ${stopped.stopMs.toFixed(0)} ms (${stopped.code ?? stopped.signal})`,
        );
      }
      // The server owns its PGlite while it runs; once it has stopped, count what it recorded.
      const recorded = await recordedEvents(dataDir);
      for (const platform of platforms) {
        const rows = recorded.get(`ima_sandbox_${platform}`) ?? 0;
        const accepted = results.get(platform)!.signoff.accepted;
        progress(`${platform}: ${accepted} callbacks accepted (2xx) by signoff, ${rows} rows in im_events`);
        if (rows !== accepted) {
          throw new Error(
            `${platform}: signoff accepted ${accepted} callbacks but recorded ${rows} im_events rows`,
          );
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    return figuresOf(results);
  },
};

// Run as a script with the environment flag: the ceiling server (see startCeiling).
if (process.env[ceilingEnv] === 'serve' && resolve(process.argv[1] ?? '') === thisFile) serveCeiling();
