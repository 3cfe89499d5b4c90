import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import { fakeClock } from '../fake-kit.js';
import { larkProvider } from '../lark/index.js';
import type { ClientDeps, ImAppConfig } from '../types.js';
import { createFeishuFake, type FeishuFake } from './fake.js';
import { type FeishuClient, feishuProvider } from './index.js';
import { feishuSeed, seedAppId, seedChatId, seedDepartmentId, seedOpenId } from './seed.js';

const APP_ID = seedAppId('client-test');
const SECRET = 'client-test-secret-value';

function setup(
  options: {
    secret?: string;
    extraUsers?: number;
    extraChats?: number;
    type?: 'feishu' | 'lark';
    timeoutMs?: number;
  } = {},
) {
  const clock = fakeClock(Date.UTC(2026, 10, 1));
  const fake = createFeishuFake({
    clock,
    seed: feishuSeed({ extraUsers: options.extraUsers ?? 60, extraChats: options.extraChats ?? 5 }),
    apps: [{ app_id: APP_ID, app_secret: SECRET }],
  });
  const type = options.type ?? 'feishu';
  const config: ImAppConfig = {
    type,
    app_id: APP_ID,
    app_secret: options.secret ?? SECRET,
    api_base: type === 'lark' ? 'https://open.larksuite.com' : 'https://open.feishu.cn',
  };
  const deps: ClientDeps = { fetch: fake.fetch, now: clock.now, tokens: memoryTokenStore() };
  const provider = type === 'lark' ? larkProvider : feishuProvider;
  const client = provider.createClient(config, deps) as FeishuClient;
  return { fake, clock, client, config, deps };
}

const tokenRequests = (fake: FeishuFake) =>
  fake.requests.filter((r) => r.path.endsWith('/tenant_access_token/internal')).length;

async function caught(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError');
}

describe('Feishu client: credentials and tokens', () => {
  it('proves good credentials with a fresh token', async () => {
    const { client, fake } = setup();
    await client.checkCredentials();
    await client.checkCredentials();
    expect(tokenRequests(fake)).toBe(2); // never from cache
  });

  it('reports a wrong App Secret with the vendor code and where to copy the secret from', async () => {
    const { client } = setup({ secret: 'not-the-secret' });
    const error = await caught(() => client.checkCredentials());
    expect(error.code).toBe('upstream_rejected');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('app secret invalid');
    expect(error.message).toContain('10014');
    expect(error.message).toContain('开发者后台 → 凭证与基础信息 (Credentials & Basic Info)');
    expect(error.message).not.toContain('not-the-secret');
  });

  it('reports an unknown App ID as 10003 invalid param', async () => {
    const { fake, clock } = setup();
    const client = feishuProvider.createClient(
      {
        type: 'feishu',
        app_id: seedAppId('unknown'),
        app_secret: SECRET,
        api_base: 'https://open.feishu.cn',
      },
      { fetch: fake.fetch, now: clock.now, tokens: memoryTokenStore() },
    );
    const error = await caught(() => client.checkCredentials());
    expect(error.message).toContain('10003');
    expect(error.message).toContain('invalid param');
    expect(error.message).toContain('App ID');
  });

  it('fetches one token for many parallel calls and reuses it until close to expiry', async () => {
    const { client, fake, clock } = setup();
    await Promise.all([
      client.chats(),
      client.chats(),
      client.userGroups(),
      client.department(seedDepartmentId('sre')),
    ]);
    expect(tokenRequests(fake)).toBe(1);
    clock.advance(60 * 60_000);
    await client.chats();
    expect(tokenRequests(fake)).toBe(1);
    clock.advance(57 * 60_000); // 3 minutes left: inside the refresh margin
    await client.chats();
    expect(tokenRequests(fake)).toBe(2);
  });

  it('recovers from a revoked token (99991663) with one new token and one retry', async () => {
    const { client, fake } = setup();
    await client.chats();
    fake.revokeTokens();
    const chats = await client.chats();
    expect(chats.length).toBeGreaterThan(0);
    expect(tokenRequests(fake)).toBe(2);
  });

  it('recovers when the fault injector revokes the token mid-flight', async () => {
    const { client, fake } = setup();
    await client.chats();
    fake.faults.failNext('revoke_token');
    await client.chats();
    expect(tokenRequests(fake)).toBe(2);
  });
});

