// Settings → Integrations → IM through the REST API, on every test database, against the sandbox's vendor
// fakes (mounted in-process at http://signoff.test/sandbox/<type>): registering apps with the credentials
// each platform issues, field-by-field validation, the platform's own refusal of a wrong secret, write-only
// secrets (masked in responses, sealed at rest, absent from logs), callback URLs of their own, the address
// book pickers with their five-minute cache, deleting apps still used by workflows, and who may do what.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encrypt, getSignature } from '@wecom/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxVendors, type SandboxVendor } from '../src/sandbox/vendors.js';
import { databases, startStack, type TestStack } from './stack.js';

type ImType = 'feishu' | 'lark' | 'dingtalk' | 'wecom';
const types: ImType[] = ['feishu', 'lark', 'dingtalk', 'wecom'];

// The fakes' own credentials, read from where the sandbox takes them (the same fakes the stack mounts).
const sandbox = Object.fromEntries(
  createSandboxVendors({ callbackFetch: fetch }).map((vendor) => [vendor.type, vendor.imApp]),
) as Record<ImType, SandboxVendor['imApp']>;
const sandboxId = (type: ImType) => `ima_sandbox_${type}`;
const apiBase = (type: ImType) => `http://signoff.test/sandbox/${type}`;

/** Every secret value any request of this file sends; none may come back in a response or a log line. */
const secretsUsed = new Set<string>(
  Object.values(sandbox).flatMap((app) => Object.values(app.secrets).filter(Boolean)),
);
const newSecret = (label: string) => {
  const value = `${label}-${randomBytes(10).toString('hex')}`;
  secretsUsed.add(value);
  return value;
};
/** 43 characters of base64, as the consoles hand out an AES key. */
const newAesKey = () => {
  const value = randomBytes(32).toString('base64').slice(0, 43);
  secretsUsed.add(value);
  return value;
};

interface Platform {
  type: ImType;
  /** The secret the token request checks. */
  secretField: string;
  secretFields: string[];
  /** Every field, correct: a new app on the sandbox fake with callback secrets of our own. */
  full(name: string): Record<string, unknown>;
  /** Only what the platform needs to be talked to. */
  minimal(name: string): Record<string, unknown>;
  /** The vendor's own words when the secret is wrong. */
  refusal: string[];
  /** The console page (its Chinese label) where the secret is found. */
  consolePage: string;
  idType: 'open_id' | 'userid';
}

function feishuLike(type: 'feishu' | 'lark'): Platform {
  const encryptKey = newSecret(`${type}-encrypt-key`);
  const verificationToken = newSecret(`${type}-verification-token`);
  const minimal = (name: string) => ({
    type,
    name,
    app_id: sandbox[type].settings.app_id,
    app_secret: sandbox[type].secrets.app_secret,
    api_base: apiBase(type),
  });
  return {
    type,
    secretField: 'app_secret',
    secretFields: ['app_secret', 'encrypt_key', 'verification_token'],
    minimal,
    full: (name) => ({
      ...minimal(name),
      encrypt_key: encryptKey,
      verification_token: verificationToken,
      event_mode: 'webhook',
    }),
    refusal: ['10014', 'app secret invalid'],
    consolePage: '凭证与基础信息',
    idType: 'open_id',
  };
}

const dingtalkAesKey = newAesKey();
const dingtalkToken = newSecret('dingtalk-token');
const wecomToken = newSecret('wecom-token');
const wecomAesKey = newAesKey();

const platforms: Record<ImType, Platform> = {
  feishu: feishuLike('feishu'),
  lark: feishuLike('lark'),
  dingtalk: {
    type: 'dingtalk',
    secretField: 'app_secret',
    secretFields: ['app_secret', 'aes_key', 'token'],
    minimal: (name) => ({
      type: 'dingtalk',
      name,
      app_key: sandbox.dingtalk.settings.app_key,
      app_secret: sandbox.dingtalk.secrets.app_secret,
      event_mode: 'poll',
      api_base: apiBase('dingtalk'),
      oapi_base: apiBase('dingtalk'),
    }),
    full: (name) => ({
      type: 'dingtalk',
      name,
      app_key: sandbox.dingtalk.settings.app_key,
      agent_id: sandbox.dingtalk.settings.agent_id,
      app_secret: sandbox.dingtalk.secrets.app_secret,
      aes_key: dingtalkAesKey,
      token: dingtalkToken,
      event_mode: 'webhook',
      api_base: apiBase('dingtalk'),
      oapi_base: apiBase('dingtalk'),
    }),
    refusal: ['invalidClientIdOrSecret'],
    consolePage: '凭证与基础信息',
    idType: 'userid',
  },
  wecom: {
    type: 'wecom',
    secretField: 'secret',
    secretFields: ['secret', 'token', 'encoding_aes_key'],
    minimal: (name) => ({
      type: 'wecom',
      name,
      corp_id: sandbox.wecom.settings.corp_id,
      agent_id: sandbox.wecom.settings.agent_id,
      secret: sandbox.wecom.secrets.secret,
      api_base: apiBase('wecom'),
    }),
    full: (name) => ({
      ...platforms.wecom.minimal(name),
      token: wecomToken,
      encoding_aes_key: wecomAesKey,
    }),
    refusal: ['40001', 'invalid credential'],
    consolePage: '应用管理',
    idType: 'userid',
  },
};

