// Secrets at rest: AES-256-GCM under one master key (SIGNOFF_SECRET_KEY, or a key file made with mode 0600
// in the data directory at first start). Each sealed value is bound to where it belongs (the AAD), so a
// ciphertext copied into another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';

export interface SecretBox {
  seal(plaintext: string, boundTo: string): string;
  open(sealed: string, boundTo: string): string;
}

const version = 'v1';

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new AppError('bad_request', 'The secret key must be 32 bytes.');
  return {
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed, boundTo) {
      const [tag, data] = sealed.split(':');
      const raw = Buffer.from(data ?? '', 'base64');
      if (tag !== version || raw.length < 28) throw new AppError('internal', 'A stored secret is damaged.');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(boundTo));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new AppError(
          'internal',
          'A stored secret cannot be decrypted: SIGNOFF_SECRET_KEY (or data/secret.key) is not the key it was saved with.',
        );
      }
    },
  };
}

/** Where the master key lives when SIGNOFF_SECRET_KEY is not set. */
export const keyFilePath = (dataDir: string): string => join(dataDir, 'secret.key');

/**
 * The master key: from SIGNOFF_SECRET_KEY (64 hex characters or base64 of 32 bytes), else from
 * `<dataDir>/secret.key`, created (mode 0600) when missing.
 */
export function loadMasterKey(fromEnv: string | undefined, dataDir: string): Buffer {
  if (fromEnv) return parseKey(fromEnv, 'SIGNOFF_SECRET_KEY');
  const path = keyFilePath(dataDir);
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8').trim(), path);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${generateKey()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return parseKey(readFileSync(path, 'utf8').trim(), path);
}

/** The master key in use, and where it came from, without creating one (key rotation). */
export function findMasterKey(
  fromEnv: string | undefined,
  dataDir: string,
): { key: Buffer; source: 'env' | 'file'; path?: string } | undefined {
  if (fromEnv) return { key: parseKey(fromEnv, 'SIGNOFF_SECRET_KEY'), source: 'env' };
  const path = keyFilePath(dataDir);
  if (!existsSync(path)) return undefined;
  return { key: parseKey(readFileSync(path, 'utf8').trim(), path), source: 'file', path };
}

/** A new random master key, as 64 hex characters. */
export function generateKey(): string {
  return randomBytes(32).toString('hex');
}

export function parseKey(text: string, where: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw new AppError('bad_request', `${where} must hold a 32-byte key: 64 hex characters or its base64.`);
  }
  return key;
}
