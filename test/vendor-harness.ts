// The vendor side of the end-to-end approval tests (vendor-approvals.test.ts): each platform's fake served
// on a loopback port, an IM app registered for it through Signoff's API, and the fake's callbacks sent over
// HTTP to that app's callback URL. Signoff is told its public URL is http://signoff.test; the operator
// pastes callback URLs under that name into the vendor console, and `relay` plays the network between
// vendor and server: it maps http://signoff.test to the port the server listens on, and records every
// request as sent (so a test can send one again, or send an older event after a newer one).
//
// Per platform up to three accounts, each its own fake (own credentials, own callback settings):
// - webhook: callbacks to the app's callback URL (for WeCom: the URL verified by WeCom's GET first);
// - poll: no callbacks at all; only reconcile polls can see a decision;
// - live: Feishu/Lark long connection (startFeishuLongConnectionServer) or DingTalk Stream
//   (startDingTalkStreamFake behind a small proxy, so one api_base serves the API and the Stream gateway).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createDingTalkCrypto } from '../src/providers/dingtalk/crypto.js';
import { createDingTalkFake, type DingTalkFake } from '../src/providers/dingtalk/fake.js';
import { type DingTalkStreamFake, startDingTalkStreamFake } from '../src/providers/dingtalk/fake-stream.js';
import { type DingTalkSeed, dingTalkDemoSeed } from '../src/providers/dingtalk/seed.js';
import { decryptFeishuEvent } from '../src/providers/feishu/crypto.js';
import { createFeishuFake, type FeishuFake } from '../src/providers/feishu/fake.js';
import {
  type FeishuLongConnectionServer,
  startFeishuLongConnectionServer,
} from '../src/providers/feishu/fake-ws.js';
import { feishuSeed, seedAppId } from '../src/providers/feishu/seed.js';
import type { Fetch } from '../src/providers/http.js';
import type { CallbackRequest } from '../src/providers/types.js';
import { createWeComCrypto } from '../src/providers/wecom/crypto.js';
import { createWeComFake, type WeComFake } from '../src/providers/wecom/fake.js';
import { type WeComSeedCorp, wecomSandboxSeed } from '../src/providers/wecom/seed.js';
import { apiRequest } from './api-request.js';
import { adminToken, type TestStack, waitFor } from './stack.js';

export type Platform = 'feishu' | 'lark' | 'dingtalk' | 'wecom';
export const platforms: Platform[] = ['feishu', 'lark', 'dingtalk', 'wecom'];
export type Mode = 'webhook' | 'poll' | 'live';

/** The name Signoff is configured with as its public URL (test/stack.ts). */
export const publicUrl = 'http://signoff.test';

/** A person in the fake's address book, and how a workflow names them. */
export interface Person {
  id: string;
  name: string;
  email: string;
}

/** One callback as the vendor sent it, with its plaintext (decrypted here, for tests to pick events). */
export interface Delivered {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The decrypted event (empty for handshakes we do not open). */
  plaintext: string;
  status?: number;
  error?: string;
}

export interface Account {
  platform: Platform;
  mode: Mode;
  /** Our IM app, as registered through the API. */
  appId: string;
  appName: string;
  /** Someone decides in the vendor's app; the vendor tells us as it does in this mode. Never throws on a failed push. */
  decide(instanceId: string, person: Person, decision: 'approve' | 'reject', comment?: string): Promise<void>;
  /** The initiator withdraws (Feishu CANCELED) / terminates (DingTalk) / withdraws (WeCom SpStatus 4) it. */
  cancel(instanceId: string, remark?: string): Promise<void>;
  /** The instance's status in the fake, in the vendor's words (undefined: no such instance). */
  vendorStatus(instanceId: string): string | undefined;
  /** How many instances the fake holds. */
  instanceCount(): number;
  /** Callbacks sent (webhook mode), in order. */
  deliveries: Delivered[];
  /** Events pushed over the long connection / Stream (live mode) and acknowledged, as JSON text. */
  pushed: string[];
  /** Decrypted events about one instance, in the order they were sent. */
  events(instanceId: string): Delivered[];
  /** Sends a recorded callback again, byte for byte (a vendor retry of the same request). */
  resend(delivered: Delivered): Promise<number>;
  /** Sends the same event again, sealed anew (new timestamp, nonce and signature). */
  reseal(delivered: Delivered): Promise<number>;
  close(): Promise<void>;
}

