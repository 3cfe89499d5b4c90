import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { fakeClock } from '../fake-kit.js';
import { larkProvider } from '../lark/index.js';
import type { CallbackRequest, CallbackResult, ImAppConfig } from '../types.js';
import { handleFeishuCallback } from './callback.js';
import { encryptFeishuEvent, feishuSignature } from './crypto.js';
import { createFeishuFake } from './fake.js';
import { seedAppId } from './seed.js';

const APP_ID = seedAppId('callback-test');
const ENCRYPT_KEY = 'encrypt-key-for-tests-0123456789';
const TOKEN = 'verification-token-for-tests';

function setup(
  app: { encrypt_key?: string; verification_token?: string } = {
    encrypt_key: ENCRYPT_KEY,
    verification_token: TOKEN,
  },
) {
  const clock = fakeClock(Date.UTC(2026, 10, 1, 8));
  const fake = createFeishuFake({ clock, apps: [{ app_id: APP_ID, app_secret: 's', ...app }] });
  const config: ImAppConfig = {
    type: 'feishu',
    app_id: APP_ID,
    app_secret: 's',
    api_base: 'https://open.feishu.cn',
    ...(app.encrypt_key ? { encrypt_key: app.encrypt_key } : {}),
    ...(app.verification_token ? { verification_token: app.verification_token } : {}),
  };
  const handle = (request: CallbackRequest, cfg: ImAppConfig = config): CallbackResult =>
    handleFeishuCallback(cfg, request, { now: clock.now });
  return { fake, clock, config, handle };
}

function refused(
  run: () => unknown,
  code: AppError['code'],
  secrets: string[] = [ENCRYPT_KEY, TOKEN],
): AppError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe(code);
  expect(error.status).toBeGreaterThanOrEqual(400);
  expect(error.status).toBeLessThan(500);
  for (const secret of secrets) expect(error.message).not.toContain(secret);
  return error;
}

const plainEvent = (payload: unknown): CallbackRequest => ({
  method: 'POST',
  query: {},
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(payload),
});

