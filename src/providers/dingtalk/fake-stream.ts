// A DingTalk Stream mode gateway (reference/platforms.md §4.7) on the real wire, for tests and the sandbox:
// `POST /v1.0/gateway/connections/open` {clientId, clientSecret, subscriptions, ua} → {endpoint, ticket},
// then a WebSocket at `${endpoint}?ticket=` (one use per ticket) carrying JSON frames
// {specVersion, type: SYSTEM|EVENT|CALLBACK, headers, data}. The client answers every EVENT and SYSTEM
// ping with {code, headers: {contentType, messageId}, message, data}; an EVENT not acked
// `{"status":"SUCCESS"}` (LATER, no answer in time, or the connection gone) is pushed again, with the
// same eventId and a new messageId. Pushes for an app without a connection wait for the next one.
// Own node:http server (not part of ./fake.ts): give `base` as the app's api_base.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

export interface StreamFakeApp {
  app_key: string;
  app_secret: string;
}

export interface StreamFakeOptions {
  apps: StreamFakeApp[];
  /** Delay before an event that was not acked SUCCESS is pushed again. DingTalk: within about 60 s. */
  redeliverAfterMs?: number;
  /** How long a pushed event waits for its ack before counting as unanswered. */
  ackTimeoutMs?: number;
  /** Deliveries per event, the first included, before the fake gives up on it. */
  maxAttempts?: number;
  /** A ticket not used within this time is refused. */
  ticketTtlMs?: number;
  /** Sent as headers.eventCorpId. */
  corpId?: string;
}

/** The client's answer frame to an EVENT or a SYSTEM ping, as received, with `data.status` read out. */
export interface StreamAck {
  code: number;
  headers: { contentType?: string; messageId: string; [key: string]: unknown };
  message: string;
  data: string;
  /** `SUCCESS` / `LATER` from an EVENT ack's data. */
  status?: string;
}

export interface StreamPushResult extends StreamAck {
  eventId: string;
  attempt: number;
}

export interface StreamDelivery {
  eventId: string;
  eventType: string;
  messageId: string;
  connectionId: string;
  attempt: number;
  /** Absent while unanswered, or when the connection closed before the answer. */
  ack?: StreamAck;
}

export interface StreamConnection {
  id: string;
  app_key: string;
  ua: string;
  subscriptions: { type: string; topic: string }[];
  opened_at: number;
}

export interface StreamGatewayRequest {
  app_key: string;
  ua: string;
  subscriptions: { type: string; topic: string }[];
  /** The ticket issued (absent when refused), so tests can check it never reaches a log. */
  ticket?: string;
  status: number;
}

export interface DingTalkStreamFake {
  /** Give this as the app's api_base. */
  base: string;
  /** Pushes one event; resolves with the first ack (redeliveries continue in the background). */
  push(
    appKey: string,
    eventType: string,
    data: string | Record<string, unknown>,
    options?: { eventId?: string },
  ): Promise<StreamPushResult>;
  /** Resolves with the SUCCESS ack of an event (after redeliveries); rejects when it was given up. */
  settled(eventId: string): Promise<StreamPushResult>;
  deliveries(appKey?: string): StreamDelivery[];
  /** The app's open connections. */
  connections(appKey: string): StreamConnection[];
  gatewayRequests(appKey?: string): StreamGatewayRequest[];
  /** Sends a SYSTEM ping on every open connection of the app; resolves with the echoes. */
  ping(appKey: string): Promise<StreamAck[]>;
  /** SYSTEM `disconnect` on every connection of the app; the server closes them after `closeAfterMs`. */
  disconnect(appKey: string, options?: { closeAfterMs?: number }): void;
  /** Drops the app's connections without a word (a network failure). */
  drop(appKey: string): void;
  /** The app's connections go silent (a half-open TCP connection): nothing is read, no pong answered. */
  stall(appKey: string): void;
  /** Frames the fake could not accept (malformed acks, acks for unknown messages). */
  problems: string[];
  close(): Promise<void>;
}

