// The Feishu long connection (长连接) side of the fake, speaking what the official SDK's WSClient speaks
// (reference/platforms.md §3.6; @larksuiteoapi/node-sdk 1.74.0 lib/index.js: WSClient 102113-102820,
// pbbp2 101274-101960, DataCache 102011, enums 102101-102140):
// 1. `POST {domain}/callback/ws/endpoint` with `{"AppID","AppSecret"}` → `{"code":0,"data":{"URL",
//    "ClientConfig":{PingInterval,ReconnectCount,ReconnectInterval,ReconnectNonce}}}` (seconds). Credentials are
//    checked by the fake's own token route, so the fake stays the one place that knows an app's secret
//    (its faults apply too: a 5xx or rate limit there becomes the retryable 1000040343 here).
// 2. A WebSocket to URL (`device_id`, `service_id` and a one-time `ticket` in the query) carrying protobuf
//    `pbbp2.Frame`s: ping → pong control frames (the pong carries ClientConfig again), event data frames
//    (headers type=event, message_id, sum, seq, trace_id; a payload split over `sum` frames), and the
//    client's answer: the same frame echoed with a `biz_rt` header and payload `{"code":200|500,"data"?}`.
// Delivery is "cluster mode" like Feishu's: with several connections for one app, each event goes to one.
//
// [UNVERIFIED] (nothing in our client depends on them): the error answer's HTTP status (200) and `msg`
// texts, the ticket lifetime, the refusal of an unknown ticket at the upgrade, the 50-connection limit.
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { type WebSocket, WebSocketServer } from 'ws';
import { feishuTokenPath } from './client.js';
import { feishuCodes } from './codes.js';
import type { FeishuFake } from './fake.js';

export const feishuWsEndpointPath = '/callback/ws/endpoint';
const wsPath = '/ws/v2';

/** `ErrorCode` of the SDK (lib/index.js:102101). */
export const feishuWsCodes = {
  ok: 0,
  systemBusy: 1,
  forbidden: 403,
  authFailed: 514,
  /** The only code WSClient retries. */
  internalError: 1000040343,
  exceedConnLimit: 1000040350,
} as const;

export interface FeishuWsClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

/** The client's answer to one pushed event. */
export interface FeishuWsAck {
  app_id: string;
  message_id: string;
  /** 200, or 500 when the client's handler threw. */
  code: number;
  /** The handler's result, when it returned one (sent base64-encoded JSON). */
  data?: unknown;
  biz_rt?: string;
}

export interface FeishuWsPushOptions {
  /** Split the payload over this many data frames (sum/seq); default 1. */
  fragments?: number;
  message_id?: string;
  /** How long to wait for the client's answer; default 3000 ms (Feishu's own limit). */
  ackTimeoutMs?: number;
}

export interface FeishuLongConnectionFake {
  /** `POST /callback/ws/endpoint` as a fetch handler, to mount next to the fake's routes. */
  endpoint(request: Request): Promise<Response>;
  /** Takes an HTTP upgrade for a URL this fake issued; false (socket untouched) for any other path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** What endpoint discovery and pongs hand out; change it to steer the SDK's reconnect timing. */
  clientConfig: FeishuWsClientConfig;
  /** Pushes an event (the JSON body Feishu would POST to a callback URL) to one connection of the app. */
  push(
    appId: string,
    event: string | Record<string, unknown>,
    options?: FeishuWsPushOptions,
  ): Promise<FeishuWsAck>;
  /** Open connections, for one app or all. */
  connections(appId?: string): number;
  /** Pings received, for one app or all. */
  pings(appId?: string): number;
  /** Endpoint discovery requests answered, with the code each got. */
  discoveries: Array<{ app_id: string; code: number }>;
  acks: FeishuWsAck[];
  /** Cuts the app's connections (all apps' without an id) the way a network failure would; returns how many. */
  drop(appId?: string): number;
  close(): Promise<void>;
}

