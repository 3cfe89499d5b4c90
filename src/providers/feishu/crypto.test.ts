import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import {
  decryptFeishuEvent,
  encryptFeishuEvent,
  feishuBotSign,
  feishuCardSignature,
  feishuSignature,
  verifyFeishuCardSignature,
  verifyFeishuSignature,
} from './crypto.js';

// reference/platforms.md §7.2: "feishu_aes", "feishu_signature" and "bot_sign" R1.
const aesVectors = [
  {
    id: 'F1',
    encrypt_key: 'test key',
    encrypt: 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=',
    plaintext: 'hello world',
  },
  {
    id: 'F2',
    encrypt_key: 'mazhe.nerd',
    encrypt:
      'tT1xP+ovuc0T3b/rnZX3ax76exqAn0ANQ6/U45GcciC0mgNBc8JtvqOJGNAPMKpgRs2dVU1NYk9VDeqS8T4SYtU0hzNU54aS84WnxvZ3VFfDcy/RyABlNqlUiGyLDzFI0yxdCMT4KR/YEQXlt6nZi50KwRlZ+A75r645KesZuLMljezYyY8VeeXEVjPw35+e',
    plaintext:
      '{"challenge":"5634b122-c042-4634-bc7f-b07a3c3e77ad","token":"iRdCP2WwXNBXRM3mGLqhrgch3cn0gbT6","type":"url_verification"}',
  },
  {
    id: 'F3',
    encrypt_key: 'kudryavka',
    encrypt:
      'FIAfJPGRmFZWkaxPQ1XrJZVbv2JwdjfLk4jx0k/U1deAqYK3AXOZ5zcHt/cC4ZNTqYwWUW/EoL+b2hW/C4zoAQQ5CeMtbxX2zHjm+E4nX/Aww+FHUL6iuIMaeL2KLxqdtbHRC50vgC2YI7xohnb3KuCNBMUzLiPeNIpVdnYaeteCmSaESb+AZpJB9PExzTpRDzCRv+T6o5vlzaE8UgIneC1sYu85BnPBEMTSuj1ZZzfdQi7ZW992Z4dmJxn9e8FL2VArNm99f5Io3c2O4AcNsQENNKtfAAxVjCqc3mg5jF0nKabA+u/5vrUD76flX1UOF5fzJ0sApG2OEn9wfyPDRBsApn9o+fceF9hNrYBGsdtZrZYyGG387CGOtKsuj8e2E8SNp+Pn4E9oYejOTR+ZNLNi+twxaXVlJhr6l+RXYwEiMGQE9zGFBD6h2dOhKh3W84p1GEYnSRIz1+9/Hp66arjC7RCrhuW5OjCj4QFEQJiwgL45XryxHtiZ7JdAlPmjVsL03CxxFZarzxzffryrWUG3VkRdHRHbTsC34+ScoL5MTDU1QAWdqUC1T7xT0lCvQELaIhBTXAYrznJl6PlA83oqlMxpHh0gZBB1jFbfoUr7OQbBs1xqzpYK6Yjux6diwpQB1zlZErYJUfCqK7G/zI9yK/60b4HW0k3M+AvzMcw=',
    plaintext:
      '{"uuid":"5226cd85b4d843dccee2e279d93f3ed3","event":{"app_id":"cli_9e28cb7ba56a100e","before_status":{"is_active":true,"is_frozen":true,"is_resigned":false},"change_time":"2020-05-20 18:33:25","current_status":{"is_active":true,"is_frozen":false,"is_resigned":false},"employee_id":"75ge6c49","open_id":"ou_2ef04637d933f798dcb92c99e845ed09","tenant_key":"2d520d3b434f175e","type":"user_status_change"},"token":"GzhQEyfUcx7eEungQFWtXgCbxSpUOJIb","ts":"1589970805.376395","type":"event_callback"}',
  },
] as const;