export interface VendorHarness {
  platform: Platform;
  /** initiator starts the instances; a, b and c approve. */
  people: { initiator: Person; a: Person; b: Person; c: Person };
  accounts: Partial<Record<Mode, Account>>;
  account(mode: Mode): Account;
  /** Every secret any account was registered with: none may appear in a log line. */
  secrets: string[];
  close(): Promise<void>;
}

/** Random hex of `bytes` bytes: ids and names unique per test. */
export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Letters and digits only (WeCom tokens), as consoles hand them out. */
export const token = (length: number) =>
  randomBytes(length * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, length);
/** 43 characters like an EncodingAESKey / aes_key. */
const aesKey = () => token(43);

// ---- plumbing --------------------------------------------------------------------------------------------

/** Calls the API over real HTTP as the admin. Bodies that are strings are sent as YAML. */
export async function api(
  stack: TestStack,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const base = stack.signoff.url;
  if (!base) throw new Error('the stack must listen (startStack(kind, { listen: true }))');
  const { status, text } = await apiRequest(
    { request: (path: string | URL | Request, init?: RequestInit) => fetch(`${base}${String(path)}`, init) },
    adminToken,
    method,
    path,
    body,
  );
  return { status, body: text ? JSON.parse(text) : undefined };
}

/** http://signoff.test/… → the address the server listens on now. */
function toServer(stack: TestStack, url: string): string {
  return url.startsWith(`${publicUrl}/`) ? `${stack.signoff.url}${url.slice(publicUrl.length)}` : url;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers ?? {}).entries());
}

/**
 * The network between a fake and Signoff: records each request and sends it to where the server listens.
 * A failed request (the server is down) is recorded and rejects, as fetch does.
 */
function relay(stack: TestStack, log: Delivered[], open: (request: Delivered) => string): Fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const delivered: Delivered = {
      url,
      method: init?.method ?? 'GET',
      headers: headerRecord(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
      plaintext: '',
    };
    try {
      delivered.plaintext = open(delivered);
    } catch {
      // A handshake or something we cannot open: kept without plaintext.
    }
    log.push(delivered);
    try {
      const response = await fetch(toServer(stack, url), {
        method: delivered.method,
        headers: delivered.headers,
        ...(delivered.method === 'GET' ? {} : { body: delivered.body }),
        ...(init?.signal ? { signal: init.signal } : {}),
      });
      delivered.status = response.status;
      return response;
    } catch (error) {
      delivered.error = (error as Error).message;
      throw error;
    }
  };
}

/** Sends a recorded request again, as it was. */
async function sendAgain(stack: TestStack, delivered: Delivered): Promise<number> {
  const response = await fetch(toServer(stack, delivered.url), {
    method: delivered.method,
    headers: delivered.headers,
    body: delivered.body,
  });
  await response.text();
  return response.status;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
): Promise<Served> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const instance = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }, () => resolve(instance));
    instance.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function registerApp(stack: TestStack, body: Record<string, unknown>): Promise<any> {
  const { status, body: app } = await api(stack, 'POST', '/api/im-apps', body);
  if (status !== 201) throw new Error(`registering ${String(body.name)}: ${status} ${JSON.stringify(app)}`);
  return app;
}

// ---- Feishu / Lark ---------------------------------------------------------------------------------------

const feishuPeople = () => {
  const seed = feishuSeed({ extraUsers: 0, extraChats: 0 });
  const person = (email: string): Person => {
    const user = seed.users.find((candidate) => candidate.email === email)!;
    return { id: user.open_id, name: user.name, email: user.email };
  };
  return {
    seed,
    people: {
      initiator: person('ceo@example.com'),
      a: person('zhang.wei@example.com'),
      b: person('li.na@example.com'),
      c: person('wang.fang@example.com'),
    },
  };
};

