// Vendor callbacks through the real route (`/callbacks/<type>/<app id>`) for Feishu, Lark, DingTalk and
// WeCom: the handshakes and events each platform sends, every way a forged, stale, replayed or mangled
// callback is refused without changing anything, a seeded fuzz of each platform's callback, and the
// sandbox end to end (a fake person decides; the fake pushes the vendor's callback; an event is recorded).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorCodes } from '../src/errors.js';
import { memoryTokenStore } from '../src/providers/access-token.js';
import { createDingTalkClient } from '../src/providers/dingtalk/client.js';
import { createFeishuClient } from '../src/providers/feishu/client.js';
import { seedOpenId } from '../src/providers/feishu/seed.js';
import type { Fetch } from '../src/providers/http.js';
import { createWeComClient } from '../src/providers/wecom/client.js';
import { localFetch } from '../src/sandbox/local-fetch.js';
import {
  allSandboxSecrets,
  type BadPadding,
  badPaddings,
  type CallbackAnswer,
  type CallbackType,
  callbackPath,
  callbackTypes,
  dingTalkApprovalEvent,
  dingTalkCallback,
  dingTalkCheckUrl,
  feishuApprovalEvent,
  feishuCallback,
  feishuUrlVerification,
  openDingTalkReply,
  type RawCallback,
  repadFeishu,
  repadMsgCrypt,
  sandboxCredentials,
  sendCallback,
  truncateCiphertext,
  weComApprovalChange,
  weComCallback,
} from './callback-requests.js';
import { databases, startStack, type TestStack, waitFor } from './stack.js';

const publicUrl = 'http://signoff.test';
const hex = (bytes = 6) => randomBytes(bytes).toString('hex');
const oneMegabyte = 1024 * 1024;

// ---- one adapter per platform: how its events look, how they are sealed, what it expects back ----------

interface Tweak {
  appId?: string;
  timestamp?: string;
  nonce?: string;
  tamper?: (encrypt: string) => string;
  signature?: string;
}

interface PlatformEvent {
  plaintext: string;
  dedupKey: string;
  eventType: string;
  /** Values only the decrypted plaintext holds: no refusal may echo them. */
  revealing: string[];
}

interface Platform {
  type: CallbackType;
  /** A new approval event (a unique one per call). */
  newEvent(): PlatformEvent;
  /** That event signed and encrypted as the vendor sends it. */
  build(plaintext: string, tweak?: Tweak): RawCallback;
  /** A timestamp `offsetMs` from now, in the platform's unit. */
  timestamp(offsetMs: number): string;
  repad(encrypt: string, kind: BadPadding): string;
  /** The signed fields of a built callback, to send another request with the same ones. */
  signedParts(callback: RawCallback): {
    timestamp: string;
    nonce: string;
    signature: string;
    encrypt: string;
  };
  expectEventReply(answer: CallbackAnswer): void;
  /** The same keys, but the plaintext is sealed for another receiver (app key, corp id, app id). */
  otherReceiver(event: PlatformEvent): { callback: RawCallback; revealing: string[] };
}

const headerOf = (callback: RawCallback, name: string) =>
  callback.headers.find(([key]) => key.toLowerCase() === name)?.[1] ?? '';
const queryOf = (callback: RawCallback, name: string) =>
  callback.query.find(([key]) => key === name)?.[1] ?? '';
const encryptOf = (callback: RawCallback): string => {
  const text = String(callback.body);
  if (text.startsWith('{')) return JSON.parse(text).encrypt;
  return /<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/.exec(text)?.[1] ?? queryOf(callback, 'echostr');
};

function feishuLike(type: 'feishu' | 'lark'): Platform {
  const encryptKey = sandboxCredentials(type).secrets.encrypt_key!;
  return {
    type,
    newEvent() {
      const eventId = `evt_${hex(12)}`;
      const marker = `feishu-plaintext-${hex()}`;
      return {
        plaintext: feishuApprovalEvent(type, { eventId, comment: marker }),
        dedupKey: eventId,
        eventType: 'approval.instance.status_changed_v4',
        revealing: [marker, eventId],
      };
    },
    build: (plaintext, tweak = {}) => feishuCallback({ type, plaintext, ...tweak }),
    timestamp: (offsetMs) => String(Math.floor((Date.now() + offsetMs) / 1000)),
    repad: (encrypt, kind) => repadFeishu(encryptKey, encrypt, kind),
    signedParts: (callback) => ({
      timestamp: headerOf(callback, 'x-lark-request-timestamp'),
      nonce: headerOf(callback, 'x-lark-request-nonce'),
      signature: headerOf(callback, 'x-lark-signature'),
      encrypt: encryptOf(callback),
    }),
    expectEventReply(answer) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(answer.text)).toEqual({});
    },
    otherReceiver(event) {
      // Feishu seals no receiver id; the event names its app, and one naming another app is refused.
      const vendorAppId = `cli_${hex(8)}`;
      const eventId = `evt_${hex(12)}`;
      return {
        callback: feishuCallback({ type, plaintext: feishuApprovalEvent(type, { eventId, vendorAppId }) }),
        revealing: [...event.revealing, vendorAppId, eventId],
      };
    },
  };
}

const dingtalk: Platform = {
  type: 'dingtalk',
  newEvent() {
    const processInstanceId = `pi-${hex(12)}`;
    const marker = `dingtalk-plaintext-${hex()}`;
    return {
      plaintext: dingTalkApprovalEvent({ processInstanceId, title: marker }),
      // platforms.md §6.5: HTTP callbacks carry no event id; the change itself identifies them.
      dedupKey: `dingtalk:${JSON.stringify([processInstanceId, 'bpms_instance_change', 'finish', 'agree', 'manager001', '1767225600000'])}`,
      eventType: 'bpms_instance_change',
      revealing: [marker, processInstanceId],
    };
  },
  build: (plaintext, tweak = {}) => dingTalkCallback({ plaintext, ...tweak }),
  timestamp: (offsetMs) => String(Date.now() + offsetMs),
  repad: (encrypt, kind) => repadMsgCrypt(sandboxCredentials('dingtalk').secrets.aes_key!, encrypt, kind),
  signedParts: (callback) => ({
    timestamp: queryOf(callback, 'timestamp'),
    nonce: queryOf(callback, 'nonce'),
    signature: queryOf(callback, 'msg_signature'),
    encrypt: encryptOf(callback),
  }),
  expectEventReply(answer) {
    expect(answer.status, answer.text).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    const reply = JSON.parse(answer.text);
    expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
    expect(reply.timeStamp).toMatch(/^\d{13}$/);
    expect(reply.nonce).toHaveLength(16);
    expect(openDingTalkReply(answer.text)).toBe('success');
  },
  otherReceiver: (event) => ({
    callback: dingTalkCallback({ plaintext: event.plaintext, ownerKey: 'dingotherappkey0001' }),
    revealing: event.revealing,
  }),
};

