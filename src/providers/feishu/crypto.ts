// Feishu / Lark crypto (reference/platforms.md §3.5, §3.9, §6.9, §7.3): encrypted event bodies,
// X-Lark-Signature, the legacy card-callback signature and custom-bot webhook signing.
//
// Rejections are AppError('bad_request') whose messages never carry the key or any decrypted byte.

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import { constantTimeEqual, decodeBase64Strict } from '../shared/msg-crypt.js';

const AES_BLOCK_BYTES = 16;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function reject(message: string): never {
  throw new AppError('bad_request', message);
}

/** key = SHA-256(UTF-8 Encrypt Key), 32 bytes. */
function eventKey(encryptKey: string): Buffer {
  if (encryptKey.length === 0) reject('Feishu Encrypt Key is empty');
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/**
 * Decrypts the `encrypt` field of an encrypted event body: base64(iv(16) || AES-256-CBC(PKCS#7/16)).
 * Returns the plaintext JSON text.
 */
export function decryptFeishuEvent(encryptKey: string, encrypt: string): string {
  const key = eventKey(encryptKey);
  const buf = decodeBase64Strict(encrypt, 'encrypted event');
  if (buf.length % AES_BLOCK_BYTES !== 0) {
    reject('encrypted event length is not a multiple of the AES block size');
  }
  if (buf.length < 2 * AES_BLOCK_BYTES) reject('encrypted event is too short');
  const decipher = createDecipheriv('aes-256-cbc', key, buf.subarray(0, AES_BLOCK_BYTES));
  // Padding is checked by hand so every defect becomes the same kind of error, not an OpenSSL one.
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(buf.subarray(AES_BLOCK_BYTES)), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  if (pad < 1 || pad > AES_BLOCK_BYTES) reject('encrypted event has invalid padding');
  for (let i = padded.length - pad; i < padded.length; i += 1) {
    if (padded[i] !== pad) reject('encrypted event has invalid padding');
  }
  try {
    return strictUtf8.decode(padded.subarray(0, padded.length - pad));
  } catch {
    return reject('decrypted event is not valid UTF-8');
  }
}

/** The inverse of `decryptFeishuEvent` (for fakes and tests). Inject `iv` only for reproducible output. */
export function encryptFeishuEvent(
  encryptKey: string,
  plaintext: string,
  options: { iv?: Uint8Array } = {},
): string {
  const key = eventKey(encryptKey);
  const iv = options.iv ?? randomBytes(AES_BLOCK_BYTES);
  if (iv.length !== AES_BLOCK_BYTES) reject(`IV must be ${AES_BLOCK_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

export interface FeishuSignedRequest {
  /** `X-Lark-Request-Timestamp` */
  timestamp: string;
  /** `X-Lark-Request-Nonce` */
  nonce: string;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
}

function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** hex(SHA-256(timestamp + nonce + encryptKey + rawBody)): the expected `X-Lark-Signature`. */
export function feishuSignature(encryptKey: string, request: FeishuSignedRequest): string {
  if (encryptKey.length === 0) reject('Feishu Encrypt Key is empty');
  return sha256Hex(request.timestamp, request.nonce, encryptKey, request.body);
}

/** Constant-time check of `X-Lark-Signature`; a missing header is a mismatch. */
export function verifyFeishuSignature(
  encryptKey: string,
  request: FeishuSignedRequest & { signature: string | undefined },
): boolean {
  return (
    request.signature !== undefined &&
    constantTimeEqual(feishuSignature(encryptKey, request), request.signature)
  );
}

/** Legacy unencrypted card callbacks: hex(SHA-1(timestamp + nonce + verificationToken + rawBody)). */
export function feishuCardSignature(verificationToken: string, request: FeishuSignedRequest): string {
  if (verificationToken.length === 0) reject('Feishu Verification Token is empty');
  const hash = createHash('sha1');
  for (const part of [request.timestamp, request.nonce, verificationToken, request.body]) hash.update(part);
  return hash.digest('hex');
}

/** Constant-time check of a legacy card callback's `X-Lark-Signature`. */
export function verifyFeishuCardSignature(
  verificationToken: string,
  request: FeishuSignedRequest & { signature: string | undefined },
): boolean {
  return (
    request.signature !== undefined &&
    constantTimeEqual(feishuCardSignature(verificationToken, request), request.signature)
  );
}

/**
 * Custom-bot webhook `sign`: base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")),
 * `timestamp` in seconds. The string-to-sign is the HMAC *key* (the opposite of DingTalk robots).
 */
export function feishuBotSign(secret: string, timestamp: string | number): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
}
