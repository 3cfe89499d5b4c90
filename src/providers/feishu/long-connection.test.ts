// The long connection through the official WSClient against the fake's long-connection endpoint, over
// real loopback sockets: discovery, protobuf frames, fragments, acks, refusal, reconnect, close.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AppError } from '../../errors.js';
import { createLogger } from '../../log.js';
import type { CallbackRequest, ImEvent } from '../types.js';
import { handleFeishuCallback, normaliseFeishuEvent } from './callback.js';
import type { FeishuConfig } from './client.js';
import { encryptFeishuEvent, feishuSignature } from './crypto.js';
import { createFeishuFake } from './fake.js';
import {
  decodeFrame,
  encodeFrame,
  type FeishuLongConnectionServer,
  FrameMethod,
  feishuWsCodes,
  startFeishuLongConnectionServer,
} from './fake-ws.js';
import { connectFeishuLongConnection, type FeishuLongConnection } from './long-connection.js';
import { seedAppId } from './seed.js';

const APP_ID = seedAppId('long-connection');
const SECRET = 'long-connection-secret-0001';
const VERIFICATION_TOKEN = 'long-connection-verification-token';
// Only for building the HTTP-path twin of an event: the app itself has no Encrypt Key (long connection).
const HTTP_ENCRYPT_KEY = 'long-connection-http-twin-key';

const fake = createFeishuFake({
  apps: [{ app_id: APP_ID, app_secret: SECRET, verification_token: VERIFICATION_TOKEN }],
});
let server: FeishuLongConnectionServer;
let config: FeishuConfig;
const open: FeishuLongConnection[] = [];

/** Captured log lines (pino JSON). */
const lines: string[] = [];
const log = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  }),
});

beforeAll(async () => {
  // Feishu hands out 120 s reconnect intervals; the fake's are shortened so a reconnect takes milliseconds.
  server = await startFeishuLongConnectionServer(fake, {
    clientConfig: { ReconnectInterval: 1, ReconnectNonce: 0 },
  });
  config = {
    type: 'feishu',
    app_id: APP_ID,
    app_secret: SECRET,
    verification_token: VERIFICATION_TOKEN,
    api_base: server.domain,
  };
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.close()));
  await vi.waitFor(() => expect(server.connections()).toBe(0));
});

afterAll(async () => {
  await server.close();
});

async function connect(overrides: Partial<FeishuConfig> = {}, onEvent?: (event: ImEvent) => void) {
  const events: ImEvent[] = [];
  const connection = await connectFeishuLongConnection(
    { ...config, ...overrides },
    {
      log,
      onEvent: (event) => {
        events.push(event);
        onEvent?.(event);
      },
      connectTimeoutMs: 10_000,
    },
  );
  open.push(connection);
  return { connection, events };
}