const signatureVectors = [
  {
    id: 'F4',
    timestamp: '1700000000',
    nonce: 'abc123',
    encrypt_key: 'test key',
    raw_body: '{"encrypt":"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}',
    x_lark_signature: '69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aad',
  },
  {
    id: 'F5',
    timestamp: '1600000000',
    nonce: 'nonce123',
    encrypt_key: 'test key',
    raw_body: '{"encrypt":"abc"}',
    x_lark_signature: 'f47291749af350e4fff4b590f70deab2a2cebd42764fe256bf04501b36987dbb',
  },
] as const;

const R1 = {
  id: 'R1',
  secret: 'demo',
  timestamp: '1599360473',
  sign: 'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=',
};

const KEY = 'test key';
const PLAINTEXT = 'hello world';

function expectBadRequest(run: () => unknown, leaks: string[] = [KEY, PLAINTEXT]): AppError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('bad_request');
  for (const secret of leaks) expect(error.message).not.toContain(secret);
  return error;
}

/** iv || AES-256-CBC(sha256(key)) over bytes we lay out ourselves, padding off (to forge bad payloads). */
function rawEncrypt(plain: Buffer, iv = Buffer.alloc(16, 9)): string {
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(KEY).digest(), iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64');
}

/** Test names start with the bare vector id (`$id` would print it quoted). */
function byId<V extends { id: string }>(vectors: readonly V[]): [string, V][] {
  return vectors.map((v) => [v.id, v]);
}

function mutate(value: string): string {
  const last = value.at(-1);
  return `${value.slice(0, -1)}${last === 'A' ? 'B' : last === '0' ? '1' : 'A'}`;
}

describe('Feishu AES vectors (platforms.md §7.2)', () => {
  it.each(byId(aesVectors))('%s: decrypt', (_id, v) => {
    expect(decryptFeishuEvent(v.encrypt_key, v.encrypt)).toBe(v.plaintext);
  });

  it.each(byId(aesVectors))('%s: re-encrypting with the same IV reproduces the ciphertext', (_id, v) => {
    const iv = Buffer.from(v.encrypt, 'base64').subarray(0, 16);
    expect(encryptFeishuEvent(v.encrypt_key, v.plaintext, { iv })).toBe(v.encrypt);
  });

  it.each(byId(aesVectors))('%s: a one-character change to the key fails', (_id, v) => {
    expectBadRequest(
      () => decryptFeishuEvent(mutate(v.encrypt_key), v.encrypt),
      [v.encrypt_key, v.plaintext],
    );
  });
});

describe('Feishu signature vectors (platforms.md §7.2)', () => {
  it.each(byId(signatureVectors))('%s: X-Lark-Signature', (_id, v) => {
    const request = { timestamp: v.timestamp, nonce: v.nonce, body: v.raw_body };
    expect(feishuSignature(v.encrypt_key, request)).toBe(v.x_lark_signature);
    expect(feishuSignature(v.encrypt_key, { ...request, body: Buffer.from(v.raw_body) })).toBe(
      v.x_lark_signature,
    );
    expect(verifyFeishuSignature(v.encrypt_key, { ...request, signature: v.x_lark_signature })).toBe(true);
  });

  it.each(byId(signatureVectors))('%s: a one-character change to any input fails', (_id, v) => {
    const signed = {
      timestamp: v.timestamp,
      nonce: v.nonce,
      body: v.raw_body,
      signature: v.x_lark_signature,
    };
    expect(verifyFeishuSignature(v.encrypt_key, { ...signed, signature: mutate(v.x_lark_signature) })).toBe(
      false,
    );
    expect(verifyFeishuSignature(v.encrypt_key, { ...signed, timestamp: mutate(v.timestamp) })).toBe(false);
    expect(verifyFeishuSignature(v.encrypt_key, { ...signed, nonce: mutate(v.nonce) })).toBe(false);
    expect(verifyFeishuSignature(v.encrypt_key, { ...signed, body: `${v.raw_body} ` })).toBe(false);
    expect(verifyFeishuSignature(mutate(v.encrypt_key), signed)).toBe(false);
  });
});

