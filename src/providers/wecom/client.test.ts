import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import { fakeClock } from '../fake-kit.js';
import { memoryRateLimiter } from '../rate-limiter.js';
import type { TokenStore } from '../types.js';
import { createWeComClient, sendWeComRobot, type WeComConfig, type WeComTemplate } from './client.js';
import { WeComApiError } from './codes.js';
import { createWeComFake, type WeComFakeOptions } from './fake.js';
import { type WeComSeedCorp, wecomSandboxSeed } from './seed.js';

const start = Date.UTC(2026, 0, 5, 2, 0, 0);
const sandboxApp = wecomSandboxSeed.apps[0]!;

function setup(
  options: {
    fake?: WeComFakeOptions;
    config?: Partial<WeComConfig>;
    tokens?: TokenStore;
    timeoutMs?: number;
  } = {},
) {
  const clock = fakeClock(start);
  const fake = createWeComFake({ clock, ...options.fake });
  const config: WeComConfig = {
    type: 'wecom',
    corp_id: wecomSandboxSeed.corp_id,
    agent_id: sandboxApp.agent_id,
    secret: sandboxApp.secret,
    api_base: 'https://qyapi.example.test/',
    ...options.config,
  };
  const tokens = options.tokens ?? memoryTokenStore();
  // A limiter whose waits move the fake clock: limits are exercised without real sleeping.
  const rateLimiter = memoryRateLimiter(clock.now, async (ms) => clock.advance(ms));
  const client = createWeComClient(config, {
    fetch: fake.fetch,
    now: clock.now,
    tokens,
    limiter: rateLimiter,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { clock, fake, config, client, tokens };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a failure');
}

const template: WeComTemplate = {
  template_name: [{ text: '部署审批 Signoff', lang: 'zh_CN' }],
  template_content: {
    controls: [
      {
        property: {
          control: 'Textarea',
          id: 'Textarea-1',
          title: [{ text: '审批内容', lang: 'zh_CN' }],
          placeholder: [{ text: '', lang: 'zh_CN' }],
          require: 1,
          un_print: 0,
        },
        config: {},
      },
    ],
  },
};

describe('WeCom client: tokens', () => {
  it('checks credentials with a fresh token every time, never the cache', async () => {
    const { client, fake } = setup();
    await client.checkCredentials();
    await client.checkCredentials();
    expect(fake.stats.tokenRequests).toBe(2);
  });

  it('shares one token request among concurrent calls and reuses the cached token', async () => {
    const { client, fake } = setup();
    await Promise.all(Array.from({ length: 50 }, () => client.department('2')));
    await client.findUsers({ mobile: '+86 13800000004' });
    expect(fake.stats.tokenRequests).toBe(1);
  });

  it('uses a token to its end (an early ask would get the same one back) and asks once it expired', async () => {
    const { client, fake, clock } = setup();
    await client.department('1');
    clock.advance((7200 - 1) * 1000);
    for (let i = 0; i < 5; i++) await client.department('1');
    expect(fake.stats.tokenRequests).toBe(1);
    clock.advance(2 * 1000);
    await client.department('1');
    expect(fake.stats.tokenRequests).toBe(2);
  });

  it('refreshes once and retries when WeCom ends a token early (40014)', async () => {
    const { client, fake } = setup();
    await client.department('1');
    fake.revokeTokens();
    const listing = await client.department('1');
    expect(listing.department.name).toBe('Signoff Sandbox Co.');
    expect(fake.stats.tokenRequests).toBe(2);

    fake.faults.failNext('revoke_token');
    await client.department('1');
    expect(fake.stats.tokenRequests).toBe(3);
  });

  it('refreshes once and retries on an expired token (42001)', async () => {
    // The client's clock lags: its cache believes a token the fake has expired.
    const clock = fakeClock(start);
    const fake = createWeComFake({ clock });
    const lagging = { now: () => clock.now() - 3 * 3600_000 };
    const client = createWeComClient(
      {
        type: 'wecom',
        corp_id: wecomSandboxSeed.corp_id,
        agent_id: '1000002',
        secret: sandboxApp.secret,
        api_base: 'http://x',
      },
      { fetch: fake.fetch, now: lagging.now, tokens: memoryTokenStore() },
    );
    await client.department('1');
    clock.advance(7201 * 1000);
    await client.department('1');
    expect(fake.stats.tokenRequests).toBe(2);
  });

  it('keeps tokens per (corp id, secret): two apps of one corp never share one (Zadig W3)', async () => {
    const seed: WeComSeedCorp = {
      ...wecomSandboxSeed,
      apps: [...wecomSandboxSeed.apps, { agent_id: '1000003', secret: 'second-app-secret', name: 'Other' }],
    };
    const stored = new Map<string, string>();
    const memory = memoryTokenStore();
    const tokens: TokenStore = {
      get: (key) => memory.get(key),
      delete: (key) => memory.delete(key),
      set: async (key, value) => {
        stored.set(key, value.token);
        await memory.set(key, value);
      },
    };
    const first = setup({ fake: { seed }, tokens });
    const second = createWeComClient(
      { ...first.config, agent_id: '1000003', secret: 'second-app-secret' },
      { fetch: first.fake.fetch, now: first.clock.now, tokens },
    );
    const [one, two] = await Promise.all([first.client.checkPermissions(), second.checkPermissions()]);
    // agent/get answers only for the app the token belongs to.
    expect(one.missing).toEqual([]);
    expect(two.missing).toEqual([]);
    expect(first.fake.stats.tokenRequests).toBe(2);
    expect(stored.size).toBe(2);
    expect(new Set(stored.values()).size).toBe(2);
  });
});

describe('WeCom client: errors', () => {
  it('refuses a wrong secret with WeCom code, message and where to find the Secret, never echoing it', async () => {
    const { client } = setup({ config: { secret: 'wrong-secret-value-1234567890' } });
    const error = await failure(client.checkCredentials());
    expect(error).toBeInstanceOf(WeComApiError);
    expect((error as WeComApiError).errcode).toBe(40001);
    expect(error.code).toBe('upstream_rejected');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('errcode 40001 (invalid credential');
    expect(error.message).toContain('应用管理 → 自建应用 → <app> → Secret (查看)');
    expect(error.message).not.toContain('wrong-secret-value');
  });

  it('says 40091 when the secret belongs to another company', async () => {
    const other: WeComSeedCorp = {
      corp_id: 'wwothercorp00000001',
      name: 'Other',
      departments: [{ id: 1, name: 'Other', parentid: 0, order: 1 }],
      users: [],
      apps: [{ agent_id: '1000002', secret: 'other-corp-secret', name: 'X' }],
    };
    const { client } = setup({
      fake: { seed: [wecomSandboxSeed, other] },
      config: { secret: 'other-corp-secret' },
    });
    const error = await failure(client.checkCredentials());
    expect((error as WeComApiError).errcode).toBe(40091);
    expect(error.message).toContain('Secret (查看)');
  });

  it('names the Corp ID for 40013', async () => {
    const { client } = setup({ config: { corp_id: 'wwnosuchcorp' } });
    const error = await failure(client.checkCredentials());
    expect((error as WeComApiError).errcode).toBe(40013);
    expect(error.message).toContain('企业ID');
  });

  it('maps busy, frequency limits and timeouts to retryable errors', async () => {
    const { client, fake } = setup({ timeoutMs: 50 });
    await client.department('1');
    fake.faults.failNext('server_error');
    const busy = await failure(client.department('1'));
    expect([busy.code, busy.retryable]).toEqual(['upstream_error', true]);

    fake.faults.failNext('rate_limit');
    const limited = await failure(client.department('1'));
    expect([limited.code, limited.retryable, limited.retryAfterMs]).toEqual(['rate_limited', true, 60_000]);

    fake.faults.failNext('timeout');
    const slow = await failure(client.department('1'));
    expect([slow.code, slow.retryable]).toEqual(['upstream_timeout', true]);
  });

  it('explains 60020 with the Trusted IPs page', async () => {
    const { client, fake } = setup();
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { trusted_ip: false });
    const error = await failure(client.department('1'));
    expect((error as WeComApiError).errcode).toBe(60020);
    expect(error.message).toContain('企业可信IP (App Management → <app> → Trusted IPs)');
  });
});

describe('WeCom client: permissions', () => {
  it('reports nothing missing when contacts, the AgentId and the approval API all answer', async () => {
    const { client } = setup();
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([]);
    expect(report.checked).toHaveLength(3);
  });

  it('names the approval setting when the app is not among the approval callable apps', async () => {
    const { client, fake } = setup();
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { approval_access: false });
    const report = await client.checkPermissions();
    expect(report.missing).toHaveLength(1);
    expect(report.missing[0]).toContain('审批 → 可调用接口的应用 (Approval → apps that may call the API)');
  });

  it('names Trusted IPs once when every probe is refused for the IP', async () => {
    const { client, fake } = setup();
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { trusted_ip: false });
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([expect.stringContaining('企业可信IP (Trusted IPs)')]);
    expect(report.checked).toEqual([]);
  });

  it('says so when the AgentId is not the app of this Secret', async () => {
    const seed: WeComSeedCorp = {
      ...wecomSandboxSeed,
      apps: [...wecomSandboxSeed.apps, { agent_id: '1000003', secret: 'second-app-secret', name: 'Other' }],
    };
    const { client } = setup({ fake: { seed }, config: { agent_id: '1000003' } });
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([expect.stringContaining('agent/get')]);
  });

  it('still fails outright for wrong credentials', async () => {
    const { client } = setup({ config: { secret: 'nope' } });
    expect((await failure(client.checkPermissions())).message).toContain('40001');
  });
});

