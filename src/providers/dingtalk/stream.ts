// DingTalk Stream mode (Stream 模式, reference/platforms.md §4.7): instead of a public callback URL, we
// dial out. `POST {api_base}/v1.0/gateway/connections/open` with the AppKey/AppSecret gives an
// endpoint and a one-time ticket; a WebSocket to `${endpoint}?ticket=` then carries JSON frames: SYSTEM
// (ping, disconnect, …), EVENT (bpms_instance_change, bpms_task_change, …) and CALLBACK. Every EVENT is
// acknowledged with its messageId and `{"status":"SUCCESS"}`, or `LATER` to have DingTalk push it again.
//
// We run the official SDK's `DWClient` (dingtalk-stream 2.1.5, `dist/client.mjs`) and override, in a
// subclass, the few methods that do not fit a server. Everything else (frame dispatch `onDownStream`,
// the SYSTEM handling and ping echo in `onSystem`, the ack frame of `send`, `heartbeat`) is the SDK's own code:
// - `getEndpoint`: the SDK posts to the constant `GATEWAY_URL` (https://api.dingtalk.com/…, in
//   `dist/constants.mjs`) and offers no option for it; overriding this one public method is the only
//   supported seam. Ours posts to `config.api_base` (so tests and the sandbox reach a fake), maps a
//   refusal to an AppError carrying DingTalk's code and message (the SDK's `connect` swallows every
//   error and retries forever), and never logs the request (the SDK's debug output prints the whole
//   config, clientSecret included, and the ticket).
// - `onEvent`: the SDK acks with whatever `registerAllEventListener`'s callback returns *synchronously*
//   (`JSON.stringify(this.onEventReceived(msg))`), so an async handler would ack "{}" before it ran.
//   Ours acks SUCCESS only after `onEvent` resolved, LATER when it threw.
// - `_connect` / `connect` / `disconnect`: the SDK's versions write to `console` (non-JSON lines amid
//   our pino output), leak one keep-alive interval per reconnect (the old one then pings the next socket
//   while it is still CONNECTING, which throws from a timer), start a second reconnect chain when a
//   reconnect attempt fails (both the socket's "close" handler and `connect`'s catch retry), keep retry
//   timers that `disconnect` cannot cancel (a closed client may even reconnect: `_connect` resets
//   `userDisconnect`), retry every second forever, and let a JSON error in a frame escape from a socket
//   listener. Ours keep the SDK's behaviour otherwise (its 1 s reconnect, 8 s ping) and use its fields
//   (`socket`, `dw_url`, `userDisconnect`, `reconnectInterval`, `isAlive`: private only in the .d.ts),
//   which the tests exercise against the fake.
// - `onSystem`: after a SYSTEM `disconnect` (the gateway is going away) the SDK only clears its flags
//   and waits for the server to drop the socket; we close it at once and reconnect.
// - `printDebug`: routed to our logger at debug level, frames summarised, tickets and the secret scrubbed.
import { DWClient, type DWClientDownStream, EventAck } from 'dingtalk-stream';
import WebSocket from 'ws';
import { AppError, isAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { type Fetch, request } from '../http.js';
import type { ImEvent } from '../types.js';
import { toEvent } from './callback.js';
import type { DingTalkConfig } from './client.js';
import { classifyNewApiError, credentialsError, parseJson } from './codes.js';

export const STREAM_GATEWAY_PATH = '/v1.0/gateway/connections/open';
/** Every event the app is subscribed to in the developer console (the SDK's default subscription). */
export const STREAM_SUBSCRIPTIONS = [{ type: 'EVENT', topic: '*' }] as const;
/** The gateway's answer to a wrong AppKey/AppSecret: HTTP 401 {"code":"authFailed","message":"鉴权失败"}. */
export const STREAM_AUTH_FAILED_CODE = 'authFailed';
const STREAM_UA = 'signoff';
/** The SDK's defaults: reconnect after 1 s, a WebSocket ping every 8 s. */
const RECONNECT_INTERVAL_MS = 1000;
const MAX_RECONNECT_INTERVAL_MS = 60_000;
const HEARTBEAT_INTERVAL_MS = 8000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_WAIT_MS = 2000;

export interface DingTalkStreamOptions {
  /** Called once per EVENT frame; DingTalk gets SUCCESS once it resolves, LATER (a redelivery) if it throws. */
  onEvent(event: ImEvent): Promise<void> | void;
  log: Logger;
  fetch?: Fetch;
  /** First reconnect delay; doubled after each failed attempt up to a minute. Default 1 s (the SDK's). */
  reconnectIntervalMs?: number;
  /** WebSocket ping interval; a connection without a pong in between is dropped. Default 8 s (the SDK's). */
  heartbeatIntervalMs?: number;
}

export interface DingTalkStream {
  close(): Promise<void>;
  connected(): boolean;
}

/**
 * Opens the Stream connection of one DingTalk app and keeps it open (reconnecting after drops and
 * SYSTEM disconnects) until `close()`. Rejects, with nothing left running, when the first connection
 * cannot be made: a wrong AppKey/AppSecret gives an `upstream_rejected` AppError with DingTalk's code.
 */
export async function connectDingTalkStream(
  config: DingTalkConfig,
  options: DingTalkStreamOptions,
): Promise<DingTalkStream> {
  const client = new SignoffStreamClient(config, options);
  try {
    await client.getEndpoint();
    await client._connect();
  } catch (error) {
    client.disconnect();
    throw isAppError(error)
      ? error
      : new AppError(
          'upstream_error',
          `The DingTalk Stream connection could not be opened: ${messageOf(error)}.`,
          {
            cause: error,
          },
        );
  }
  options.log.info(
    { provider: 'dingtalk', mode: 'stream', app_key: config.app_key },
    'DingTalk Stream connected',
  );
  return { close: () => client.close(), connected: () => client.connected };
}

/**
 * One EVENT frame as the ImEvent our HTTP callback path gives for the same event (same dedup key, type
 * and payload). Stream sends the business fields in `data` and the type in `headers.eventType`; where
 * `data` lacks the callback plaintext's `EventType`, it is added from the header.
 */
export function dingTalkStreamEvent(frame: Pick<DWClientDownStream, 'headers' | 'data'>): ImEvent {
  const parsed = typeof frame.data === 'string' ? parseJson(frame.data) : undefined;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('bad_request', 'The DingTalk Stream event carries no JSON object in "data".');
  }
  const data = parsed as Record<string, unknown>;
  const type = frame.headers?.eventType || (typeof data.EventType === 'string' ? data.EventType : '');
  if (!type) throw new AppError('bad_request', 'The DingTalk Stream event has no eventType.');
  const payload = typeof data.EventType === 'string' ? data : { EventType: type, ...data };
  return toEvent(type, payload, frame.data);
}

