// The WXBizMsgCrypt callback scheme shared by WeCom and DingTalk (DingCallbackCrypto is a port of it):
// msg_signature = hex(sha1(concat(sort([token, timestamp, nonce, encrypt])))), and
// encrypt = base64(AES-256-CBC(key, iv = key[0..16), random16 || uint32be(len) || msg || receiverId || pad)),
// padded PKCS#7-style to 32-byte blocks with library padding off. See reference/platforms.md §4.6, §5.4, §7.3.
//
// Every rejection is an AppError('bad_request') whose message never carries the key, the token or any
// decrypted byte: callers answer the vendor with it and may log it.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import { AppError } from '../../errors.js';

const AES_BLOCK_BYTES = 16;
/** The scheme pads to 32 bytes, so a valid pad byte is 1..32 (a 16-byte PKCS#7 decoder rejects some). */
const PAD_BLOCK_BYTES = 32;
const RANDOM_PREFIX_BYTES = 16;
const LENGTH_FIELD_BYTES = 4;
const HEADER_BYTES = RANDOM_PREFIX_BYTES + LENGTH_FIELD_BYTES;
const ENCODING_AES_KEY_CHARS = 43;
const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function reject(message: string): never {
  throw new AppError('bad_request', message);
}

/**
 * Constant-time string comparison for signatures. Strings of different byte length are a mismatch
 * (`timingSafeEqual` itself throws on unequal lengths).
 */
export function constantTimeEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Strict base64 decode: Node's decoder silently skips characters outside the alphabet, which would let a
 * mangled payload reach the cipher. `what` names the value in the error message.
 */
export function decodeBase64Strict(value: string, what: string): Buffer {
  if (value.length === 0) reject(`${what} is empty`);
  if (value.length % 4 !== 0 || !BASE64.test(value)) reject(`${what} is not valid base64`);
  return Buffer.from(value, 'base64');
}

/** `label` names the setting in errors (e.g. "EncodingAESKey", "aes_key"). */
export function decodeEncodingAesKey(encodingAesKey: string, label = 'EncodingAESKey'): Buffer {
  if (encodingAesKey.length !== ENCODING_AES_KEY_CHARS) {
    reject(`${label} must be exactly ${ENCODING_AES_KEY_CHARS} characters (got ${encodingAesKey.length})`);
  }
  if (!ENCODING_AES_KEY.test(encodingAesKey)) {
    reject(`${label} must contain only base64 characters (A-Z, a-z, 0-9, +, /)`);
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) reject(`${label} does not decode to a 32-byte AES key`);
  return key;
}

/** hex(sha1(concat(sort([token, timestamp, nonce, encrypt])))) — the WeCom/DingTalk `msg_signature`. */
export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  const parts = [token, timestamp, nonce, encrypt].sort();
  return createHash('sha1').update(parts.join(''), 'utf8').digest('hex');
}

/** A random nonce of letters and digits (DingTalk's reply nonce must be exactly 16 characters). */
export function randomNonce(length = 16): string {
  let nonce = '';
  for (let i = 0; i < length; i += 1) nonce += NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)];
  return nonce;
}

export interface MsgCryptOptions {
  token: string;
  /** The 43-character key the vendor console shows (WeCom EncodingAESKey, DingTalk aes_key). */
  encodingAesKey: string;
  /** Expected trailer of every plaintext: corp id (WeCom), app key / corp id / suite key (DingTalk). */
  receiverId: string;
  /** How the settings are called in the vendor console, for error messages. */
  labels?: { encodingAesKey?: string; receiverId?: string };
  /** Unit of generated timestamps: WeCom uses seconds, DingTalk milliseconds. */
  timestampUnit?: 'seconds' | 'milliseconds';
  /** Clock in epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

export interface EncryptOptions {
  /** The 16-byte random prefix; inject it for reproducible output (vectors), never in production. */
  random?: Uint8Array;
  timestamp?: string;
  nonce?: string;
}

export interface EncryptedMessage {
  encrypt: string;
  signature: string;
  timestamp: string;
  nonce: string;
}

export interface DecryptedMessage {
  message: string;
  receiverId: string;
}

export interface SignedPayload {
  signature: string | undefined;
  timestamp: string;
  nonce: string;
  encrypt: string;
}