describe('WeCom client: contacts', () => {
  it('lists the root with its direct sub-departments and direct members', async () => {
    const { client } = setup();
    expect(client.rootDepartmentId).toBe('1');
    const root = await client.department('1');
    expect(root.department).toEqual({
      id: '1',
      name: 'Signoff Sandbox Co.',
      parent_id: null,
      member_count: null,
    });
    expect(root.departments.map((department) => department.id)).toEqual(['2', '3', '4']);
    expect(root.users.map((user) => user.id)).toEqual(['SignoffAdmin']);
    expect(root.users[0]).toMatchObject({ id_type: 'userid', name: 'Signoff Admin', avatar: null });
  });

  it('lists a department, its child and members that belong to several departments', async () => {
    const { client } = setup();
    const engineering = await client.department('2');
    expect(engineering.department).toMatchObject({ id: '2', name: '研发部', parent_id: '1' });
    expect(engineering.departments.map((department) => [department.id, department.parent_id])).toEqual([
      ['5', '2'],
    ]);
    expect(engineering.users.map((user) => user.id).sort()).toEqual(['LiNa', 'ZhangWei', 'ZhaoLei']);
  });

  it('refuses unknown and malformed department ids', async () => {
    const { client } = setup();
    expect((await failure(client.department('99'))).code).toBe('not_found');
    expect((await failure(client.department('1 OR 1'))).code).toBe('bad_request');
  });

  it('shows an app whose visible range excludes the root its visible departments as the root', async () => {
    const { client, fake } = setup();
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { visible: { departments: [3, 5] } });
    const root = await client.department('1');
    expect(root.departments.map((department) => department.id)).toEqual(['3', '5']);
    const error = await failure(client.department('4'));
    expect(error.message).toContain('可见范围');
  });

  it('finds members by company or personal email and by mobile, and nobody for unknown ones', async () => {
    const { client } = setup();
    expect(await client.findUsers({ email: 'zhangwei@sandbox.wecom.work' })).toEqual([
      expect.objectContaining({
        id: 'ZhangWei',
        name: '张伟',
        email: 'zhangwei@sandbox.wecom.work',
        department_ids: ['2'],
      }),
    ]);
    expect((await client.findUsers({ email: 'li.na@example.com' })).map((user) => user.id)).toEqual(['LiNa']);
    expect((await client.findUsers({ mobile: ' +86 13800000004 ' })).map((user) => user.id)).toEqual([
      'WangFang',
    ]);
    expect(await client.findUsers({ email: 'nobody@example.com' })).toEqual([]);
    expect(await client.findUsers({ mobile: '+86 10000000000' })).toEqual([]);
  });

  it('filters the visible address book for a name query', async () => {
    const { client, fake } = setup();
    expect((await client.findUsers({ query: '张' })).map((user) => user.id)).toEqual(['ZhangWei']);
    expect((await client.findUsers({ query: 'li' })).map((user) => user.id).sort()).toEqual([
      'LiNa',
      'LiuYang',
    ]);
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { visible: { departments: [3] } });
    expect((await client.findUsers({ query: 'li' })).map((user) => user.id)).toEqual(['LiuYang']);
    expect((await failure(client.findUsers({}))).code).toBe('bad_request');
  });

  it('reads avatar, mobile and email where WeCom still gives them (apps from before 2022-06-20)', async () => {
    const { client, fake } = setup();
    fake.updateApp(wecomSandboxSeed.corp_id, '1000002', { sensitive_fields: true });
    expect(await client.user('ChenJing')).toMatchObject({
      mobile: '+86 13800000006',
      email: 'chen.jing@example.com',
    });
  });
});