describe('Feishu callbacks: encrypted events', () => {
  it('verifies, decrypts and normalises a v2 event the fake pushed', () => {
    const { fake, handle } = setup();
    const request = fake.eventRequest(APP_ID, 'approval.instance.status_changed_v4', {
      instance_code: 'I-1',
      status: 'APPROVED',
    });
    expect(JSON.parse(request.body)).toEqual({ encrypt: expect.any(String) });
    const result = handle(request);
    expect(result).toMatchObject({ status: 200, content_type: 'application/json', body: '{}' });
    const header = (result.event!.payload as { header: { event_id: string } }).header;
    expect(result.event).toMatchObject({
      dedup_key: header.event_id,
      type: 'approval.instance.status_changed_v4',
    });
    expect(result.event!.payload).toMatchObject({
      schema: '2.0',
      event: { instance_code: 'I-1', status: 'APPROVED' },
    });
    expect(result.replay_key).toBe(
      `${request.headers['x-lark-request-timestamp']}:${request.headers['x-lark-request-nonce']}`,
    );
    expect(result.verification).toBeUndefined();
  });

  it('gives every pushed event its own id', () => {
    const { fake, handle } = setup();
    const keys = new Set(
      Array.from({ length: 20 }, () => handle(fake.eventRequest(APP_ID, 'x.y', {})).event!.dedup_key),
    );
    expect(keys.size).toBe(20);
  });

  it('accepts v1 events, deduplicated on the top-level uuid', () => {
    const { fake, handle } = setup();
    const request = fake.eventRequest(
      APP_ID,
      'approval_instance',
      { instance_code: 'I-2', status: 'REJECTED' },
      { schema: '1.0', event_id: 'uuid-v1-1' },
    );
    const result = handle(request);
    expect(result.event).toMatchObject({ dedup_key: 'uuid-v1-1', type: 'approval_instance' });
  });

  it('accepts header names in any case', () => {
    const { fake, handle } = setup();
    const request = fake.eventRequest(APP_ID, 'x.y', {});
    const shouting = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [k.replace(/(^|-)[a-z]/g, (s) => s.toUpperCase()), v]),
    );
    expect(handle({ ...request, headers: shouting }).event).toBeDefined();
  });

  it('refuses a body changed after signing, a wrong signature, missing or partial signature headers', () => {
    const { fake, handle } = setup();
    const request = fake.eventRequest(APP_ID, 'x.y', {});
    refused(() => handle({ ...request, body: request.body.replace('}', ' }') }), 'unauthorized');
    refused(
      () => handle({ ...request, headers: { ...request.headers, 'x-lark-signature': '0'.repeat(64) } }),
      'unauthorized',
    );
    const {
      'x-lark-signature': _s,
      'x-lark-request-nonce': _n,
      'x-lark-request-timestamp': _t,
      ...unsigned
    } = request.headers;
    expect(refused(() => handle({ ...request, headers: unsigned }), 'unauthorized').message).toContain(
      'X-Lark-Signature',
    );
    const { 'x-lark-signature': _only, ...partial } = request.headers;
    refused(() => handle({ ...request, headers: partial }), 'unauthorized');
  });

  it('refuses a timestamp more than 5 minutes from our clock, either way', () => {
    const { fake, handle, clock } = setup();
    const old = fake.eventRequest(APP_ID, 'x.y', {});
    clock.advance(5 * 60_000 + 1000);
    expect(refused(() => handle(old), 'unauthorized').message).toContain('5 minutes');
    const fresh = fake.eventRequest(APP_ID, 'x.y', {});
    clock.advance(-(10 * 60_000 + 2000));
    refused(() => handle(fresh), 'unauthorized');
  });

  it('refuses a payload whose Verification Token differs, or that names another app', () => {
    const { handle, clock } = setup();
    const sign = (payload: unknown): CallbackRequest => {
      const body = JSON.stringify({ encrypt: encryptFeishuEvent(ENCRYPT_KEY, JSON.stringify(payload)) });
      const timestamp = String(Math.floor(clock.now() / 1000));
      return {
        method: 'POST',
        query: {},
        headers: {
          'x-lark-request-timestamp': timestamp,
          'x-lark-request-nonce': 'n1',
          'x-lark-signature': feishuSignature(ENCRYPT_KEY, { timestamp, nonce: 'n1', body }),
        },
        body,
      };
    };
    const header = { event_id: 'e1', token: TOKEN, event_type: 'x.y', app_id: APP_ID };
    expect(handle(sign({ schema: '2.0', header, event: {} })).event?.dedup_key).toBe('e1');
    const wrongToken = refused(
      () => handle(sign({ schema: '2.0', header: { ...header, token: 'other' }, event: {} })),
      'unauthorized',
    );
    expect(wrongToken.message).toContain('Verification Token');
    refused(
      () => handle(sign({ schema: '2.0', header: { ...header, app_id: seedAppId('other') }, event: {} })),
      'bad_request',
    );
    refused(
      () => handle(sign({ schema: '2.0', header: { ...header, event_id: undefined }, event: {} })),
      'bad_request',
    );
    refused(
      () => handle(sign({ uuid: 'u1', token: 'other', type: 'event_callback', event: { type: 'x' } })),
      'unauthorized',
    );
  });

  it('refuses an encrypted push to an app without a key, and a plain one to an app with a key', () => {
    const { fake, handle, config } = setup();
    const request = fake.eventRequest(APP_ID, 'x.y', {});
    const noKey = { ...config, encrypt_key: undefined };
    expect(refused(() => handle(request, noKey), 'bad_request').message).toContain(
      '加密策略 (Encryption Strategy)',
    );
    refused(
      () =>
        handle(
          plainEvent({ schema: '2.0', header: { event_id: 'e', token: TOKEN, event_type: 'x' }, event: {} }),
        ),
      'bad_request',
    );
  });

  it('refuses malformed bodies without leaking the key or any decrypted byte', () => {
    const { handle, clock } = setup();
    refused(() => handle({ method: 'POST', query: {}, headers: {}, body: 'not json' }), 'bad_request');
    refused(() => handle({ method: 'POST', query: {}, headers: {}, body: '[]' }), 'bad_request');
    refused(() => handle({ method: 'GET', query: {}, headers: {}, body: '' }), 'bad_request');
    // Signed correctly, but the plaintext is not JSON.
    const body = JSON.stringify({ encrypt: encryptFeishuEvent(ENCRYPT_KEY, 'secret plaintext') });
    const timestamp = String(Math.floor(clock.now() / 1000));
    const signature = feishuSignature(ENCRYPT_KEY, { timestamp, nonce: 'n', body });
    const error = refused(
      () =>
        handle({
          method: 'POST',
          query: {},
          headers: {
            'x-lark-request-timestamp': timestamp,
            'x-lark-request-nonce': 'n',
            'x-lark-signature': signature,
          },
          body,
        }),
      'bad_request',
      [ENCRYPT_KEY, TOKEN, 'secret plaintext'],
    );
    expect(error.message).not.toContain('secret');
  });
});