export interface MsgCrypt {
  signature(timestamp: string, nonce: string, encrypt: string): string;
  /** Constant-time check of a received `msg_signature`; a missing one is a mismatch. */
  verify(signature: string | undefined, timestamp: string, nonce: string, encrypt: string): boolean;
  /** Decrypts and checks the receiver id; throws AppError('bad_request') on any defect. */
  decrypt(encrypt: string): DecryptedMessage;
  /** Verifies the signature first, then decrypts. */
  open(payload: SignedPayload): DecryptedMessage;
  encrypt(message: string, options?: EncryptOptions): EncryptedMessage;
}

export function createMsgCrypt(options: MsgCryptOptions): MsgCrypt {
  const keyLabel = options.labels?.encodingAesKey ?? 'EncodingAESKey';
  const receiverLabel = options.labels?.receiverId ?? 'receiver id';
  const key = decodeEncodingAesKey(options.encodingAesKey, keyLabel);
  const iv = key.subarray(0, AES_BLOCK_BYTES);
  if (options.token.length === 0) reject('callback token is empty');
  const { token } = options;
  const expectedReceiver = Buffer.from(options.receiverId, 'utf8');
  const now = options.now ?? Date.now;
  const timestampUnit = options.timestampUnit ?? 'seconds';

  const signature = (timestamp: string, nonce: string, encrypt: string): string =>
    msgSignature(token, timestamp, nonce, encrypt);

  const verify = (received: string | undefined, timestamp: string, nonce: string, encrypt: string): boolean =>
    received !== undefined && constantTimeEqual(signature(timestamp, nonce, encrypt), received);

  const decrypt = (encrypt: string): DecryptedMessage => {
    const ciphertext = decodeBase64Strict(encrypt, 'encrypted payload');
    if (ciphertext.length % AES_BLOCK_BYTES !== 0) {
      reject('encrypted payload length is not a multiple of the AES block size');
    }
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    decipher.setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);

    const pad = padded[padded.length - 1] ?? 0;
    if (pad < 1 || pad > PAD_BLOCK_BYTES || pad > padded.length) {
      reject('encrypted payload has invalid padding');
    }
    for (let i = padded.length - pad; i < padded.length; i += 1) {
      if (padded[i] !== pad) reject('encrypted payload has invalid padding');
    }
    const plain = padded.subarray(0, padded.length - pad);
    if (plain.length < HEADER_BYTES) reject('encrypted payload is too short');
    const length = plain.readUInt32BE(RANDOM_PREFIX_BYTES);
    if (length > plain.length - HEADER_BYTES) {
      reject('encrypted payload declares a message longer than itself');
    }
    const messageBytes = plain.subarray(HEADER_BYTES, HEADER_BYTES + length);
    const receiverBytes = plain.subarray(HEADER_BYTES + length);
    if (!receiverBytes.equals(expectedReceiver)) {
      reject(`encrypted payload is for a different ${receiverLabel} than the one configured`);
    }
    let message: string;
    try {
      message = strictUtf8.decode(messageBytes);
    } catch {
      reject('decrypted message is not valid UTF-8');
    }
    return { message, receiverId: options.receiverId };
  };

  const open = (payload: SignedPayload): DecryptedMessage => {
    if (payload.encrypt.length === 0) reject('encrypted payload is empty');
    if (!verify(payload.signature, payload.timestamp, payload.nonce, payload.encrypt)) {
      reject('callback signature does not match');
    }
    return decrypt(payload.encrypt);
  };

  const encrypt = (message: string, encryptOptions: EncryptOptions = {}): EncryptedMessage => {
    const random = encryptOptions.random ?? randomBytes(RANDOM_PREFIX_BYTES);
    if (random.length !== RANDOM_PREFIX_BYTES) reject(`random prefix must be ${RANDOM_PREFIX_BYTES} bytes`);
    const messageBytes = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(LENGTH_FIELD_BYTES);
    length.writeUInt32BE(messageBytes.length);
    const body = Buffer.concat([random, length, messageBytes, expectedReceiver]);
    const pad = PAD_BLOCK_BYTES - (body.length % PAD_BLOCK_BYTES);
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    cipher.setAutoPadding(false);
    const encrypted = Buffer.concat([
      cipher.update(body),
      cipher.update(Buffer.alloc(pad, pad)),
      cipher.final(),
    ]);
    const encryptB64 = encrypted.toString('base64');
    const millis = now();
    const timestamp =
      encryptOptions.timestamp ??
      String(timestampUnit === 'milliseconds' ? Math.floor(millis) : Math.floor(millis / 1000));
    const nonce = encryptOptions.nonce ?? randomNonce();
    return { encrypt: encryptB64, signature: signature(timestamp, nonce, encryptB64), timestamp, nonce };
  };

  return { signature, verify, decrypt, open, encrypt };
}