async function feishuAccount(
  stack: TestStack,
  platform: 'feishu' | 'lark',
  mode: Mode,
  name: string,
  secrets: string[],
): Promise<Account> {
  const appId = seedAppId(`${name}-${hex(4)}`);
  // The long connection needs no callback keys; the webhook app gets both, as the console issues them.
  const credentials = {
    app_id: appId,
    app_secret: `secret-${hex(12)}`,
    ...(mode === 'webhook' ? { encrypt_key: `ek-${hex(12)}`, verification_token: `vt-${hex(12)}` } : {}),
  };
  secrets.push(...Object.values(credentials).filter((value) => value !== appId));
  const fake: FeishuFake = createFeishuFake({
    apps: [credentials],
    seed: feishuPeople().seed,
    ...(platform === 'lark' ? { applinkBase: 'https://applink.larksuite.com' } : {}),
  });
  let live: FeishuLongConnectionServer | undefined;
  let served: Served | undefined;
  if (mode === 'live') live = await startFeishuLongConnectionServer(fake);
  else served = await serveFetch((request) => fake.app.fetch(request));
  const apiBase = live?.domain ?? served!.url;

  const deliveries: Delivered[] = [];
  const open = (request: Delivered) => {
    const body = JSON.parse(request.body) as { encrypt?: string };
    return body.encrypt && credentials.encrypt_key
      ? decryptFeishuEvent(credentials.encrypt_key, body.encrypt)
      : request.body;
  };
  const send = relay(stack, deliveries, open);
  const app = await registerApp(stack, {
    type: platform,
    name,
    ...credentials,
    event_mode: mode === 'live' ? 'long_connection' : mode,
    api_base: apiBase,
  });
  const callbackUrl: string = app.callback_url;
  if (!callbackUrl.startsWith(`${publicUrl}/`)) throw new Error(`unexpected callback URL ${callbackUrl}`);
  if (mode === 'webhook') {
    // What Feishu does when the operator saves the request URL: the url_verification handshake.
    const answer = await fake.deliver(callbackUrl, fake.urlVerificationRequest(appId), send);
    if (!answer.ok) throw new Error(`${platform} url_verification failed: ${answer.status}`);
  }
  if (live) await waitFor(async () => live!.connections(appId) > 0, `the ${platform} long connection`);

  /** A push as Feishu makes it in this mode: to the callback URL, over the long connection, or nowhere. */
  const pushed: string[] = [];
  const push = async (request: CallbackRequest | undefined) => {
    if (!request) return;
    if (mode === 'webhook') await fake.deliver(callbackUrl, request, send).catch(() => undefined);
    if (mode === 'live') {
      // After a server restart the SDK dials again on its own time; Feishu delivers once it is back.
      await waitFor(async () => live!.connections(appId) > 0, `the ${platform} long connection`);
      const ack = await live!.push(appId, request.body);
      if (ack.code !== 200) throw new Error(`the long connection answered ${ack.code}`);
      pushed.push(request.body);
    }
  };

  return {
    platform,
    mode,
    appId: app.id,
    appName: name,
    async decide(instanceId, person, decision, comment) {
      const instance = fake.instances.get(instanceId)!;
      const task = instance.tasks.find((item) => item.open_id === person.id && item.status === 'PENDING');
      const statusChange = fake.decide(instanceId, decision === 'approve' ? 'APPROVED' : 'REJECTED', {
        by: person.id,
        ...(comment ? { comment } : {}),
      });
      // The instance goes on (one of several approvers): Feishu pushes the task's change (approval_task,
      // the v1 event of a subscribed definition), not an instance status change.
      await push(
        statusChange ??
          fake.eventRequest(
            appId,
            'approval_task',
            {
              approval_code: instance.approval_code,
              instance_code: instanceId,
              task_id: task?.id ?? '',
              open_id: person.id,
              status: decision === 'approve' ? 'APPROVED' : 'REJECTED',
              operate_time: String(Date.now()),
            },
            { schema: '1.0' },
          ),
      );
    },
    async cancel(instanceId) {
      await push(fake.cancelAtVendor(instanceId));
    },
    vendorStatus: (instanceId) => fake.instances.get(instanceId)?.status,
    instanceCount: () => fake.instances.size,
    deliveries,
    pushed,
    events: (instanceId) => deliveries.filter((item) => item.plaintext.includes(instanceId)),
    resend: (delivered) => sendAgain(stack, delivered),
    async reseal(delivered) {
      const payload = JSON.parse(delivered.plaintext) as {
        schema?: string;
        uuid?: string;
        header?: { event_id: string; event_type: string };
        event: Record<string, unknown> & { type?: string };
      };
      let request: CallbackRequest;
      if (payload.schema === '2.0' && payload.header) {
        request = fake.eventRequest(appId, payload.header.event_type, payload.event, {
          event_id: payload.header.event_id,
        });
      } else {
        const { app_id: _app, tenant_key: _tenant, type, ...event } = payload.event;
        request = fake.eventRequest(appId, String(type), event, {
          schema: '1.0',
          ...(payload.uuid ? { event_id: payload.uuid } : {}),
        });
      }
      const response = await fake.deliver(callbackUrl, request, send);
      return response.status;
    },
    async close() {
      await live?.close();
      await served?.close();
    },
  };
}