export interface FeishuLongConnectionFakeOptions {
  clientConfig?: Partial<FeishuWsClientConfig>;
  /** The WebSocket base URL to issue (e.g. `wss://host/sandbox/feishu`); default derived from the request. */
  wsBase?: string;
}

interface Connection {
  app_id: string;
  service_id: number;
  socket: WebSocket;
  seq: bigint;
  pings: number;
}

interface Pending {
  app_id: string;
  connection: Connection;
  resolve(ack: FeishuWsAck): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const ticketTtlMs = 5 * 60_000;
const connectionLimit = 50;

export function createFeishuLongConnectionFake(
  fake: FeishuFake,
  options: FeishuLongConnectionFakeOptions = {},
): FeishuLongConnectionFake {
  const clientConfig: FeishuWsClientConfig = {
    PingInterval: 120,
    ReconnectCount: -1,
    ReconnectInterval: 120,
    ReconnectNonce: 30,
    ...options.clientConfig,
  };
  const tickets = new Map<
    string,
    { app_id: string; device_id: string; service_id: number; expiresAt: number }
  >();
  const open = new Set<Connection>();
  const pending = new Map<string, Pending>();
  const discoveries: FeishuLongConnectionFake['discoveries'] = [];
  const acks: FeishuWsAck[] = [];
  let pingsGone = new Map<string, number>();
  const wss = new WebSocketServer({ noServer: true });

  const answer = (appId: string, code: number, msg: string, data: Record<string, unknown> = {}) => {
    discoveries.push({ app_id: appId, code });
    return Response.json({ code, msg, data });
  };

  /** Asks the fake's token route; 0 when the credentials are good, else the code this endpoint answers. */
  async function checkCredentials(appId: string, appSecret: string): Promise<number> {
    let response: Response;
    try {
      response = await fake.fetch(feishuTokenPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ app_id: appId, app_secret: appSecret }),
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      return feishuWsCodes.internalError;
    }
    const body = (await response.json().catch(() => ({}))) as { code?: unknown };
    if (body.code === feishuCodes.ok) return 0;
    if (body.code === feishuCodes.invalidParam || body.code === feishuCodes.appSecretInvalid)
      return feishuWsCodes.authFailed;
    return feishuWsCodes.internalError;
  }

