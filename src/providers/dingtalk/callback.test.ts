// The DingTalk callback handler: the vendor vector D1 (platforms.md §7.2), the encrypted "success" reply,
// approval events and their dedup keys, and every way a forged or stale callback is refused.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import type { CallbackRequest, ImAppConfig } from '../types.js';
import { CALLBACK_WINDOW_MS, handleDingTalkCallback } from './callback.js';
import { createDingTalkCrypto } from './crypto.js';

// reference/platforms.md §7.2, vector D1 (vendor-published: open-dingtalk/DingTalk-Callback-Crypto).
const D1 = {
  token: 'mryue',
  aes_key: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
  owner_key: 'ding6ccabc44d2c8d38b',
  timestamp: '1608001896814',
  nonce: 'WL4PK6yA',
  msg_signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
  encrypt:
    '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
};

const config: ImAppConfig = {
  type: 'dingtalk',
  app_key: D1.owner_key,
  app_secret: 'unused',
  aes_key: D1.aes_key,
  token: D1.token,
  api_base: 'https://api.dingtalk.com',
  oapi_base: 'https://oapi.dingtalk.com',
};

const d1Time = Number(D1.timestamp);
const at = (now: number) => ({ now: () => now });

function d1Request(overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    method: 'POST',
    query: { msg_signature: D1.msg_signature, timestamp: D1.timestamp, nonce: D1.nonce },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encrypt: D1.encrypt }),
    ...overrides,
  };
}

/** A callback as DingTalk would send it for `payload`, sealed with the app's token and aes_key. */
function sealed(payload: unknown, now: number, ownerKey = D1.owner_key, nonce = 'AbCd1234'): CallbackRequest {
  const crypto = createDingTalkCrypto({ token: D1.token, aesKey: D1.aes_key, ownerKey, now: () => now });
  const message = crypto.encrypt(JSON.stringify(payload), { nonce });
  return {
    method: 'POST',
    query: { msg_signature: message.signature, timestamp: message.timestamp, nonce: message.nonce },
    headers: {},
    body: JSON.stringify({ encrypt: message.encrypt }),
  };
}

function refused(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('bad_request');
    return error as AppError;
  }
  throw new Error('expected the callback to be refused');
}

const instanceFinish = {
  EventType: 'bpms_instance_change',
  processInstanceId: 'a1b2c3',
  corpId: 'ding6ccabc44d2c8d38b',
  createTime: 1608001800000,
  title: '张伟提交的Production deploy',
  type: 'finish',
  staffId: 'zhangwei',
  result: 'agree',
  finishTime: 1608001890000,
  processCode: 'PROC-1',
  businessId: '202012150001',
};

