// Feishu long connection (长连接, reference/platforms.md §3.6): events arrive over a WebSocket that the
// official SDK's WSClient opens, keeps alive and reopens; we need no public URL. What we add around it:
// - Every event becomes the ImEvent our HTTP callback path records for the same event (same dedup key, type
//   and raw payload): we hand the SDK an EventDispatcher whose `invoke` takes the payload before the SDK
//   flattens it, and normalise it with `normaliseFeishuEvent` from callback.ts.
// - `connect` settles: it resolves once the first connection is open and rejects with the vendor's code and
//   message when Feishu refuses the credentials (the SDK only logs that and calls `onError`), when the App ID
//   has a shape WSClient silently ignores, or when no connection opened within `connectTimeoutMs`.
// - On the first connect, endpoint discovery answers outside 2xx that still carry a Feishu `{code,msg}` are
//   reported like 2xx ones (the SDK would retry them forever, silently).
// - SDK log lines go to our logger at debug level, with URL query strings (the WebSocket URL carries a
//   ticket) and our app's secrets cut out.
// Reconnection (after a drop, with the server's ReconnectInterval/ReconnectNonce/ReconnectCount) is the SDK's.
import * as lark from '@larksuiteoapi/node-sdk';
import type WebSocket from 'ws';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ImEvent } from '../types.js';
import { normaliseFeishuEvent } from './callback.js';
import type { FeishuConfig } from './client.js';
import { consolePages } from './codes.js';
import { decryptFeishuEvent } from './crypto.js';

export interface FeishuLongConnectionOptions {
  /** Called for every event, in arrival order per connection; a throw makes the SDK answer the frame with code 500. */
  onEvent(event: ImEvent): Promise<void> | void;
  log: Logger;
  /** Where WSClient discovers its endpoint (`{domain}/callback/ws/endpoint`); default `config.api_base`. */
  domain?: string;
  /** How long `connect` waits for the first connection before giving up; default 60 s. */
  connectTimeoutMs?: number;
  /** Called when the SDK gives up for good after having connected (refused credentials, retries exhausted). */
  onError?(error: AppError): void;
}

export interface FeishuLongConnection {
  /** Closes the connection (a WebSocket close handshake, then at most 5 s) and stops reconnecting. */
  close(): Promise<void>;
  /** True while a WebSocket to Feishu is open. */
  connected(): boolean;
}

/** The App ID shape `WSClient.start` accepts; it returns without a word for any other. */
const appIdPattern = /^cli_[0-9a-fA-F]{16}$/;

type SdkLogger = ConstructorParameters<typeof lark.WSClient>[0]['logger'] & {};
type HttpInstance = ConstructorParameters<typeof lark.WSClient>[0]['httpInstance'] & {};

export async function connectFeishuLongConnection(
  config: FeishuConfig,
  options: FeishuLongConnectionOptions,
): Promise<FeishuLongConnection> {
  const label = config.type === 'lark' ? 'Lark' : 'Feishu';
  const log = options.log.child({ im: config.type, app_id: config.app_id, channel: 'long_connection' });
  if (!appIdPattern.test(config.app_id)) {
    throw new AppError(
      'validation_failed',
      `The ${label} App ID must be “cli_” followed by 16 hexadecimal digits for a long connection; copy it from ${consolePages.credentials}.`,
    );
  }

  const secrets = [config.app_secret, config.encrypt_key, config.verification_token].filter(
    (value): value is string => typeof value === 'string' && value.length >= 4,
  );
  let lastSdkError: string | undefined;
  const sdkLogger = sdkLoggerFor(log, secrets, (line) => {
    lastSdkError = line;
  });

  const deliver = async (data: unknown): Promise<undefined> => {
    const event = toImEvent(config, label, data, log);
    if (!event) return undefined;
    try {
      await options.onEvent(event);
    } catch (error) {
      log.warn({ err: error, dedup_key: event.dedup_key, type: event.type }, `${label} event handler failed`);
      throw error;
    }
    return undefined;
  };

  let ready = false;
  let settle: { resolve(): void; reject(error: unknown): void } | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });

  const client = new lark.WSClient({
    appId: config.app_id,
    appSecret: config.app_secret,
    domain: options.domain ?? config.api_base,
    logger: sdkLogger,
    loggerLevel: lark.LoggerLevel.debug,
    httpInstance: endpointHttp(() => ready),
    autoReconnect: true,
    handshakeTimeoutMs: 15_000,
    onReady: () => {
      ready = true;
      log.info(`${label} long connection open`);
      settle?.resolve();
    },
    onReconnecting: () => log.warn(`${label} long connection lost; reconnecting`),
    onReconnected: () => log.info(`${label} long connection reopened`),
    onError: (error) => {
      const failure = refusal(label, error.message, config.app_id);
      if (!ready) {
        settle?.reject(failure);
        return;
      }
      log.error({ err: failure }, `${label} long connection gave up`);
      options.onError?.(failure);
    },
  });

  const timeoutMs = options.connectTimeoutMs ?? 60_000;
  const timer = setTimeout(() => {
    settle?.reject(
      new AppError(
        'upstream_timeout',
        `No ${label} long connection opened within ${Math.round(timeoutMs / 1000)} s${lastSdkError ? ` (last error: ${lastSdkError})` : ''}.`,
      ),
    );
  }, timeoutMs);

  await client.start({ eventDispatcher: new RawEventDispatcher(deliver, sdkLogger) });
  try {
    await opened;
  } catch (error) {
    client.close({ force: true });
    throw error;
  } finally {
    clearTimeout(timer);
  }

  let closing: Promise<void> | undefined;
  return {
    connected: () => !closing && client.getConnectionStatus().state === 'connected',
    close: () => {
      closing ??= closeGracefully(client);
      return closing;
    },
  };
}

