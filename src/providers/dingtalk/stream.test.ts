// DingTalk Stream mode: the official DWClient (through connectDingTalkStream) against the Stream gateway
// fake. Events become the ImEvent of the HTTP callback path, acks follow the handler's outcome,
// redeliveries, reconnects, a wrong secret, close(), and logs that never carry the secret or the ticket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../errors.js';
import { createLogger, type Logger } from '../../log.js';
import type { ImEvent } from '../types.js';
import { handleDingTalkCallback } from './callback.js';
import type { DingTalkConfig } from './client.js';
import { createDingTalkCrypto } from './crypto.js';
import { type DingTalkStreamFake, startDingTalkStreamFake } from './fake-stream.js';
import { connectDingTalkStream, type DingTalkStream, dingTalkStreamEvent } from './stream.js';

const APP_KEY = 'dingstreamtestkey01';
const APP_SECRET = 'stream-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const TOKEN = 'streamtoken';
const AES_KEY = 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7';

/** A bpms_instance_change "finish", as DingTalk's callback plaintext (test/callback-requests.ts). */
function approvalEvent(
  processInstanceId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    EventType: 'bpms_instance_change',
    processInstanceId,
    corpId: 'dingsignoffdemo0001',
    createTime: 1767225540000,
    title: 'Release approval',
    type: 'finish',
    staffId: 'manager001',
    processCode: 'PROC-TEST',
    businessId: '202601010001',
    result: 'agree',
    finishTime: 1767225600000,
    ...extra,
  };
}

/** What our HTTP callback path makes of the same plaintext (sealed the way DingTalk seals it). */
function viaCallback(plaintext: string): ImEvent | undefined {
  const now = Date.now();
  const crypto = createDingTalkCrypto({ token: TOKEN, aesKey: AES_KEY, ownerKey: APP_KEY, now: () => now });
  const sealed = crypto.encrypt(plaintext, { nonce: 'AbCd1234' });
  return handleDingTalkCallback(
    { ...config('http://unused') },
    {
      method: 'POST',
      query: { msg_signature: sealed.signature, timestamp: sealed.timestamp, nonce: sealed.nonce },
      headers: {},
      body: JSON.stringify({ encrypt: sealed.encrypt }),
    },
    { now: () => now },
  ).event;
}