/** dingtalk-stream 2.1.5 fields its .d.ts marks private (assigned in `dist/client.mjs`). */
interface DWClientInternals {
  socket?: WebSocket | undefined;
  dw_url?: string | undefined;
  userDisconnect: boolean;
  reconnectInterval: number;
  isAlive: boolean;
}

class SignoffStreamClient extends DWClient {
  readonly #app: DingTalkConfig;
  readonly #options: DingTalkStreamOptions;
  readonly #log: Logger;
  #closed = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #reconnect: ReturnType<typeof setTimeout> | undefined;

  constructor(app: DingTalkConfig, options: DingTalkStreamOptions) {
    if (!app.app_key || !app.app_secret) {
      // The SDK would console.error and throw a bare Error; say what to fix instead.
      throw new AppError(
        'validation_failed',
        'DingTalk Stream mode needs the AppKey (Client ID) and AppSecret (Client Secret) of the app.',
      );
    }
    super({ clientId: app.app_key, clientSecret: app.app_secret, ua: STREAM_UA, keepAlive: true });
    this.#app = app;
    this.#options = options;
    this.#log = options.log.child({ provider: 'dingtalk', mode: 'stream', app_key: app.app_key });
    this.#internals.reconnectInterval = this.#baseInterval;
  }

  get #internals(): DWClientInternals {
    return this as unknown as DWClientInternals;
  }

  get #baseInterval(): number {
    return this.#options.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS;
  }

  override printDebug(msg: object | string): void {
    if (!this.#log.isLevelEnabled('debug')) return;
    if (typeof msg === 'string') {
      this.#log.debug({ sdk: 'dingtalk-stream' }, this.#scrub(msg));
      return;
    }
    const frame = msg as Partial<DWClientDownStream>;
    if (frame.headers && typeof frame.headers === 'object') {
      // A whole frame: its type and routing headers, never the data (approval contents, user ids).
      this.#log.debug(
        {
          sdk: 'dingtalk-stream',
          frame: {
            type: frame.type,
            topic: frame.headers.topic,
            messageId: frame.headers.messageId,
            eventType: frame.headers.eventType,
            eventId: frame.headers.eventId,
          },
        },
        'frame received',
      );
      return;
    }
    // Anything else (the SDK prints its config, secret included): only the field names.
    this.#log.debug({ sdk: 'dingtalk-stream', fields: Object.keys(msg) }, 'debug object');
  }

  #scrub(text: string): string {
    const scrubbed = text.replace(/ticket=[^&\s"]*/g, 'ticket=[redacted]');
    return this.#app.app_secret ? scrubbed.split(this.#app.app_secret).join('[redacted]') : scrubbed;
  }

  override async getEndpoint(): Promise<this> {
    if (this.#closed) throw new AppError('unavailable', 'The DingTalk Stream connection was closed.');
    const base = this.#app.api_base.replace(/\/+$/, '');
    const response = await request(this.#options.fetch ?? fetch, {
      vendor: 'dingtalk',
      url: `${base}${STREAM_GATEWAY_PATH}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.#app.app_key,
        clientSecret: this.#app.app_secret,
        ua: STREAM_UA,
        subscriptions: STREAM_SUBSCRIPTIONS,
      }),
      target: 'DingTalk (Stream gateway)',
    });
    if (response.status < 200 || response.status >= 300) throw gatewayError(response.status, response.text);
    const body = parseJson(response.text) as { endpoint?: unknown; ticket?: unknown } | undefined;
    const endpoint = typeof body?.endpoint === 'string' ? body.endpoint : '';
    const ticket = typeof body?.ticket === 'string' ? body.ticket : '';
    if (!endpoint || !ticket) {
      throw new AppError(
        'upstream_error',
        'The DingTalk Stream gateway answered without an endpoint or ticket.',
      );
    }
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new AppError('upstream_error', 'The DingTalk Stream gateway answered with an invalid endpoint.');
    }
    if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
      throw new AppError('upstream_error', 'The DingTalk Stream endpoint is not a WebSocket URL.');
    }
    url.searchParams.set('ticket', ticket);
    this.#internals.dw_url = url.toString();
    return this;
  }

  /** A reconnect: the SDK's `connect` with its timer kept (so `close()` can cancel it) and a backoff. */
  override async connect(): Promise<void> {
    try {
      await this.getEndpoint();
      await this._connect();
    } catch (error) {
      if (this.#closed) return;
      const wait = this.#internals.reconnectInterval;
      this.#log.warn({ err: error, retry_in_ms: wait }, 'DingTalk Stream: reconnecting failed; will retry');
      this.#internals.reconnectInterval = Math.min(wait * 2, MAX_RECONNECT_INTERVAL_MS);
      this.#reconnectIn(wait);
    }
  }

  #reconnectIn(ms: number): void {
    if (this.#reconnect !== undefined) clearTimeout(this.#reconnect);
    this.reconnecting = true;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      void this.connect();
    }, ms);
  }

  override _connect(): Promise<void> {
    const internals = this.#internals;
    if (this.#closed)
      return Promise.reject(new AppError('unavailable', 'The DingTalk Stream connection was closed.'));
    const url = internals.dw_url;
    if (!url)
      return Promise.reject(new AppError('internal', 'The DingTalk Stream endpoint is not known yet.'));
    this.#stopHeartbeat();
    internals.userDisconnect = false;
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      internals.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        this.connected = true;
        this.reconnecting = false;
        internals.reconnectInterval = this.#baseInterval;
        this.#startHeartbeat(socket);
        this.#log.debug('DingTalk Stream socket open');
        resolve();
      });
      socket.on('pong', () => this.heartbeat());
      socket.on('message', (data) => {
        try {
          this.onDownStream(data.toString());
        } catch (error) {
          this.#log.warn({ err: error }, 'DingTalk Stream: a frame could not be read; ignored');
        }
      });
      socket.on('error', (error) => {
        if (opened) this.#log.warn({ err: error }, 'DingTalk Stream socket error');
        socket.terminate();
        reject(
          new AppError('upstream_error', `The DingTalk Stream WebSocket failed: ${messageOf(error)}.`, {
            cause: error,
          }),
        );
      });
      socket.on('close', (code) => {
        if (internals.socket !== socket) return;
        this.connected = false;
        this.registered = false;
        this.#stopHeartbeat();
        // A socket that never opened failed inside `connect`, whose catch schedules the retry.
        if (!opened || internals.userDisconnect || this.#closed) return;
        this.#log.info(
          { code, retry_in_ms: internals.reconnectInterval },
          'DingTalk Stream closed; reconnecting',
        );
        this.#reconnectIn(internals.reconnectInterval);
      });
    });
  }

  #startHeartbeat(socket: WebSocket): void {
    const internals = this.#internals;
    internals.isAlive = true;
    this.#heartbeat = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (!internals.isAlive) {
        this.#log.warn('DingTalk Stream: no pong within the heartbeat interval; dropping the connection');
        socket.terminate();
        return;
      }
      internals.isAlive = false;
      socket.ping();
    }, this.#options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  override onSystem(downstream: DWClientDownStream): void {
    super.onSystem(downstream);
    if (downstream.headers?.topic === 'disconnect') {
      this.#log.info('DingTalk Stream: the gateway asked us to reconnect');
      this.#internals.socket?.close(1000, 'disconnect requested');
    }
  }

  override onEvent(message: DWClientDownStream): void {
    const socket = this.#internals.socket;
    const messageId = message.headers?.messageId;
    void this.#handle(message).then((status) => {
      if (!messageId) return;
      // An ack belongs to the connection the event came on; after a reconnect DingTalk pushes it again.
      if (this.#internals.socket !== socket || socket?.readyState !== WebSocket.OPEN) return;
      this.send(messageId, { status });
    });
  }

  async #handle(message: DWClientDownStream): Promise<EventAck> {
    const headers = message.headers ?? {};
    const where = { messageId: headers.messageId, eventType: headers.eventType, eventId: headers.eventId };
    let event: ImEvent;
    try {
      event = dingTalkStreamEvent(message);
    } catch (error) {
      // A redelivery carries the same bytes: acknowledge, or it would come back forever.
      this.#log.warn({ ...where, err: error }, 'DingTalk Stream: an unreadable event was dropped');
      return EventAck.SUCCESS;
    }
    try {
      await this.#options.onEvent(event);
      return EventAck.SUCCESS;
    } catch (error) {
      this.#log.warn(
        { ...where, err: error },
        'DingTalk Stream: handling an event failed; DingTalk will push it again',
      );
      return EventAck.LATER;
    }
  }

  override disconnect(): void {
    this.#closed = true;
    this.#internals.userDisconnect = true;
    if (this.#reconnect !== undefined) clearTimeout(this.#reconnect);
    this.#reconnect = undefined;
    this.#stopHeartbeat();
    const socket = this.#internals.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'closing');
    }
  }

  async close(): Promise<void> {
    const socket = this.#internals.socket;
    this.disconnect();
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, CLOSE_WAIT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#log.info('DingTalk Stream closed');
  }
}

function gatewayError(status: number, text: string): AppError {
  const body = parseJson(text) as { code?: unknown; message?: unknown } | undefined;
  if (body?.code === STREAM_AUTH_FAILED_CODE) {
    const message = typeof body.message === 'string' ? body.message : '';
    return credentialsError(`${STREAM_AUTH_FAILED_CODE}${message ? `: ${message}` : ''}`);
  }
  return classifyNewApiError('the Stream connection request', status, text).error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