describe('Feishu custom bot (platforms.md §3.9)', () => {
  it('R1: bot sign', () => {
    expect(feishuBotSign(R1.secret, R1.timestamp)).toBe(R1.sign);
    expect(feishuBotSign(R1.secret, Number(R1.timestamp))).toBe(R1.sign);
    expect(feishuBotSign(mutate(R1.secret), R1.timestamp)).not.toBe(R1.sign);
    expect(feishuBotSign(R1.secret, mutate(R1.timestamp))).not.toBe(R1.sign);
  });

  it('R1: the string-to-sign is the HMAC key and the message is empty (not the DingTalk layout)', () => {
    const dingTalkLayout = createHmac('sha256', R1.secret)
      .update(`${R1.timestamp}\n${R1.secret}`)
      .digest('base64');
    expect(feishuBotSign(R1.secret, R1.timestamp)).not.toBe(dingTalkLayout);
  });
});

describe('Feishu signatures', () => {
  const request = { timestamp: '1700000000', nonce: 'abc123', body: '{"a":"é"}' };

  it('signs raw bytes, not re-serialised JSON', () => {
    const bytes = Buffer.from(request.body, 'utf8');
    expect(feishuSignature(KEY, { ...request, body: bytes })).toBe(feishuSignature(KEY, request));
    expect(feishuSignature(KEY, { ...request, body: '{"a":"\\u00e9"}' })).not.toBe(
      feishuSignature(KEY, request),
    );
  });

  it('treats a missing or differently sized header as a mismatch', () => {
    const signature = feishuSignature(KEY, request);
    expect(verifyFeishuSignature(KEY, { ...request, signature: undefined })).toBe(false);
    expect(verifyFeishuSignature(KEY, { ...request, signature: '' })).toBe(false);
    expect(verifyFeishuSignature(KEY, { ...request, signature: signature.slice(2) })).toBe(false);
    expect(verifyFeishuSignature(KEY, { ...request, signature: `${signature}00` })).toBe(false);
    expect(verifyFeishuSignature(KEY, { ...request, signature: signature.toUpperCase() })).toBe(false);
  });

  it('refuses to sign with an empty Encrypt Key', () => {
    expectBadRequest(() => feishuSignature('', request));
  });

  it('legacy card callbacks: sha1(timestamp + nonce + verificationToken + body)', () => {
    const token = 'verification-token';
    const expected = createHash('sha1').update(`1700000000abc123${token}${request.body}`).digest('hex');
    expect(feishuCardSignature(token, request)).toBe(expected);
    expect(verifyFeishuCardSignature(token, { ...request, signature: expected })).toBe(true);
    expect(verifyFeishuCardSignature(token, { ...request, signature: mutate(expected) })).toBe(false);
    expect(verifyFeishuCardSignature(token, { ...request, signature: undefined })).toBe(false);
    expect(verifyFeishuCardSignature(mutate(token), { ...request, signature: expected })).toBe(false);
    expectBadRequest(() => feishuCardSignature('', request));
  });
});

describe('Feishu event encryption', () => {
  it.each([
    ['empty', ''],
    ['15 bytes', 'a'.repeat(15)],
    ['16 bytes', 'a'.repeat(16)],
    ['multi-byte UTF-8', '{"text":"审批通过 ✅"}'],
    ['large', JSON.stringify({ data: 'x'.repeat(50_000) })],
  ])('round-trips %s', (_name, plaintext) => {
    const encrypt = encryptFeishuEvent(KEY, plaintext);
    expect(decryptFeishuEvent(KEY, encrypt)).toBe(plaintext);
  });

  it('uses a fresh IV each time', () => {
    expect(encryptFeishuEvent(KEY, PLAINTEXT)).not.toBe(encryptFeishuEvent(KEY, PLAINTEXT));
  });

  it('refuses an IV that is not 16 bytes and an empty Encrypt Key', () => {
    expectBadRequest(() => encryptFeishuEvent(KEY, PLAINTEXT, { iv: Buffer.alloc(8) }));
    expectBadRequest(() => encryptFeishuEvent('', PLAINTEXT));
  });
});

