// Access tokens for vendor APIs: cached per app, refreshed a few minutes before they expire, and fetched
// once for all concurrent callers (single flight), so N parallel calls never cause N token requests. With
// the database store (store/vendor-tokens.ts) the cache and the single flight span every instance.
import type { StoredToken, TokenStore } from './types.js';

export interface AccessTokenOptions {
  /** Identifies the app's credentials, e.g. `feishu:cli_xxx` (never the secret itself). */
  key: string;
  store: TokenStore;
  now: () => number;
  /** Asks the vendor for a new token. */
  fetchToken: () => Promise<{ token: string; expiresInMs: number }>;
  /** Refresh this long before expiry (vendors differ; see platforms.md §6.1). */
  refreshBeforeMs?: number;
}

export interface AccessToken {
  /** A valid token, from cache when possible. */
  get(): Promise<string>;
  /** Drops the cached token (after a token-invalid answer) so the next get() fetches a new one. */
  invalidate(token: string): Promise<void>;
  /** Fetches a new token now, bypassing the cache (credential checks). */
  fresh(): Promise<string>;
}

const inFlight = new Map<string, Promise<string>>();

export function accessToken(options: AccessTokenOptions): AccessToken {
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const usable = (stored: StoredToken): boolean => stored.expiresAt - refreshBeforeMs > options.now();
  const fetchNew = async (): Promise<StoredToken> => {
    const { token, expiresInMs } = await options.fetchToken();
    return { token, expiresAt: options.now() + expiresInMs };
  };
  const fetchAndStore = (): Promise<string> => {
    let pending = inFlight.get(options.key);
    if (!pending) {
      const { store } = options;
      // A store shared by several instances: the one that gets the lock first asks the vendor; the
      // others, once they have it, find that token already stored.
      pending = (
        store.refill
          ? store.refill(options.key, usable, fetchNew).then((stored) => stored.token)
          : fetchNew().then(async (fetched) => {
              await store.set(options.key, fetched);
              return fetched.token;
            })
      ).finally(() => inFlight.delete(options.key));
      inFlight.set(options.key, pending);
    }
    return pending;
  };
  return {
    async get() {
      const cached = await options.store.get(options.key);
      if (cached && usable(cached)) return cached.token;
      return fetchAndStore();
    },
    async invalidate(token) {
      const cached = await options.store.get(options.key);
      // Only drop the token that failed: a concurrent caller (or instance) may already have stored a newer one.
      if (cached?.token === token) await options.store.delete(options.key, token);
    },
    async fresh() {
      const { token, expiresInMs } = await options.fetchToken();
      await options.store.set(options.key, { token, expiresAt: options.now() + expiresInMs });
      return token;
    },
  };
}

/** Tokens in this process's memory. */
export function memoryTokenStore(): TokenStore {
  const tokens = new Map<string, StoredToken>();
  return {
    get: async (key) => tokens.get(key),
    set: async (key, value) => {
      tokens.set(key, value);
    },
    delete: async (key, token) => {
      if (token === undefined || tokens.get(key)?.token === token) tokens.delete(key);
    },
  };
}