// ---- DingTalk --------------------------------------------------------------------------------------------

const dingTalkPeople = (seed: DingTalkSeed) => {
  const person = (userid: string): Person => {
    const user = seed.users.find((candidate) => candidate.userid === userid)!;
    return { id: user.userid, name: user.name, email: (user.email ?? user.org_email)! };
  };
  return {
    initiator: person('manager001'),
    a: person('zhangwei'),
    b: person('lina'),
    c: person('liuyang'),
  };
};

/**
 * The Stream gateway lives on the DingTalk API host: one base URL routes to the API fake and the Stream fake
 * (to the API fake alone without one).
 */
export async function dingTalkFront(
  fake: DingTalkFake,
  stream: DingTalkStreamFake | undefined,
): Promise<Served> {
  return serveFetch(async (request) => {
    const url = new URL(request.url);
    if (!stream || !url.pathname.startsWith('/v1.0/gateway/')) return fake.app.fetch(request);
    const headers = new Headers(request.headers);
    headers.delete('host');
    headers.delete('content-length');
    const answer = await fetch(`${stream.base}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      ...(request.method === 'GET' ? {} : { body: await request.text() }),
    });
    return new Response(await answer.text(), {
      status: answer.status,
      headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' },
    });
  });
}

async function dingTalkAccount(
  stack: TestStack,
  mode: Mode,
  name: string,
  secrets: string[],
): Promise<Account> {
  const seed: DingTalkSeed = structuredClone(dingTalkDemoSeed);
  seed.app = {
    ...seed.app,
    appKey: `ding${hex(8)}`,
    appSecret: `secret-${hex(16)}`,
    token: token(24),
    aesKey: aesKey(),
  };
  secrets.push(seed.app.appSecret, ...(mode === 'webhook' ? [seed.app.token, seed.app.aesKey] : []));
  const keys = { token: seed.app.token, aesKey: seed.app.aesKey, ownerKey: seed.app.appKey };
  const crypto = createDingTalkCrypto(keys);
  const deliveries: Delivered[] = [];
  const open = (request: Delivered) => {
    const query = new URL(request.url).searchParams;
    return crypto.open({
      signature: query.get('msg_signature') ?? undefined,
      timestamp: query.get('timestamp') ?? '',
      nonce: query.get('nonce') ?? '',
      encrypt: (JSON.parse(request.body) as { encrypt: string }).encrypt,
    }).message;
  };
  const send = relay(stack, deliveries, open);
  const fake = createDingTalkFake({ seed, callbackFetch: send });
  const stream =
    mode === 'live'
      ? await startDingTalkStreamFake({
          apps: [{ app_key: seed.app.appKey, app_secret: seed.app.appSecret }],
          corpId: seed.corpId,
        })
      : undefined;
  const front = await dingTalkFront(fake, stream);
  const app = await registerApp(stack, {
    type: 'dingtalk',
    name,
    app_key: seed.app.appKey,
    agent_id: String(seed.app.agentId),
    app_secret: seed.app.appSecret,
    ...(mode === 'webhook' ? { aes_key: seed.app.aesKey, token: seed.app.token } : {}),
    event_mode: mode === 'live' ? 'stream' : mode,
    api_base: front.url,
    oapi_base: front.url,
  });
  const callbackUrl: string = app.callback_url;
  // The operator pastes the callback URL into DingTalk, which checks it (check_url) before keeping it.
  if (mode === 'webhook' && !(await fake.subscribe(callbackUrl)))
    throw new Error(`DingTalk check_url failed: ${JSON.stringify(fake.deliveries.at(-1))}`);
  if (stream)
    await waitFor(
      async () => stream.connections(seed.app.appKey).length > 0,
      'the DingTalk Stream connection',
    );

  /** Events raised since the last call: in Stream mode they go over the connection (no callback URL is set). */
  let streamed = 0;
  const pushed: string[] = [];
  const flush = async () => {
    await fake.flush();
    if (!stream) return;
    const raised = fake.deliveries.slice(streamed);
    streamed = fake.deliveries.length;
    for (const { payload } of raised) {
      if (payload.EventType === 'check_url') continue;
      // Stream carries the business fields in `data` and the event type in the frame's headers.
      const { EventType, ...data } = payload;
      const ack = await stream.push(seed.app.appKey, String(EventType), data);
      if (ack.status !== 'SUCCESS') throw new Error(`the Stream event was answered ${ack.status}`);
      pushed.push(JSON.stringify(payload));
    }
  };
  await flush();

  return {
    platform: 'dingtalk',
    mode,
    appId: app.id,
    appName: name,
    async decide(instanceId, person, decision, comment) {
      fake.decide(instanceId, person.id, decision === 'approve' ? 'agree' : 'refuse', comment ?? '');
      await flush();
    },
    async cancel(instanceId, remark) {
      const instance = fake.instances.get(instanceId)!;
      fake.revokeInstance(instanceId, instance.originatorUserId, remark ?? '');
      await flush();
    },
    vendorStatus: (instanceId) => {
      const instance = fake.instances.get(instanceId);
      return instance && (instance.result ? `${instance.status}/${instance.result}` : instance.status);
    },
    instanceCount: () => fake.instances.size,
    deliveries,
    pushed,
    events: (instanceId) => deliveries.filter((item) => item.plaintext.includes(instanceId)),
    resend: (delivered) => sendAgain(stack, delivered),
    async reseal(delivered) {
      const sealed = crypto.encrypt(delivered.plaintext, { nonce: token(8) });
      const url = new URL(callbackUrl);
      url.searchParams.set('msg_signature', sealed.signature);
      url.searchParams.set('timestamp', sealed.timestamp);
      url.searchParams.set('nonce', sealed.nonce);
      const response = await send(url.toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt: sealed.encrypt }),
      });
      await response.text();
      return response.status;
    },
    async close() {
      await front.close();
      await stream?.close();
    },
  };
}

// ---- WeCom -----------------------------------------------------------------------------------------------

const weComPeople = (seed: WeComSeedCorp) => {
  const person = (userid: string): Person => {
    const user = seed.users.find((candidate) => candidate.userid === userid)!;
    return { id: user.userid, name: user.name, email: user.biz_mail! };
  };
  return {
    initiator: person('SignoffAdmin'),
    a: person('ZhangWei'),
    b: person('LiNa'),
    c: person('WangFang'),
  };
};

async function weComAccount(stack: TestStack, mode: Mode, name: string, secrets: string[]): Promise<Account> {
  const seed: WeComSeedCorp = structuredClone(wecomSandboxSeed);
  const callback = { token: token(16), encoding_aes_key: aesKey() };
  seed.apps = [{ ...seed.apps[0]!, secret: `secret-${hex(16)}`, callback }];
  const corpId = seed.corp_id;
  const agentId = seed.apps[0]!.agent_id;
  secrets.push(
    seed.apps[0]!.secret,
    ...(mode === 'webhook' ? [callback.token, callback.encoding_aes_key] : []),
  );
  const crypto = createWeComCrypto({
    token: callback.token,
    encodingAesKey: callback.encoding_aes_key,
    corpId,
  });
  const deliveries: Delivered[] = [];
  const open = (request: Delivered) => {
    const query = new URL(request.url).searchParams;
    return crypto.decryptMessage({
      msgSignature: query.get('msg_signature') ?? undefined,
      timestamp: query.get('timestamp') ?? '',
      nonce: query.get('nonce') ?? '',
      body: request.body,
    });
  };
  const fake: WeComFake = createWeComFake({
    seed,
    fetch: relay(stack, deliveries, open),
    // WeCom retries a failed push three times; shorter waits keep the "server down" test quick.
    retryDelaysMs: [50, 100, 200],
  });
  const served = await serveFetch((request) => fake.app.fetch(request));
  const app = await registerApp(stack, {
    type: 'wecom',
    name,
    corp_id: corpId,
    agent_id: agentId,
    secret: seed.apps[0]!.secret,
    ...(mode === 'webhook' ? { token: callback.token, encoding_aes_key: callback.encoding_aes_key } : {}),
    event_mode: mode,
    api_base: served.url,
  });
  if (mode === 'webhook') {
    // 设置API接收: WeCom verifies the URL with a GET and keeps the settings only if it answers.
    const verified = await fake.configureCallback(corpId, agentId, {
      url: app.callback_url,
      token: callback.token,
      encodingAesKey: callback.encoding_aes_key,
    });
    if (!verified.ok) throw new Error(`WeCom URL verification failed: ${JSON.stringify(verified)}`);
  }

  return {
    platform: 'wecom',
    mode,
    appId: app.id,
    appName: name,
    async decide(instanceId, person, decision, comment) {
      fake.decide(instanceId, person.id, decision, comment);
      await fake.idle();
    },
    async cancel(instanceId) {
      fake.withdraw(instanceId);
      await fake.idle();
    },
    vendorStatus: (instanceId) => {
      const approval = fake.approval(instanceId);
      return approval && String(approval.sp_status);
    },
    instanceCount: () => fake.approvals().length,
    deliveries,
    pushed: [],
    events: (instanceId) => {
      const about = new RegExp(`<SpNo>(?:<!\\[CDATA\\[)?${instanceId}(?:\\]\\]>)?</SpNo>`);
      return deliveries.filter((item) => about.test(item.plaintext));
    },
    resend: (delivered) => sendAgain(stack, delivered),
    async reseal(delivered) {
      const record = await fake.push(corpId, agentId, delivered.plaintext);
      return record.status ?? 0;
    },
    close: () => served.close(),
  };
}

// ---- the harness -----------------------------------------------------------------------------------------

/** Registers this platform's accounts on the stack (names `<platform>-<mode>`). */
export async function startVendor(stack: TestStack, platform: Platform): Promise<VendorHarness> {
  const secrets: string[] = [];
  const modes: Mode[] = platform === 'wecom' ? ['webhook', 'poll'] : ['webhook', 'poll', 'live'];
  const accounts: Partial<Record<Mode, Account>> = {};
  for (const mode of modes) {
    const name = `${platform}-${mode}`;
    accounts[mode] =
      platform === 'feishu' || platform === 'lark'
        ? await feishuAccount(stack, platform, mode, name, secrets)
        : platform === 'dingtalk'
          ? await dingTalkAccount(stack, mode, name, secrets)
          : await weComAccount(stack, mode, name, secrets);
  }
  const people =
    platform === 'feishu' || platform === 'lark'
      ? feishuPeople().people
      : platform === 'dingtalk'
        ? dingTalkPeople(dingTalkDemoSeed)
        : weComPeople(wecomSandboxSeed);
  return {
    platform,
    people,
    accounts,
    account(mode) {
      const found = accounts[mode];
      if (!found) throw new Error(`${platform} has no ${mode} account`);
      return found;
    },
    secrets,
    async close() {
      for (const account of Object.values(accounts)) await account.close();
    },
  };
}