const wecom: Platform = {
  type: 'wecom',
  newEvent() {
    const spNo = `2026${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
    const createTime = Math.floor(Date.now() / 1000);
    const marker = `wecom-plaintext-${hex()}`;
    return {
      plaintext: weComApprovalChange({ spNo, change: 2, createTime, speech: marker }),
      dedupKey: `wecom:sys_approval_change:${spNo}:2:${createTime}`,
      eventType: 'sys_approval_change',
      revealing: [marker, spNo],
    };
  },
  build: (plaintext, tweak = {}) => weComCallback({ plaintext, ...tweak }),
  timestamp: (offsetMs) => String(Math.floor((Date.now() + offsetMs) / 1000)),
  repad: (encrypt, kind) =>
    repadMsgCrypt(sandboxCredentials('wecom').secrets.encoding_aes_key!, encrypt, kind),
  signedParts: (callback) => ({
    timestamp: queryOf(callback, 'timestamp'),
    nonce: queryOf(callback, 'nonce'),
    signature: queryOf(callback, 'msg_signature'),
    encrypt: encryptOf(callback),
  }),
  expectEventReply(answer) {
    expect(answer.status, answer.text).toBe(200);
    expect(['', 'success']).toContain(answer.text);
  },
  otherReceiver: (event) => ({
    callback: weComCallback({ plaintext: event.plaintext, corpId: 'wwotherc0rp0000001' }),
    revealing: event.revealing,
  }),
};

const platforms: Platform[] = [feishuLike('feishu'), feishuLike('lark'), dingtalk, wecom];

// ---- what the database shows ---------------------------------------------------------------------------

interface AppState {
  id: string;
  events: number;
  replays: number;
  last_event_at: string | null;
  callback_verified_at: string | null;
}

/** Every IM app's event and replay counts and callback timestamps: "changes nothing" means this is equal. */
async function snapshot(stack: TestStack): Promise<AppState[]> {
  const rows = await stack.signoff.db.query<{
    id: string;
    events: number;
    replays: number;
    last_event_at: Date | string | null;
    callback_verified_at: Date | string | null;
  }>(
    `select a.id,
       (select count(*)::int from im_events e where e.im_app_id = a.id) as events,
       (select count(*)::int from im_callback_replays r where r.im_app_id = a.id) as replays,
       a.last_event_at, a.callback_verified_at
     from im_apps a order by a.id`,
  );
  const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
  return rows.map((row) => ({
    ...row,
    last_event_at: iso(row.last_event_at),
    callback_verified_at: iso(row.callback_verified_at),
  }));
}

const stateOf = (states: AppState[], type: CallbackType) =>
  states.find((state) => state.id === sandboxCredentials(type).id)!;

async function eventRows(stack: TestStack, type: CallbackType, dedupKey: string) {
  return stack.signoff.db.query<{ type: string; dedup_key: string; payload: unknown }>(
    'select type, dedup_key, payload from im_events where im_app_id = $1 and dedup_key = $2',
    [sandboxCredentials(type).id, dedupKey],
  );
}

/** A refusal: 4xx, `{error:{code,message}}` with a code matching the status, no secret, no plaintext. */
function expectRefusal(answer: CallbackAnswer, context: string, revealing: string[] = []): void {
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  const body = JSON.parse(answer.text);
  expect(Object.keys(body), context).toEqual(['error']);
  expect(Object.keys(body.error).sort(), context).toEqual(['code', 'message']);
  expect(
    errorCodes[body.error.code as keyof typeof errorCodes]?.status,
    `${context}: ${body.error.code}`,
  ).toBe(answer.status);
  expect(body.error.message, context).toMatch(/\S/);
  for (const secret of allSandboxSecrets())
    expect(answer.text.includes(secret), `${context}: the answer carries a secret`).toBe(false);
  for (const value of revealing)
    expect(answer.text.includes(value), `${context}: the answer echoes decrypted plaintext (${value})`).toBe(
      false,
    );
}

// ---- happy paths and refusals on every test database ----------------------------------------------------

describe.each(databases)('callbacks on %s', (kind) => {
  let stack: TestStack;
  const send = (callback: RawCallback) => sendCallback(stack.signoff.app, callback);
  const forgetVerification = (type: CallbackType) =>
    stack.signoff.db.query(
      'update im_apps set callback_verified_at = null, last_event_at = null where id = $1',
      [sandboxCredentials(type).id],
    );

  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe('Feishu and Lark URL verification', () => {
    it.each(['feishu', 'lark'] as const)(
      '%s: answers the encrypted, unsigned handshake as Feishu sends it, and marks the URL verified',
      async (type) => {
        await forgetVerification(type);
        const before = await snapshot(stack);
        const challenge = `challenge-${hex()}`;
        const answer = await send(
          feishuCallback({ type, plaintext: feishuUrlVerification(type, challenge), signed: false }),
        );
        expect(answer.status, answer.text).toBe(200);
        expect(answer.contentType).toMatch(/^application\/json/);
        expect(JSON.parse(answer.text)).toEqual({ challenge });
        const after = await snapshot(stack);
        expect(stateOf(after, type).callback_verified_at).not.toBeNull();
        expect(stateOf(after, type).events).toBe(stateOf(before, type).events);
        expect(stateOf(after, type).last_event_at).toBeNull();
      },
    );

    it.each(['feishu', 'lark'] as const)(
      '%s: answers a signed encrypted handshake, and refuses one with a wrong token or signature',
      async (type) => {
        const challenge = `challenge-${hex()}`;
        const signed = await send(
          feishuCallback({ type, plaintext: feishuUrlVerification(type, challenge) }),
        );
        expect(signed.status, signed.text).toBe(200);
        expect(JSON.parse(signed.text)).toEqual({ challenge });

        const before = await snapshot(stack);
        const wrongToken = await send(
          feishuCallback({
            type,
            plaintext: feishuUrlVerification(type, challenge, 'not-the-token'),
            signed: false,
          }),
        );
        expectRefusal(wrongToken, 'wrong verification token', [challenge]);
        const wrongSignature = await send(
          feishuCallback({
            type,
            plaintext: feishuUrlVerification(type, challenge),
            signature: 'f'.repeat(64),
          }),
        );
        expectRefusal(wrongSignature, 'wrong signature', [challenge]);
        const wrongKey = await send(
          feishuCallback({
            type,
            plaintext: feishuUrlVerification(type, challenge),
            encryptKey: 'another-encrypt-key',
            signed: false,
          }),
        );
        expectRefusal(wrongKey, 'encrypted with another key', [challenge]);
        expect(await snapshot(stack)).toEqual(before);
      },
    );

    it('answers the plain handshake of an app without Encrypt Key, checking its Verification Token', async () => {
      const created = await stack.call('POST', '/api/im-apps?check=false', {
        type: 'feishu',
        name: `plain-feishu-${hex()}`,
        app_id: `cli_${hex(8)}`,
        app_secret: `plain-secret-${hex()}`,
        verification_token: 'plain-verification-token',
        event_mode: 'poll',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id: string = created.body.id;
      expect(created.body.callback_url).toBe(`${publicUrl}/callbacks/feishu/${id}`);
      const challenge = `challenge-${hex()}`;
      const plain = (token: string): RawCallback => ({
        ...feishuCallback({
          type: 'feishu',
          plaintext: JSON.stringify({ challenge, token, type: 'url_verification' }),
          encrypted: false,
        }),
        path: callbackPath('feishu', id),
      });
      const answer = await send(plain('plain-verification-token'));
      expect(answer.status, answer.text).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ challenge });
      const [row] = await stack.signoff.db.query<{ callback_verified_at: unknown }>(
        'select callback_verified_at from im_apps where id = $1',
        [id],
      );
      expect(row?.callback_verified_at).not.toBeNull();

      const before = await snapshot(stack);
      expectRefusal(await send(plain('a-guessed-token')), 'plain handshake, wrong token', [challenge]);
      // An unsigned event can never be trusted: refused even with the right token inside.
      const eventId = `evt_${hex(12)}`;
      const event = JSON.parse(feishuApprovalEvent('feishu', { eventId, token: 'plain-verification-token' }));
      event.header.app_id = created.body.settings.app_id;
      const unsignedEvent = await send({
        ...feishuCallback({ type: 'feishu', plaintext: JSON.stringify(event), encrypted: false }),
        path: callbackPath('feishu', id),
      });
      expectRefusal(unsignedEvent, 'plain event');
      expect(await snapshot(stack)).toEqual(before);
    });
  });

  describe('DingTalk check_url and WeCom URL verification', () => {
    it('DingTalk: answers check_url with the encrypted "success" our own crypto opens, and marks the URL verified', async () => {
      await forgetVerification('dingtalk');
      const before = await snapshot(stack);
      const answer = await send(dingTalkCallback({ plaintext: dingTalkCheckUrl }));
      dingtalk.expectEventReply(answer);
      const after = await snapshot(stack);
      expect(stateOf(after, 'dingtalk').callback_verified_at).not.toBeNull();
      expect(stateOf(after, 'dingtalk').events).toBe(stateOf(before, 'dingtalk').events);
      expect(stateOf(after, 'dingtalk').last_event_at).toBeNull();
    });

    it('WeCom: answers the GET verification with the bare decrypted echostr, and marks the URL verified', async () => {
      await forgetVerification('wecom');
      const before = await snapshot(stack);
      const echo = String(BigInt(`0x${hex(8)}`));
      const answer = await send(weComCallback({ method: 'GET', plaintext: echo }));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.contentType).toMatch(/^text\/plain/);
      expect(answer.text).toBe(echo);
      const after = await snapshot(stack);
      expect(stateOf(after, 'wecom').callback_verified_at).not.toBeNull();
      expect(stateOf(after, 'wecom').events).toBe(stateOf(before, 'wecom').events);
    });

    it('WeCom: restores a "+" of the echostr that arrived as a space', async () => {
      // Keep building until the ciphertext holds a "+": the query then carries it as a space.
      for (let attempt = 0; attempt < 50; attempt++) {
        const echo = String(BigInt(`0x${hex(8)}`));
        const callback = weComCallback({ method: 'GET', plaintext: echo });
        const echostr = queryOf(callback, 'echostr');
        if (!echostr.includes('+')) continue;
        const rawQuery = callback.query
          .map(([key, value]) =>
            key === 'echostr'
              ? `${key}=${value.replaceAll('/', '%2F').replaceAll('=', '%3D')}`
              : `${key}=${value}`,
          )
          .join('&');
        const answer = await send({ ...callback, rawQuery });
        expect(answer.status, answer.text).toBe(200);
        expect(answer.text).toBe(echo);
        return;
      }
      throw new Error('no ciphertext with a "+" in 50 tries');
    });

    it('WeCom: an app without Token and EncodingAESKey answers that its callback is not configured yet', async () => {
      const credentials = sandboxCredentials('wecom');
      const created = await stack.call('POST', '/api/im-apps?check=false', {
        type: 'wecom',
        name: `wecom-later-${hex()}`,
        corp_id: credentials.settings.corp_id,
        agent_id: '1000099',
        secret: `later-secret-${hex()}`,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const before = await snapshot(stack);
      const answer = await send({
        ...weComCallback({ method: 'GET', plaintext: '12345' }),
        path: callbackPath('wecom', created.body.id),
      });
      expectRefusal(answer, 'unconfigured WeCom app');
      expect(JSON.parse(answer.text).error.message).toMatch(/not configured/i);
      expect(await snapshot(stack)).toEqual(before);
    });
  });

  describe.each(platforms)('$type events', (platform) => {
    const { type } = platform;

    beforeEach(async () => {
      await forgetVerification(type);
    });

    it('records a valid approval event once, answers what the vendor expects and sets last_event_at', async () => {
      const before = stateOf(await snapshot(stack), type);
      const event = platform.newEvent();
      const answer = await send(platform.build(event.plaintext));
      platform.expectEventReply(answer);
      const rows = await eventRows(stack, type, event.dedupKey);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.type).toBe(event.eventType);
      const after = stateOf(await snapshot(stack), type);
      expect(after.events).toBe(before.events + 1);
      expect(after.replays).toBe(before.replays + 1);
      expect(after.last_event_at).not.toBeNull();
    });

    it('answers a redelivery (new nonce and timestamp, same event) with 200 and keeps one row', async () => {
      const event = platform.newEvent();
      const first = platform.build(event.plaintext);
      platform.expectEventReply(await send(first));
      const before = stateOf(await snapshot(stack), type);
      const again = platform.build(event.plaintext, { timestamp: platform.timestamp(1000) });
      expect(platform.signedParts(again).nonce).not.toBe(platform.signedParts(first).nonce);
      expect(platform.signedParts(again).timestamp).not.toBe(platform.signedParts(first).timestamp);
      platform.expectEventReply(await send(again));
      expect(await eventRows(stack, type, event.dedupKey)).toHaveLength(1);
      const after = stateOf(await snapshot(stack), type);
      expect(after.events).toBe(before.events);
      expect(after.replays).toBe(before.replays + 1);
    });
  });

  describe.each(platforms)('$type refusals', (platform) => {
    const { type } = platform;
    const otherTypes = callbackTypes.filter((other) => other !== type);

    /** Sends `callback`, expects a refusal (with `status` when given) and no change anywhere. */
    async function refused(
      callback: RawCallback,
      context: string,
      revealing: string[],
      status?: number,
    ): Promise<CallbackAnswer> {
      const before = await snapshot(stack);
      const answer = await send(callback);
      expectRefusal(answer, context, revealing);
      if (status !== undefined) expect(answer.status, context).toBe(status);
      expect(await snapshot(stack), `${context}: the database changed`).toEqual(before);
      return answer;
    }

    const tampered = (tamper: (encrypt: string) => string) => {
      const event = platform.newEvent();
      return { callback: platform.build(event.plaintext, { tamper }), revealing: event.revealing };
    };

    it('refuses a wrong signature: one character changed, missing, or another request’s', async () => {
      const event = platform.newEvent();
      const good = platform.build(event.plaintext);
      const { signature } = platform.signedParts(good);
      const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
      await refused(
        platform.build(event.plaintext, { signature: flipped }),
        'flipped signature',
        event.revealing,
      );
      const missing: RawCallback = {
        ...good,
        query: good.query.filter(([key]) => key !== 'msg_signature'),
        headers: good.headers.filter(([key]) => key !== 'x-lark-signature'),
      };
      await refused(missing, 'missing signature', event.revealing);
      const other = platform.signedParts(platform.build(platform.newEvent().plaintext)).signature;
      await refused(
        platform.build(event.plaintext, { signature: other }),
        'another request’s signature',
        event.revealing,
      );
      // The genuine request still goes through afterwards: nothing above consumed its nonce.
      platform.expectEventReply(await send(good));
    });

    it('refuses a stale or future timestamp (more than 5 minutes away)', async () => {
      const old = platform.newEvent();
      await refused(
        platform.build(old.plaintext, { timestamp: platform.timestamp(-5 * 60_000 - 2000) }),
        'stale timestamp',
        old.revealing,
      );
      await refused(
        platform.build(old.plaintext, { timestamp: platform.timestamp(5 * 60_000 + 2000) }),
        'future timestamp',
        old.revealing,
      );
      // Just inside the window is fine.
      platform.expectEventReply(
        await send(platform.build(old.plaintext, { timestamp: platform.timestamp(-4 * 60_000) })),
      );
      if (type === 'dingtalk') {
        // DingTalk timestamps are milliseconds: "now" in seconds is 55 years ago.
        const event = platform.newEvent();
        await refused(
          platform.build(event.plaintext, { timestamp: String(Math.floor(Date.now() / 1000)) }),
          'seconds where milliseconds are due',
          event.revealing,
        );
      }
    });

    it('refuses a replayed request (same timestamp and nonce), even with another signed body', async () => {
      const event = platform.newEvent();
      const original = platform.build(event.plaintext);
      platform.expectEventReply(await send(original));
      const answer = await refused(original, 'exact replay', event.revealing, 409);
      expect(JSON.parse(answer.text).error.code).toBe('conflict');
      const { timestamp, nonce } = platform.signedParts(original);
      const second = platform.newEvent();
      await refused(
        platform.build(second.plaintext, { timestamp, nonce }),
        'same timestamp and nonce, another event',
        second.revealing,
        409,
      );
      expect(await eventRows(stack, type, second.dedupKey)).toHaveLength(0);
    });

    it('lets exactly one of ten simultaneous copies of a request through', async () => {
      const event = platform.newEvent();
      const callback = platform.build(event.plaintext);
      const before = stateOf(await snapshot(stack), type);
      const answers = await Promise.all(Array.from({ length: 10 }, () => send(callback)));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(9).fill(409)]);
      for (const answer of answers)
        if (answer.status !== 200) expectRefusal(answer, 'simultaneous copy', event.revealing);
      expect(await eventRows(stack, type, event.dedupKey)).toHaveLength(1);
      const after = stateOf(await snapshot(stack), type);
      expect(after.events).toBe(before.events + 1);
      expect(after.replays).toBe(before.replays + 1);
    });

    it('refuses a truncated ciphertext (signed again after cutting)', async () => {
      const cuts: Array<[string, (encrypt: string) => string]> = [
        ['last block dropped', (encrypt) => truncateCiphertext(encrypt, 16)],
        ['5 bytes dropped', (encrypt) => truncateCiphertext(encrypt, 5)],
        ['one base64 character dropped', (encrypt) => encrypt.slice(0, -1)],
        [
          'only the first block left',
          (encrypt) => Buffer.from(encrypt, 'base64').subarray(0, 16).toString('base64'),
        ],
        ['empty', () => ''],
      ];
      for (const [name, cut] of cuts) {
        const { callback, revealing } = tampered(cut);
        await refused(callback, `truncated: ${name}`, revealing);
      }
    });

    it.each(badPaddings)('refuses a re-padded ciphertext (%s padding, valid signature)', async (kind) => {
      const { callback, revealing } = tampered((encrypt) => platform.repad(encrypt, kind));
      await refused(callback, `re-padded (${kind})`, revealing);
    });

    it('refuses a plaintext sealed for another receiver (app key, corp id, app id)', async () => {
      const event = platform.newEvent();
      const { callback, revealing } = platform.otherReceiver(event);
      await refused(callback, 'another receiver', revealing);
      if (type === 'wecom') {
        // Sealed for our corp, but addressed (ToUserName) to another.
        const spNo = `2026${hex(5)}`;
        await refused(
          weComCallback({ plaintext: weComApprovalChange({ spNo, toUser: 'wwotherc0rp0000001' }) }),
          'ToUserName of another corp',
          [spNo],
        );
      }
    });

    it('answers 404 for an unknown app id, and for an app of another type', async () => {
      const event = platform.newEvent();
      const answer = await refused(
        platform.build(event.plaintext, { appId: `ima_unknown${hex()}` }),
        'unknown app id',
        event.revealing,
        404,
      );
      expect(JSON.parse(answer.text).error.code).toBe('not_found');
      for (const other of otherTypes) {
        await refused(
          platform.build(event.plaintext, { appId: sandboxCredentials(other).id }),
          `app id of a ${other} app`,
          event.revealing,
          404,
        );
      }
      // Nothing was consumed: the same request on the right URL is accepted.
      platform.expectEventReply(await send(platform.build(event.plaintext)));
    });

    it('answers 413 for a body over 1 MB, streamed or declared, and reads one of exactly 1 MB', async () => {
      const event = platform.newEvent();
      const good = platform.build(event.plaintext);
      const huge = (size: number) => {
        const text = String(good.body);
        return text.startsWith('{')
          ? `{"encrypt":"${platform.signedParts(good).encrypt}","padding":"${'A'.repeat(size - text.length - 13)}"}`
          : `${text}${' '.repeat(size - text.length)}`;
      };
      const over = huge(oneMegabyte + 1);
      expect(Buffer.byteLength(over)).toBe(oneMegabyte + 1);
      const streamed = await refused(
        { ...good, body: over },
        'oversized body (streamed)',
        event.revealing,
        413,
      );
      expect(JSON.parse(streamed.text).error.code).toBe('payload_too_large');
      await refused(
        { ...good, body: over, headers: [...good.headers, ['content-length', String(oneMegabyte + 1)]] },
        'oversized body (content-length)',
        event.revealing,
        413,
      );
      // 1 MB exactly passes the limit; the body is then checked like any other (the signature covers
      // it for Feishu; DingTalk and WeCom sign only the ciphertext, so this one is the genuine event).
      const exact = huge(oneMegabyte);
      expect(Buffer.byteLength(exact)).toBe(oneMegabyte);
      const answer = await send({ ...good, body: exact });
      expect(answer.status, answer.text.slice(0, 200)).not.toBe(413);
      if (type === 'feishu' || type === 'lark') expectRefusal(answer, 'exactly 1 MB, signature broken');
      else platform.expectEventReply(answer);
    });

    if (type === 'feishu' || type === 'lark') {
      it('refuses an unencrypted event and an event with a wrong Verification Token', async () => {
        const event = platform.newEvent();
        await refused(
          feishuCallback({ type, plaintext: event.plaintext, encrypted: false }),
          'plain event to an app with an Encrypt Key',
          [],
        );
        const eventId = `evt_${hex(12)}`;
        await refused(
          feishuCallback({ type, plaintext: feishuApprovalEvent(type, { eventId, token: 'guessed-token' }) }),
          'wrong Verification Token inside a signed event',
          [eventId],
        );
        await refused(
          feishuCallback({ type, plaintext: event.plaintext, signed: false }),
          'unsigned encrypted event',
          event.revealing,
        );
      });
    }

    if (type === 'dingtalk') {
      it('refuses a check_url with a wrong signature, and one without an "encrypt" field', async () => {
        await refused(
          dingTalkCallback({ plaintext: dingTalkCheckUrl, signature: '0'.repeat(40) }),
          'check_url',
          [],
        );
        const good = dingTalkCallback({ plaintext: dingTalkCheckUrl });
        await refused({ ...good, body: '{}' }, 'no encrypt field', []);
        await refused({ ...good, body: 'not json' }, 'body not JSON', []);
      });
    }

    if (type === 'wecom') {
      it('refuses a GET verification with a wrong signature, a stale timestamp or a bad echostr', async () => {
        const echo = '9876543210';
        await refused(
          weComCallback({ method: 'GET', plaintext: echo, signature: '0'.repeat(40) }),
          'GET signature',
          [echo],
        );
        await refused(
          weComCallback({ method: 'GET', plaintext: echo, timestamp: platform.timestamp(-10 * 60_000) }),
          'GET stale',
          [echo],
        );
        await refused(
          weComCallback({
            method: 'GET',
            plaintext: echo,
            tamper: (encrypt) => platform.repad(encrypt, 'zero'),
          }),
          'GET re-padded echostr',
          [echo],
        );
        await refused(
          weComCallback({ method: 'GET', plaintext: echo, corpId: 'wwotherc0rp0000001' }),
          'GET for another corp',
          [echo],
        );
      });
    }
  });

  it('logged no secret while answering all of the above', () => {
    const secrets = allSandboxSecrets();
    const leaks = stack.logs.filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaks.map((line) => line.slice(0, 300))).toEqual([]);
  });

  // A comment may hold any character, U+0000 included; JSON escapes it, and the vendor signs it like any
  // other. The event must still be recorded (PostgreSQL's jsonb refuses \u0000, so it needs care), and a
  // failure must not write the decrypted payload (with its Verification Token) to the log.
  it.each(['feishu', 'lark', 'dingtalk'] as const)(
    '%s: records a genuine event whose text holds U+0000, and logs none of it',
    async (type) => {
      const platform = platforms.find((candidate) => candidate.type === type)!;
      const logLinesBefore = stack.logs.length;
      const marker = `nul-${hex()}`;
      const eventId = `evt_${hex(12)}`;
      const processInstanceId = `pi-${hex(12)}`;
      const plaintext =
        type === 'dingtalk'
          ? dingTalkApprovalEvent({ processInstanceId, title: `${marker}\u0000end` })
          : feishuApprovalEvent(type, { eventId, comment: `${marker}\u0000end` });
      const answer = await send(platform.build(plaintext));
      const secrets = allSandboxSecrets();
      const leaks = stack.logs
        .slice(logLinesBefore)
        .filter((line) => line.includes(marker) || secrets.some((secret) => line.includes(secret)));
      expect
        .soft(
          leaks.map((line) => line.slice(0, 300)),
          'log lines with the payload or a secret',
        )
        .toEqual([]);
      platform.expectEventReply(answer);
      const rows = await stack.signoff.db.query(
        `select 1 from im_events where im_app_id = $1 and (dedup_key = $2 or payload->>'processInstanceId' = $3)`,
        [sandboxCredentials(type).id, eventId, processInstanceId],
      );
      expect(rows).toHaveLength(1);
    },
  );
});

// ---- fuzz (PGlite) ---------------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  constructor(readonly next: () => number) {}
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An index into `weights`, each as likely as its weight. */
  weighted(weights: readonly number[]): number {
    let roll = this.next() * weights.reduce((sum, weight) => sum + weight, 0);
    for (const [index, weight] of weights.entries()) {
      roll -= weight;
      if (roll < 0) return index;
    }
    return weights.length - 1;
  }
  printable(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += String.fromCharCode(0x20 + this.int(0x5f));
    return out;
  }
}

interface Mutant {
  callback: RawCallback;
  steps: string[];
}

const mutationsPerPlatform = 5000;
/**
 * How often each kind of mutation in `mutate` is picked (same order as its cases). Bodies near and over
 * 1 MB cost the most time, so they are rarer: about 1 mutant in 80.
 */
const mutationWeights = [8, 8, 6, 6, 6, 8, 8, 6, 6, 4, 4, 3, 1, 2, 6, 8, 5];
const batchSize = 50;
const fuzzSeed = Number(process.env.CALLBACK_FUZZ_SEED ?? 0x5167_0ff);

/** A header or query value changed the ways a forger or a broken proxy would. */
function mutateValue(random: Random, value: string): [string, string] {
  switch (random.int(11)) {
    case 0: {
      if (value.length === 0) return ['x', 'set empty to x'];
      const at = random.int(value.length);
      return [`${value.slice(0, at)}${random.printable(1)}${value.slice(at + 1)}`, `char ${at} replaced`];
    }
    case 1:
      return ['', 'emptied'];
    case 2: {
      const size = random.pick([1000, 10_000, 65_536]);
      return ['9'.repeat(size), `huge (${size})`];
    }
    case 3:
      return [`${value}${random.printable(random.between(1, 8))}`, 'appended'];
    case 4:
      return [value.slice(0, random.int(value.length + 1)), 'truncated'];
    case 5:
      return [
        random.pick(['-1', '0', 'NaN', '1e309', ' ', '%00', '../..', 'null', '[]', '{}']),
        'odd literal',
      ];
    case 6:
      return /^\d+$/.test(value)
        ? [
            String(BigInt(value) + BigInt(random.pick([-1, 1, -1000, 1000, -600_000, 600_000]))),
            'number moved',
          ]
        : [value.toUpperCase(), 'upper-cased'];
    case 7:
      return [`0${value}`, 'leading zero'];
    case 8:
      return [`${value} `, 'trailing space'];
    case 9:
      return [value.split('').reverse().join(''), 'reversed'];
    default:
      return [random.printable(random.between(1, 40)), 'random'];
  }
}

/** Header values must stay valid for `Headers` (printable ASCII, no surrounding space). */
const headerSafe = (value: string) => value.replace(/[^\x21-\x7e ]/g, 'x').trim();

function mutate(random: Random, original: RawCallback, platform: Platform): Mutant {
  const callback: RawCallback = {
    method: original.method,
    path: original.path,
    query: original.query.map(([key, value]) => [key, value] as [string, string]),
    headers: original.headers.map(([key, value]) => [key, value] as [string, string]),
    body: Buffer.from(original.body),
  };
  const steps: string[] = [];
  const bytes = () => Buffer.from(callback.body);
  const setBytes = (buffer: Buffer) => {
    callback.body = buffer;
  };
  const count = random.chance(0.7) ? 1 : random.between(2, 3);
  for (let n = 0; n < count; n++) {
    switch (random.weighted(mutationWeights)) {
      case 0: {
        const body = bytes();
        if (body.length === 0) break;
        const at = random.int(body.length);
        const bit = random.int(8);
        body[at] = body[at]! ^ (1 << bit);
        setBytes(body);
        steps.push(`body bit ${bit} of byte ${at} flipped`);
        break;
      }
      case 1: {
        // A bit of the ciphertext itself, the base64 re-encoded around it.
        const encrypt = platform.signedParts(original).encrypt;
        const raw = Buffer.from(encrypt, 'base64');
        const at = random.int(raw.length);
        raw[at] = raw[at]! ^ (1 << random.int(8));
        const text = bytes().toString('utf8');
        setBytes(Buffer.from(text.replace(encrypt, raw.toString('base64'))));
        steps.push(`ciphertext byte ${at} flipped`);
        break;
      }
      case 2: {
        const body = bytes();
        const at = random.int(body.length + 1);
        setBytes(body.subarray(0, at));
        steps.push(`body truncated to ${at}`);
        break;
      }
      case 3: {
        const body = bytes();
        const at = random.int(body.length + 1);
        const inserted = Buffer.from(Array.from({ length: random.between(1, 4) }, () => random.int(256)));
        setBytes(Buffer.concat([body.subarray(0, at), inserted, body.subarray(at)]));
        steps.push(`${inserted.length} bytes inserted at ${at}`);
        break;
      }
      case 4: {
        const body = bytes();
        const at = random.int(Math.max(1, body.length));
        const length = random.between(1, 8);
        setBytes(Buffer.concat([body.subarray(0, at), body.subarray(at + length)]));
        steps.push(`${length} bytes deleted at ${at}`);
        break;
      }
      case 5: {
        if (callback.query.length === 0) break;
        const index = random.int(callback.query.length);
        const [key, value] = callback.query[index]!;
        const [mutated, how] = mutateValue(random, value);
        callback.query[index] = [key, mutated];
        steps.push(`query ${key} ${how}`);
        break;
      }
      case 6: {
        if (callback.headers.length === 0) break;
        const index = random.int(callback.headers.length);
        const [key, value] = callback.headers[index]!;
        const [mutated, how] = mutateValue(random, value);
        callback.headers[index] = [key, headerSafe(mutated)];
        steps.push(`header ${key} ${how}`);
        break;
      }
      case 7: {
        const list = callback.query.length >= 2 ? callback.query : callback.headers;
        if (list.length < 2) break;
        const a = random.int(list.length);
        const b = (a + 1 + random.int(list.length - 1)) % list.length;
        const first = list[a]![1];
        list[a]![1] = list[b]![1];
        list[b]![1] = first;
        steps.push(`values of ${list[a]![0]} and ${list[b]![0]} swapped`);
        break;
      }
      case 8: {
        const useQuery = callback.query.length > 0 && random.chance(0.5);
        const list = useQuery ? callback.query : callback.headers;
        if (list.length === 0) break;
        const [key] = list.splice(random.int(list.length), 1)[0]!;
        steps.push(`${useQuery ? 'query' : 'header'} ${key} removed`);
        break;
      }
      case 9: {
        const list = callback.query.length > 0 ? callback.query : callback.headers;
        if (list.length === 0) break;
        const [key, value] = list[random.int(list.length)]!;
        const [mutated] = mutateValue(random, value);
        const entry: [string, string] = [key, list === callback.headers ? headerSafe(mutated) : mutated];
        if (random.chance(0.5)) list.unshift(entry);
        else list.push(entry);
        steps.push(`${key} repeated with another value`);
        break;
      }
      case 10: {
        // The other spellings the handlers know, and a few they should not.
        const renames: Record<string, string[]> = {
          msg_signature: ['signature', 'Msg_Signature', 'msgSignature'],
          timestamp: ['timeStamp', 'Timestamp', 'ts'],
          nonce: ['Nonce', 'nonce_'],
          echostr: ['echoStr'],
          'x-lark-signature': ['x-lark-signature-v2', 'x-signature'],
          'x-lark-request-timestamp': ['x-lark-timestamp'],
          'x-lark-request-nonce': ['x-lark-nonce'],
        };
        const list = callback.query.length > 0 ? callback.query : callback.headers;
        const candidates = list.filter(([key]) => renames[key]);
        if (candidates.length === 0) break;
        const entry = random.pick(candidates);
        const renamed = random.pick(renames[entry[0]]!);
        steps.push(`${entry[0]} renamed ${renamed}`);
        entry[0] = renamed;
        break;
      }
      case 11: {
        callback.method = random.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST']);
        steps.push(`method ${callback.method}`);
        break;
      }
      case 12: {
        const size = random.pick([100_000, oneMegabyte - 10, oneMegabyte + 1, 1_300_000]);
        const body = bytes();
        setBytes(Buffer.concat([body, Buffer.alloc(Math.max(0, size - body.length), 0x20)]));
        steps.push(`body padded to ${size} bytes`);
        break;
      }
      case 13: {
        setBytes(Buffer.alloc(0));
        steps.push('body emptied');
        break;
      }
      case 14: {
        // Structure-aware: what a forger tries around the signed part.
        const text = bytes().toString('utf8');
        const encrypt = platform.signedParts(original).encrypt;
        const variants = [
          `{"encrypt":"${random.printable(24).replace(/["\\]/g, 'x')}","encrypt":"${encrypt}"}`,
          `{"encrypt":"${encrypt}","type":"url_verification","challenge":"x"}`,
          `{"encrypt":${JSON.stringify([encrypt])}}`,
          `{"encrypt":{"encrypt":"${encrypt}"}}`,
          `[${JSON.stringify({ encrypt })}]`,
          `<xml><Encrypt><![CDATA[${random.printable(16).replace(/[\]<>&]/g, 'x')}]]></Encrypt><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
          `<xml><Encrypt>${encrypt}</Encrypt></xml>`,
          `<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><ToUserName>&e;</ToUserName></xml>`,
          `<xml>${'<a>'.repeat(5000)}</xml>`,
          text.replace(encrypt, `${encrypt}${encrypt}`),
          text.replace(encrypt, encrypt.replaceAll('+', ' ')),
          text.replace(encrypt, encrypt.replace(/=+$/, '')),
        ];
        const index = random.int(variants.length);
        setBytes(Buffer.from(variants[index]!));
        steps.push(`body structure variant ${index}`);
        break;
      }
      case 15: {
        // What only the key holder could send: a mangled ciphertext signed again with the same
        // timestamp and nonce, so decryption and parsing see garbage behind a valid signature.
        const parts = platform.signedParts(original);
        const raw = Buffer.from(parts.encrypt, 'base64');
        const how = random.int(4);
        let mangled: Buffer;
        if (how === 0) {
          mangled = Buffer.from(raw);
          const at = random.int(mangled.length);
          mangled[at] = mangled[at]! ^ (1 << random.int(8));
        } else if (how === 1) mangled = raw.subarray(0, random.int(raw.length));
        else if (how === 2)
          mangled = Buffer.concat([raw, Buffer.from(Array.from({ length: 16 }, () => random.int(256)))]);
        else mangled = Buffer.from(Array.from({ length: 16 * random.between(1, 6) }, () => random.int(256)));
        const resigned = platform.build('{}', {
          timestamp: parts.timestamp,
          nonce: parts.nonce,
          tamper: () => mangled.toString('base64'),
        });
        callback.query = resigned.query;
        callback.headers = resigned.headers;
        callback.body = Buffer.from(resigned.body);
        steps.push(
          `ciphertext mangled (${['bit flip', 'cut', 'block added', 'random blocks'][how]}) and signed again`,
        );
        break;
      }
      default: {
        // The URL: another app id, another type, an odd one.
        const path = random.pick([
          callbackPath(platform.type, `ima_sandbox_${platform.type}x`),
          callbackPath(platform.type, ''),
          `/callbacks/${random.pick(callbackTypes.filter((other) => other !== platform.type))}/ima_sandbox_${platform.type}`,
          `/callbacks/${platform.type}/ima_sandbox_${platform.type}/extra`,
          `/callbacks/${platform.type}/${encodeURIComponent("ima_sandbox_' or 1=1 --")}`,
          `/callbacks/${platform.type.toUpperCase()}/ima_sandbox_${platform.type}`,
        ]);
        callback.path = path;
        steps.push(`path ${path}`);
      }
    }
  }
  if (steps.length === 0) steps.push('no-op (sent as a replay)');
  return { callback, steps };
}

describe('callback fuzz (PGlite)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack('pglite', { sandbox: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each(platforms)(
    `$type: ${mutationsPerPlatform} seeded mutations of a valid callback are all refused (4xx), and nothing changes`,
    async (platform) => {
      const started = performance.now();
      const seed = fuzzSeed + callbackTypes.indexOf(platform.type);
      const random = new Random(prng(seed));
      const event = platform.newEvent();
      const original = platform.build(event.plaintext);
      // The original goes first: any mutation that keeps its signed content is then a replay.
      platform.expectEventReply(await sendCallback(stack.signoff.app, original));
      const baseline = await snapshot(stack);
      const logLinesBefore = stack.logs.length;

      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (let done = 0; done < mutationsPerPlatform; done += batchSize) {
        const batch = Array.from(
          { length: Math.min(batchSize, mutationsPerPlatform - done) },
          (_, offset) => ({
            index: done + offset,
            ...mutate(random, original, platform),
          }),
        );
        await Promise.all(
          batch.map(async ({ index, callback, steps }) => {
            const label = `seed ${seed} mutation #${index} (${steps.join('; ')})`;
            let answer: CallbackAnswer;
            try {
              answer = await sendCallback(stack.signoff.app, callback);
            } catch (error) {
              failures.push(`${label}: threw ${(error as Error).stack ?? error}`);
              return;
            }
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            if (answer.status < 400 || answer.status >= 500) {
              failures.push(`${label}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
              return;
            }
            if (callback.method === 'HEAD') return;
            try {
              expectRefusal(answer, label, event.revealing);
            } catch (error) {
              failures.push((error as Error).message.split('\n')[0]!);
            }
          }),
        );
      }
      const elapsedMs = performance.now() - started;
      console.log(
        `fuzz ${platform.type}: ${mutationsPerPlatform} mutations in ${(elapsedMs / 1000).toFixed(1)} s (seed ${seed}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
      );
      expect(
        failures.slice(0, 20),
        `${failures.length} of ${mutationsPerPlatform} mutations misbehaved`,
      ).toEqual([]);

      // Nothing changed: no event, no replay key, no timestamp.
      expect(await snapshot(stack)).toEqual(baseline);
      // Every refusal was an answer we meant to give, not a handler that fell over.
      const crashes = stack.logs
        .slice(logLinesBefore)
        .filter((line) => line.includes('callback handler failed') || line.includes('request failed'));
      expect(
        crashes.slice(0, 5),
        `${crashes.length} callbacks failed unexpectedly inside the handler`,
      ).toEqual([]);

      const secrets = allSandboxSecrets();
      const leaks = stack.logs
        .slice(logLinesBefore)
        .filter((line) => secrets.some((secret) => line.includes(secret)));
      expect(leaks.length, 'log lines with a secret').toBe(0);

      // The server still takes a fresh, valid callback.
      const fresh = platform.newEvent();
      platform.expectEventReply(await sendCallback(stack.signoff.app, platform.build(fresh.plaintext)));
      expect(await eventRows(stack, platform.type, fresh.dedupKey)).toHaveLength(1);
      expect(stateOf(await snapshot(stack), platform.type).events).toBe(
        stateOf(baseline, platform.type).events + 1,
      );
    },
    120_000,
  );
});