function config(apiBase: string, secret = APP_SECRET): DingTalkConfig {
  return {
    type: 'dingtalk',
    app_key: APP_KEY,
    app_secret: secret,
    aes_key: AES_KEY,
    token: TOKEN,
    api_base: apiBase,
    oapi_base: apiBase,
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let fake: DingTalkStreamFake;
let stream: DingTalkStream | undefined;
let logLines: string[];
let log: Logger;
let events: ImEvent[];

beforeEach(async () => {
  fake = await startDingTalkStreamFake({
    apps: [{ app_key: APP_KEY, app_secret: APP_SECRET }],
    redeliverAfterMs: 50,
    ackTimeoutMs: 1000,
  });
  logLines = [];
  log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  events = [];
  stream = undefined;
});

afterEach(async () => {
  await stream?.close();
  await fake.close();
});

async function connect(handler?: (event: ImEvent) => Promise<void> | void): Promise<DingTalkStream> {
  stream = await connectDingTalkStream(config(fake.base), {
    log,
    reconnectIntervalMs: 50,
    onEvent: async (event) => {
      await handler?.(event);
      events.push(event);
    },
  });
  return stream;
}

describe('connectDingTalkStream', () => {
  it('opens the gateway at api_base with the AppKey/AppSecret and subscribes to every event', async () => {
    const client = await connect();
    expect(client.connected()).toBe(true);
    const [request] = fake.gatewayRequests(APP_KEY);
    expect(request).toMatchObject({ status: 200, subscriptions: [{ type: 'EVENT', topic: '*' }] });
    expect(fake.connections(APP_KEY)).toHaveLength(1);
  });

  it('turns a bpms_instance_change into the ImEvent the HTTP callback gives, and acks SUCCESS after onEvent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await connect(() => gate);
    const plaintext = JSON.stringify(approvalEvent('proc-inst-1'));
    const acked = fake.push(APP_KEY, 'bpms_instance_change', plaintext);
    await until(() => fake.deliveries(APP_KEY).length === 1, 'the delivery');
    await sleep(50);
    // No ack while the handler still runs.
    expect(fake.deliveries(APP_KEY)[0]?.ack).toBeUndefined();
    release();
    const ack = await acked;
    expect(ack).toMatchObject({
      code: 200,
      headers: { contentType: 'application/json', messageId: fake.deliveries(APP_KEY)[0]?.messageId },
      message: 'OK',
      status: 'SUCCESS',
    });
    expect(JSON.parse(ack.data)).toEqual({ status: 'SUCCESS' });
    const expected = viaCallback(plaintext);
    expect(expected?.type).toBe('bpms_instance_change');
    expect(events).toEqual([expected]);
    expect(fake.problems).toEqual([]);
  });

  it('gives the same ImEvent when Stream data lacks EventType (the type only in headers.eventType)', async () => {
    await connect();
    const { EventType: _type, ...data } = approvalEvent('proc-inst-2', {
      type: 'terminate',
      result: undefined,
    });
    const ack = await fake.push(APP_KEY, 'bpms_instance_change', data);
    expect(ack.status).toBe('SUCCESS');
    expect(events).toEqual([
      viaCallback(JSON.stringify(approvalEvent('proc-inst-2', { type: 'terminate', result: undefined }))),
    ]);
  });

  it('normalises bpms_task_change and other events like the callback path', () => {
    const task = JSON.stringify({
      EventType: 'bpms_task_change',
      processInstanceId: 'proc-inst-3',
      type: 'finish',
      result: 'refuse',
      staffId: 'user002',
      remark: 'not yet',
      finishTime: 1767225600000,
    });
    expect(dingTalkStreamEvent({ headers: { eventType: 'bpms_task_change' } as never, data: task })).toEqual(
      viaCallback(task),
    );
    const other = JSON.stringify({ EventType: 'user_add_org', UserId: ['u1'], TimeStamp: '1767225600000' });
    expect(dingTalkStreamEvent({ headers: { eventType: 'user_add_org' } as never, data: other })).toEqual(
      viaCallback(other),
    );
  });

  it('acks LATER when onEvent throws, and the redelivered event is handled', async () => {
    let calls = 0;
    await connect(() => {
      calls++;
      if (calls === 1) throw new Error('database unavailable');
    });
    const first = await fake.push(APP_KEY, 'bpms_instance_change', approvalEvent('proc-inst-4'));
    expect(first).toMatchObject({ status: 'LATER', attempt: 1 });
    const settled = await fake.settled(first.eventId);
    expect(settled).toMatchObject({ status: 'SUCCESS', attempt: 2 });
    const deliveries = fake.deliveries(APP_KEY);
    expect(deliveries.map((d) => [d.eventId, d.attempt, d.ack?.status])).toEqual([
      [first.eventId, 1, 'LATER'],
      [first.eventId, 2, 'SUCCESS'],
    ]);
    expect(deliveries[0]?.messageId).not.toBe(deliveries[1]?.messageId);
    expect(events).toHaveLength(1);
    expect(logLines.join('')).toContain('DingTalk will push it again');
  });

  it('acks SUCCESS for an event whose data is not JSON (a redelivery could not help)', async () => {
    await connect();
    const ack = await fake.push(APP_KEY, 'bpms_instance_change', 'not json');
    expect(ack.status).toBe('SUCCESS');
    expect(events).toEqual([]);
  });

  it('echoes SYSTEM pings', async () => {
    await connect();
    const [echo] = await fake.ping(APP_KEY);
    expect(echo).toMatchObject({ code: 200, message: 'OK', headers: { topic: 'ping' } });
    expect(JSON.parse(echo!.data)).toHaveProperty('opaque');
  });

  it('refuses a wrong secret with DingTalk’s code and message, and does not retry', async () => {
    const error = await connectDingTalkStream(config(fake.base, 'wrong-secret'), {
      log,
      reconnectIntervalMs: 20,
      onEvent: () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'upstream_rejected' });
    expect((error as AppError).message).toContain('authFailed: 鉴权失败');
    expect((error as AppError).message).toContain('AppSecret');
    await sleep(100);
    expect(fake.gatewayRequests(APP_KEY).map((r) => r.status)).toEqual([401]);
  });

  it('fails clearly when the gateway cannot be reached', async () => {
    const base = fake.base;
    await fake.close();
    const error = await connectDingTalkStream(config(base), { log, onEvent: () => {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'upstream_error' });
    fake = await startDingTalkStreamFake({ apps: [] });
  });

  it('reconnects after a SYSTEM disconnect and receives a later event', async () => {
    const client = await connect();
    const [before] = fake.connections(APP_KEY);
    fake.disconnect(APP_KEY, { closeAfterMs: 10_000 });
    // The client leaves on its own at once, well before the gateway would drop it.
    await until(
      () => fake.connections(APP_KEY).length === 1 && fake.connections(APP_KEY)[0]?.id !== before?.id,
      'a new connection',
    );
    await until(() => client.connected(), 'connected');
    const ack = await fake.push(APP_KEY, 'bpms_instance_change', approvalEvent('proc-inst-5'));
    expect(ack.status).toBe('SUCCESS');
    expect(events.map((e) => (e.payload as { processInstanceId: string }).processInstanceId)).toEqual([
      'proc-inst-5',
    ]);
    expect(fake.gatewayRequests(APP_KEY)).toHaveLength(2);
  });

  it('reconnects after the connection drops, and gets the events pushed meanwhile', async () => {
    const client = await connect();
    fake.drop(APP_KEY);
    await until(() => !client.connected(), 'the drop');
    const ack = fake.push(APP_KEY, 'bpms_instance_change', approvalEvent('proc-inst-6'));
    expect((await ack).status).toBe('SUCCESS');
    expect(client.connected()).toBe(true);
    expect(events).toHaveLength(1);
  });

  it('drops a connection that stops answering pings, and reconnects', async () => {
    stream = await connectDingTalkStream(config(fake.base), {
      log,
      reconnectIntervalMs: 20,
      heartbeatIntervalMs: 50,
      onEvent: (event) => void events.push(event),
    });
    const [stalled] = fake.connections(APP_KEY);
    fake.stall(APP_KEY);
    await until(
      () => fake.connections(APP_KEY).some((connection) => connection.id !== stalled?.id),
      'a new connection',
    );
    expect(logLines.join('')).toContain('no pong within the heartbeat interval');
    const ack = await fake.push(APP_KEY, 'bpms_instance_change', approvalEvent('proc-inst-8'));
    expect(ack.status).toBe('SUCCESS');
    expect(events).toHaveLength(1);
  });

  it('close() closes the connection and stops reconnecting', async () => {
    const client = await connect();
    await client.close();
    expect(client.connected()).toBe(false);
    await until(() => fake.connections(APP_KEY).length === 0, 'the server to see the close');
    await sleep(150);
    expect(fake.connections(APP_KEY)).toHaveLength(0);
    expect(fake.gatewayRequests(APP_KEY)).toHaveLength(1);
    await client.close();
  });

  it('close() during a reconnect wait cancels it', async () => {
    const client = await connect();
    fake.drop(APP_KEY);
    await until(() => !client.connected(), 'the drop');
    await client.close();
    await sleep(150);
    expect(fake.connections(APP_KEY)).toHaveLength(0);
    expect(fake.gatewayRequests(APP_KEY)).toHaveLength(1);
  });

  it('routes SDK logging to our logger at debug level, never printing the secret or the ticket', async () => {
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    try {
      const client = await connect();
      await fake.push(APP_KEY, 'bpms_instance_change', approvalEvent('proc-inst-7'));
      await fake.ping(APP_KEY);
      fake.drop(APP_KEY);
      await until(() => fake.gatewayRequests(APP_KEY).length === 2 && client.connected(), 'the reconnect');
      await client.close();
      for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of consoleSpies) spy.mockRestore();
    }
    const output = logLines.join('');
    const sdkLines = logLines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.sdk === 'dingtalk-stream');
    expect(sdkLines.length).toBeGreaterThan(0);
    expect(sdkLines.every((entry) => entry.level === 20)).toBe(true);
    expect(output).not.toContain(APP_SECRET);
    for (const request of fake.gatewayRequests(APP_KEY)) expect(output).not.toContain(request.ticket);
    // Event contents stay out of the logs too (only routing headers).
    expect(output).not.toContain('proc-inst-7');
  });
});
