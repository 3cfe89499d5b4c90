import { createHash, randomBytes } from 'node:crypto';

/** A short random id with a readable prefix, e.g. `usr_3kT9…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** An API token: 32 random bytes, shown once. Only its hash is stored. */
export function newToken(): string {
  return `so_${randomBytes(32).toString('base64url')}`;
}

// Tokens are 256-bit random values, so a plain SHA-256 is enough (no password-style stretching needed).
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