describe('Feishu callbacks: url_verification', () => {
  it('answers the encrypted handshake (sent unsigned) with the challenge in plain JSON', () => {
    const { fake, handle } = setup();
    const request = fake.urlVerificationRequest(APP_ID, 'challenge-123');
    expect(request.headers['x-lark-signature']).toBeUndefined();
    const result = handle(request);
    expect(result).toMatchObject({ status: 200, content_type: 'application/json', verification: true });
    expect(JSON.parse(result.body)).toEqual({ challenge: 'challenge-123' });
    expect(result.event).toBeUndefined();
  });

  it('answers the vendor-published encrypted handshake (vector F2)', () => {
    const config: ImAppConfig = {
      type: 'lark',
      app_id: APP_ID,
      app_secret: 's',
      api_base: 'https://open.larksuite.com',
      encrypt_key: 'mazhe.nerd',
      verification_token: 'iRdCP2WwXNBXRM3mGLqhrgch3cn0gbT6',
    };
    const body = JSON.stringify({
      encrypt:
        'tT1xP+ovuc0T3b/rnZX3ax76exqAn0ANQ6/U45GcciC0mgNBc8JtvqOJGNAPMKpgRs2dVU1NYk9VDeqS8T4SYtU0hzNU54aS84WnxvZ3VFfDcy/RyABlNqlUiGyLDzFI0yxdCMT4KR/YEQXlt6nZi50KwRlZ+A75r645KesZuLMljezYyY8VeeXEVjPw35+e',
    });
    const result = larkProvider.handleCallback(
      config,
      { method: 'POST', query: {}, headers: {}, body },
      { now: Date.now },
    );
    expect(JSON.parse(result.body)).toEqual({ challenge: '5634b122-c042-4634-bc7f-b07a3c3e77ad' });
    const wrong = { ...config, verification_token: 'another-token' };
    refused(
      () =>
        larkProvider.handleCallback(
          wrong,
          { method: 'POST', query: {}, headers: {}, body },
          { now: Date.now },
        ),
      'unauthorized',
    );
  });

  it('answers a plain handshake only when its Verification Token matches', () => {
    const { fake, handle } = setup({ verification_token: TOKEN });
    const result = handle(fake.urlVerificationRequest(APP_ID, 'c-1'));
    expect(JSON.parse(result.body)).toEqual({ challenge: 'c-1' });
    refused(
      () => handle(plainEvent({ type: 'url_verification', challenge: 'c', token: 'guess' })),
      'unauthorized',
    );
    refused(() => handle(plainEvent({ type: 'url_verification', challenge: 'c' })), 'unauthorized');
  });

  it('refuses a plain handshake when the app has neither key nor token', () => {
    const { fake, handle } = setup({});
    const error = refused(() => handle(fake.urlVerificationRequest(APP_ID)), 'unauthorized');
    expect(error.message).toContain('Encrypt Key');
  });
});

describe('Feishu callbacks: without an Encrypt Key', () => {
  it('refuses plain events, even with a matching Verification Token, pointing to the encryption setting', () => {
    const { fake, handle } = setup({ verification_token: TOKEN });
    const request = fake.eventRequest(APP_ID, 'approval.instance.status_changed_v4', { status: 'APPROVED' });
    expect(JSON.parse(request.body)).toMatchObject({ schema: '2.0' }); // the fake pushes plain JSON here
    const error = refused(() => handle(request), 'unauthorized');
    expect(error.message).toContain(
      '开发者后台 → 事件与回调 (Events & Callbacks) → 加密策略 (Encryption Strategy)',
    );
  });

  it('refuses plain events when nothing is configured', () => {
    const { fake, handle } = setup({});
    refused(() => handle(fake.eventRequest(APP_ID, 'x.y', {})), 'unauthorized');
  });
});
