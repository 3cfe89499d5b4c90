// DingTalk HTTP event callbacks (reference/platforms.md §4.4, §4.6): POST ?msg_signature|signature,
// timestamp (ms), nonce with the JSON body {"encrypt": "..."}. We verify the signature over the raw
// values, refuse a timestamp more than 5 minutes away, decrypt (checking the owner key = AppKey), and
// answer every message, check_url included, with the encrypted string "success".
import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { CallbackHandler, CallbackResult, ImAppConfig, ImEvent } from '../types.js';
import { createDingTalkCrypto } from './crypto.js';

export const CALLBACK_WINDOW_MS = 5 * 60_000;

/** Events that only prove the URL works (check_url; ISV suites send the other two). */
const verificationEvents = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);

export const approvalEventTypes = ['bpms_instance_change', 'bpms_task_change'] as const;

function reject(message: string): never {
  throw new AppError('bad_request', message);
}

export const handleDingTalkCallback: CallbackHandler = (config, request, options): CallbackResult => {
  const app = dingTalkConfig(config);
  if (request.method !== 'POST') reject('DingTalk callbacks are POST requests.');
  if (!app.token || !app.aes_key) {
    reject(
      'The DingTalk callback is not configured: enter the token and aes_key from 开发者后台 → 事件与回调 (Events and Callbacks) in this IM app first.',
    );
  }
  // DingCallbackCrypto's README spells them `signature` and `timeStamp`; the console sends msg_signature.
  const signature = request.query.msg_signature ?? request.query.signature;
  const timestamp = request.query.timestamp ?? request.query.timeStamp;
  const nonce = request.query.nonce;
  if (!signature || !timestamp || !nonce) reject('The callback lacks msg_signature, timestamp or nonce.');
  if (!/^\d{1,16}$/.test(timestamp)) reject('The callback timestamp is not a number of milliseconds.');
  const now = options.now();
  if (Math.abs(now - Number(timestamp)) > CALLBACK_WINDOW_MS) {
    reject(
      'The callback timestamp is more than 5 minutes away from our clock (a replay, or a skewed clock).',
    );
  }

  let encrypt: unknown;
  try {
    encrypt = (JSON.parse(request.body) as { encrypt?: unknown } | null)?.encrypt;
  } catch {
    reject('The callback body is not JSON.');
  }
  if (typeof encrypt !== 'string' || encrypt === '') reject('The callback body has no "encrypt" field.');

  const crypto = createDingTalkCrypto({
    token: app.token,
    aesKey: app.aes_key,
    ownerKey: app.app_key,
    now: options.now,
  });
  // Checks the signature first, then decrypts and compares the owner key with the AppKey.
  const { message } = crypto.open({ signature, timestamp, nonce, encrypt });

  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(message);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    payload = parsed as Record<string, unknown>;
  } catch {
    reject('The decrypted callback is not a JSON object.');
  }
  const eventType = payload.EventType;
  if (typeof eventType !== 'string' || eventType === '') reject('The decrypted callback has no EventType.');

  const result: CallbackResult = {
    status: 200,
    content_type: 'application/json',
    body: JSON.stringify(crypto.successReply()),
    replay_key: `${timestamp}:${nonce}`,
  };
  if (verificationEvents.has(eventType)) return { ...result, verification: true };
  return { ...result, event: toEvent(eventType, payload, message) };
};

/** Also used by Stream mode (./stream.ts), so one event reaching us both ways dedupes to one key. */
export function toEvent(type: string, payload: Record<string, unknown>, message: string): ImEvent {
  if ((approvalEventTypes as readonly string[]).includes(type)) {
    // No event id in HTTP callbacks: dedupe on what makes one change distinct (platforms.md §6.5).
    const parts = ['processInstanceId', 'EventType', 'type', 'result', 'staffId', 'finishTime'].map((key) =>
      payload[key] === undefined || payload[key] === null ? '' : String(payload[key]),
    );
    return { dedup_key: `dingtalk:${JSON.stringify(parts)}`, type, payload };
  }
  // Other events carry no id either; a redelivery carries the same plaintext, so its hash identifies it.
  const digest = createHash('sha256').update(message, 'utf8').digest('hex');
  return { dedup_key: `dingtalk:${type}:${digest}`, type, payload };
}

function dingTalkConfig(config: ImAppConfig): Extract<ImAppConfig, { type: 'dingtalk' }> {
  if (config.type !== 'dingtalk') {
    throw new AppError('internal', `A ${config.type} app was given to the DingTalk callback handler.`);
  }
  return config;
}