describe('Feishu decryption rejections', () => {
  // A fixed IV keeps the wrong-key case deterministic.
  const valid = encryptFeishuEvent(KEY, PLAINTEXT, { iv: Buffer.alloc(16, 3) });
  const validBytes = Buffer.from(valid, 'base64');

  it('empty input and empty key', () => {
    expect(expectBadRequest(() => decryptFeishuEvent(KEY, '')).message).toBe('encrypted event is empty');
    expectBadRequest(() => decryptFeishuEvent('', valid));
  });

  it.each([
    ['symbols', '!!!!'],
    ['length not a multiple of 4', valid.slice(0, -1)],
    ['embedded whitespace', `${valid.slice(0, 4)} ${valid.slice(5)}`],
    ['URL-safe alphabet', `${valid.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}__`],
    ['a JSON body instead of the encrypt field', '{"encrypt":"abc"}'],
  ])('non-base64 input: %s', (_name, input) => {
    expect(expectBadRequest(() => decryptFeishuEvent(KEY, input)).message).toMatch(
      /base64|too short|multiple/,
    );
  });

  it('truncated ciphertext: IV only, or a block missing', () => {
    expect(
      expectBadRequest(() => decryptFeishuEvent(KEY, validBytes.subarray(0, 16).toString('base64'))).message,
    ).toBe('encrypted event is too short');
    expectBadRequest(() => decryptFeishuEvent(KEY, validBytes.subarray(0, 8).toString('base64')));
    const twoBlocks = encryptFeishuEvent(KEY, 'x'.repeat(20), { iv: Buffer.alloc(16) });
    const oneBlock = Buffer.from(twoBlocks, 'base64').subarray(0, 32).toString('base64');
    expectBadRequest(() => decryptFeishuEvent(KEY, oneBlock), [KEY, 'x'.repeat(20)]);
  });

  it('ciphertext not a multiple of the block size', () => {
    const bad = validBytes.subarray(0, validBytes.length - 1).toString('base64');
    expect(expectBadRequest(() => decryptFeishuEvent(KEY, bad)).message).toMatch(
      /multiple of the AES block size/,
    );
    const f3 = Buffer.from(aesVectors[2].encrypt, 'base64');
    const f3Misaligned = Buffer.concat([f3, Buffer.alloc(3)]).toString('base64');
    expectBadRequest(
      () => decryptFeishuEvent(aesVectors[2].encrypt_key, f3Misaligned),
      [aesVectors[2].encrypt_key],
    );
  });

  it.each([
    ['value 0', Buffer.concat([Buffer.from('hello world'), Buffer.alloc(5, 0)])],
    ['value 17', Buffer.concat([Buffer.from('hello world'), Buffer.alloc(21, 17)])],
    ['value 32', Buffer.concat([Buffer.from('hello world'), Buffer.alloc(21, 32)])],
    ['inconsistent bytes', Buffer.concat([Buffer.from('hello world'), Buffer.from([5, 5, 4, 5, 5])])],
  ])('bad PKCS#7 padding: %s', (_name, plain) => {
    expect(expectBadRequest(() => decryptFeishuEvent(KEY, rawEncrypt(plain))).message).toBe(
      'encrypted event has invalid padding',
    );
  });

  it('plaintext that is not UTF-8', () => {
    const plain = Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.alloc(14, 14)]);
    expect(expectBadRequest(() => decryptFeishuEvent(KEY, rawEncrypt(plain))).message).toMatch(/UTF-8/);
  });

  it('wrong key', () => {
    expectBadRequest(() => decryptFeishuEvent('another key', valid));
  });

  it('never throws anything but a bad_request AppError on arbitrary input', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 500; i += 1) {
      const bytes = Buffer.from(Array.from({ length: next() % 100 }, () => next() % 256));
      try {
        decryptFeishuEvent(KEY, bytes.toString('base64'));
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('bad_request');
      }
    }
  });
});