interface PendingEvent {
  appKey: string;
  eventId: string;
  eventType: string;
  data: string;
  bornTime: number;
  attempts: number;
  state: 'waiting' | 'in_flight' | 'scheduled' | 'acked' | 'given_up';
  firstAck: Deferred<StreamPushResult>;
  success: Deferred<StreamPushResult>;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

interface Connection {
  info: StreamConnection;
  socket: WebSocket;
  /** messageId → what it was sent for. */
  inFlight: Map<string, { event?: PendingEvent; delivery?: StreamDelivery; ping?: Deferred<StreamAck> }>;
  closeTimer?: ReturnType<typeof setTimeout> | undefined;
  stalled?: boolean;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const GATEWAY_PATH = '/v1.0/gateway/connections/open';
const CONNECT_PATH = '/connect';
const MAX_BODY = 64 * 1024;
const subscriptionTypes = new Set(['EVENT', 'CALLBACK']);
const gatewayFields = new Set(['clientId', 'clientSecret', 'subscriptions', 'ua', 'localIp']);

export async function startDingTalkStreamFake(options: StreamFakeOptions): Promise<DingTalkStreamFake> {
  const apps = new Map(options.apps.map((app) => [app.app_key, app]));
  const redeliverAfterMs = options.redeliverAfterMs ?? 60_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 5000;
  const maxAttempts = options.maxAttempts ?? 10;
  const ticketTtlMs = options.ticketTtlMs ?? 60_000;
  const corpId = options.corpId ?? 'dingsignoffdemo0001';

  const tickets = new Map<
    string,
    { appKey: string; ua: string; subscriptions: StreamConnection['subscriptions']; expires: number }
  >();
  const connections = new Set<Connection>();
  const events = new Map<string, PendingEvent>();
  const deliveries: (StreamDelivery & { appKey: string })[] = [];
  const gatewayRequests: StreamGatewayRequest[] = [];
  const problems: string[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let roundRobin = 0;
  let closed = false;

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: ReturnType<typeof setTimeout> | undefined) => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timers.delete(timer);
  };

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((error: unknown) => {
      problems.push(`gateway: ${(error as Error).message}`);
      if (!res.headersSent) vendorError(res, 500, 'ServiceUnavailable', '服务暂不可用');
    });
  });
  const wss = new WebSocketServer({ noServer: true });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== GATEWAY_PATH) return vendorError(res, 404, 'InvalidAction.NotFound', '请求的接口不存在');
    if (req.method !== 'POST') return vendorError(res, 405, 'InvalidAction.NotFound', '请求的接口不存在');
    const text = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return vendorError(res, 400, 'InvalidParameter', '请求体不是合法的JSON');
    }
    const unknown = Object.keys(body).filter((key) => !gatewayFields.has(key));
    if (unknown.length > 0)
      return vendorError(res, 400, 'InvalidParameter', `未知参数: ${unknown.join(', ')}`);
    const { clientId, clientSecret, subscriptions, ua } = body;
    if (typeof clientId !== 'string' || clientId === '')
      return vendorError(res, 400, 'MissingClientId', 'clientId不能为空');
    if (typeof clientSecret !== 'string' || clientSecret === '')
      return vendorError(res, 400, 'MissingClientSecret', 'clientSecret不能为空');
    const record: StreamGatewayRequest = {
      app_key: clientId,
      ua: typeof ua === 'string' ? ua : '',
      subscriptions: [],
      status: 0,
    };
    gatewayRequests.push(record);
    if (ua !== undefined && typeof ua !== 'string')
      return refuse(record, res, 400, 'InvalidParameter', 'ua 必须是字符串');
    if (
      !Array.isArray(subscriptions) ||
      subscriptions.length === 0 ||
      !subscriptions.every(
        (item) =>
          item !== null &&
          typeof item === 'object' &&
          subscriptionTypes.has((item as { type?: unknown }).type as string) &&
          typeof (item as { topic?: unknown }).topic === 'string' &&
          Object.keys(item).every((key) => key === 'type' || key === 'topic'),
      )
    ) {
      return refuse(record, res, 400, 'InvalidParameter', 'subscriptions 不合法');
    }
    record.subscriptions = subscriptions as StreamConnection['subscriptions'];
    const app = apps.get(clientId);
    // Observed answer to a wrong AppKey/AppSecret (e.g. zfanswer/dify-on-dingtalk#28).
    if (!app || app.app_secret !== clientSecret) return refuse(record, res, 401, 'authFailed', '鉴权失败');
    const accept = req.headers.accept ?? '';
    if (!accept.includes('json')) {
      // The SDK sends Accept: application/json because "otherwise the answer is XML" (dist/client.mjs).
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/xml;charset=utf-8' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><result><error>Accept: application/json expected</error></result>',
      );
      return;
    }
    const ticket = randomUUID();
    tickets.set(ticket, {
      appKey: clientId,
      ua: record.ua,
      subscriptions: record.subscriptions,
      expires: Date.now() + ticketTtlMs,
    });
    record.ticket = ticket;
    record.status = 200;
    const address = server.address() as AddressInfo;
    json(res, 200, { endpoint: `ws://127.0.0.1:${address.port}${CONNECT_PATH}`, ticket });
  }

  function refuse(
    record: StreamGatewayRequest,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
  ): void {
    record.status = status;
    vendorError(res, status, code, message);
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ticket = url.searchParams.get('ticket') ?? '';
    const grant = tickets.get(ticket);
    if (url.pathname !== CONNECT_PATH || !grant || grant.expires < Date.now() || closed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    tickets.delete(ticket);
    wss.handleUpgrade(req, socket, head, (ws) => opened(ws, grant));
  });

  function opened(
    socket: WebSocket,
    grant: { appKey: string; ua: string; subscriptions: StreamConnection['subscriptions'] },
  ): void {
    const connection: Connection = {
      info: {
        id: randomUUID(),
        app_key: grant.appKey,
        ua: grant.ua,
        subscriptions: grant.subscriptions,
        opened_at: Date.now(),
      },
      socket,
      inFlight: new Map(),
    };
    connections.add(connection);
    socket.on('message', (data) => received(connection, data));
    socket.on('close', () => lost(connection));
    socket.on('error', () => socket.terminate());
    // The SYSTEM topics the SDK handles on a new connection (DWClient.onSystem).
    sendFrame(connection, 'SYSTEM', { topic: 'CONNECTED' }, '{}');
    sendFrame(connection, 'SYSTEM', { topic: 'REGISTERED' }, '{}');
    for (const event of events.values()) {
      if (event.appKey === grant.appKey && event.state === 'waiting') deliver(event);
    }
  }

  function sendFrame(
    connection: Connection,
    type: 'SYSTEM' | 'EVENT' | 'CALLBACK',
    headers: Record<string, string>,
    data: string,
  ): string {
    const messageId = randomUUID();
    const frame = {
      specVersion: '1.0',
      type,
      headers: {
        appId: connection.info.app_key,
        connectionId: connection.info.id,
        contentType: 'application/json',
        messageId,
        time: String(Date.now()),
        ...headers,
      },
      data,
    };
    connection.socket.send(JSON.stringify(frame));
    return messageId;
  }

  function openConnectionsOf(appKey: string): Connection[] {
    return [...connections].filter(
      (connection) =>
        connection.info.app_key === appKey &&
        connection.socket.readyState === connection.socket.OPEN &&
        connection.closeTimer === undefined &&
        !connection.stalled &&
        connection.info.subscriptions.some((sub) => sub.type === 'EVENT'),
    );
  }

  function deliver(event: PendingEvent): void {
    if (closed) return;
    const candidates = openConnectionsOf(event.appKey);
    if (candidates.length === 0) {
      event.state = 'waiting';
      return;
    }
    // Cluster delivery: each event goes to one of the app's connections.
    const connection = candidates[roundRobin++ % candidates.length]!;
    event.attempts++;
    event.state = 'in_flight';
    const messageId = sendFrame(
      connection,
      'EVENT',
      {
        topic: '*',
        eventId: event.eventId,
        eventType: event.eventType,
        eventBornTime: String(event.bornTime),
        eventCorpId: corpId,
        eventUnifiedAppId: event.appKey,
      },
      event.data,
    );
    const delivery: StreamDelivery & { appKey: string } = {
      appKey: event.appKey,
      eventId: event.eventId,
      eventType: event.eventType,
      messageId,
      connectionId: connection.info.id,
      attempt: event.attempts,
    };
    deliveries.push(delivery);
    connection.inFlight.set(messageId, { event, delivery });
    event.timer = later(ackTimeoutMs, () => {
      if (!connection.inFlight.delete(messageId)) return;
      retry(event);
    });
  }

  function retry(event: PendingEvent): void {
    cancel(event.timer);
    if (event.attempts >= maxAttempts) {
      event.state = 'given_up';
      const error = new Error(
        `The event ${event.eventId} was not acknowledged after ${event.attempts} attempts.`,
      );
      event.firstAck.reject(error);
      event.success.reject(error);
      return;
    }
    event.state = 'scheduled';
    event.timer = later(redeliverAfterMs, () => deliver(event));
  }

  function received(connection: Connection, raw: RawData): void {
    const text = raw.toString();
    let frame: StreamAck;
    try {
      frame = JSON.parse(text) as StreamAck;
    } catch {
      problems.push(`a frame that is not JSON: ${text.slice(0, 100)}`);
      return;
    }
    const messageId = frame?.headers?.messageId;
    const pending = typeof messageId === 'string' ? connection.inFlight.get(messageId) : undefined;
    if (!pending) {
      problems.push(`an answer to no message we sent: ${text.slice(0, 200)}`);
      return;
    }
    const malformed =
      frame.code !== 200 ||
      typeof frame.message !== 'string' ||
      typeof frame.data !== 'string' ||
      (pending.event !== undefined && frame.headers.contentType !== 'application/json');
    if (malformed) {
      problems.push(`a malformed answer: ${text.slice(0, 200)}`);
      return;
    }
    connection.inFlight.delete(messageId);
    if (pending.ping) {
      pending.ping.resolve(frame);
      return;
    }
    const event = pending.event!;
    const status = (() => {
      try {
        const data = JSON.parse(frame.data) as { status?: unknown } | null;
        return typeof data?.status === 'string' ? data.status : undefined;
      } catch {
        return undefined;
      }
    })();
    const ack: StreamAck = { ...frame, ...(status !== undefined ? { status } : {}) };
    pending.delivery!.ack = ack;
    const result: StreamPushResult = { ...ack, eventId: event.eventId, attempt: pending.delivery!.attempt };
    event.firstAck.resolve(result);
    cancel(event.timer);
    if (status === 'SUCCESS') {
      event.state = 'acked';
      event.success.resolve(result);
    } else {
      retry(event);
    }
  }

  function lost(connection: Connection): void {
    connections.delete(connection);
    cancel(connection.closeTimer);
    for (const pending of connection.inFlight.values()) {
      if (pending.ping) pending.ping.reject(new Error('The connection closed before the ping was answered.'));
      else if (pending.event?.state === 'in_flight') retry(pending.event);
    }
    connection.inFlight.clear();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    base: `http://127.0.0.1:${port}`,
    problems,

    push(appKey, eventType, data, pushOptions = {}) {
      if (!apps.has(appKey)) return Promise.reject(new Error(`No app ${appKey} in the Stream fake.`));
      const eventId = pushOptions.eventId ?? randomUUID().replaceAll('-', '');
      const event: PendingEvent = {
        appKey,
        eventId,
        eventType,
        data: typeof data === 'string' ? data : JSON.stringify(data),
        bornTime: Date.now(),
        attempts: 0,
        state: 'waiting',
        firstAck: deferred(),
        success: deferred(),
      };
      events.set(eventId, event);
      deliver(event);
      return event.firstAck.promise;
    },

    settled(eventId) {
      const event = events.get(eventId);
      return event ? event.success.promise : Promise.reject(new Error(`No event ${eventId}.`));
    },

    deliveries(appKey) {
      return deliveries
        .filter((delivery) => appKey === undefined || delivery.appKey === appKey)
        .map(({ appKey: _appKey, ...delivery }) => delivery);
    },

    connections(appKey) {
      return [...connections]
        .filter(
          (connection) =>
            connection.info.app_key === appKey &&
            connection.socket.readyState === connection.socket.OPEN &&
            !connection.stalled,
        )
        .map((connection) => connection.info);
    },

    gatewayRequests(appKey) {
      return gatewayRequests.filter((request) => appKey === undefined || request.app_key === appKey);
    },

    ping(appKey) {
      return Promise.all(
        openConnectionsOf(appKey).map((connection) => {
          const echo = deferred<StreamAck>();
          const messageId = sendFrame(
            connection,
            'SYSTEM',
            { topic: 'ping' },
            JSON.stringify({ opaque: randomUUID() }),
          );
          connection.inFlight.set(messageId, { ping: echo });
          return echo.promise;
        }),
      );
    },

    disconnect(appKey, disconnectOptions = {}) {
      for (const connection of connections) {
        if (connection.info.app_key !== appKey || connection.closeTimer !== undefined) continue;
        sendFrame(
          connection,
          'SYSTEM',
          { topic: 'disconnect' },
          JSON.stringify({ reason: 'gateway restarting' }),
        );
        connection.closeTimer = later(disconnectOptions.closeAfterMs ?? 10_000, () =>
          connection.socket.close(1001, 'disconnect'),
        );
      }
    },

    stall(appKey) {
      for (const connection of connections) {
        if (connection.info.app_key !== appKey) continue;
        connection.stalled = true;
        connection.socket.pause();
      }
    },

    drop(appKey) {
      for (const connection of connections) {
        if (connection.info.app_key === appKey) connection.socket.terminate();
      }
    },

    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const connection of connections) connection.socket.terminate();
      for (const event of events.values()) {
        if (event.state !== 'acked') {
          const error = new Error('The Stream fake was closed.');
          event.firstAck.reject(error);
          event.success.reject(error);
        }
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** The new API's error envelope: HTTP 4xx/5xx with {requestid, code, message}. */
function vendorError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { requestid: randomUUID().toUpperCase(), code, message });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