describe('DingTalk callback', () => {
  it('verifies vector D1 (check_url) and answers the encrypted "success"', () => {
    const result = handleDingTalkCallback(config, d1Request(), at(d1Time + 1000));
    expect(result.status).toBe(200);
    expect(result.content_type).toBe('application/json');
    expect(result.verification).toBe(true);
    expect(result.event).toBeUndefined();
    expect(result.replay_key).toBe(`${D1.timestamp}:${D1.nonce}`);
    const reply = JSON.parse(result.body) as Record<string, string>;
    expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
    expect(reply.nonce).toHaveLength(16);
    expect(reply.timeStamp).toBe(String(d1Time + 1000));
    const crypto = createDingTalkCrypto({ token: D1.token, aesKey: D1.aes_key, ownerKey: D1.owner_key });
    const opened = crypto.open({
      signature: reply.msg_signature,
      timestamp: reply.timeStamp!,
      nonce: reply.nonce!,
      encrypt: reply.encrypt!,
    });
    expect(opened.message).toBe('success');
  });

  it('accepts the README spellings `signature` and `timeStamp`', () => {
    const request = d1Request({
      query: { signature: D1.msg_signature, timeStamp: D1.timestamp, nonce: D1.nonce },
    });
    expect(handleDingTalkCallback(config, request, at(d1Time)).verification).toBe(true);
  });

  it('turns an approval event into an event with the composite dedup key', () => {
    const now = Date.now();
    const result = handleDingTalkCallback(config, sealed(instanceFinish, now), at(now));
    expect(result.verification).toBeUndefined();
    expect(result.event?.type).toBe('bpms_instance_change');
    expect(result.event?.payload).toEqual(instanceFinish);
    expect(result.event?.dedup_key).toBe(
      'dingtalk:["a1b2c3","bpms_instance_change","finish","agree","zhangwei","1608001890000"]',
    );
    expect(JSON.parse(result.body)).toHaveProperty('encrypt');
    // A redelivery (new nonce, new ciphertext) dedupes to the same key; another change does not.
    const again = handleDingTalkCallback(
      config,
      sealed(instanceFinish, now + 5, D1.owner_key, 'Zz9Yy8Xx'),
      at(now),
    );
    expect(again.event?.dedup_key).toBe(result.event?.dedup_key);
    expect(again.replay_key).not.toBe(result.replay_key);
    const task = handleDingTalkCallback(
      config,
      sealed({ ...instanceFinish, EventType: 'bpms_task_change', type: 'start', result: undefined }, now),
      at(now),
    );
    expect(task.event?.type).toBe('bpms_task_change');
    expect(task.event?.dedup_key).not.toBe(result.event?.dedup_key);
  });

  it('records other event types too, keyed by their content', () => {
    const now = Date.now();
    const payload = { EventType: 'user_add_org', UserId: ['u1'], CorpId: 'ding1', TimeStamp: '1' };
    const first = handleDingTalkCallback(config, sealed(payload, now), at(now));
    const second = handleDingTalkCallback(config, sealed(payload, now, D1.owner_key, 'Qq1Ww2Ee'), at(now));
    expect(first.event?.type).toBe('user_add_org');
    expect(first.event?.dedup_key).toBe(second.event?.dedup_key);
    expect(JSON.parse(first.body)).toHaveProperty('msg_signature');
  });

  it('refuses a callback outside the 5-minute window, either way', () => {
    refused(() => handleDingTalkCallback(config, d1Request(), at(d1Time + CALLBACK_WINDOW_MS + 1)));
    refused(() => handleDingTalkCallback(config, d1Request(), at(d1Time - CALLBACK_WINDOW_MS - 1)));
    expect(handleDingTalkCallback(config, d1Request(), at(d1Time + CALLBACK_WINDOW_MS)).verification).toBe(
      true,
    );
  });

  it('refuses forged, tampered and malformed callbacks', () => {
    const now = d1Time;
    const query = d1Request().query;
    const bad = (overrides: Partial<CallbackRequest>) =>
      refused(() => handleDingTalkCallback(config, d1Request(overrides), at(now)));
    expect(bad({ query: { ...query, msg_signature: '0'.repeat(40) } }).message).toContain('signature');
    bad({ query: { ...query, nonce: 'WL4PK6yB' } });
    bad({ query: { timestamp: D1.timestamp, nonce: D1.nonce } });
    bad({ query: { ...query, timestamp: 'yesterday' } });
    bad({ body: 'encrypt=abc' });
    bad({ body: JSON.stringify({ Encrypt: D1.encrypt }) });
    bad({ body: JSON.stringify({ encrypt: `${D1.encrypt.slice(0, -4)}AAAA` }) });
    bad({ method: 'GET' });
  });

  it('refuses a ciphertext sealed for another app (owner key ≠ AppKey)', () => {
    const now = Date.now();
    const error = refused(() =>
      handleDingTalkCallback(config, sealed(instanceFinish, now, 'dingotherapp'), at(now)),
    );
    expect(error.message).toContain('different');
    expect(error.message).not.toContain('dingotherapp');
  });

  it('says what to configure when token or aes_key is missing', () => {
    const error = refused(() => handleDingTalkCallback({ ...config, token: '' }, d1Request(), at(d1Time)));
    expect(error.message).toContain('事件与回调');
  });
});