describe('WeCom client: approvals and messages', () => {
  it('creates a template, submits an approval and reads its detail as it is decided', async () => {
    const { client, fake } = setup();
    const templateId = await client.createTemplate(template);
    const detail = await client.templateDetail(templateId);
    expect(detail.template_names[0]!.text).toBe('部署审批 Signoff');
    expect(detail.template_content.controls[0]!.property.id).toBe('Textarea-1');

    const spNo = await client.applyEvent({
      creator_userid: 'SignoffAdmin',
      template_id: templateId,
      use_template_approver: 0,
      process: {
        node_list: [
          { type: 1, apv_rel: 1, userid: ['ZhangWei', 'LiNa'] },
          { type: 1, apv_rel: 2, userid: ['WangFang', 'LiuYang'] },
          { type: 2, userid: ['ChenJing'] },
        ],
      },
      apply_data: {
        contents: [{ control: 'Textarea', id: 'Textarea-1', value: { text: 'deploy v1.2 to prod' } }],
      },
      summary_list: [{ summary_info: [{ text: 'Deploy v1.2', lang: 'zh_CN' }] }],
    });
    expect(spNo).toMatch(/^20260105\d{4}$/);
    let info = await client.approvalDetail(spNo);
    expect(info).toMatchObject({ sp_no: spNo, sp_status: 1, applyer: { userid: 'SignoffAdmin' } });
    // node_list apv_rel 1 (AND) becomes sp_record approverattr 2 (AND): the numbering trap.
    expect(info.sp_record.map((record) => record.approverattr)).toEqual([2, 1]);
    expect(info.notifyer).toEqual([{ userid: 'ChenJing' }]);

    fake.decide(spNo, 'ZhangWei', 'approve', 'ok');
    fake.decide(spNo, 'LiNa', 'approve');
    fake.decide(spNo, 'LiuYang', 'approve', 'ship it');
    info = await client.approvalDetail(spNo);
    expect(info.sp_status).toBe(2);
    expect(info.sp_record[1]!.details.find((details) => details.approver.userid === 'LiuYang')).toMatchObject(
      {
        sp_status: 2,
        speech: 'ship it',
      },
    );
  });

  it('refuses an approval whose required control is empty (301025), or whose approver is unknown', async () => {
    const { client } = setup();
    const templateId = await client.createTemplate(template);
    const base = {
      creator_userid: 'SignoffAdmin',
      template_id: templateId,
      use_template_approver: 0 as const,
      approver: [{ attr: 1 as const, userid: ['ZhangWei'] }],
    };
    const empty = await failure(client.applyEvent({ ...base, apply_data: { contents: [] } }));
    expect((empty as WeComApiError).errcode).toBe(301025);
    expect(empty.code).toBe('upstream_rejected');
    const unknown = await failure(
      client.applyEvent({
        ...base,
        approver: [{ attr: 2, userid: ['Ghost'] }],
        apply_data: { contents: [{ control: 'Textarea', id: 'Textarea-1', value: { text: 'x' } }] },
      }),
    );
    expect(unknown.message).toContain('Ghost');
    // gettemplatedetail's documented answer for an unknown template: 301025 (请求template_id非法).
    expect(((await failure(client.templateDetail('no-such-template'))) as WeComApiError).errcode).toBe(
      301025,
    );
  });

  it('lists approval numbers across pages', async () => {
    const { client, clock } = setup();
    const templateId = await client.createTemplate(template);
    const created: string[] = [];
    for (let i = 0; i < 130; i++) {
      created.push(
        await client.applyEvent({
          creator_userid: 'SignoffAdmin',
          template_id: templateId,
          use_template_approver: 0,
          approver: [{ attr: 1, userid: ['ZhangWei'] }],
          apply_data: { contents: [{ control: 'Textarea', id: 'Textarea-1', value: { text: `run ${i}` } }] },
        }),
      );
    }
    const now = Math.floor(clock.now() / 1000);
    const numbers = await client.approvalNumbers({
      starttime: now - 3600,
      endtime: now,
      filters: [{ key: 'creator', value: 'SignoffAdmin' }],
    });
    expect(numbers).toEqual(created);
  });

  it('sends app messages as its agent and reports unknown recipients without failing', async () => {
    const { client, fake } = setup();
    const result = await client.sendMessage({
      touser: 'ZhangWei|Ghost',
      msgtype: 'text',
      text: { content: 'Run #1 needs you' },
    });
    expect(result.invaliduser).toEqual(['Ghost']);
    expect(result.msgid).not.toBe('');
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({ agent_id: '1000002', touser: ['ZhangWei'], msgtype: 'text' });
    const nobody = await failure(
      client.sendMessage({ touser: 'Ghost', msgtype: 'text', text: { content: 'x' } }),
    );
    expect((nobody as WeComApiError).errcode).toBe(81013);
  });

  it('waits rather than exceed 30 messages a minute to one member (WeCom would drop them silently)', async () => {
    const { client, fake, clock } = setup();
    const before = clock.now();
    for (let i = 0; i < 31; i++)
      await client.sendMessage({ touser: 'LiNa', msgtype: 'text', text: { content: `#${i}` } });
    expect(fake.messages).toHaveLength(31);
    expect(fake.droppedMessages).toHaveLength(0);
    expect(clock.now() - before).toBeGreaterThanOrEqual(60_000);
  });

  it('posts to a group robot and maps its refusals', async () => {
    const { fake } = setup();
    const url = `https://qyapi.example.test/cgi-bin/webhook/send?key=${wecomSandboxSeed.robots![0]}`;
    await sendWeComRobot(fake.fetch, url, {
      msgtype: 'markdown',
      markdown: { content: '**Run #1** passed' },
    });
    expect(fake.robotMessages).toEqual([expect.objectContaining({ msgtype: 'markdown' })]);

    const wrong = await failure(
      sendWeComRobot(fake.fetch, 'https://qyapi.example.test/cgi-bin/webhook/send?key=nope', {
        msgtype: 'text',
        text: { content: 'x' },
      }),
    );
    expect((wrong as WeComApiError).errcode).toBe(93000);
    expect(wrong.message).not.toContain('nope');

    for (let i = 1; i < 20; i++)
      await sendWeComRobot(fake.fetch, url, { msgtype: 'text', text: { content: `#${i}` } });
    const limited = await failure(
      sendWeComRobot(fake.fetch, url, { msgtype: 'text', text: { content: '#21' } }),
    );
    expect(limited.code).toBe('rate_limited');
  });
});