/** What the address book of each sandbox fake holds (src/providers/<type>/seed.ts). */
interface Book {
  rootId: string;
  rootDepartments: string[];
  rootUsers: string[];
  /** A sub-department of the root, with its own sub-departments and members. */
  sub: { name: string; departments: string[]; users: string[]; exactUsers: boolean };
  byEmail: Array<[string, string]>;
  byMobile: [string, string];
  byName: [string, string[]];
}
const feishuBook: Book = {
  rootId: '0',
  rootDepartments: ['研发中心 Engineering', '产品部 Product', '运营部 Operations'],
  rootUsers: ['周总'],
  sub: {
    name: '研发中心 Engineering',
    departments: ['平台组 Platform', 'SRE'],
    users: ['张伟', 'Ada Lovelace'],
    exactUsers: false,
  },
  byEmail: [['ada.lovelace@example.com', 'Ada Lovelace']],
  byMobile: ['+8613810000006', 'Grace Hopper'],
  byName: ['Hopper', ['Grace Hopper']],
};
const books: Record<ImType, Book> = {
  feishu: feishuBook,
  lark: feishuBook,
  dingtalk: {
    rootId: '1',
    rootDepartments: ['研发部', '运维部'],
    rootUsers: ['王芳'],
    sub: {
      name: '研发部',
      departments: ['测试组'],
      users: ['张伟', '李娜', '赵磊 (Ray Zhao)'],
      exactUsers: true,
    },
    byEmail: [
      ['zhang.wei@example.com', '张伟'],
      ['li.na@corp.example.com', '李娜'],
    ],
    byMobile: ['13800000004', '刘洋'],
    byName: ['ray', ['赵磊 (Ray Zhao)']],
  },
  wecom: {
    rootId: '1',
    rootDepartments: ['研发部', '运维部', '产品部'],
    rootUsers: ['Signoff Admin'],
    sub: { name: '研发部', departments: ['平台组'], users: ['张伟', '李娜', '赵磊'], exactUsers: true },
    byEmail: [
      ['zhangwei@sandbox.wecom.work', '张伟'],
      ['wang.fang@example.com', '王芳'],
    ],
    byMobile: ['+86 13800000002', '李娜'],
    byName: ['赵', ['赵磊']],
  },
};

const sorted = (values: string[]) => [...values].sort();
const without = (body: Record<string, unknown>, fields: string[]) =>
  Object.fromEntries(Object.entries(body).filter(([key]) => !fields.includes(key)));

/** Whether a validation problem names `field`: by its path, or (unknown keys) by quoting it. */
const names = (problem: { path: string; message: string }, field: string) =>
  problem.path === field || problem.message.includes(`"${field}"`);