// ---- the sandbox end to end (PGlite) ------------------------------------------------------------------------

describe('sandbox end to end (PGlite)', () => {
  let stack: TestStack;
  let outbound: Fetch;
  const noNetwork: Fetch = () => Promise.reject(new Error('tests make no network calls'));

  beforeAll(async () => {
    stack = await startStack('pglite', { sandbox: true });
    outbound = localFetch(publicUrl, () => stack.signoff.app, noNetwork);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const decide = async (vendor: CallbackType, approval: string, person: string, decision = 'approve') => {
    const response = await stack.signoff.app.request('/sandbox/decide', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ vendor, approval, person, decision }).toString(),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return JSON.parse(text);
  };

  const eventsWhere = (type: CallbackType, condition: string, value: string) =>
    stack.signoff.db.query<{ type: string; dedup_key: string; payload: any }>(
      `select type, dedup_key, payload from im_events where im_app_id = $1 and ${condition} order by id`,
      [sandboxCredentials(type).id, value],
    );

  it('had every fake verify its sandbox app’s callback URL at startup', async () => {
    const states = await snapshot(stack);
    for (const type of callbackTypes) {
      expect(stateOf(states, type)?.callback_verified_at, type).not.toBeNull();
      expect(stateOf(states, type)?.events, type).toBe(0);
    }
    const listed = await stack.call('GET', '/api/im-apps');
    for (const type of callbackTypes) {
      const app = listed.body.im_apps.find((item: any) => item.id === sandboxCredentials(type).id);
      expect(app?.callback_url, type).toBe(`${publicUrl}${callbackPath(type)}`);
      expect(app?.status.callback, type).toBe('verified');
    }
  });

  const feishuDefinition = {
    approval_name: '@i18n@name',
    viewers: [{ viewer_type: 'NONE' }],
    form: {
      form_content: JSON.stringify([
        { id: 'reason', type: 'textarea', name: '@i18n@reason', required: true },
      ]),
    },
    node_list: [
      { id: 'START' },
      { id: 'approve', name: '@i18n@node', node_type: 'OR', approver: [{ type: 'Free' }] },
      { id: 'END' },
    ],
    settings: { revert_interval: 0 },
    i18n_resources: [
      {
        locale: 'zh-CN',
        is_default: true,
        texts: [
          { key: '@i18n@name', value: 'Deploy approval' },
          { key: '@i18n@reason', value: 'Reason' },
          { key: '@i18n@node', value: 'Approver' },
        ],
      },
    ],
  };

  function feishuClient(type: 'feishu' | 'lark') {
    const credentials = sandboxCredentials(type);
    return createFeishuClient(
      {
        type,
        app_id: credentials.settings.app_id!,
        app_secret: credentials.secrets.app_secret!,
        api_base: `${publicUrl}/sandbox/${type}`,
      },
      { fetch: outbound, now: Date.now, tokens: memoryTokenStore() },
      { label: type },
    );
  }

  async function feishuInstance(type: 'feishu' | 'lark', title?: string): Promise<string> {
    const client = feishuClient(type);
    const { approval_code } = await client.call<{ approval_code: string }>(
      'POST',
      '/open-apis/approval/v4/approvals',
      {
        action: 'creating an approval definition',
        body: { ...feishuDefinition, approval_name: '@i18n@name' },
      },
    );
    await client.call('POST', `/open-apis/approval/v4/approvals/${approval_code}/subscribe`, {
      action: 'subscribing to the definition',
    });
    const { instance_code } = await client.call<{ instance_code: string }>(
      'POST',
      '/open-apis/approval/v4/instances',
      {
        action: 'creating an instance',
        body: {
          approval_code,
          open_id: seedOpenId('zhang.wei'),
          form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'deploy v1.2' }]),
          node_approver_open_id_list: [{ key: 'approve', value: [seedOpenId('li.na')] }],
          ...(title ? { title } : {}),
        },
      },
    );
    return instance_code;
  }

  it.each(['feishu', 'lark'] as const)(
    '%s: an instance created through the fake’s API, decided on the sandbox page, arrives as an event',
    async (type) => {
      const instanceCode = await feishuInstance(type);
      const decided = await decide(type, instanceCode, seedOpenId('li.na'));
      expect(decided.ok).toBe(true);
      const rows = await waitFor(async () => {
        const found = await eventsWhere(type, "payload->'event'->>'instance_code' = $2", instanceCode);
        return found.length > 0 ? found : undefined;
      }, `the ${type} event for ${instanceCode}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.type).toBe('approval.instance.status_changed_v4');
      expect(rows[0]!.payload.event.status).toBe('APPROVED');
      expect(rows[0]!.dedup_key).toBe(rows[0]!.payload.header.event_id);
      expect(stateOf(await snapshot(stack), type).last_event_at).not.toBeNull();
    },
  );

  it('DingTalk: a process instance started through the fake’s API, decided on the sandbox page, arrives as events', async () => {
    const credentials = sandboxCredentials('dingtalk');
    const base = `${publicUrl}/sandbox/dingtalk`;
    const client = createDingTalkClient(
      {
        type: 'dingtalk',
        app_key: credentials.settings.app_key!,
        agent_id: credentials.settings.agent_id,
        app_secret: credentials.secrets.app_secret!,
        aes_key: credentials.secrets.aes_key!,
        token: credentials.secrets.token!,
        api_base: base,
        oapi_base: base,
      },
      { fetch: outbound, now: Date.now, tokens: memoryTokenStore() },
    );
    const processCode = await client.saveForm({
      name: `Release approval ${hex()}`,
      formComponents: [
        { componentType: 'TextField', props: { componentId: 'TextField-1', label: '版本', required: true } },
      ],
    });
    const id = await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v1.2.3' }],
      approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
    });
    await decide('dingtalk', id, 'manager001');
    const rows = await waitFor(async () => {
      const found = await eventsWhere('dingtalk', "payload->>'processInstanceId' = $2", id);
      return found.some((row) => row.payload.type === 'finish' && row.type === 'bpms_instance_change')
        ? found
        : undefined;
    }, `the DingTalk finish event for ${id}`);
    const finish = rows.filter((row) => row.type === 'bpms_instance_change' && row.payload.type === 'finish');
    expect(finish).toHaveLength(1);
    expect(finish[0]!.payload.result).toBe('agree');
    expect(rows.map((row) => row.type)).toContain('bpms_task_change');
    expect(new Set(rows.map((row) => row.dedup_key)).size).toBe(rows.length);
  });

  it('WeCom: an approval submitted through the fake’s API, decided on the sandbox page, arrives as events', async () => {
    const credentials = sandboxCredentials('wecom');
    const client = createWeComClient(
      {
        type: 'wecom',
        corp_id: credentials.settings.corp_id!,
        agent_id: credentials.settings.agent_id!,
        secret: credentials.secrets.secret!,
        api_base: `${publicUrl}/sandbox/wecom`,
      },
      { fetch: outbound, now: Date.now, tokens: memoryTokenStore() },
    );
    const templateId = await client.createTemplate({
      template_name: [{ text: `部署审批 ${hex(3)}`, lang: 'zh_CN' }],
      template_content: {
        controls: [
          {
            property: { control: 'Text', id: 'Text-1', title: [{ text: '内容', lang: 'zh_CN' }], require: 1 },
          },
        ],
      },
    });
    const spNo = await client.applyEvent({
      creator_userid: 'SignoffAdmin',
      template_id: templateId,
      use_template_approver: 0,
      approver: [{ attr: 1, userid: ['ZhangWei'] }],
      apply_data: { contents: [{ control: 'Text', id: 'Text-1', value: { text: 'deploy v1.2' } }] },
    });
    await decide('wecom', spNo, 'ZhangWei');
    const rows = await waitFor(async () => {
      const found = await eventsWhere('wecom', "payload->'info'->>'sp_no' = $2", spNo);
      return found.some((row) => row.payload.statu_change_event === 2) ? found : undefined;
    }, `the WeCom approval event for ${spNo}`);
    const agreed = rows.filter((row) => row.payload.statu_change_event === 2);
    expect(agreed).toHaveLength(1);
    expect(agreed[0]!.type).toBe('sys_approval_change');
    expect(agreed[0]!.dedup_key).toMatch(new RegExp(`^wecom:sys_approval_change:${spNo}:2:\\d+$`));
    expect(agreed[0]!.payload.info.sp_status).toBe(2);
  });

  it('GET /sandbox lists the fake people and pending approvals, every value escaped', async () => {
    const hostile = '<script>alert("sandbox")</script>';
    const instanceCode = await feishuInstance('feishu', hostile);
    const response = await stack.signoff.app.request(`/sandbox?notice=${encodeURIComponent(hostile)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    for (const name of ['张伟', '李娜', 'Signoff Admin', '王芳']) expect(html).toContain(name);
    expect(html).toContain(instanceCode);
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).toContain('&#60;script&#62;alert(&#34;sandbox&#34;)&#60;/script&#62;');
  });

  it('GET /sandbox/state describes every fake as JSON', async () => {
    const response = await stack.signoff.app.request('/sandbox/state');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const state = (await response.json()) as any;
    expect(state.vendors.map((vendor: any) => vendor.type)).toEqual(callbackTypes);
    for (const vendor of state.vendors) {
      expect(vendor.im_app.id).toBe(sandboxCredentials(vendor.type).id);
      expect(vendor.people.length, vendor.type).toBeGreaterThan(0);
      for (const person of vendor.people)
        expect(typeof person.id === 'string' && typeof person.name === 'string').toBe(true);
      expect(Array.isArray(vendor.pending_approvals)).toBe(true);
      expect(Array.isArray(vendor.messages)).toBe(true);
    }
    // The fakes' demo credentials are shown only as their developer console would show them, next to
    // the fake's API base; no credential appears anywhere else in the state (people, messages, approvals).
    for (const vendor of state.vendors) {
      const registered = sandboxCredentials(vendor.type);
      expect(vendor.developer_console.api_base).toBe(`http://localhost/sandbox/${vendor.type}`);
      for (const secret of Object.values(registered.secrets))
        expect(Object.values(vendor.developer_console.credentials)).toContain(secret);
      for (const robot of vendor.developer_console.robots)
        expect(robot.url.startsWith(`${vendor.developer_console.api_base}/`)).toBe(true);
    }
    const text = JSON.stringify({
      ...state,
      vendors: state.vendors.map((vendor: any) => ({ ...vendor, developer_console: undefined })),
    });
    for (const secret of allSandboxSecrets()) expect(text.includes(secret)).toBe(false);
  });

  it('POST /sandbox/decide refuses an incomplete form with a 4xx error body', async () => {
    const response = await stack.signoff.app.request('/sandbox/decide', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ vendor: 'feishu', decision: 'approve' }).toString(),
    });
    expectRefusal(
      { status: response.status, contentType: '', text: await response.text() },
      'incomplete form',
    );
  });
});