/** What our HTTP callback route records for the same event, had Feishu posted it encrypted and signed. */
function viaHttp(plaintext: string): ImEvent | undefined {
  const body = JSON.stringify({ encrypt: encryptFeishuEvent(HTTP_ENCRYPT_KEY, plaintext) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = 'abc123';
  const request: CallbackRequest = {
    method: 'POST',
    query: {},
    headers: {
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSignature(HTTP_ENCRYPT_KEY, { timestamp, nonce, body }),
    },
    body,
  };
  return handleFeishuCallback({ ...config, encrypt_key: HTTP_ENCRYPT_KEY }, request, { now: Date.now }).event;
}

const instanceEvent = (schema: '1.0' | '2.0') =>
  schema === '1.0'
    ? fake.eventRequest(
        APP_ID,
        'approval_instance',
        {
          approval_code: 'APPROVAL-CODE-1',
          instance_code: 'INSTANCE-CODE-1',
          status: 'APPROVED',
          operate_time: '1700000000000',
          instance_operate_time: '1700000000000',
          uuid: 'signoff-run-1-job-1',
        },
        { schema: '1.0' },
      )
    : fake.eventRequest(APP_ID, 'approval.instance.status_changed_v4', {
        approval_code: 'APPROVAL-CODE-1',
        instance_code: 'INSTANCE-CODE-1',
        status: 'REJECTED',
        operate_time: '1700000000000',
      });

describe('Feishu long connection (WSClient against the fake)', () => {
  it('opens a connection, pings, and records an approval_instance event exactly as the HTTP callback does', async () => {
    const { connection, events } = await connect();
    expect(connection.connected()).toBe(true);
    expect(server.connections(APP_ID)).toBe(1);
    await vi.waitFor(() => expect(server.pings(APP_ID)).toBeGreaterThanOrEqual(1));

    const push = instanceEvent('1.0');
    expect(push.body.startsWith('{"uuid"')).toBe(true); // plain JSON: the app has no Encrypt Key
    const ack = await server.push(APP_ID, push.body);
    expect(ack.code).toBe(200);
    expect(ack.biz_rt).toBeDefined();
    expect(events).toHaveLength(1);
    const expected = viaHttp(push.body);
    expect(expected?.type).toBe('approval_instance');
    expect(events[0]).toEqual(expected);
    expect(events[0]).toEqual(normaliseFeishuEvent(config, JSON.parse(push.body)));
  });

  it('records schema 2.0 and other events (approval_task, anything else) the same way', async () => {
    const { events } = await connect();
    const pushes = [
      instanceEvent('2.0'),
      fake.eventRequest(
        APP_ID,
        'approval_task',
        { approval_code: 'APPROVAL-CODE-1', instance_code: 'INSTANCE-CODE-1', status: 'APPROVED' },
        { schema: '1.0' },
      ),
      fake.eventRequest(APP_ID, 'im.message.receive_v1', { message: { message_id: 'om_1' } }),
    ];
    for (const push of pushes) expect((await server.push(APP_ID, push.body)).code).toBe(200);
    expect(events.map((event) => event.type)).toEqual([
      'approval.instance.status_changed_v4',
      'approval_task',
      'im.message.receive_v1',
    ]);
    expect(events).toEqual(pushes.map((push) => viaHttp(push.body)));
  });

  it('reassembles a payload split over several frames (sum/seq)', async () => {
    const { events } = await connect();
    const push = instanceEvent('2.0');
    const ack = await server.push(APP_ID, push.body, { fragments: 3 });
    expect(ack.code).toBe(200);
    expect(events).toEqual([viaHttp(push.body)]);
    expect(server.acks.filter((item) => item.message_id === ack.message_id)).toHaveLength(1);
  });

  it('answers 500 when our handler fails, so Feishu may deliver again', async () => {
    await connect({}, () => {
      throw new Error('store is down');
    });
    const ack = await server.push(APP_ID, instanceEvent('1.0').body);
    expect(ack.code).toBe(500);
  });

  it('drops an event naming another app without calling the handler', async () => {
    const { events } = await connect();
    const foreign = JSON.parse(instanceEvent('2.0').body);
    foreign.header.app_id = seedAppId('someone-else');
    expect((await server.push(APP_ID, foreign)).code).toBe(200);
    expect(events).toEqual([]);
  });

  it('decrypts a payload pushed encrypted, for an app with an Encrypt Key', async () => {
    const { events } = await connect({ encrypt_key: HTTP_ENCRYPT_KEY });
    const push = instanceEvent('1.0');
    const encrypted = { encrypt: encryptFeishuEvent(HTTP_ENCRYPT_KEY, push.body) };
    expect((await server.push(APP_ID, encrypted)).code).toBe(200);
    expect(events).toEqual([viaHttp(push.body)]);
  });

  it('refuses a wrong App Secret with the vendor code and message, and opens nothing', async () => {
    const before = server.discoveries.length;
    const failure = await connect({ app_secret: 'not-the-secret' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('upstream_rejected');
    expect((failure as AppError).message).toContain(`code ${feishuWsCodes.authFailed}`);
    expect((failure as AppError).message).toContain('auth failed');
    expect((failure as AppError).message).not.toContain('not-the-secret');
    expect(server.discoveries.slice(before)).toEqual([{ app_id: APP_ID, code: feishuWsCodes.authFailed }]);
    expect(server.connections()).toBe(0);
  });

  it('refuses an App ID that WSClient would silently ignore', async () => {
    await expect(connect({ app_id: 'cli_short' })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('reports a 4xx endpoint answer that carries a Feishu envelope instead of retrying it silently', async () => {
    const refusing = createServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 1000040345, msg: 'app not allowed', data: {} }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const domain = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      await expect(connect({ api_base: domain })).rejects.toMatchObject({
        code: 'upstream_rejected',
        message: expect.stringContaining('“app not allowed” (code 1000040345)'),
      });
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('issues single-use tickets: a second upgrade with the same URL is refused', async () => {
    const discovery = await fetch(`${server.domain}/callback/ws/endpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AppID: APP_ID, AppSecret: SECRET }),
    });
    const { code, data } = (await discovery.json()) as { code: number; data: { URL: string } };
    expect(code).toBe(0);
    const first = new WebSocket(data.URL);
    await new Promise((resolve, reject) => first.once('open', resolve).once('error', reject));
    const second = new WebSocket(data.URL);
    const refused = await new Promise<{ status?: number; handshake?: unknown }>((resolve) =>
      second.once('unexpected-response', (_request, response) =>
        resolve({ status: response.statusCode, handshake: response.headers['handshake-status'] }),
      ),
    );
    expect(refused).toEqual({ status: 403, handshake: '514' });
    second.on('error', () => {}).terminate(); // ws reports the abandoned handshake as an error
    await new Promise((resolve) => {
      first.once('close', resolve);
      first.close();
    });
  });

  it('reconnects after the fake drops the connection, and a later event still arrives', async () => {
    const { connection, events } = await connect();
    const discoveries = server.discoveries.length;
    expect(server.drop(APP_ID)).toBe(1);
    expect(server.connections(APP_ID)).toBe(0);
    // The SDK asks for a fresh endpoint (the ticket is single-use), then reconnects.
    await vi.waitFor(
      () => {
        expect(server.discoveries.length).toBeGreaterThan(discoveries);
        expect(server.connections(APP_ID)).toBe(1);
        expect(connection.connected()).toBe(true);
      },
      { timeout: 5_000 },
    );
    const push = instanceEvent('2.0');
    expect((await server.push(APP_ID, push.body)).code).toBe(200);
    expect(events).toEqual([viaHttp(push.body)]);
  });

  it('close() closes the socket and stops reconnecting', async () => {
    const { connection } = await connect();
    await connection.close();
    expect(connection.connected()).toBe(false);
    await vi.waitFor(() => expect(server.connections(APP_ID)).toBe(0));
    const discoveries = server.discoveries.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.discoveries.length).toBe(discoveries);
    await expect(server.push(APP_ID, instanceEvent('1.0').body)).rejects.toThrow(/No long connection/);
    await connection.close(); // idempotent
  });

  it('logs the SDK at debug level without the secret or the connection ticket', async () => {
    lines.length = 0;
    await connect();
    await connect({ app_secret: 'wrong-secret-in-log' }).catch(() => {});
    const text = lines.join('');
    expect(text).toContain('"sdk_level"');
    for (const line of lines.filter((item) => item.includes('"sdk_level"')))
      expect(JSON.parse(line).level).toBe(20);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('wrong-secret-in-log');
    expect(text).not.toMatch(/ticket=/);
    expect(text).not.toContain('invalid pong'); // the SDK read the fake's pong
  });
});

describe('pbbp2 frame codec (the fake’s side of the wire)', () => {
  it('round-trips a frame, including uint64 ids and a payload', () => {
    const frame = {
      SeqID: 2n ** 63n + 5n,
      LogID: 123456789012345n,
      service: 33554678,
      method: FrameMethod.data,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: 'm-1' },
      ],
      payload: Buffer.from('{"a":"é"}'),
    };
    const decoded = decodeFrame(encodeFrame(frame));
    expect({ ...decoded, payload: Buffer.from(decoded.payload!) }).toEqual(frame);
  });

  it('refuses a frame missing a required field', () => {
    const frame = encodeFrame({ SeqID: 1n, LogID: 1n, service: 1, method: 0, headers: [] });
    expect(() => decodeFrame(frame.subarray(0, 4))).toThrow(/missing required/);
  });
});