/** Hands the payload over exactly as it came off the wire (the SDK would flatten header and event first). */
class RawEventDispatcher extends lark.EventDispatcher {
  constructor(
    private readonly deliver: (data: unknown) => Promise<undefined>,
    logger: SdkLogger,
  ) {
    super({ logger, loggerLevel: lark.LoggerLevel.debug });
  }

  override invoke(data: unknown): Promise<undefined> {
    return this.deliver(data);
  }
}

/**
 * The ImEvent for one pushed payload, or undefined (logged) for one we cannot record: answering it with
 * an error would only make Feishu send the same bytes again.
 */
function toImEvent(config: FeishuConfig, label: string, data: unknown, log: Logger): ImEvent | undefined {
  try {
    let payload = asObject(data, `The ${label} long-connection event`);
    if ('encrypt' in payload) {
      if (!config.encrypt_key)
        throw new AppError(
          'bad_request',
          `${label} sent an encrypted event but this app has no Encrypt Key.`,
        );
      payload = asObject(
        JSON.parse(decryptFeishuEvent(config.encrypt_key, String(payload.encrypt))),
        `The decrypted ${label} event`,
      );
    }
    return normaliseFeishuEvent(config, payload, { checkVerificationToken: false });
  } catch (error) {
    log.warn({ err: error }, `${label} long-connection event dropped`);
    return undefined;
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new AppError('bad_request', `${what} is not a JSON object.`);
  return value as Record<string, unknown>;
}

/** Our error for the SDK's final failure; `pullConnectConfig failed: code=514, msg=…` keeps its code and msg. */
function refusal(label: string, message: string, appId: string): AppError {
  const pulled = /code=(-?\d+), msg=(.*)$/s.exec(message);
  if (!pulled) return new AppError('upstream_error', `The ${label} long connection failed: ${message}`);
  const [, code, msg] = pulled;
  const said = `${label} answered “${msg}” (code ${code})`;
  if (code === '514' || code === '403') {
    return new AppError(
      'upstream_rejected',
      `${said} when asked for a long-connection endpoint for ${appId}: the App ID or App Secret is wrong, or the app may not use a long connection (self-built apps only). Copy both again from ${consolePages.credentials}.`,
    );
  }
  if (code === '1000040351') {
    // Reported by Lark tenants whose app cannot use a long connection (reference/platforms.md §2).
    return new AppError(
      'upstream_rejected',
      `${said} when asked for a long-connection endpoint for ${appId}: this ${label} app cannot use a long connection; switch it to webhook mode.`,
    );
  }
  return new AppError('upstream_rejected', `${said} when asked for a long-connection endpoint for ${appId}.`);
}

/**
 * The SDK's HTTP client for endpoint discovery, except that until the first connection opens, a 4xx
 * carrying a Feishu envelope is returned (so the SDK reports its code and msg, and `connect` rejects with
 * them) instead of thrown (which the SDK retries forever, silently). Once connected, the SDK's own rules
 * apply again: a reconnect keeps trying through whatever a 4xx meant.
 */
function endpointHttp(connectedOnce: () => boolean): HttpInstance {
  const base = lark.defaultHttpInstance;
  const request = async (opts: Parameters<HttpInstance['request']>[0]) => {
    if (connectedOnce()) return base.request(opts);
    const body: unknown = await base.request({ ...opts, validateStatus: (status) => status < 500 });
    if (!body || typeof body !== 'object' || typeof (body as { code?: unknown }).code !== 'number') {
      throw new Error('the endpoint answer is not a Feishu envelope');
    }
    const envelope = body as { code: number; msg?: unknown; data?: unknown };
    return { ...envelope, data: envelope.data && typeof envelope.data === 'object' ? envelope.data : {} };
  };
  return Object.assign(Object.create(base), { request }) as HttpInstance;
}

/** SDK log lines, at debug, without URL query strings or our secrets; error lines also feed `onErrorLine`. */
function sdkLoggerFor(log: Logger, secrets: string[], onErrorLine: (line: string) => void): SdkLogger {
  const line = (args: unknown[]): string => {
    let text = args
      .flat()
      .map((part) =>
        part instanceof Error ? part.message : typeof part === 'string' ? part : safeJson(part),
      )
      .join(' ');
    text = text.replace(
      /\b(wss?|https?):\/\/[^\s'"`?]+\?[^\s'"`]*/g,
      (url) => `${url.split('?')[0]}?[redacted]`,
    );
    for (const secret of secrets) text = text.split(secret).join('[redacted]');
    return text;
  };
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      const text = line(args);
      if (level === 'error') onErrorLine(text);
      log.debug({ sdk_level: level }, text);
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `WSClient.close()` starts a close handshake and forgets the socket; we wait for it to finish. */
async function closeGracefully(client: lark.WSClient): Promise<void> {
  const socket = (
    client as unknown as { wsConfig?: { getWSInstance?(): WebSocket | null } }
  ).wsConfig?.getWSInstance?.();
  client.close();
  if (!socket || socket.readyState === socket.CLOSED) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 5_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
