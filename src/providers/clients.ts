// One client per registered app, kept while the app is unchanged, so its token and rate-limit state
// survive between requests (a new client per request would ask for a new token every time).
import type { ImAppRecord } from '../store/im-apps.js';
import { memoryTokenStore } from './access-token.js';
import type { Fetch } from './http.js';
import { memoryRateLimiter, type RateLimiter } from './rate-limiter.js';
import { providerFor } from './registry.js';
import type { ImAppConfig, ImClient, TokenStore } from './types.js';

export interface ImClientsDeps {
  fetch: Fetch;
  now?: () => number;
  /** Where tokens live; default this process's memory (the server gives the database's, shared by instances). */
  tokens?: TokenStore;
  /** The vendor API limiter; default this process's (the server gives one shared by instances on PostgreSQL). */
  limiter?: RateLimiter;
}

export class ImClients {
  private readonly clients = new Map<string, { version: string; client: ImClient }>();
  private readonly tokens: TokenStore;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly deps: ImClientsDeps) {
    this.tokens = deps.tokens ?? memoryTokenStore();
    this.now = deps.now ?? Date.now;
    // One limiter for every client: a new client after an edit keeps the app's send history.
    this.limiter = deps.limiter ?? memoryRateLimiter(this.now);
  }

  for(app: ImAppRecord, config: ImAppConfig): ImClient {
    const version = new Date(app.updated_at).toISOString();
    const known = this.clients.get(app.id);
    if (known?.version === version) return known.client;
    const client = providerFor(app.type).createClient(config, {
      fetch: this.deps.fetch,
      now: this.now,
      tokens: this.tokens,
      limiter: this.limiter,
    });
    this.clients.set(app.id, { version, client });
    return client;
  }

  /** A client for credentials not saved yet (checking them before the app is created). */
  transient(config: ImAppConfig): ImClient {
    return providerFor(config.type).createClient(config, {
      fetch: this.deps.fetch,
      now: this.now,
      tokens: memoryTokenStore(),
    });
  }

  forget(appId: string): void {
    this.clients.delete(appId);
  }
}