  async function endpoint(request: Request): Promise<Response> {
    if (request.method !== 'POST')
      return Response.json({ code: 404, msg: '404 page not found' }, { status: 404 });
    const body = (await request.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const appId = typeof body?.AppID === 'string' ? body.AppID : '';
    const appSecret = typeof body?.AppSecret === 'string' ? body.AppSecret : '';
    if (!appId || !appSecret) return answer(appId, feishuWsCodes.authFailed, 'auth failed');
    const checked = await checkCredentials(appId, appSecret);
    if (checked === feishuWsCodes.authFailed) return answer(appId, checked, 'auth failed');
    if (checked !== 0) return answer(appId, checked, 'internal error');
    if (count(appId) >= connectionLimit)
      return answer(appId, feishuWsCodes.exceedConnLimit, 'exceed connection limit');

    const ticket = randomBytes(16).toString('hex');
    const device_id = BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
    const service_id = randomInt(10_000_000, 99_999_999);
    tickets.set(ticket, { app_id: appId, device_id, service_id, expiresAt: fake.clock.now() + ticketTtlMs });
    const url = new URL(request.url);
    const base =
      options.wsBase?.replace(/\/$/, '') ??
      `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}${url.pathname.slice(0, -feishuWsEndpointPath.length)}`;
    const query = new URLSearchParams({
      fpid: '493',
      aid: '552564',
      device_id,
      access_key: randomBytes(16).toString('hex'),
      service_id: String(service_id),
      ticket,
    });
    return answer(appId, feishuWsCodes.ok, 'ok', {
      URL: `${base}${wsPath}?${query}`,
      ClientConfig: { ...clientConfig },
    });
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (!url.pathname.endsWith(wsPath)) return false;
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = tickets.get(ticket);
    tickets.delete(ticket);
    if (
      !issued ||
      issued.expiresAt <= fake.clock.now() ||
      url.searchParams.get('device_id') !== issued.device_id ||
      url.searchParams.get('service_id') !== String(issued.service_id)
    ) {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nhandshake-status: 514\r\nhandshake-msg: ticket invalid\r\n' +
          'connection: close\r\ncontent-length: 0\r\n\r\n',
      );
      return true;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, issued.app_id, issued.service_id));
    return true;
  }

  function accept(socket: WebSocket, appId: string, serviceId: number): void {
    const connection: Connection = { app_id: appId, service_id: serviceId, socket, seq: 0n, pings: 0 };
    open.add(connection);
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        socket.close(1003, 'binary frames only');
        return;
      }
      let frame: Frame;
      try {
        frame = decodeFrame(toBytes(data));
      } catch {
        socket.close(1002, 'malformed frame');
        return;
      }
      received(connection, frame);
    });
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      forget(connection);
      for (const [messageId, waiting] of pending) {
        if (waiting.connection !== connection) continue;
        pending.delete(messageId);
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`The long connection closed before the client answered ${messageId}.`));
      }
    });
  }

  /** Out of the open set at once (a dropped socket's 'close' comes a tick later). */
  function forget(connection: Connection): void {
    if (!open.delete(connection)) return;
    pingsGone.set(connection.app_id, (pingsGone.get(connection.app_id) ?? 0) + connection.pings);
  }

  function received(connection: Connection, frame: Frame): void {
    const headers = new Map(frame.headers.map((header) => [header.key, header.value]));
    if (frame.method === FrameMethod.control) {
      if (headers.get('type') !== 'ping') return;
      if (frame.service !== connection.service_id) {
        connection.socket.close(1008, 'wrong service id');
        return;
      }
      connection.pings++;
      send(connection, {
        SeqID: 0n,
        LogID: 0n,
        service: connection.service_id,
        method: FrameMethod.control,
        headers: [{ key: 'type', value: 'pong' }],
        payload: Buffer.from(JSON.stringify(clientConfig)),
      });
      return;
    }
    const messageId = headers.get('message_id') ?? '';
    const waiting = pending.get(messageId);
    if (!waiting || waiting.connection !== connection) return;
    pending.delete(messageId);
    clearTimeout(waiting.timer);
    let reply: { code?: unknown; data?: unknown };
    try {
      reply = JSON.parse(Buffer.from(frame.payload ?? new Uint8Array()).toString('utf8'));
    } catch {
      waiting.reject(new Error(`The client's answer to ${messageId} is not JSON.`));
      return;
    }
    const ack: FeishuWsAck = {
      app_id: waiting.app_id,
      message_id: messageId,
      code: typeof reply.code === 'number' ? reply.code : Number.NaN,
      ...(typeof reply.data === 'string' ? { data: parseData(reply.data) } : {}),
      ...(headers.has('biz_rt') ? { biz_rt: headers.get('biz_rt')! } : {}),
    };
    acks.push(ack);
    waiting.resolve(ack);
  }

  function send(connection: Connection, frame: Frame): void {
    connection.socket.send(encodeFrame(frame));
  }

  function push(
    appId: string,
    event: string | Record<string, unknown>,
    pushOptions: FeishuWsPushOptions = {},
  ): Promise<FeishuWsAck> {
    const candidates = [...open].filter(
      (connection) => connection.app_id === appId && connection.socket.readyState === connection.socket.OPEN,
    );
    const connection = candidates[randomInt(Math.max(candidates.length, 1))];
    if (!connection) return Promise.reject(new Error(`No long connection is open for ${appId}.`));
    const bytes = Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
    const sum = Math.max(1, Math.min(pushOptions.fragments ?? 1, bytes.length));
    const messageId = pushOptions.message_id ?? randomBytes(16).toString('hex');
    const traceId = randomBytes(8).toString('hex');
    const size = Math.ceil(bytes.length / sum);
    return new Promise<FeishuWsAck>((resolve, reject) => {
      const timeoutMs = pushOptions.ackTimeoutMs ?? 3_000;
      const timer = setTimeout(() => {
        pending.delete(messageId);
        reject(new Error(`The client did not answer ${messageId} within ${timeoutMs} ms.`));
      }, timeoutMs);
      pending.set(messageId, { app_id: appId, connection, resolve, reject, timer });
      for (let seq = 0; seq < sum; seq++) {
        connection.seq++;
        send(connection, {
          SeqID: connection.seq,
          LogID: BigInt(`0x${randomBytes(6).toString('hex')}`),
          service: connection.service_id,
          method: FrameMethod.data,
          headers: [
            { key: 'type', value: 'event' },
            { key: 'message_id', value: messageId },
            { key: 'sum', value: String(sum) },
            { key: 'seq', value: String(seq) },
            { key: 'trace_id', value: traceId },
          ],
          payload: bytes.subarray(seq * size, (seq + 1) * size),
        });
      }
    });
  }

  function count(appId?: string): number {
    return [...open].filter((connection) => !appId || connection.app_id === appId).length;
  }

  function drop(appId?: string): number {
    const victims = [...open].filter((connection) => !appId || connection.app_id === appId);
    for (const connection of victims) {
      forget(connection);
      connection.socket.terminate();
    }
    return victims.length;
  }

  return {
    endpoint,
    handleUpgrade,
    clientConfig,
    push,
    connections: count,
    pings: (appId) => {
      let total = 0;
      for (const connection of open) if (!appId || connection.app_id === appId) total += connection.pings;
      for (const [app, gone] of pingsGone) if (!appId || app === appId) total += gone;
      return total;
    },
    discoveries,
    acks,
    drop,
    close: async () => {
      const closed = [...open].map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.socket.readyState === connection.socket.CLOSED) resolve();
            else connection.socket.once('close', () => resolve());
          }),
      );
      drop();
      await Promise.all(closed);
      pingsGone = new Map();
      tickets.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export interface FeishuLongConnectionServer extends FeishuLongConnectionFake {
  /** `http://127.0.0.1:<port>`: WSClient's `domain` and the fake's API base in one (other paths go to fake.app). */
  domain: string;
}

