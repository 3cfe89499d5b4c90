import { createDecipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { msgSignature } from '../shared/msg-crypt.js';
import { createDingTalkCrypto, dingTalkRobotSign } from './crypto.js';

// reference/platforms.md §7.2, "dingtalk" and "bot_sign" R2.
const D1 = {
  id: 'D1',
  token: 'mryue',
  aes_key: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
  owner_key: 'ding6ccabc44d2c8d38b',
  timestamp: '1608001896814',
  nonce: 'WL4PK6yA',
  msg_signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
  encrypt:
    '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
  message: '{"EventType":"check_url"}',
};

const D2 = {
  id: 'D2',
  token: 'mryue',
  aes_key: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
  owner_key: 'ding6ccabc44d2c8d38b',
  timestamp: '1608001896900',
  nonce: 'Ab3dEf7hIj9kLm2n',
  random16: 'abcdefghijklmnop',
  message: 'success',
  msg_signature: '65bea37ed5d7f7a085b60e2348420c63501fc6d7',
  encrypt: 'QjFVo6WtpzPr7RoyTeB2RiaR3xB2mMl8rk8y7ok0+3p4lanNu72WYgTGf2dCORsQrs6Yz+FV+5t9cYo8A/nGsg==',
};

const D3 = {
  id: 'D3',
  token: '123456',
  aes_key: '4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij',
  owner_key: 'suite4xxxxxxxxxxxxxxx',
  timestamp: '1445827045067',
  nonce: 'nEXhMP4r',
  msg_signature: '5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0',
  encrypt:
    '1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==',
  message:
    '{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}',
};

const R2 = {
  id: 'R2',
  secret: 'SECdemo',
  timestamp: '1599360473000',
  sign_urlencoded: 'tGWkA5eQOQNCNPDgphtxIoNLO%2B%2FgD8Lcb705KQoRzeY%3D',
};

type Vector = typeof D1 | typeof D2 | typeof D3;

function cryptoFor(v: Vector, overrides: { token?: string; ownerKey?: string } = {}) {
  return createDingTalkCrypto({
    token: overrides.token ?? v.token,
    aesKey: v.aes_key,
    ownerKey: overrides.ownerKey ?? v.owner_key,
  });
}

/** The raw padded plaintext, by an independent decrypt: random prefix and pad byte. */
function rawPlaintext(v: Vector): Buffer {
  const key = Buffer.from(`${v.aes_key}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(Buffer.from(v.encrypt, 'base64')), decipher.final()]);
}

function expectBadRequest(run: () => unknown, v: Vector): AppError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('bad_request');
  for (const secret of [v.token, v.aes_key, v.message]) expect(error.message).not.toContain(secret);
  return error;
}

function mutate(value: string): string {
  const last = value.at(-1);
  return `${value.slice(0, -1)}${last === 'A' ? 'B' : last === '0' ? '1' : 'A'}`;
}

describe('DingTalk vectors (platforms.md §7.2)', () => {
  describe.each([D1, D2, D3])('$id', (v) => {
    const ding = cryptoFor(v);

    it(`${v.id}: signature`, () => {
      expect(ding.signature(v.timestamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
      expect(ding.verify(v.msg_signature, v.timestamp, v.nonce, v.encrypt)).toBe(true);
    });

    it(`${v.id}: decrypt gives the message and the owner key`, () => {
      expect(ding.decrypt(v.encrypt)).toEqual({ message: v.message, receiverId: v.owner_key });
      const signed = {
        signature: v.msg_signature,
        timestamp: v.timestamp,
        nonce: v.nonce,
        encrypt: v.encrypt,
      };
      expect(ding.open(signed).message).toBe(v.message);
    });

    it(`${v.id}: re-encrypting with the same random prefix reproduces the ciphertext`, () => {
      const random = rawPlaintext(v).subarray(0, 16);
      const sealed = ding.encrypt(v.message, { random, timestamp: v.timestamp, nonce: v.nonce });
      expect(sealed).toEqual({
        encrypt: v.encrypt,
        signature: v.msg_signature,
        timestamp: v.timestamp,
        nonce: v.nonce,
      });
    });

    it(`${v.id}: a one-character change to any input fails`, () => {
      const { msg_signature: sig, timestamp, nonce, encrypt } = v;
      expect(ding.verify(mutate(sig), timestamp, nonce, encrypt)).toBe(false);
      expect(ding.verify(sig, mutate(timestamp), nonce, encrypt)).toBe(false);
      expect(ding.verify(sig, timestamp, mutate(nonce), encrypt)).toBe(false);
      expect(ding.verify(sig, timestamp, nonce, `x${encrypt.slice(1)}`)).toBe(false);
      expect(cryptoFor(v, { token: mutate(v.token) }).verify(sig, timestamp, nonce, encrypt)).toBe(false);
      expectBadRequest(() => ding.open({ signature: mutate(sig), timestamp, nonce, encrypt }), v);
      const error = expectBadRequest(
        () => cryptoFor(v, { ownerKey: mutate(v.owner_key) }).decrypt(encrypt),
        v,
      );
      expect(error.message).toMatch(/owner key/);
    });
  });

  it('D2: successReply reproduces the self-computed reply', () => {
    const reply = cryptoFor(D2).successReply({
      random: Buffer.from(D2.random16, 'utf8'),
      timestamp: D2.timestamp,
      nonce: D2.nonce,
    });
    expect(reply).toEqual({
      msg_signature: D2.msg_signature,
      timeStamp: D2.timestamp,
      nonce: D2.nonce,
      encrypt: D2.encrypt,
    });
  });

  it('D3: the plaintext carries a 22-byte pad, which a 16-byte PKCS#7 decoder would reject', () => {
    const raw = rawPlaintext(D3);
    expect(raw.at(-1)).toBe(22);
    expect(cryptoFor(D3).decrypt(D3.encrypt).message).toBe(D3.message);
  });

  it('D1: the legacy corp-id owner key does not open an app-key payload', () => {
    expectBadRequest(() => cryptoFor(D1, { ownerKey: 'dingcorp0000000000' }).decrypt(D1.encrypt), D1);
  });

  it('R2: robot sign, URL-encoded', () => {
    expect(dingTalkRobotSign(R2.secret, R2.timestamp)).toBe(R2.sign_urlencoded);
    expect(dingTalkRobotSign(R2.secret, Number(R2.timestamp))).toBe(R2.sign_urlencoded);
    expect(dingTalkRobotSign(mutate(R2.secret), R2.timestamp)).not.toBe(R2.sign_urlencoded);
    expect(dingTalkRobotSign(R2.secret, mutate(R2.timestamp))).not.toBe(R2.sign_urlencoded);
    // The key is the secret and the message is timestamp + "\n" + secret (the opposite of Feishu).
    const base64 = createHmac('sha256', R2.secret).update(`${R2.timestamp}\n${R2.secret}`).digest('base64');
    expect(decodeURIComponent(dingTalkRobotSign(R2.secret, R2.timestamp))).toBe(base64);
  });
});

describe('DingTalk success reply', () => {
  const ding = createDingTalkCrypto({
    token: D1.token,
    aesKey: D1.aes_key,
    ownerKey: D1.owner_key,
    now: () => 1_700_000_000_123,
  });

  it('has a millisecond timeStamp, a 16-character nonce and a valid signature', () => {
    const reply = ding.successReply();
    expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
    expect(reply.timeStamp).toBe('1700000000123');
    expect(reply.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(reply.msg_signature).toBe(msgSignature(D1.token, reply.timeStamp, reply.nonce, reply.encrypt));
    expect(ding.decrypt(reply.encrypt)).toEqual({ message: 'success', receiverId: D1.owner_key });
  });

  it('uses a fresh random prefix and nonce each time', () => {
    const a = ding.successReply();
    const b = ding.successReply();
    expect(a.encrypt).not.toBe(b.encrypt);
    expect(a.nonce).not.toBe(b.nonce);
  });

  it('can seal another message', () => {
    expect(ding.decrypt(ding.successReply({ message: '{"ok":true}' }).encrypt).message).toBe('{"ok":true}');
  });

  it('refuses an injected nonce that is not 16 characters', () => {
    expectBadRequest(() => ding.successReply({ nonce: 'short' }), D1);
  });
});

describe('DingTalk rejections', () => {
  const ding = cryptoFor(D1);

  it('validates aes_key length and alphabet, naming it aes_key', () => {
    for (const aesKey of ['', D1.aes_key.slice(0, 42), `${D1.aes_key}x`, `${D1.aes_key.slice(0, 42)}_`]) {
      const error = expectBadRequest(
        () => createDingTalkCrypto({ token: D1.token, aesKey, ownerKey: D1.owner_key }),
        D1,
      );
      expect(error.message).toMatch(/^aes_key must/);
    }
  });

  it('rejects empty, non-base64, truncated and misaligned payloads', () => {
    const bytes = Buffer.from(D1.encrypt, 'base64');
    expectBadRequest(() => ding.decrypt(''), D1);
    expectBadRequest(() => ding.decrypt('%%%%'), D1);
    expectBadRequest(() => ding.decrypt(bytes.subarray(0, 32).toString('base64')), D1);
    expectBadRequest(() => ding.decrypt(bytes.subarray(0, 33).toString('base64')), D1);
  });

  it('rejects a signed payload whose signature does not match', () => {
    const error = expectBadRequest(
      () =>
        ding.open({
          signature: D2.msg_signature,
          timestamp: D1.timestamp,
          nonce: D1.nonce,
          encrypt: D1.encrypt,
        }),
      D1,
    );
    expect(error.message).toBe('callback signature does not match');
  });
});
