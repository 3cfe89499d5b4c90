import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import {
  constantTimeEqual,
  createMsgCrypt,
  decodeBase64Strict,
  decodeEncodingAesKey,
  msgSignature,
  randomNonce,
} from './msg-crypt.js';

// Credentials of vector W1 (reference/platforms.md §7.2); the rejection tests craft payloads under them.
const token = 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo';
const encodingAesKey = '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt';
const receiverId = 'ww1436e0e65a779aee';
const key = Buffer.from(`${encodingAesKey}=`, 'base64');
const secrets = [token, encodingAesKey, key.toString('hex'), key.toString('base64')];

const crypt = createMsgCrypt({ token, encodingAesKey, receiverId });
const random16 = Buffer.from('0123456789abcdef');

/** Asserts a bad_request AppError whose message leaks none of the secrets nor `plaintext`. */
function expectBadRequest(run: () => unknown, plaintext: string[] = []): AppError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('bad_request');
  for (const secret of [...secrets, ...plaintext]) expect(error.message).not.toContain(secret);
  return error;
}

/** AES-256-CBC with library padding off over bytes we lay out ourselves (to forge malformed payloads). */
function rawEncrypt(plain: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function layout(message: string, receiver: string, declaredLength?: number): Buffer {
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(declaredLength ?? body.length);
  return Buffer.concat([random16, length, body, Buffer.from(receiver, 'utf8')]);
}

function pad32(body: Buffer): Buffer {
  const pad = 32 - (body.length % 32);
  return Buffer.concat([body, Buffer.alloc(pad, pad)]);
}

describe('msgSignature', () => {
  it('is sha1 over the four sorted strings', () => {
    const expected = createHash('sha1').update(['b', 'a', 'd', 'c'].sort().join('')).digest('hex');
    expect(msgSignature('b', 'a', 'd', 'c')).toBe(expected);
    expect(msgSignature('d', 'c', 'b', 'a')).toBe(expected);
  });
});

describe('constantTimeEqual', () => {
  it('compares equal-length strings and treats unequal lengths as a mismatch', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('abc', '')).toBe(false);
  });
});

describe('key and option validation', () => {
  it('accepts a 43-character key and decodes it to 32 bytes', () => {
    expect(decodeEncodingAesKey(encodingAesKey)).toEqual(key);
  });

  it.each([
    ['empty', ''],
    ['42 characters', encodingAesKey.slice(0, 42)],
    ['44 characters', `${encodingAesKey}=`],
    ['a non-base64 character', `${encodingAesKey.slice(0, 42)}-`],
    ['a space', ` ${encodingAesKey.slice(1)}`],
  ])('rejects a key with %s', (_name, badKey) => {
    const error = expectBadRequest(() => createMsgCrypt({ token, encodingAesKey: badKey, receiverId }));
    expect(error.message).toMatch(/EncodingAESKey/);
  });

  it('names the setting the way the vendor console does', () => {
    const error = expectBadRequest(() =>
      createMsgCrypt({ token, encodingAesKey: 'short', receiverId, labels: { encodingAesKey: 'aes_key' } }),
    );
    expect(error.message).toMatch(/^aes_key must be exactly 43 characters/);
  });

  it('rejects an empty token', () => {
    expectBadRequest(() => createMsgCrypt({ token: '', encodingAesKey, receiverId }));
  });

  it('rejects a random prefix that is not 16 bytes', () => {
    expectBadRequest(() => crypt.encrypt('x', { random: Buffer.alloc(15) }));
    expectBadRequest(() => crypt.encrypt('x', { random: Buffer.alloc(17) }));
  });
});

