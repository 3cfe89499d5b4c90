// Feishu / Lark HTTP event callbacks (reference/platforms.md §3.5): verify, decrypt, answer.
//
// What we accept, and why:
// - With an Encrypt Key configured, Feishu encrypts every push ({"encrypt": "…"}) and signs it with
//   X-Lark-Signature = hex(sha256(timestamp + nonce + encryptKey + rawBody)). Events must carry a valid
//   signature over the raw bytes and a timestamp within ±5 minutes; the signed `timestamp:nonce` goes back
//   to the route as `replay_key`. A plain body is refused then: Feishu never sends one once a key is set.
// - The URL-verification handshake may reach us without signature headers, so an encrypted handshake is
//   accepted when it decrypts with our key (and its token matches, when a Verification Token is set); when
//   the headers are there they are checked like an event's.
// - Without an Encrypt Key nothing is signed: the only proof a plain body could offer is the Verification
//   Token inside it, which travels in every body, never expires and is not bound to a time. That is enough
//   to answer the harmless url_verification handshake (so the operator can save the URL in the console), but
//   never enough to let an event decide an approval. Plain events are refused with a 4xx telling the operator
//   to set the Encrypt Key; approvals still complete through the reconcile poll. This is why webhook mode
//   requires encrypt_key (im-app-fields.ts).
// - The Verification Token inside a decrypted payload (`token`, `header.token`) is compared whenever one
//   is configured (the SDK never does this for events), and a payload naming another app is refused.
//
// Error messages never carry a key, a token or a decrypted byte.
import { AppError } from '../../errors.js';
import { constantTimeEqual } from '../shared/msg-crypt.js';
import type { CallbackHandler, CallbackRequest, CallbackResult, ImAppConfig, ImEvent } from '../types.js';
import { consolePages } from './codes.js';
import { decryptFeishuEvent, verifyFeishuSignature } from './crypto.js';

/** Signed timestamps further than this from our clock are refused (Feishu itself sets no window). */
export const feishuTimestampWindowMs = 5 * 60_000;

type FeishuLikeConfig = Extract<ImAppConfig, { type: 'feishu' | 'lark' }>;

function labelOf(config: FeishuLikeConfig): string {
  return config.type === 'lark' ? 'Lark' : 'Feishu';
}