describe('Feishu client: address book', () => {
  it('lists the root: top-level departments and the people placed directly in it', async () => {
    const { client, fake } = setup();
    const listing = await client.department('0');
    expect(client.rootDepartmentId).toBe('0');
    expect(listing.department).toMatchObject({ id: '0', parent_id: null });
    const topLevel = fake.seed.departments
      .filter((d) => d.parent_department_id === '0')
      .map((d) => d.open_department_id);
    expect(listing.departments.map((d) => d.id).sort()).toEqual(topLevel.sort());
    expect(listing.users.map((u) => u.name)).toEqual(['周总']);
    expect(listing.users[0]).toMatchObject({ id: seedOpenId('ceo'), id_type: 'open_id' });
    expect(listing.users[0]!.avatar).toContain('240x240');
  });

  it('follows every page of a large department', async () => {
    const { client, fake } = setup({ extraUsers: 600 });
    const id = seedDepartmentId('platform');
    const listing = await client.department(id);
    const expected = fake.seed.users.filter((u) => !u.is_resigned && u.department_ids.includes(id));
    expect(expected.length).toBeGreaterThan(100); // more than two pages of 50
    expect(listing.users).toHaveLength(expected.length);
    expect(new Set(listing.users.map((u) => u.id)).size).toBe(expected.length);
    expect(listing.department).toMatchObject({
      id,
      name: '平台组 Platform',
      parent_id: seedDepartmentId('engineering'),
    });
    expect(listing.users.some((u) => u.name.includes('Former Staff'))).toBe(false);
  });

  it('lists sub-departments of a department', async () => {
    const { client } = setup();
    const listing = await client.department(seedDepartmentId('engineering'));
    expect(listing.departments.map((d) => d.name).sort()).toEqual(['SRE', '平台组 Platform']);
    expect(listing.departments.every((d) => d.parent_id === seedDepartmentId('engineering'))).toBe(true);
  });

  it('starts the picker from the contact data scope when the app may not read the root', async () => {
    const { client, fake } = setup();
    fake.setContactScope(APP_ID, {
      department_ids: [seedDepartmentId('sre')],
      user_ids: [seedOpenId('liu.yang')],
    });
    const listing = await client.department('0');
    expect(listing.departments.map((d) => d.name)).toEqual(['SRE']);
    expect(listing.users.map((u) => u.name)).toEqual(['刘洋']);
    const outside = await caught(() => client.department(seedDepartmentId('product')));
    expect(outside.message).toContain('40004');
    expect(outside.message).toContain('contact data scope');
  });

  it('finds people by email and by mobile, with names and avatars', async () => {
    const { client } = setup();
    const byEmail = await client.findUsers({ email: 'li.na@example.com' });
    expect(byEmail).toEqual([
      expect.objectContaining({
        id: seedOpenId('li.na'),
        id_type: 'open_id',
        name: '李娜',
        email: 'li.na@example.com',
      }),
    ]);
    expect(byEmail[0]!.avatar).toMatch(/^https:\/\//);
    const byMobile = await client.findUsers({ mobile: byEmail[0]!.mobile! });
    expect(byMobile.map((u) => u.id)).toEqual([seedOpenId('li.na')]);
    expect(await client.findUsers({ email: 'nobody@example.com' })).toEqual([]);
  });

  it('answers a name query from the whole visible address book', async () => {
    const { client } = setup({ extraUsers: 200 });
    const found = await client.findUsers({ query: 'grace' });
    expect(found.map((u) => u.name)).toEqual(['Grace Hopper']);
    expect((await client.findUsers({ query: '王' })).map((u) => u.name)).toEqual(['王芳']);
    // People deep in the tree and on later pages are found too.
    expect(await client.findUsers({ query: 'Member 199' })).toHaveLength(1);
    expect(await client.findUsers({ query: 'Former Staff' })).toEqual([]);
  });

  it('refuses a query with nothing to look for', async () => {
    const { client } = setup();
    expect((await caught(() => client.findUsers({}))).code).toBe('bad_request');
  });

  it('lists user groups of both kinds', async () => {
    const { client } = setup();
    const groups = await client.userGroups();
    expect(groups.map((g) => g.name).sort()).toEqual(['Release managers', 'SRE (dynamic)']);
    expect(groups[0]!.member_count).toBe(2);
  });
});

describe('Feishu client: chats', () => {
  it('lists every group the bot is in, across pages', async () => {
    const { client, fake } = setup({ extraChats: 150 });
    const chats = await client.chats();
    const expected = fake.seed.chats.filter((c) => c.bot_member);
    expect(chats).toHaveLength(expected.length);
    expect(chats.length).toBeGreaterThan(100);
    expect(chats.some((c) => c.id === seedChatId('random'))).toBe(false);
    expect(chats.find((c) => c.id === seedChatId('deploys'))).toMatchObject({ name: '发布通知 Deploys' });
  });

  it('searches chats by name, across pages', async () => {
    const { client } = setup({ extraChats: 150 });
    const found = await client.chats('Project 1');
    // Project 1, 10–19, 100–150
    expect(found).toHaveLength(1 + 10 + 51);
    expect(await client.chats('on-call')).toEqual([expect.objectContaining({ id: seedChatId('oncall') })]);
  });
});

describe('Feishu client: permissions and vendor errors', () => {
  it('reports nothing missing when every scope is enabled', async () => {
    const { client } = setup();
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([]);
    expect(report.checked).toHaveLength(5);
  });

  it('names the scopes the vendor says are missing', async () => {
    const { client, fake } = setup();
    fake.setScopes(APP_ID, ['contact:contact.base:readonly', 'contact:user.id:readonly']);
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([
      'approval:approval:readonly',
      'approval:approval',
      'im:chat:readonly',
      'im:chat',
    ]);
    expect(report.checked).toEqual([
      'contact: contact data scope',
      'contact: department members',
      'contact: user ids by email or mobile',
    ]);
  });

  it('maps 99991672 to forbidden, naming the scopes and the console page', async () => {
    const { client, fake } = setup();
    fake.setScopes(APP_ID, []);
    const error = await caught(() => client.chats());
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain('im:chat:readonly');
    expect(error.message).toContain('开发者后台 → 权限管理 (Permissions & Scopes)');
  });

  it('maps 99991400 and HTTP 429 to rate_limited, honouring x-ogw-ratelimit-reset', async () => {
    const { client, fake } = setup();
    await client.chats();
    fake.faults.failNext('rate_limit');
    const byCode = await caught(() => client.chats());
    expect(byCode.code).toBe('rate_limited');
    expect(byCode.retryable).toBe(true);
    expect(byCode.retryAfterMs).toBe(1000);
    expect(byCode.message).toContain('99991400');
    fake.rateLimitStyle = 'http';
    fake.faults.failNext('rate_limit');
    const byStatus = await caught(() => client.chats());
    expect(byStatus.code).toBe('rate_limited');
    expect(byStatus.retryAfterMs).toBe(1000);
  });

  it('maps 5xx to a retryable upstream_error and a hang to upstream_timeout', async () => {
    const clock = fakeClock();
    const fake = createFeishuFake({ clock, apps: [{ app_id: APP_ID, app_secret: SECRET }] });
    const { createFeishuClient } = await import('./client.js');
    const client = createFeishuClient(
      { type: 'feishu', app_id: APP_ID, app_secret: SECRET, api_base: 'https://open.feishu.cn' },
      { fetch: fake.fetch, now: clock.now, tokens: memoryTokenStore() },
      { label: 'Feishu', timeoutMs: 100 },
    );
    fake.faults.failNext('server_error');
    const failed = await caught(() => client.checkCredentials());
    expect(failed.code).toBe('upstream_error');
    expect(failed.retryable).toBe(true);
    fake.faults.failNext('timeout');
    expect((await caught(() => client.chats())).code).toBe('upstream_timeout');
  });

  it('maps business codes with a hint for the operator', async () => {
    const { client } = setup();
    const error = await caught(() =>
      client.call('POST', '/open-apis/im/v1/messages', {
        action: 'sending a message',
        query: { receive_id_type: 'chat_id' },
        body: { receive_id: seedChatId('random'), msg_type: 'text', content: JSON.stringify({ text: 'hi' }) },
      }),
    );
    expect(error.code).toBe('upstream_rejected');
    expect(error.message).toContain('230002');
    expect(error.message).toContain('Add the app’s bot to the group');
  });
});

describe('Lark registration', () => {
  it('is the Feishu implementation on open.larksuite.com, named Lark in errors', async () => {
    expect(larkProvider.type).toBe('lark');
    expect(larkProvider.defaultApiBase).toBe('https://open.larksuite.com');
    expect(feishuProvider.defaultApiBase).toBe('https://open.feishu.cn');
    expect(larkProvider.handleCallback).toBe(feishuProvider.handleCallback);
    const { client, fake } = setup({ type: 'lark' });
    expect((await client.chats()).length).toBeGreaterThan(0);
    expect(fake.requests.length).toBeGreaterThan(0);
    const wrong = setup({ type: 'lark', secret: 'wrong' });
    expect((await caught(() => wrong.client.checkCredentials())).message).toMatch(/^Lark answered/);
  });

  it('asks the host it is configured with', async () => {
    const { fake, clock } = setup();
    const hosts: string[] = [];
    const client = larkProvider.createClient(
      { type: 'lark', app_id: APP_ID, app_secret: SECRET, api_base: 'https://open.larksuite.com/' },
      {
        fetch: async (input, init) => {
          hosts.push(new URL(String(input)).host);
          return fake.fetch(input, init);
        },
        now: clock.now,
        tokens: memoryTokenStore(),
      },
    );
    await client.chats?.();
    expect(new Set(hosts)).toEqual(new Set(['open.larksuite.com']));
  });

  it('refuses a config of another platform', () => {
    expect(() =>
      larkProvider.createClient(
        { type: 'feishu', app_id: APP_ID, app_secret: SECRET, api_base: 'https://open.feishu.cn' },
        { fetch, now: Date.now, tokens: memoryTokenStore() },
      ),
    ).toThrow(AppError);
  });
});