describe('round trip', () => {
  it.each([
    ['empty message', ''],
    ['ASCII', 'success'],
    ['multi-byte UTF-8', '审批通过 ✅ — 你好'],
    ['exactly fills a 32-byte block', 'x'.repeat(32 - 20 - receiverId.length + 32)],
    ['long', 'y'.repeat(10_000)],
  ])('encrypts and decrypts %s', (_name, message) => {
    const sealed = crypt.encrypt(message, { timestamp: '1700000000', nonce: 'n0nce' });
    expect(Buffer.from(sealed.encrypt, 'base64').length % 32).toBe(0);
    expect(sealed.signature).toBe(msgSignature(token, '1700000000', 'n0nce', sealed.encrypt));
    expect(crypt.verify(sealed.signature, sealed.timestamp, sealed.nonce, sealed.encrypt)).toBe(true);
    expect(crypt.decrypt(sealed.encrypt)).toEqual({ message, receiverId });
    expect(crypt.open({ ...sealed })).toEqual({ message, receiverId });
  });

  it('pads a full block with 32 bytes of value 32', () => {
    const message = 'z'.repeat(64 - 20 - receiverId.length);
    const { encrypt } = crypt.encrypt(message, { random: random16 });
    expect(encrypt).toBe(rawEncrypt(Buffer.concat([layout(message, receiverId), Buffer.alloc(32, 32)])));
    expect(crypt.decrypt(encrypt).message).toBe(message);
  });

  it('is deterministic with an injected random prefix, and random without one', () => {
    const a = crypt.encrypt('m', { random: random16, timestamp: '1', nonce: 'n' });
    const b = crypt.encrypt('m', { random: random16, timestamp: '1', nonce: 'n' });
    expect(a).toEqual(b);
    expect(a.encrypt).toBe(rawEncrypt(pad32(layout('m', receiverId))));
    expect(crypt.encrypt('m').encrypt).not.toBe(crypt.encrypt('m').encrypt);
  });

  it('generates timestamps from the injected clock in the configured unit', () => {
    const clock = () => 1_700_000_123_456;
    const seconds = createMsgCrypt({ token, encodingAesKey, receiverId, now: clock });
    const millis = createMsgCrypt({
      token,
      encodingAesKey,
      receiverId,
      now: clock,
      timestampUnit: 'milliseconds',
    });
    expect(seconds.encrypt('m').timestamp).toBe('1700000123');
    expect(millis.encrypt('m').timestamp).toBe('1700000123456');
  });

  it('generates 16-character alphanumeric nonces', () => {
    const { nonce } = crypt.encrypt('m');
    expect(nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(randomNonce(8)).toMatch(/^[A-Za-z0-9]{8}$/);
  });

  it('supports an empty receiver id', () => {
    const anonymous = createMsgCrypt({ token, encodingAesKey, receiverId: '' });
    expect(anonymous.decrypt(anonymous.encrypt('hi').encrypt)).toEqual({ message: 'hi', receiverId: '' });
  });
});

describe('rejections', () => {
  const message = 'secret plaintext';
  const valid = crypt.encrypt(message, { random: random16, timestamp: '1476416373', nonce: '47744683' });
  const validBytes = Buffer.from(valid.encrypt, 'base64');

  it('wrong signature', () => {
    const flipped = `${valid.signature.slice(0, -1)}${valid.signature.endsWith('0') ? '1' : '0'}`;
    expect(crypt.verify(flipped, valid.timestamp, valid.nonce, valid.encrypt)).toBe(false);
    expect(crypt.verify(valid.signature.toUpperCase(), valid.timestamp, valid.nonce, valid.encrypt)).toBe(
      false,
    );
    expect(crypt.verify(valid.signature.slice(1), valid.timestamp, valid.nonce, valid.encrypt)).toBe(false);
    expect(crypt.verify(undefined, valid.timestamp, valid.nonce, valid.encrypt)).toBe(false);
    expect(crypt.verify(valid.signature, '1476416374', valid.nonce, valid.encrypt)).toBe(false);
    const error = expectBadRequest(() => crypt.open({ ...valid, signature: 'f'.repeat(40) }), [message]);
    expect(error.message).toBe('callback signature does not match');
    expectBadRequest(() => crypt.open({ ...valid, signature: undefined }));
  });

  it('signature from another token', () => {
    const other = createMsgCrypt({ token: 'another-token', encodingAesKey, receiverId });
    expect(other.verify(valid.signature, valid.timestamp, valid.nonce, valid.encrypt)).toBe(false);
  });

  it('truncated ciphertext (whole blocks dropped)', () => {
    expectBadRequest(() => crypt.decrypt(validBytes.subarray(0, 16).toString('base64')), [message]);
    expectBadRequest(
      () => crypt.decrypt(validBytes.subarray(0, validBytes.length - 16).toString('base64')),
      [message],
    );
  });

  it('ciphertext not a multiple of the block size', () => {
    const error = expectBadRequest(() =>
      crypt.decrypt(validBytes.subarray(0, validBytes.length - 1).toString('base64')),
    );
    expect(error.message).toMatch(/multiple of the AES block size/);
    expectBadRequest(() => crypt.decrypt(Buffer.alloc(17).toString('base64')));
    expectBadRequest(() => crypt.decrypt(Buffer.alloc(1).toString('base64')));
  });

  it.each([
    ['value 0', (body: Buffer) => Buffer.concat([body, Buffer.alloc(32 - (body.length % 32), 0)])],
    ['value 33', (body: Buffer) => Buffer.concat([body.subarray(0, 32), Buffer.alloc(32, 33)])],
    ['value 255', (body: Buffer) => Buffer.concat([body, Buffer.alloc(32 - (body.length % 32), 255)])],
    [
      'inconsistent bytes',
      (body: Buffer) => {
        const padded = pad32(body);
        padded[padded.length - 2] = (padded[padded.length - 1] ?? 0) + 1;
        return padded;
      },
    ],
  ])('bad PKCS#7 padding: %s', (_name, forge) => {
    const body = layout(message, receiverId);
    const error = expectBadRequest(() => crypt.decrypt(rawEncrypt(forge(body))), [message]);
    expect(error.message).toBe('encrypted payload has invalid padding');
  });

  it('pad value larger than the whole plaintext', () => {
    expectBadRequest(() => crypt.decrypt(rawEncrypt(Buffer.alloc(16, 32))));
  });

  it('declared length larger than the plaintext', () => {
    const body = layout(message, receiverId, message.length + receiverId.length + 1);
    const error = expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(body))), [message]);
    expect(error.message).toBe('encrypted payload declares a message longer than itself');
    expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(layout(message, receiverId, 0xffffffff)))));
  });

  it('plaintext shorter than the 20-byte header', () => {
    const error = expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(Buffer.alloc(19, 7)))));
    expect(error.message).toBe('encrypted payload is too short');
  });

  it('wrong receiver id', () => {
    const error = expectBadRequest(
      () => crypt.decrypt(rawEncrypt(pad32(layout(message, 'ww-other')))),
      [message, 'ww-other'],
    );
    expect(error.message).toBe('encrypted payload is for a different receiver id than the one configured');
    const other = createMsgCrypt({ token, encodingAesKey, receiverId: 'ww-other' });
    expectBadRequest(() => other.decrypt(valid.encrypt), [message]);
    expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(layout(message, `${receiverId}x`)))));
    expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(layout(message, '')))));
  });

  it('wrong key', () => {
    const other = createMsgCrypt({ token, encodingAesKey: 'A'.repeat(43), receiverId });
    expectBadRequest(() => other.decrypt(valid.encrypt), [message]);
  });

  it('message that is not UTF-8', () => {
    const body = Buffer.concat([
      random16,
      Buffer.from([0, 0, 0, 2]),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(receiverId),
    ]);
    expect(expectBadRequest(() => crypt.decrypt(rawEncrypt(pad32(body)))).message).toMatch(/UTF-8/);
  });

  it('empty input', () => {
    expect(expectBadRequest(() => crypt.decrypt('')).message).toBe('encrypted payload is empty');
    expectBadRequest(() =>
      crypt.open({ signature: msgSignature(token, '1', '2', ''), timestamp: '1', nonce: '2', encrypt: '' }),
    );
  });

  it.each([
    ['symbols', '!!!!'],
    ['length not a multiple of 4', valid.encrypt.slice(0, -1)],
    ['URL-safe alphabet', `${valid.encrypt.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}AA`],
    ['embedded whitespace', `${valid.encrypt.slice(0, 8)} ${valid.encrypt.slice(9)}`],
    ['padding in the middle', `AA==${valid.encrypt}`],
    ['non-ASCII', '你好你好'],
  ])('non-base64 input: %s', (_name, input) => {
    expect(expectBadRequest(() => crypt.decrypt(input)).message).toMatch(/base64|multiple of the AES block/);
  });

  it('never throws anything but a bad_request AppError on arbitrary input', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 500; i += 1) {
      const bytes = Buffer.from(Array.from({ length: next() % 130 }, () => next() % 256));
      const input = bytes.toString('base64');
      try {
        crypt.decrypt(input);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('bad_request');
      }
    }
  });

  it('decodeBase64Strict accepts canonical base64 only', () => {
    expect(decodeBase64Strict('aGk=', 'x').toString()).toBe('hi');
    expect(decodeBase64Strict('aGkh', 'x').toString()).toBe('hi!');
    expectBadRequest(() => decodeBase64Strict('aGk', 'x'));
    expectBadRequest(() => decodeBase64Strict('a===', 'x'));
  });
});