/**
 * The fake's HTTP API, its long-connection endpoint discovery and WebSocket on one loopback port, so one
 * base URL serves both the REST client and WSClient (as open.feishu.cn does).
 */
export async function startFeishuLongConnectionServer(
  fake: FeishuFake,
  options: FeishuLongConnectionFakeOptions & { host?: string; port?: number } = {},
): Promise<FeishuLongConnectionServer> {
  const longConnection = createFeishuLongConnectionFake(fake, options);
  const listener = getRequestListener((request) =>
    new URL(request.url).pathname === feishuWsEndpointPath
      ? longConnection.endpoint(request)
      : fake.app.fetch(request),
  );
  const server = createServer(listener);
  server.on('upgrade', (request, socket, head) => {
    if (!longConnection.handleUpgrade(request, socket, head))
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...longConnection,
    domain: `http://${host}:${port}`,
    close: async () => {
      await longConnection.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

// ---- pbbp2.Frame, the SDK's protobuf (proto2) schema, encoded by hand -----------------------------------
// Frame { required uint64 SeqID = 1; required uint64 LogID = 2; required int32 service = 3;
//         required int32 method = 4; repeated Header headers = 5; optional string payloadEncoding = 6;
//         optional string payloadType = 7; optional bytes payload = 8; optional string LogIDNew = 9; }
// Header { required string key = 1; required string value = 2; }

export const FrameMethod = { control: 0, data: 1 } as const;

export interface Frame {
  SeqID: bigint;
  LogID: bigint;
  service: number;
  method: number;
  headers: Array<{ key: string; value: string }>;
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

class Writer {
  private readonly parts: Uint8Array[] = [];

  varint(value: bigint): this {
    let rest = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (rest >= 0x80n) {
      bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(Number(rest));
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }

  tag(field: number, wireType: 0 | 2): this {
    return this.varint(BigInt((field << 3) | wireType));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(BigInt(value.length));
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

export function encodeFrame(frame: Frame): Uint8Array {
  const writer = new Writer()
    .tag(1, 0)
    .varint(frame.SeqID)
    .tag(2, 0)
    .varint(frame.LogID)
    .tag(3, 0)
    .varint(BigInt(frame.service))
    .tag(4, 0)
    .varint(BigInt(frame.method));
  for (const header of frame.headers) {
    writer.bytes(5, new Writer().string(1, header.key).string(2, header.value).finish());
  }
  if (frame.payloadEncoding !== undefined) writer.string(6, frame.payloadEncoding);
  if (frame.payloadType !== undefined) writer.string(7, frame.payloadType);
  if (frame.payload !== undefined) writer.bytes(8, frame.payload);
  if (frame.LogIDNew !== undefined) writer.string(9, frame.LogIDNew);
  return writer.finish();
}

class Reader {
  pos = 0;
  constructor(private readonly buffer: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buffer.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.buffer[this.pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    throw new Error('varint too long');
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    if (this.pos + length > this.buffer.length) throw new Error('truncated field');
    const value = this.buffer.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (this.pos > this.buffer.length) throw new Error('truncated field');
  }
}

const int32 = (value: bigint) => Number(BigInt.asIntN(32, value));
const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

export function decodeFrame(buffer: Uint8Array): Frame {
  const reader = new Reader(buffer);
  const frame: Partial<Frame> & { headers: Frame['headers'] } = { headers: [] };
  while (!reader.done) {
    const tag = Number(reader.varint());
    const field = tag >>> 3;
    const wireType = tag & 7;
    const expect = (wanted: number) => {
      if (wireType !== wanted) throw new Error(`field ${field} has wire type ${wireType}`);
    };
    switch (field) {
      case 1:
        expect(0);
        frame.SeqID = reader.varint();
        break;
      case 2:
        expect(0);
        frame.LogID = reader.varint();
        break;
      case 3:
        expect(0);
        frame.service = int32(reader.varint());
        break;
      case 4:
        expect(0);
        frame.method = int32(reader.varint());
        break;
      case 5:
        expect(2);
        frame.headers.push(decodeHeader(reader.bytes()));
        break;
      case 6:
        expect(2);
        frame.payloadEncoding = utf8(reader.bytes());
        break;
      case 7:
        expect(2);
        frame.payloadType = utf8(reader.bytes());
        break;
      case 8:
        expect(2);
        frame.payload = reader.bytes();
        break;
      case 9:
        expect(2);
        frame.LogIDNew = utf8(reader.bytes());
        break;
      default:
        reader.skip(wireType);
    }
  }
  for (const required of ['SeqID', 'LogID', 'service', 'method'] as const) {
    if (frame[required] === undefined) throw new Error(`missing required '${required}'`);
  }
  return frame as Frame;
}

function decodeHeader(bytes: Uint8Array): { key: string; value: string } {
  const reader = new Reader(bytes);
  let key: string | undefined;
  let value: string | undefined;
  while (!reader.done) {
    const tag = Number(reader.varint());
    if (tag === (1 << 3) + 2) key = utf8(reader.bytes());
    else if (tag === (2 << 3) + 2) value = utf8(reader.bytes());
    else reader.skip(tag & 7);
  }
  if (key === undefined || value === undefined) throw new Error('header without key or value');
  return { key, value };
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function parseData(base64: string): unknown {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
