// Vendor access tokens in the database, so that every instance on it uses one token per app's credentials
// instead of asking the vendor for its own (vendors limit token requests, and Feishu hands out a new
// token to every ask). Tokens are sealed like every other secret, bound to their key; a token that does
// not open (sealed under an earlier master key) counts as missing and is fetched again. `signoff
// rotate-key` simply drops them all.
//
// Each process keeps the tokens it has read in memory, so a vendor call costs no database read; the
// database is read on a miss, and under the refill lock when the token in memory is due for renewal.
import type { StoredToken, TokenStore } from '../providers/types.js';
import type { Db, Queryable } from './db.js';
import type { SecretBox } from './secret-box.js';

const boundTo = (key: string) => `vendor_token:${key}`;
/** Rows whose token expired this long ago are pruned (credentials changed, apps removed). */
const pruneAfterMs = 24 * 3_600_000;

export interface DatabaseTokenStoreOptions {
  /**
   * Several processes share the database (PostgreSQL): a refill takes a lock in the database so that only
   * one of them asks the vendor. On PGlite there is one process, and the in-process single flight suffices.
   */
  shared: boolean;
  now?: () => number;
}

export function databaseTokenStore(db: Db, box: SecretBox, options: DatabaseTokenStoreOptions): TokenStore {
  const now = options.now ?? Date.now;
  const memory = new Map<string, StoredToken>();

  const read = async (from: Queryable, key: string) => {
    const [row] = await from.query<{ sealed: string; expires_at: string | number }>(
      'select sealed, expires_at from vendor_tokens where key = $1',
      [key],
    );
    if (!row) return undefined;
    try {
      return {
        sealed: row.sealed,
        token: { token: box.open(row.sealed, boundTo(key)), expiresAt: Number(row.expires_at) },
      };
    } catch {
      return { sealed: row.sealed, token: undefined };
    }
  };

  const write = async (to: Queryable, key: string, value: StoredToken) => {
    await to.query(
      `insert into vendor_tokens (key, sealed, expires_at) values ($1, $2, $3)
       on conflict (key) do update set sealed = excluded.sealed, expires_at = excluded.expires_at`,
      [key, box.seal(value.token, boundTo(key)), value.expiresAt],
    );
    memory.set(key, value);
  };

  const store: TokenStore = {
    async get(key) {
      const known = memory.get(key);
      if (known) return known;
      const stored = (await read(db, key))?.token;
      if (stored) memory.set(key, stored);
      return stored;
    },
    async set(key, value) {
      await write(db, key, value);
      // Tokens are set rarely (every two hours per app): a good moment to forget long-expired ones.
      await db.query('delete from vendor_tokens where expires_at < $1', [now() - pruneAfterMs]);
    },
    async delete(key, token) {
      if (token === undefined || memory.get(key)?.token === token) memory.delete(key);
      if (token === undefined) {
        await db.query('delete from vendor_tokens where key = $1', [key]);
        return;
      }
      // Only while the row still holds that token: compare-and-delete on the sealed text (each seal is unique).
      const stored = await read(db, key);
      if (stored && (stored.token === undefined || stored.token.token === token))
        await db.query('delete from vendor_tokens where key = $1 and sealed = $2', [key, stored.sealed]);
    },
  };
  if (options.shared) {
    store.refill = (key, usable, fetch) =>
      // One connection per refill, held while the vendor answers (it is also the one that writes), so
      // refills waiting for each other never wait for a free pool connection too.
      db.transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock(hashtext($1))', [boundTo(key)]);
        const stored = (await read(tx, key))?.token;
        if (stored && usable(stored)) {
          memory.set(key, stored);
          return stored;
        }
        const fetched = await fetch();
        await write(tx, key, fetched);
        return fetched;
      });
  }
  return store;
}