function header(request: CallbackRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('bad_request', `${what} is not JSON.`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new AppError('bad_request', `${what} is not a JSON object.`);
  return value as Record<string, unknown>;
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function json(status: number, body: unknown): CallbackResult {
  return { status, content_type: 'application/json', body: JSON.stringify(body) };
}

export const handleFeishuCallback: CallbackHandler = (config, request, options) => {
  if (config.type !== 'feishu' && config.type !== 'lark') {
    throw new AppError('internal', `The Feishu callback handler was given a ${config.type} app.`);
  }
  const label = labelOf(config);
  if (request.method.toUpperCase() !== 'POST') {
    throw new AppError('bad_request', `${label} sends event callbacks as POST requests.`);
  }
  const outer = parseObject(request.body, `The ${label} callback body`);
  const encryptKey = config.encrypt_key || undefined;
  const verificationToken = config.verification_token || undefined;

  let payload: Record<string, unknown>;
  let replayKey: string | undefined;
  if ('encrypt' in outer) {
    if (!encryptKey) {
      throw new AppError(
        'bad_request',
        `${label} sent an encrypted callback but this app has no Encrypt Key. Copy it from ${consolePages.encryption} into the app’s settings.`,
      );
    }
    const encrypt = asString(outer.encrypt);
    if (!encrypt) throw new AppError('bad_request', `The ${label} callback’s encrypt field is empty.`);
    const timestamp = header(request, 'x-lark-request-timestamp');
    const nonce = header(request, 'x-lark-request-nonce');
    const signature = header(request, 'x-lark-signature');
    const signed = timestamp !== undefined || nonce !== undefined || signature !== undefined;
    if (signed) {
      if (!timestamp || !nonce || !signature) {
        throw new AppError('unauthorized', `The ${label} callback carries an incomplete X-Lark signature.`);
      }
      if (!verifyFeishuSignature(encryptKey, { timestamp, nonce, body: request.body, signature })) {
        throw new AppError(
          'unauthorized',
          `The ${label} callback signature does not match: check that the Encrypt Key equals the one in ${consolePages.encryption}.`,
        );
      }
      const seconds = Number(timestamp);
      if (!/^\d+$/.test(timestamp) || Math.abs(options.now() - seconds * 1000) > feishuTimestampWindowMs) {
        throw new AppError(
          'unauthorized',
          `The ${label} callback timestamp is more than 5 minutes from our clock.`,
        );
      }
      replayKey = `${timestamp}:${nonce}`;
    }
    payload = parseObject(decryptFeishuEvent(encryptKey, encrypt), `The decrypted ${label} callback`);
    if (!signed && payload.type !== 'url_verification') {
      throw new AppError(
        'unauthorized',
        `The ${label} event carries no X-Lark-Signature; unsigned events are refused.`,
      );
    }
  } else {
    if (encryptKey) {
      throw new AppError(
        'bad_request',
        `The ${label} callback is not encrypted, but this app has an Encrypt Key: ${label} encrypts every push once a key is set, so this request did not come from it.`,
      );
    }
    payload = outer;
  }

  if (payload.type === 'url_verification') {
    const challenge = asString(payload.challenge);
    if (!challenge)
      throw new AppError('bad_request', `The ${label} url_verification request has no challenge.`);
    if (verificationToken) {
      checkToken(label, verificationToken, payload.token);
    } else if (!encryptKey) {
      throw new AppError(
        'unauthorized',
        `This app has neither an Encrypt Key nor a Verification Token, so the ${label} handshake cannot be authenticated. Set the Encrypt Key from ${consolePages.encryption}.`,
      );
    }
    // The challenge goes back as plain JSON even when the push was encrypted.
    return {
      ...json(200, { challenge }),
      verification: true,
      ...(replayKey ? { replay_key: replayKey } : {}),
    };
  }

  if (!encryptKey) {
    throw new AppError(
      'unauthorized',
      `${label} events reach this app unsigned, so they cannot be trusted. Set an Encrypt Key in ${consolePages.encryption} and enter it in the app’s settings; until then approvals complete by polling.`,
    );
  }

  const event = normaliseFeishuEvent(config, payload);
  return {
    ...json(200, {}),
    event,
    ...(replayKey ? { replay_key: replayKey } : {}),
  };
};

/**
 * A verified, decrypted Feishu event (schema 2.0 or 1.0) as the ImEvent we record. Every delivery path
 * (HTTP callback, long connection) goes through here, so one event has one dedup key, type and payload
 * whichever way it came. The Verification Token is compared when one is configured, unless the caller
 * already authenticated the sender another way (`checkVerificationToken: false`: the long connection is
 * opened with the App Secret, and its events are not documented to carry the token).
 */
export function normaliseFeishuEvent(
  config: FeishuLikeConfig,
  payload: Record<string, unknown>,
  options: { checkVerificationToken?: boolean } = {},
): ImEvent {
  const label = labelOf(config);
  const verificationToken = config.verification_token || undefined;
  let dedupKey: string | undefined;
  let type: string | undefined;
  let token: unknown;
  let appId: unknown;
  const headerPart = asRecord(payload.header);
  const eventPart = asRecord(payload.event);
  if (payload.schema === '2.0' || headerPart) {
    dedupKey = asString(headerPart?.event_id);
    type = asString(headerPart?.event_type);
    token = headerPart?.token;
    appId = headerPart?.app_id;
  } else {
    dedupKey = asString(payload.uuid);
    type = asString(eventPart?.type);
    token = payload.token;
    appId = eventPart?.app_id;
  }
  if (verificationToken && options.checkVerificationToken !== false)
    checkToken(label, verificationToken, token);
  if (typeof appId === 'string' && appId !== config.app_id) {
    throw new AppError(
      'bad_request',
      `The ${label} event names another app, not ${config.app_id}; is this the callback URL of the right app?`,
    );
  }
  if (!dedupKey)
    throw new AppError('bad_request', `The ${label} event has no event id (header.event_id or uuid).`);
  if (!type) throw new AppError('bad_request', `The ${label} event has no event type.`);
  return { dedup_key: dedupKey, type, payload };
}

function checkToken(label: string, expected: string, actual: unknown): void {
  if (typeof actual !== 'string' || !constantTimeEqual(actual, expected)) {
    throw new AppError(
      'unauthorized',
      `The ${label} callback’s Verification Token does not match this app’s: copy it again from ${consolePages.encryption}.`,
    );
  }
}