describe.each(databases)('IM apps on %s', (kind) => {
  let stack: TestStack;
  /** Every response body of this suite, for the "secrets never come back" check at the end. */
  const responses: string[] = [];
  /** The apps registered below, by name, as the API last returned them. */
  const apps: Record<string, any> = {};
  let viewerToken: string;

  async function call(method: string, path: string, body?: unknown, token?: string) {
    const response = await stack.call(method, path, body, token);
    responses.push(JSON.stringify(response.body ?? null));
    return response;
  }
  const db = () => stack.signoff.db;
  const appCount = async () =>
    (await db().query<{ n: number }>('select count(*)::int as n from im_apps'))[0]!.n;
  /** A raw request (callbacks answer text, not JSON). */
  async function raw(method: string, path: string, body?: string) {
    const response = await stack.signoff.app.request(path, { method, ...(body ? { body } : {}) });
    const text = await response.text();
    responses.push(text);
    return { status: response.status, text };
  }
  async function expectRefused(
    response: { status: number; body: any },
    fields: string[],
    context: string,
  ): Promise<void> {
    expect(response.status, `${context}: ${JSON.stringify(response.body)}`).toBe(422);
    expect(response.body.error.code).toBe('validation_failed');
    const problems: Array<{ path: string; message: string }> = response.body.error.problems ?? [];
    for (const field of fields) {
      expect(
        problems.some((problem) => names(problem, field)),
        `${context}: no problem names ${field} in ${JSON.stringify(problems)}`,
      ).toBe(true);
    }
  }

  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true });
    const viewer = await call('POST', '/api/users', { name: 'viewer', email: 'viewer@example.com' });
    expect(viewer.status).toBe(201);
    viewerToken = viewer.body.token;
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe('registering an app', () => {
    it.each(types)(
      '%s: the right credentials give 201, its own callback URL, masked secrets, checked ok',
      async (type) => {
        const platform = platforms[type];
        const body = platform.full(`${type}-main`);
        const created = await call('POST', '/api/im-apps', body);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const app = created.body;
        expect(app.type).toBe(type);
        expect(app.name).toBe(`${type}-main`);
        expect(app.sandbox).toBe(false);
        expect(app.callback_url).toBe(`http://signoff.test/callbacks/${type}/${app.id}`);
        expect(app.secrets).toEqual(
          Object.fromEntries(platform.secretFields.map((field) => [field, '********'])),
        );
        for (const field of platform.secretFields) expect(app[`has_${field}`], field).toBe(true);
        expect(app.status.credentials).toBe('ok');
        expect(app.status.last_check_at).not.toBeNull();
        expect(app.settings.api_base).toBe(apiBase(type));
        const text = JSON.stringify(app);
        for (const field of platform.secretFields) {
          expect(text.includes(body[field] as string), `response carries ${field}`).toBe(false);
        }
        apps[app.name] = app;

        // A second app with the same vendor app id (another company could reuse one): a URL of its own.
        const second = await call('POST', '/api/im-apps', platform.minimal(`${type}-second`));
        expect(second.status, JSON.stringify(second.body)).toBe(201);
        expect(second.body.id).not.toBe(app.id);
        expect(second.body.callback_url).toBe(`http://signoff.test/callbacks/${type}/${second.body.id}`);
        expect(second.body.callback_url).not.toBe(app.callback_url);
        expect(second.body.secrets[platform.secretField]).toBe('********');
        expect(second.body[`has_${platform.secretField}`]).toBe(true);
        for (const field of platform.secretFields.filter((field) => field !== platform.secretField)) {
          expect(second.body.secrets[field], field).toBeNull();
          expect(second.body[`has_${field}`], field).toBe(false);
        }
        expect(second.body.status.credentials).toBe('ok');
        apps[second.body.name] = second.body;

        // What was saved is what is read back.
        const read = await call('GET', `/api/im-apps/${app.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toEqual(app);
      },
    );
  });

  describe('names', () => {
    it.each(types)('%s: a name already taken is a 409, nothing stored', async (type) => {
      const before = await appCount();
      const taken = await call('POST', '/api/im-apps', platforms[type].minimal(`sandbox-${type}`));
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('conflict');
      expect(taken.body.error.message).toContain(`sandbox-${type}`);
      expect(await appCount()).toBe(before);
    });

    it('a name that is another app’s id is refused (GET /api/im-apps/<handle> would be ambiguous)', async () => {
      const before = await appCount();
      const clash = await call('POST', '/api/im-apps', platforms.wecom.minimal(sandboxId('lark')));
      try {
        expect(clash.status, JSON.stringify(clash.body)).toBeGreaterThanOrEqual(400);
        expect(clash.status).toBeLessThan(500);
        expect(await appCount()).toBe(before);
      } finally {
        // Leave no ambiguous handle behind for the tests that follow.
        if (clash.status === 201) await call('DELETE', `/api/im-apps/${clash.body.id}`);
      }
      expect((await call('GET', `/api/im-apps/${sandboxId('lark')}`)).body.type).toBe('lark');
    });
  });

  describe('field-by-field validation', () => {
    const cases: Array<{ what: string; body: () => Record<string, unknown>; fields: string[] }> = [
      ...(['feishu', 'lark'] as const).flatMap((type) => [
        {
          what: `${type}: nothing but the type`,
          body: () => ({ type }),
          fields: ['name', 'app_id', 'app_secret'],
        },
        {
          what: `${type}: bad app_id, wrong types, unknown event mode, unknown field`,
          body: () => ({
            ...platforms[type].full(`${type}-invalid`),
            app_id: 'app-1234',
            app_secret: 12345,
            event_mode: 'socket',
            api_base: 'ftp://example.com',
            colour: 'blue',
          }),
          fields: ['app_id', 'app_secret', 'event_mode', 'api_base', 'colour'],
        },
      ]),
      {
        what: 'dingtalk: a 42-character aes_key, no app_key, a wrong agent_id, an unknown field',
        body: () => ({
          ...without(platforms.dingtalk.full('dingtalk-invalid'), ['app_key']),
          aes_key: 'a'.repeat(42),
          agent_id: 'AgentId',
          corp_id: 'ding123',
        }),
        fields: ['aes_key', 'app_key', 'agent_id', 'corp_id'],
      },
      {
        what: 'wecom: a 42-character encoding_aes_key, bad corp_id and agent_id, a secret of the wrong type',
        body: () => ({
          ...platforms.wecom.full('wecom-invalid'),
          encoding_aes_key: 'b'.repeat(42),
          corp_id: 'ww bad!',
          agent_id: true,
          secret: ['not', 'a', 'string'],
          app_secret: 'from another platform',
        }),
        fields: ['encoding_aes_key', 'corp_id', 'agent_id', 'secret', 'app_secret'],
      },
      { what: 'an unknown type', body: () => ({ type: 'slack', name: 'slack-main' }), fields: ['type'] },
      {
        what: 'dingtalk webhook: a bad aes_key and no token (both reported at once)',
        body: () => ({
          ...without(platforms.dingtalk.full('dingtalk-invalid'), ['token']),
          aes_key: 'c'.repeat(42),
        }),
        fields: ['aes_key', 'token'],
      },
    ];
    it.each(cases)('$what → 422 naming every field, nothing stored', async ({ what, body, fields }) => {
      const before = await appCount();
      const refused = await call('POST', '/api/im-apps', body());
      await expectRefused(refused, fields, what);
      expect(await appCount()).toBe(before);
      const name = (body().name as string | undefined) ?? 'x';
      expect((await call('GET', `/api/im-apps/${encodeURIComponent(name)}`)).status).toBe(404);
    });

    it('a body that is not JSON of an object is refused', async () => {
      expect((await call('POST', '/api/im-apps', ['feishu'])).status).toBe(422);
      expect((await call('POST', '/api/im-apps', 'type: feishu')).status).toBeGreaterThanOrEqual(400);
    });
  });

  describe('credentials the platform refuses', () => {
    it.each(types)(
      '%s: a wrong secret → 422 with the vendor’s code and message and the console page to fix it; nothing stored',
      async (type) => {
        const platform = platforms[type];
        const wrong = newSecret(`${type}-wrong-secret`);
        const before = await appCount();
        const refused = await call('POST', '/api/im-apps', {
          ...platform.full(`${type}-refused`),
          [platform.secretField]: wrong,
        });
        await expectRefused(refused, [platform.secretField], type);
        for (const words of platform.refusal) expect(refused.body.error.message).toContain(words);
        expect(refused.body.error.message).toContain(platform.consolePage);
        expect(JSON.stringify(refused.body)).not.toContain(wrong);
        expect(await appCount()).toBe(before);
        expect((await call('GET', `/api/im-apps/${type}-refused`)).status).toBe(404);
      },
    );

    it.each(types)(
      '%s: an api_base that is not the platform is not reported as a wrong secret',
      async (type) => {
        const platform = platforms[type];
        const before = await appCount();
        const nowhere = 'http://signoff.test/not-a-platform';
        const refused = await call('POST', '/api/im-apps', {
          ...platform.minimal(`${type}-nowhere`),
          api_base: nowhere,
          ...(type === 'dingtalk' ? { oapi_base: nowhere } : {}),
        });
        expect(refused.status).toBeGreaterThanOrEqual(400);
        expect(await appCount()).toBe(before);
        // Blaming the secret sends the operator to re-copy a secret that is right.
        expect(refused.body.error.message).not.toContain('refused these credentials');
        const paths = (refused.body.error.problems ?? []).map((problem: any) => problem.path);
        expect(paths).not.toContain(platform.secretField);
      },
    );

    it.each(['feishu', 'lark'] as const)(
      '%s: an App ID the platform does not know → 422 with code 10003',
      async (type) => {
        const refused = await call('POST', '/api/im-apps', {
          ...platforms[type].minimal(`${type}-unknown`),
          app_id: 'cli_0123456789abcdef',
        });
        await expectRefused(refused, [], type);
        expect(refused.body.error.message).toContain('10003');
        expect(refused.body.error.message).toContain('凭证与基础信息');
        expect((await call('GET', `/api/im-apps/${type}-unknown`)).status).toBe(404);
      },
    );

    it.each(types)(
      '%s: ?check=false saves without asking the platform; a later test reports the refusal',
      async (type) => {
        const platform = platforms[type];
        const wrong = newSecret(`${type}-offline-secret`);
        const saved = await call('POST', '/api/im-apps?check=false', {
          ...platform.minimal(`${type}-offline`),
          [platform.secretField]: wrong,
        });
        expect(saved.status, JSON.stringify(saved.body)).toBe(201);
        expect(saved.body.status.credentials).toBe('unchecked');
        expect(saved.body[`has_${platform.secretField}`]).toBe(true);

        const tested = await call('POST', `/api/im-apps/${saved.body.id}/test`);
        expect(tested.status).toBe(200);
        expect(tested.body.ok).toBe(false);
        expect(tested.body.error.message).toContain(platform.refusal[0]);
        expect(JSON.stringify(tested.body)).not.toContain(wrong);
        const after = await call('GET', `/api/im-apps/${saved.body.id}`);
        expect(after.body.status.credentials).toBe('failed');
        expect(after.body.status.last_check_error).toContain(platform.refusal[0]);

        expect((await call('DELETE', `/api/im-apps/${saved.body.id}`)).status).toBe(204);
      },
    );
  });

  describe('reading and changing', () => {
    it('lists every app (the sandbox ones too) with secrets masked, and finds one by id or by name', async () => {
      const listed = await call('GET', '/api/im-apps');
      expect(listed.status).toBe(200);
      const byName = new Map<string, any>(listed.body.im_apps.map((app: any) => [app.name, app]));
      for (const type of types) {
        expect(byName.get(`sandbox-${type}`)?.id).toBe(sandboxId(type));
        expect(byName.get(`${type}-main`)?.id).toBe(apps[`${type}-main`].id);
      }
      for (const app of listed.body.im_apps) {
        for (const value of Object.values(app.secrets)) expect([null, '********']).toContain(value);
      }
      for (const type of types) {
        const { id, name } = apps[`${type}-main`];
        const byId = await call('GET', `/api/im-apps/${id}`);
        const byItsName = await call('GET', `/api/im-apps/${name}`);
        expect(byId.status).toBe(200);
        expect(byItsName.body).toEqual(byId.body);
      }
      const missing = await call('GET', '/api/im-apps/no-such-app');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
    });

    it.each(types)(
      '%s: a PUT that leaves the secrets out keeps them (the app still passes its test)',
      async (type) => {
        const platform = platforms[type];
        const app = apps[`${type}-main`];
        const changed = await call(
          'PUT',
          `/api/im-apps/${app.id}`,
          without(platform.full(`${type}-primary`), platform.secretFields),
        );
        expect(changed.status, JSON.stringify(changed.body)).toBe(200);
        expect(changed.body.name).toBe(`${type}-primary`);
        for (const field of platform.secretFields) {
          expect(changed.body[`has_${field}`], field).toBe(true);
          expect(changed.body.secrets[field], field).toBe('********');
        }
        expect((await call('GET', `/api/im-apps/${type}-primary`)).body.id).toBe(app.id);
        const tested = await call('POST', `/api/im-apps/${app.id}/test`);
        expect(tested.body, JSON.stringify(tested.body)).toMatchObject({ ok: true, error: null });
        apps[`${type}-main`] = changed.body;
      },
    );

    it.each(types)(
      '%s: a PUT with a new wrong secret is refused with 422 and the old secret stays',
      async (type) => {
        const platform = platforms[type];
        const app = apps[`${type}-main`];
        const wrong = newSecret(`${type}-wrong-update`);
        const refused = await call('PUT', `/api/im-apps/${app.id}`, {
          ...without(platform.full(app.name), platform.secretFields),
          [platform.secretField]: wrong,
        });
        await expectRefused(refused, [platform.secretField], type);
        for (const words of platform.refusal) expect(refused.body.error.message).toContain(words);
        expect(refused.body.error.message).toContain(platform.consolePage);
        expect(JSON.stringify(refused.body)).not.toContain(wrong);
        const after = await call('GET', `/api/im-apps/${app.id}`);
        expect(after.body.updated_at).toBe(app.updated_at);
        expect(after.body.status.credentials).toBe('ok');
        const tested = await call('POST', `/api/im-apps/${app.id}/test`);
        expect(tested.body, JSON.stringify(tested.body)).toMatchObject({ ok: true, error: null });
      },
    );

    it.each(types)('%s: null clears an optional secret; a required one cannot be cleared', async (type) => {
      const platform = platforms[type];
      const app = apps[`${type}-main`];
      const kept = without(platform.full(app.name), platform.secretFields);
      const clear: Record<ImType, Record<string, unknown>> = {
        feishu: { verification_token: null },
        lark: { verification_token: null },
        // Without aes_key and token DingTalk cannot receive HTTP callbacks: the app moves to poll mode.
        dingtalk: { event_mode: 'poll', aes_key: null, token: null },
        wecom: { token: null, encoding_aes_key: null },
      };
      const cleared = await call('PUT', `/api/im-apps/${app.id}`, { ...kept, ...clear[type] });
      expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
      for (const field of platform.secretFields) {
        const gone = field in clear[type];
        expect(cleared.body[`has_${field}`], field).toBe(!gone);
        expect(cleared.body.secrets[field], field).toBe(gone ? null : '********');
      }
      if (type === 'dingtalk') expect(cleared.body.status.callback).toBe('not_used');
      if (type === 'wecom') expect(cleared.body.status.callback).toBe('not_configured');
      apps[`${type}-main`] = cleared.body;

      const required = await call('PUT', `/api/im-apps/${app.id}`, { ...kept, [platform.secretField]: null });
      await expectRefused(required, [platform.secretField], type);
      expect((await call('GET', `/api/im-apps/${app.id}`)).body[`has_${platform.secretField}`]).toBe(true);
      const tested = await call('POST', `/api/im-apps/${app.id}/test`);
      expect(tested.body.ok).toBe(true);
    });

    it.each(types)('%s: the type of an app cannot change', async (type) => {
      const other: Record<ImType, ImType> = {
        feishu: 'lark',
        lark: 'feishu',
        dingtalk: 'wecom',
        wecom: 'dingtalk',
      };
      const app = apps[`${type}-second`];
      const refused = await call('PUT', `/api/im-apps/${app.id}`, platforms[other[type]].full(app.name));
      await expectRefused(refused, ['type'], type);
      const after = await call('GET', `/api/im-apps/${app.id}`);
      expect(after.body.type).toBe(type);
      expect(after.body.updated_at).toBe(app.updated_at);
    });

    it('a PUT ?check=false that changes the secret does not keep reporting the old check as ok', async () => {
      const platform = platforms.feishu;
      const app = apps['feishu-second'];
      expect((await call('GET', `/api/im-apps/${app.id}`)).body.status.credentials).toBe('ok');
      const wrong = newSecret('feishu-unchecked-update');
      const saved = await call('PUT', `/api/im-apps/${app.id}?check=false`, {
        ...platform.minimal(app.name),
        app_secret: wrong,
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      // Nobody has checked these credentials: "ok" would be a claim about the previous secret.
      expect(saved.body.status.credentials).not.toBe('ok');
      const tested = await call('POST', `/api/im-apps/${app.id}/test`);
      expect(tested.body.ok).toBe(false);
      expect(tested.body.error.message).toContain('10014');
      // Put the right secret back (checked).
      const fixed = await call('PUT', `/api/im-apps/${app.id}`, platform.minimal(app.name));
      expect(fixed.status).toBe(200);
      expect(fixed.body.status.credentials).toBe('ok');
    });
  });

  describe('event modes and callback setup', () => {
    it('dingtalk: event_mode webhook needs aes_key and token; poll and stream do not', async () => {
      const before = await appCount();
      const refused = await call(
        'POST',
        '/api/im-apps',
        without(platforms.dingtalk.full('dingtalk-hooked'), ['aes_key', 'token']),
      );
      await expectRefused(refused, ['aes_key', 'token'], 'webhook without aes_key and token');
      expect(await appCount()).toBe(before);
      for (const mode of ['poll', 'stream']) {
        const created = await call('POST', '/api/im-apps', {
          ...platforms.dingtalk.minimal(`dingtalk-${mode}`),
          event_mode: mode,
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body.event_mode).toBe(mode);
        expect(created.body.status.callback).toBe('not_used');
        expect(created.body.has_aes_key).toBe(false);
        expect(created.body.has_token).toBe(false);
      }
      // With both, a webhook app waits for the operator to paste the URL in DingTalk's console.
      const hooked = await call('POST', '/api/im-apps', platforms.dingtalk.full('dingtalk-hooked'));
      expect(hooked.status).toBe(201);
      expect(hooked.body.status.callback).toBe('waiting');
      expect(hooked.body.status.callback_hint).toContain('事件与回调');
    });

    it('wecom: created before WeCom hands out Token and EncodingAESKey, then completed', async () => {
      const platform = platforms.wecom;
      const created = await call('POST', '/api/im-apps', platform.minimal('wecom-later'));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const app = created.body;
      expect(app.status.callback).toBe('not_configured');
      expect(app.status.callback_hint).toContain('接收消息');
      expect(app.has_token).toBe(false);
      expect(app.has_encoding_aes_key).toBe(false);

      // WeCom's URL check (or anyone) hitting the URL now gets a clear 4xx, not a crash or a 200.
      const timestamp = String(Math.floor(Date.now() / 1000));
      const early = await raw(
        'GET',
        `/callbacks/wecom/${app.id}?msg_signature=0123abcd&timestamp=${timestamp}&nonce=n1&echostr=abc`,
      );
      expect(early.status).toBeGreaterThanOrEqual(400);
      expect(early.status).toBeLessThan(500);
      expect(JSON.parse(early.text).error.message).toMatch(/not configured/i);
      expect(JSON.parse(early.text).error.message).toContain('EncodingAESKey');

      const token = newSecret('wecom-later-token');
      const aesKey = newAesKey();
      const completed = await call('PUT', `/api/im-apps/${app.id}`, {
        ...platform.minimal('wecom-later'),
        token,
        encoding_aes_key: aesKey,
      });
      expect(completed.status, JSON.stringify(completed.body)).toBe(200);
      expect(completed.body.has_token).toBe(true);
      expect(completed.body.has_encoding_aes_key).toBe(true);
      expect(completed.body.status.callback).toBe('waiting');

      // Now saving in WeCom succeeds: its GET verification, built with WeCom's own crypto library.
      const echo = `echo-${randomBytes(6).toString('hex')}`;
      const echostr = encrypt(aesKey, echo, sandbox.wecom.settings.corp_id!);
      const nonce = randomBytes(6).toString('hex');
      const signature = getSignature(token, timestamp, nonce, echostr);
      const verified = await raw(
        'GET',
        `/callbacks/wecom/${app.id}?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&echostr=${encodeURIComponent(echostr)}`,
      );
      expect(verified.status, verified.text).toBe(200);
      expect(verified.text).toBe(echo);
      expect((await call('GET', `/api/im-apps/${app.id}`)).body.status.callback).toBe('verified');
    });
  });

  describe('testing a registered app', () => {
    it.each(types)('%s: the sandbox app passes with no missing permissions', async (type) => {
      const tested = await call('POST', `/api/im-apps/${sandboxId(type)}/test`);
      expect(tested.status).toBe(200);
      expect(tested.body).toMatchObject({ ok: true, error: null, missing_permissions: [] });
      expect(tested.body.checked.length).toBeGreaterThan(0);
      const app = await call('GET', `/api/im-apps/${sandboxId(type)}`);
      expect(app.body.status.credentials).toBe('ok');
      expect(app.body.status.last_check_at).not.toBeNull();
    });

    it('an unknown app is a 404', async () => {
      expect((await call('POST', '/api/im-apps/ima_nope/test')).status).toBe(404);
    });
  });

  describe('address book', () => {
    const expectUsers = (users: any[], type: ImType) => {
      for (const user of users) {
        expect(user.id, JSON.stringify(user)).toMatch(/\S/);
        expect(user.id_type).toBe(platforms[type].idType);
        expect(user.name).toMatch(/\S/);
        expect(user).toHaveProperty('avatar');
        if (type === 'feishu' || type === 'lark') expect(user.avatar).toMatch(/^https:\/\//);
      }
      if (type === 'feishu' || type === 'lark') for (const user of users) expect(user.id).toMatch(/^ou_/);
    };

    it.each(types)('%s: the root department and a sub-department, with members', async (type) => {
      const book = books[type];
      const root = await call('GET', `/api/im-apps/${sandboxId(type)}/departments/root`);
      expect(root.status, JSON.stringify(root.body)).toBe(200);
      expect(root.body.department.id).toBe(book.rootId);
      expect(sorted(root.body.departments.map((d: any) => d.name))).toEqual(sorted(book.rootDepartments));
      for (const department of root.body.departments) expect(department.parent_id).toBe(book.rootId);
      expect(root.body.users.map((u: any) => u.name)).toEqual(book.rootUsers);
      expectUsers(root.body.users, type);

      const listed = root.body.departments.find((d: any) => d.name === book.sub.name);
      const sub = await call(
        'GET',
        `/api/im-apps/${sandboxId(type)}/departments/${encodeURIComponent(listed.id)}`,
      );
      expect(sub.status, JSON.stringify(sub.body)).toBe(200);
      expect(sub.body.department.id).toBe(listed.id);
      expect(sub.body.department.name).toBe(book.sub.name);
      expect(sorted(sub.body.departments.map((d: any) => d.name))).toEqual(sorted(book.sub.departments));
      const members = sub.body.users.map((u: any) => u.name);
      if (book.sub.exactUsers) expect(sorted(members)).toEqual(sorted(book.sub.users));
      else expect(members).toEqual(expect.arrayContaining(book.sub.users));
      if (typeof listed.member_count === 'number') expect(members).toHaveLength(listed.member_count);
      expectUsers(sub.body.users, type);
    });

    it.each(types)(
      '%s: people found by email, mobile and name; unknown people are an empty list',
      async (type) => {
        const book = books[type];
        const find = async (query: string) => {
          const found = await call('GET', `/api/im-apps/${sandboxId(type)}/users?${query}`);
          expect(found.status, `${query}: ${JSON.stringify(found.body)}`).toBe(200);
          expectUsers(found.body.users, type);
          return found.body.users.map((u: any) => u.name);
        };
        for (const [email, name] of book.byEmail) {
          expect(await find(`email=${encodeURIComponent(email)}`), email).toEqual([name]);
        }
        expect(await find(`mobile=${encodeURIComponent(book.byMobile[0])}`)).toEqual([book.byMobile[1]]);
        expect(sorted(await find(`query=${encodeURIComponent(book.byName[0])}`))).toEqual(
          sorted(book.byName[1]),
        );
        expect(await find('email=nobody.here%40example.com')).toEqual([]);
        const bare = await call('GET', `/api/im-apps/${sandboxId(type)}/users`);
        expect(bare.status).toBe(400);
        expect(bare.body.error.message).toMatch(/email|mobile|query/);
      },
    );

    it.each(['feishu', 'lark'] as const)('%s: people who left are not offered', async (type) => {
      const byName = await call('GET', `/api/im-apps/${sandboxId(type)}/users?query=Former`);
      expect(byName.body.users).toEqual([]);
      const byEmail = await call(
        'GET',
        `/api/im-apps/${sandboxId(type)}/users?email=former.staff%40example.com`,
      );
      expect(byEmail.body.users).toEqual([]);
    });

    it.each(['feishu', 'lark'] as const)(
      '%s: every chat the bot is in, searchable, and the user groups',
      async (type) => {
        const chats = await call('GET', `/api/im-apps/${sandboxId(type)}/chats`);
        expect(chats.status).toBe(200);
        expect(sorted(chats.body.chats.map((c: any) => c.name))).toEqual(
          sorted([
            '发布通知 Deploys',
            'On-call SRE',
            '项目群 Project 1',
            '项目群 Project 2',
            '项目群 Project 3',
          ]),
        );
        for (const chat of chats.body.chats) expect(chat.id).toMatch(/^oc_/);
        const searched = await call('GET', `/api/im-apps/${sandboxId(type)}/chats?query=project`);
        expect(sorted(searched.body.chats.map((c: any) => c.name))).toEqual([
          '项目群 Project 1',
          '项目群 Project 2',
          '项目群 Project 3',
        ]);
        const groups = await call('GET', `/api/im-apps/${sandboxId(type)}/user-groups`);
        expect(groups.status).toBe(200);
        expect(groups.body.groups).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ name: 'Release managers', member_count: 2 }),
            expect.objectContaining({ name: 'SRE (dynamic)', member_count: 2 }),
          ]),
        );
      },
    );

    it.each(['dingtalk', 'wecom'] as const)('%s: chats and user groups are a clear 400', async (type) => {
      const chats = await call('GET', `/api/im-apps/${sandboxId(type)}/chats`);
      expect(chats.status).toBe(400);
      expect(chats.body.error.message).toContain('no group chat listing');
      const groups = await call('GET', `/api/im-apps/${sandboxId(type)}/user-groups`);
      expect(groups.status).toBe(400);
      expect(groups.body.error.message).toContain('no user groups');
    });

    it.each(types)('%s: answers are cached for five minutes, then asked again', async (type) => {
      const id = sandboxId(type);
      const entries = () =>
        db().query<{ key: string; ttl: number }>(
          'select key, extract(epoch from (expires_at - now()))::float8 as ttl from im_cache where im_app_id = $1',
          [id],
        );
      await db().query('delete from im_cache where im_app_id = $1', [id]);
      const first = await call('GET', `/api/im-apps/${id}/departments/root`);
      expect(first.status).toBe(200);
      const [entry, ...others] = await entries();
      expect(others).toEqual([]);
      expect(entry!.ttl).toBeGreaterThan(4 * 60);
      expect(entry!.ttl).toBeLessThan(6 * 60);

      // Within the five minutes the answer comes from the cache, not the vendor: a marker put in the
      // cached entry is what the next identical call returns.
      await db().query(
        `update im_cache set value = jsonb_set(value, '{department,name}', '"served from cache"') where im_app_id = $1 and key = $2`,
        [id, entry!.key],
      );
      const second = await call('GET', `/api/im-apps/${id}/departments/root`);
      expect(second.body.department.name).toBe('served from cache');
      expect(second.body.users).toEqual(first.body.users);

      // Expired: the vendor is asked again and the entry is renewed.
      await db().query(`update im_cache set expires_at = now() - interval '1 second' where im_app_id = $1`, [
        id,
      ]);
      const third = await call('GET', `/api/im-apps/${id}/departments/root`);
      expect(third.body).toEqual(first.body);
      const [renewed] = await entries();
      expect(renewed!.ttl).toBeGreaterThan(4 * 60);

      // Gone: refilled by the next call. Lookups are cached the same way.
      await db().query('delete from im_cache where im_app_id = $1', [id]);
      expect((await call('GET', `/api/im-apps/${id}/departments/root`)).body).toEqual(first.body);
      await call('GET', `/api/im-apps/${id}/users?query=${encodeURIComponent(books[type].byName[0])}`);
      const refilled = await entries();
      expect(refilled).toHaveLength(2);
      for (const row of refilled) expect(row.ttl).toBeGreaterThan(4 * 60);
    });
  });

  describe('deleting', () => {
    it('is refused with 409 naming the workflows that use the app, then allowed', async () => {
      const created = await call('POST', '/api/im-apps', platforms.feishu.minimal('feishu-doomed'));
      expect(created.status).toBe(201);
      const app = created.body;
      const workflow = (id: string, name: string, spec: unknown) =>
        db().query('insert into workflows (id, name, source, spec) values ($1, $2, $3, $4)', [
          id,
          name,
          `name: ${name}\n`,
          JSON.stringify(spec),
        ]);
      await workflow('wf_release', 'release-train', {
        name: 'release-train',
        stages: [{ name: 'gate', jobs: [{ name: 'ok', type: 'approval', spec: { app: 'feishu-doomed' } }] }],
      });
      await workflow('wf_nightly', 'nightly-notify', {
        name: 'nightly-notify',
        notifications: [{ on: ['failed'], to: { app: app.id, chat: 'oc_x' } }],
      });
      // Mentions the name, but not as an app: no reason to refuse.
      await workflow('wf_other', 'unrelated-doc', { name: 'unrelated-doc', description: 'feishu-doomed' });

      const refused = await call('DELETE', `/api/im-apps/${app.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('conflict');
      expect(refused.body.error.message).toContain('release-train');
      expect(refused.body.error.message).toContain('nightly-notify');
      expect(refused.body.error.message).not.toContain('unrelated-doc');
      expect((await call('GET', `/api/im-apps/${app.id}`)).status).toBe(200);

      await db().query(`delete from workflows where id in ('wf_release', 'wf_nightly', 'wf_other')`);
      expect((await call('DELETE', `/api/im-apps/feishu-doomed`)).status).toBe(204);
      expect((await call('GET', `/api/im-apps/${app.id}`)).status).toBe(404);
      expect((await call('GET', '/api/im-apps')).body.im_apps.map((a: any) => a.id)).not.toContain(app.id);
      const callback = await raw('POST', `/callbacks/feishu/${app.id}`, '{}');
      expect(callback.status).toBe(404);
      expect((await call('DELETE', `/api/im-apps/${app.id}`)).status).toBe(404);
    });

    it.each(types)('%s: an unused app is deleted with 204', async (type) => {
      const app = apps[`${type}-second`];
      expect((await call('DELETE', `/api/im-apps/${app.id}`)).status).toBe(204);
      expect((await call('GET', `/api/im-apps/${app.id}`)).status).toBe(404);
    });
  });

  describe('who may change apps', () => {
    it('a user who is not an admin can list apps (secrets masked) but not create, change or delete one', async () => {
      const listed = await call('GET', '/api/im-apps', undefined, viewerToken);
      expect(listed.status).toBe(200);
      expect(listed.body.im_apps.length).toBeGreaterThan(0);
      for (const app of listed.body.im_apps) {
        for (const value of Object.values(app.secrets)) expect([null, '********']).toContain(value);
      }
      const app = apps['feishu-main'];
      expect((await call('GET', `/api/im-apps/${app.id}`, undefined, viewerToken)).status).toBe(200);

      const before = await appCount();
      const attempts = [
        await call('POST', '/api/im-apps', platforms.feishu.full('viewer-app'), viewerToken),
        await call(
          'PUT',
          `/api/im-apps/${app.id}`,
          { ...without(platforms.feishu.full('taken-over'), ['app_secret']) },
          viewerToken,
        ),
        await call('DELETE', `/api/im-apps/${app.id}`, undefined, viewerToken),
      ];
      for (const attempt of attempts) {
        expect(attempt.status, JSON.stringify(attempt.body)).toBe(403);
        expect(attempt.body.error.code).toBe('forbidden');
      }
      expect(await appCount()).toBe(before);
      const after = await call('GET', `/api/im-apps/${app.id}`);
      expect(after.body.name).toBe(app.name);
      expect(after.body.updated_at).toBe(app.updated_at);
    });
  });

  describe('secrets at rest', () => {
    it('the secrets column holds no secret in clear; the key file is mode 0600', async () => {
      const rows = await db().query<{ id: string; secrets: string; settings: string }>(
        'select id, secrets, settings::text as settings from im_apps',
      );
      expect(rows.length).toBeGreaterThan(4);
      for (const row of rows) {
        expect(row.secrets).toMatch(/^v1:[A-Za-z0-9+/=]+$/);
        const decoded = Buffer.from(row.secrets.slice(3), 'base64').toString('latin1');
        for (const secret of secretsUsed) {
          expect(row.secrets.includes(secret), `${row.id} secrets column`).toBe(false);
          expect(decoded.includes(secret), `${row.id} secrets column, decoded`).toBe(false);
          expect(row.settings.includes(secret), `${row.id} settings column`).toBe(false);
        }
      }
      const keyFile = join(stack.dataDir, 'secret.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      secretsUsed.add(readFileSync(keyFile, 'utf8').trim());
    });
  });

  it('no secret ever appeared in a response or a log line', () => {
    expect(secretsUsed.size).toBeGreaterThan(20);
    const logs = stack.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    const everything = responses.join('\n');
    for (const secret of secretsUsed) {
      expect(logs.includes(secret), `a log line contains the secret ${secret.slice(0, 6)}…`).toBe(false);
      expect(everything.includes(secret), `a response contains the secret ${secret.slice(0, 6)}…`).toBe(
        false,
      );
    }
  });
});
