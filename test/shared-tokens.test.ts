// What several instances on one database share about a vendor: its access tokens (one per app's
// credentials, sealed, in `vendor_tokens`) and its API rate limits (in `rate_log`).
//
// - The token store on its own (PGlite and PostgreSQL): sealed at rest, found by a second store, a failed
//   token dropped only while it is still the stored one, unreadable under another master key, dropped by
//   key rotation.
// - Two instances (two `startSignoff` on one PostgreSQL schema, each with its own pool, the Feishu fake on
//   a loopback port): calls through both cost ONE token request; after the vendor invalidates it, ONE
//   more. Two stores refilling at once from separate pools: the vendor is asked once.
// - On PGlite, the one instance keeps its token across a restart.
// - Rate limits: two limiters on separate pools together stay within one vendor limit.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { accessToken } from '../src/providers/access-token.js';
import { createFeishuFake, type FeishuFake } from '../src/providers/feishu/fake.js';
import { feishuSeed, seedAppId } from '../src/providers/feishu/seed.js';
import { memoryRateLimiter, type RateLimiter } from '../src/providers/rate-limiter.js';
import type { StoredToken } from '../src/providers/types.js';
import { type Signoff, startSignoff } from '../src/server.js';
import { type Db, openDb, quoteIdent } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { databaseRateLimiter } from '../src/store/rate-log.js';
import { rotateSecrets } from '../src/store/rotate-secrets.js';
import { createSecretBox, generateKey, parseKey } from '../src/store/secret-box.js';
import { databaseTokenStore } from '../src/store/vendor-tokens.js';
import { apiRequest } from './api-request.js';
import { adminToken, databases, startStack, type TestStack } from './stack.js';
import { type Served, serveFetch } from './vendor-harness.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const newBox = () => createSecretBox(parseKey(generateKey(), 'test key'));
const hour = 3_600_000;

/** A database for this file, and (PostgreSQL) more pools on the same schema: other instances. */
async function testDatabase(kind: 'pglite' | 'postgres') {
  const schema = kind === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const url = kind === 'postgres' ? pgUrl! : 'memory://';
  const db = await openDb({ url, ...(schema ? { schema } : {}) });
  await migrate(db);
  const pools: Db[] = [];
  return {
    db,
    schema,
    async another(): Promise<Db> {
      if (!schema) return db;
      const pool = await openDb({ url, schema });
      pools.push(pool);
      return pool;
    },
    async drop() {
      for (const pool of pools) await pool.close();
      if (schema) {
        await db.query(`drop schema if exists ${quoteIdent(schema)} cascade`);
        await db.query(`drop schema if exists ${quoteIdent(`${schema}_boss`)} cascade`);
      }
      await db.close();
    },
  };
}

describe.each(databases)('the vendor token store on %s', (kind) => {
  let test: Awaited<ReturnType<typeof testDatabase>>;
  const box = newBox();
  beforeAll(async () => {
    test = await testDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it('seals tokens at rest; another store (instance) finds them', async () => {
    const one = databaseTokenStore(test.db, box, { shared: kind === 'postgres' });
    const value: StoredToken = { token: `t-${randomBytes(8).toString('hex')}`, expiresAt: Date.now() + hour };
    await one.set('feishu:cli_1:abc', value);
    const [row] = await test.db.query<{ sealed: string }>('select sealed from vendor_tokens where key = $1', [
      'feishu:cli_1:abc',
    ]);
    expect(row!.sealed).not.toContain(value.token);
    const two = databaseTokenStore(await test.another(), box, { shared: kind === 'postgres' });
    expect(await two.get('feishu:cli_1:abc')).toEqual(value);
  });

  it('drops a failed token only while it is still the stored one', async () => {
    const one = databaseTokenStore(test.db, box, { shared: false });
    const two = databaseTokenStore(await test.another(), box, { shared: false });
    await one.set('k-drop', { token: 'old', expiresAt: Date.now() + hour });
    expect((await two.get('k-drop'))?.token).toBe('old');
    // `one` already replaced it; `two`, whose call failed with the old one, must not delete the new one.
    await one.set('k-drop', { token: 'new', expiresAt: Date.now() + hour });
    await two.delete('k-drop', 'old');
    expect((await databaseTokenStore(test.db, box, { shared: false }).get('k-drop'))?.token).toBe('new');
    await two.delete('k-drop', 'new');
    expect(await databaseTokenStore(test.db, box, { shared: false }).get('k-drop')).toBeUndefined();
  });

  it('a token sealed under another master key counts as missing; key rotation drops every token', async () => {
    await databaseTokenStore(test.db, box, { shared: false }).set('k-rotate', {
      token: 'sealed-with-the-old-key',
      expiresAt: Date.now() + hour,
    });
    const next = newBox();
    expect(await databaseTokenStore(test.db, next, { shared: false }).get('k-rotate')).toBeUndefined();
    await rotateSecrets(test.db, box, next);
    expect(await test.db.query('select key from vendor_tokens')).toEqual([]);
  });

  it('accessToken over the store: one fetch; an invalidated token is fetched again once', async () => {
    const store = databaseTokenStore(test.db, box, { shared: kind === 'postgres' });
    let fetched = 0;
    const token = accessToken({
      key: `k-access-${kind}`,
      store,
      now: Date.now,
      fetchToken: async () => ({ token: `issued-${++fetched}`, expiresInMs: 2 * hour }),
    });
    expect(await Promise.all([token.get(), token.get(), token.get()])).toEqual([
      'issued-1',
      'issued-1',
      'issued-1',
    ]);
    await token.invalidate('issued-1');
    expect(await Promise.all([token.get(), token.get()])).toEqual(['issued-2', 'issued-2']);
    // A late invalidation of the old token leaves the new one alone.
    await token.invalidate('issued-1');
    expect(await token.get()).toBe('issued-2');
    expect(fetched).toBe(2);
  });
});

describe.skipIf(!pgUrl)('two instances on one PostgreSQL database share vendor tokens', () => {
  let test: Awaited<ReturnType<typeof testDatabase>>;
  const dataDirs: string[] = [];
  const instances: Signoff[] = [];
  const appId = seedAppId(`shared-${randomBytes(4).toString('hex')}`);
  const appSecret = `secret-${randomBytes(12).toString('hex')}`;
  let fake: FeishuFake;
  let served: Served;
  let imApp: string;
  const tokenRequests = () =>
    fake.requests.filter((request) => request.path.endsWith('/tenant_access_token/internal')).length;
  const call = async (signoff: Signoff, method: string, path: string, body?: unknown) => {
    const { status, text } = await apiRequest(signoff.app, adminToken, method, path, body);
    return { status, body: text ? JSON.parse(text) : undefined };
  };
  /** An address-book lookup (a vendor call with the app's token); a new address each time, past the cache. */
  let lookups = 0;
  const lookUp = async (signoff: Signoff) => {
    const email = `someone-${++lookups}@example.com`;
    const found = await call(signoff, 'GET', `/api/im-apps/${imApp}/users?email=${email}`);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    return found.body;
  };

  beforeAll(async () => {
    test = await testDatabase('postgres');
    fake = createFeishuFake({
      apps: [{ app_id: appId, app_secret: appSecret }],
      seed: feishuSeed({ extraUsers: 0, extraChats: 0 }),
    });
    served = await serveFetch((request) => fake.app.fetch(request));
    const secretKey = generateKey();
    const log = createLogger({
      level: 'silent',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    for (let index = 0; index < 2; index++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'signoff-shared-'));
      dataDirs.push(dataDir);
      instances.push(
        await startSignoff({
          config: {
            ...readConfig({}),
            port: 0,
            host: '127.0.0.1',
            dataDir,
            databaseUrl: pgUrl,
            adminToken,
            secretKey,
            publicUrl: 'http://signoff.test',
            sandbox: false,
          },
          log,
          db: index === 0 ? test.db : await test.another(),
          schema: test.schema!,
          listen: false,
        }),
      );
    }
    // Saved without the credential check, which asks for a token of its own (not the shared one).
    const created = await call(instances[0]!, 'POST', '/api/im-apps?check=false', {
      type: 'feishu',
      name: 'feishu-shared',
      app_id: appId,
      app_secret: appSecret,
      event_mode: 'poll',
      api_base: served.url,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    imApp = created.body.id;
  }, 60_000);

  afterAll(async () => {
    for (const signoff of instances) await signoff.close();
    await served?.close();
    await test?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('calls through both instances cost one token request; after the vendor invalidates it, one more', async () => {
    const [one, two] = instances as [Signoff, Signoff];
    await lookUp(one);
    expect(tokenRequests()).toBe(1);
    // The second instance has no token in memory: it reads the first one's from the database.
    await lookUp(two);
    await Promise.all([lookUp(one), lookUp(two), lookUp(one), lookUp(two)]);
    expect(tokenRequests()).toBe(1);

    // Feishu revokes it (99991663 on the next call): the first instance to notice fetches a new one;
    // the other, still holding the old one in memory, fails once and then finds the new one stored.
    fake.revokeTokens(appId);
    await lookUp(one);
    expect(tokenRequests()).toBe(2);
    await lookUp(two);
    await Promise.all([lookUp(one), lookUp(two)]);
    expect(tokenRequests()).toBe(2);
    const [stored] = await test.db.query<{ count: string }>('select count(*) as count from vendor_tokens');
    expect(Number(stored!.count)).toBe(1);
  });

  it('two instances refilling one key at once: the vendor is asked once, both get its token', async () => {
    const box = newBox();
    const stores = [
      databaseTokenStore(test.db, box, { shared: true }),
      databaseTokenStore(await test.another(), box, { shared: true }),
    ];
    let asked = 0;
    const slowFetch = async (): Promise<StoredToken> => {
      asked += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { token: `refilled-${asked}`, expiresAt: Date.now() + hour };
    };
    const usable = (stored: StoredToken) => stored.expiresAt - 5 * 60_000 > Date.now();
    const got = await Promise.all(
      [0, 1, 0, 1].map((index) => stores[index]!.refill!('k-refill', usable, slowFetch)),
    );
    expect(asked).toBe(1);
    expect(new Set(got.map((value) => value.token))).toEqual(new Set(['refilled-1']));
  });
});

describe('on PGlite, the one instance', () => {
  let stack: TestStack;
  let fake: FeishuFake;
  let served: Served;
  const appId = seedAppId(`restart-${randomBytes(4).toString('hex')}`);
  const appSecret = `secret-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    fake = createFeishuFake({
      apps: [{ app_id: appId, app_secret: appSecret }],
      seed: feishuSeed({ extraUsers: 0, extraChats: 0 }),
    });
    served = await serveFetch((request) => fake.app.fetch(request));
    stack = await startStack('pglite');
  });
  afterAll(async () => {
    await stack?.close();
    await served?.close();
  });

  it('keeps its vendor token across a restart', async () => {
    const created = await stack.call('POST', '/api/im-apps?check=false', {
      type: 'feishu',
      name: 'feishu-restart',
      app_id: appId,
      app_secret: appSecret,
      event_mode: 'poll',
      api_base: served.url,
    });
    expect(created.status).toBe(201);
    const tokenRequests = () =>
      fake.requests.filter((request) => request.path.endsWith('/tenant_access_token/internal')).length;
    const lookUp = async (email: string) =>
      (await stack.call('GET', `/api/im-apps/${created.body.id}/users?email=${email}`)).status;
    expect(await lookUp('zhang.wei@example.com')).toBe(200);
    expect(tokenRequests()).toBe(1);
    await stack.restart();
    expect(await lookUp('li.na@example.com')).toBe(200);
    expect(tokenRequests()).toBe(1);
  });
});

describe.each(databases)('vendor API rate limits shared through the database (%s)', (kind) => {
  let test: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    test = await testDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });

  /** The most grants inside any window of `windowMs`. */
  const busiest = (times: number[], windowMs: number) => {
    const sorted = [...times].sort((a, b) => a - b);
    let most = 0;
    for (let first = 0; first < sorted.length; first++) {
      let last = first;
      while (last + 1 < sorted.length && sorted[last + 1]! - sorted[first]! < windowMs) last += 1;
      most = Math.max(most, last - first + 1);
    }
    return most;
  };
  const limits = [{ limit: 5, windowMs: 400 }];
  const takeAll = async (limiters: RateLimiter[], key: string, calls: number) => {
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: calls }, async (_, index) => {
        await limiters[index % limiters.length]!.take(key, limits);
        granted.push(Date.now());
      }),
    );
    return granted;
  };

  it('two limiters (instances) together keep to one limit; two in-memory ones would not', async () => {
    const shared = [databaseRateLimiter(test.db), databaseRateLimiter(await test.another())];
    const granted = await takeAll(shared, `feishu:${kind}`, 12);
    expect(granted).toHaveLength(12);
    expect(busiest(granted, 400)).toBeLessThanOrEqual(5);
    // What each instance keeping its own count would let through at once.
    const separate = await takeAll([memoryRateLimiter(), memoryRateLimiter()], 'separate', 10);
    expect(busiest(separate, 400)).toBe(10);
  });
});
