// The DingTalk client against the fake (in-process fetch): tokens, retries, error mapping, the address
// book, permission probes and the workflow/message helpers.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import { memoryRateLimiter, type RateLimiter } from '../rate-limiter.js';
import type { ImAppConfig } from '../types.js';
import { createDingTalkClient, type DingTalkClientDeps, dingTalkErrorCode } from './client.js';
import { createDingTalkFake, type DingTalkFake, type DingTalkFakeOptions } from './fake.js';

const noLimit: RateLimiter = { take: async () => {} };

function setup(
  options: DingTalkFakeOptions = {},
  overrides: Partial<DingTalkClientDeps> & { app_secret?: string } = {},
) {
  const fake = createDingTalkFake(options);
  const app = fake.seed.app;
  const config: ImAppConfig = {
    type: 'dingtalk',
    app_key: app.appKey,
    app_secret: overrides.app_secret ?? app.appSecret,
    aes_key: app.aesKey,
    token: app.token,
    api_base: 'https://api.dingtalk.example/',
    oapi_base: 'https://oapi.dingtalk.example',
  };
  const sleeps: number[] = [];
  const client = createDingTalkClient(config, {
    fetch: fake.fetch,
    now: fake.clock.now,
    tokens: memoryTokenStore(),
    limiter: noLimit,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { fake, client, sleeps };
}

function tokenRequests(fake: DingTalkFake): number {
  return fake.calls.get('POST /v1.0/oauth2/accessToken') ?? 0;
}

async function caught(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError');
}

const form = {
  name: 'Production deploy',
  formComponents: [
    {
      componentType: 'TextareaField',
      props: { componentId: 'TextareaField-1', label: '详情', required: true },
    },
  ],
};

describe('DingTalk client: tokens', () => {
  it('proves the credentials with a fresh token and reuses the cached one for calls', async () => {
    const { fake, client } = setup();
    await client.checkCredentials();
    await client.department('1');
    await client.findUsers({ mobile: '13800000002' });
    expect(tokenRequests(fake)).toBe(1);
    await client.checkCredentials();
    expect(tokenRequests(fake)).toBe(2);
  });

  it('asks once for a token when many calls start together', async () => {
    const { fake, client } = setup();
    await Promise.all(['1', '2', '3', '4'].map((id) => client.department(id)));
    expect(tokenRequests(fake)).toBe(1);
  });

  it('refreshes the token before it expires', async () => {
    const { fake, client } = setup();
    await client.department('1');
    fake.clock.advance(7000 * 1000 + 1);
    await client.department('1');
    expect(tokenRequests(fake)).toBe(2);
  });

  it('names the console page to fix a wrong AppSecret, with DingTalk’s own code', async () => {
    const { client } = setup({}, { app_secret: 'wrong' });
    const error = await caught(() => client.checkCredentials());
    expect(error.code).toBe('upstream_rejected');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('invalidClientIdOrSecret');
    expect(error.message).toContain('无效的clientId或者clientSecret');
    expect(error.message).toContain('凭证与基础信息 (Credentials & Basic Info) → AppSecret');
    expect(error.message).not.toContain('wrong');
  });

  it('refreshes a revoked token and retries once, on both hosts', async () => {
    const { fake, client } = setup();
    const processCode = await client.saveForm(form);
    fake.faults.failNext('revoke_token');
    expect((await client.department('2')).users.map((u) => u.id)).toEqual(['zhangwei', 'lina', 'zhaolei']);
    fake.faults.failNext('revoke_token');
    expect(await client.listTemplates()).toEqual([{ name: form.name, processCode }]);
    expect(tokenRequests(fake)).toBe(3);
  });

  it('treats an expired token (old API 88/42001) like a revoked one', async () => {
    const { fake, client } = setup();
    await client.user('lina');
    fake.expireTokens();
    expect((await client.user('lina'))?.name).toBe('李娜');
  });

  it('gives up when the fresh token is refused too', async () => {
    const { fake, client } = setup();
    await client.user('lina');
    fake.faults.failNext('revoke_token', 'revoke_token');
    const error = await caught(() => client.user('lina'));
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('40014');
  });
});

describe('DingTalk client: errors', () => {
  it('waits a second and retries when rate limited, then reports rate_limited', async () => {
    const { fake, client, sleeps } = setup();
    fake.faults.failNext('rate_limit');
    expect(await client.user('lina')).toBeDefined();
    expect(sleeps).toEqual([1000]);
    fake.faults.failNext('rate_limit', 'rate_limit', 'rate_limit');
    const error = await caught(() => client.user('lina'));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(1000);
    expect(error.message).toContain('90018');
    fake.faults.failNext('rate_limit', 'rate_limit', 'rate_limit');
    const newApi = await caught(() => client.listTemplates());
    expect(newApi.code).toBe('rate_limited');
    expect(newApi.message).toContain('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
  });

  it('maps system busy and 5xx to retryable upstream errors, and a hung call to a timeout', async () => {
    const { fake, client } = setup({}, { timeoutMs: 50 });
    await client.user('lina');
    fake.faults.failNext('server_error');
    expect((await caught(() => client.user('lina'))).code).toBe('upstream_error');
    fake.faults.failNext('server_error');
    const newApi = await caught(() => client.listTemplates());
    expect(newApi.code).toBe('upstream_error');
    expect(newApi.retryable).toBe(true);
    fake.faults.failNext('timeout');
    expect((await caught(() => client.user('lina'))).code).toBe('upstream_timeout');
  });

  it('names the missing permission and where to grant it (old and new API)', async () => {
    const { fake, client } = setup();
    fake.revoke('qyapi_get_member', 'Workflow.Instance.Read');
    const old = await caught(() => client.user('lina'));
    expect(old.code).toBe('forbidden');
    expect(old.message).toContain('qyapi_get_member');
    expect(old.message).toContain('权限管理');
    const processCode = await client.saveForm(form);
    const id = await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '详情', value: 'v1.2.3' }],
      approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
    });
    const fresh = await caught(() => client.getProcessInstance(id));
    expect(fresh.code).toBe('forbidden');
    expect(fresh.message).toContain('Workflow.Instance.Read');
    expect(fresh.message).toContain('Forbidden.AccessDenied.AccessTokenPermissionDenied');
  });

  it('passes business errors through as not retryable, with DingTalk’s code and text', async () => {
    const { client } = setup();
    await client.saveForm(form);
    const clash = await caught(() => client.saveForm(form));
    expect(clash.code).toBe('upstream_rejected');
    expect(clash.message).toContain('formName.error');
    expect(clash.message).toContain('已有相同名称表单');
  });
});

describe('DingTalk client: address book', () => {
  it('lists a department with its sub-departments and members; the root is "1"', async () => {
    const { client } = setup();
    expect(client.rootDepartmentId).toBe('1');
    const root = await client.department('1');
    expect(root.department).toEqual({ id: '1', name: 'Signoff 示例科技', parent_id: null });
    expect(root.departments).toEqual([
      { id: '2', name: '研发部', parent_id: '1' },
      { id: '4', name: '运维部', parent_id: '1' },
    ]);
    expect(root.users).toEqual([
      {
        id: 'manager001',
        id_type: 'userid',
        name: '王芳',
        avatar: null,
        email: 'wang.fang@example.com',
        mobile: '13800000001',
        department_ids: ['1'],
      },
    ]);
    const qa = await client.department('3');
    expect(qa.department.parent_id).toBe('2');
    expect(qa.users.map((u) => u.id)).toEqual(['liuyang']);
  });

  it('follows every page of members (never only the first)', async () => {
    const { fake, client } = setup();
    for (let i = 0; i < 250; i++) {
      fake.addUser({ userid: `ops${i}`, unionid: `u-ops${i}`, name: `Ops ${i}`, dept_id_list: [4] });
    }
    const ops = await client.department('4');
    expect(ops.users).toHaveLength(252);
    expect(new Set(ops.users.map((u) => u.id)).size).toBe(252);
    expect(fake.calls.get('POST /topapi/v2/user/list')).toBe(3);
  });

  it('refuses unknown and malformed department ids clearly', async () => {
    const { client } = setup();
    const missing = await caught(() => client.department('999'));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain('通讯录权限范围');
    expect((await caught(() => client.department('od-1'))).code).toBe('bad_request');
  });

  it('finds people by mobile (getbymobile), by e-mail and by name (address-book walk)', async () => {
    const { fake, client } = setup();
    expect((await client.findUsers({ mobile: '+852-61234567' })).map((u) => u.id)).toEqual(['zhaolei']);
    expect(await client.findUsers({ mobile: '19900000000' })).toEqual([]);
    // No e-mail lookup in DingTalk: org_email counts too, case-insensitively.
    expect((await client.findUsers({ email: 'LI.NA@corp.example.com' })).map((u) => u.id)).toEqual(['lina']);
    expect((await client.findUsers({ email: 'Zhang.Wei@example.com' }))[0]?.email).toBe(
      'zhang.wei@example.com',
    );
    // zhaolei is in two departments: listed once.
    expect((await client.findUsers({ query: 'ray' })).map((u) => u.id)).toEqual(['zhaolei']);
    expect((await client.findUsers({ query: '张' })).map((u) => u.id)).toEqual(['zhangwei']);
    expect(await client.findUsers({ email: 'nobody@example.com' })).toEqual([]);
    expect((await caught(() => client.findUsers({}))).code).toBe('bad_request');
    expect(fake.calls.get('POST /topapi/v2/user/getbymobile')).toBe(2);
  });

  it('reads one user and says undefined for an unknown one', async () => {
    const { client } = setup();
    expect((await client.user('chenjing'))?.department_ids).toEqual(['4']);
    expect(await client.user('ghost')).toBeUndefined();
  });
});

describe('DingTalk client: permission check', () => {
  it('reports nothing missing when everything is granted', async () => {
    const { client } = setup();
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([]);
    expect(report.checked).toHaveLength(4);
  });

  it('reports each missing permission by the name DingTalk gives', async () => {
    const { fake, client } = setup();
    fake.revoke('qyapi_get_department_list', 'qyapi_get_member', 'Workflow.Instance.Read');
    const report = await client.checkPermissions();
    expect(report.missing).toEqual([
      'qyapi_get_department_list',
      'qyapi_get_member',
      'Workflow.Instance.Read',
    ]);
    expect(report.checked).toEqual(['contacts: department members (qyapi_get_department_member)']);
  });

  it('fails on wrong credentials instead of reporting permissions', async () => {
    const { client } = setup({}, { app_secret: 'nope' });
    expect((await caught(() => client.checkPermissions())).code).toBe('upstream_rejected');
  });
});

describe('DingTalk client: workflow and messages', () => {
  it('creates a form, starts an instance, reads it and terminates it', async () => {
    const { fake, client } = setup();
    const processCode = await client.saveForm(form);
    expect(await client.saveForm({ ...form, processCode, description: 'updated' })).toBe(processCode);
    const id = await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      deptId: 2,
      formComponentValues: [{ name: '详情', value: 'v1.2.3' }],
      approvers: [{ actionType: 'OR', userIds: ['manager001', 'chenjing'] }],
    });
    const running = await client.getProcessInstance(id);
    expect(running.status).toBe('RUNNING');
    expect(running.tasks.map((t) => [t.userId, t.status])).toEqual([
      ['manager001', 'RUNNING'],
      ['chenjing', 'RUNNING'],
    ]);
    fake.decide(id, 'chenjing', 'agree');
    const done = await client.getProcessInstance(id);
    expect([done.status, done.result]).toEqual(['COMPLETED', 'agree']);
    const second = await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      deptId: -1,
      formComponentValues: [{ name: '详情', value: 'v2' }],
    });
    await client.terminateProcessInstance({ processInstanceId: second, remark: 'pipeline cancelled' });
    expect((await client.getProcessInstance(second)).status).toBe('TERMINATED');
    const again = await caught(() => client.terminateProcessInstance({ processInstanceId: second }));
    expect(again.code).toBe('upstream_rejected');
  });

  it('lists every template page', async () => {
    const { client } = setup({ qpsLimit: 0 });
    for (let i = 0; i < 130; i++) await client.saveForm({ ...form, name: `Form ${i}` });
    expect(await client.listTemplates()).toHaveLength(130);
  });

  it('sends a work notification', async () => {
    const { fake, client } = setup();
    const taskId = await client.sendWorkNotification(fake.seed.app.agentId, ['lina', 'zhangwei'], {
      msgtype: 'text',
      text: { content: 'Deploy v1.2.3 is waiting for you' },
    });
    expect(taskId).not.toBe('');
    expect(fake.workNotifications).toMatchObject([
      { userIds: ['lina', 'zhangwei'], msg: { msgtype: 'text' } },
    ]);
    const wrongAgent = await caught(() =>
      client.sendWorkNotification(1, ['lina'], { msgtype: 'text', text: { content: 'x' } }),
    );
    expect(wrongAgent.code).toBe('upstream_rejected');
  });

  it('keeps under DingTalk’s 20 calls/s per API with its own limiter', async () => {
    const { fake, client } = setup({ qpsLimit: 20 }, { limiter: memoryRateLimiter() });
    await client.user('lina');
    const answers = await Promise.all(Array.from({ length: 30 }, () => client.user('lina')));
    expect(answers.every((user) => user?.id === 'lina')).toBe(true);
    // DingTalk counts on arrival: on a loaded machine a delayed early request can make one later call
    // look early, which the client then retries; without the limiter most of the 30 would be refused.
    expect(fake.calls.get('POST /topapi/v2/user/get')).toBeLessThanOrEqual(33);
  });
});

describe('DingTalk client: instance ids and form schemas', () => {
  it('lists instance ids 20 a page, filtered by originator, status and creation time', async () => {
    const { fake, client } = setup({ qpsLimit: 0 });
    const processCode = await client.saveForm(form);
    const start = (originatorUserId: string) =>
      client.startProcessInstance({
        processCode,
        originatorUserId,
        formComponentValues: [{ name: '详情', value: 'v' }],
        approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
      });
    const before = fake.clock.now();
    const mine: string[] = [];
    for (let i = 0; i < 45; i++) mine.push(await start('zhangwei'));
    const theirs = await start('lina');
    fake.decide(mine[0]!, 'manager001', 'agree');
    const query = { processCode, startTime: before - 1000 };
    expect(await client.listProcessInstanceIds({ ...query, userIds: ['zhangwei'] })).toEqual(mine);
    expect(fake.calls.get('POST /v1.0/workflow/processes/instanceIds/query')).toBe(3);
    expect(await client.listProcessInstanceIds({ ...query, userIds: ['lina'] })).toEqual([theirs]);
    expect(await client.listProcessInstanceIds({ ...query, statuses: ['COMPLETED'] })).toEqual([mine[0]]);
    expect(
      await client.listProcessInstanceIds({ processCode, startTime: before - 60_000, endTime: before - 1 }),
    ).toEqual([]);
    const first = await client.queryProcessInstanceIds(query);
    expect(first.ids).toHaveLength(20);
    expect(first.nextToken).toBe(20);
  });

  it('reads a form schema and says undefined for a deleted form', async () => {
    const { fake, client } = setup();
    const processCode = await client.saveForm(form);
    expect(await client.formSchema(processCode)).toEqual({ name: form.name, status: 'PUBLISHED' });
    fake.deleteForm(processCode);
    expect(await client.formSchema(processCode)).toBeUndefined();
    fake.revoke('Workflow.Form.Read');
    const denied = await caught(() => client.formSchema(processCode));
    expect(denied.code).toBe('forbidden');
    expect(denied.message).toContain('Workflow.Form.Read');
  });

  it('keeps DingTalk’s own error code on the errors it throws', async () => {
    const { client } = setup();
    const missing = await caught(() => client.getProcessInstance('no-such-instance'));
    expect(missing.code).toBe('upstream_rejected');
    expect(dingTalkErrorCode(missing)).toBe('processInstanceNotExist');
    const gone = await caught(() =>
      client.startProcessInstance({
        processCode: 'PROC-GONE',
        originatorUserId: 'zhangwei',
        formComponentValues: [{ name: '详情', value: 'v' }],
        approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
      }),
    );
    expect(dingTalkErrorCode(gone)).toBe('processCodeError');
    expect(dingTalkErrorCode(new Error('x'))).toBeUndefined();
    expect(dingTalkErrorCode(new AppError('internal', 'x'))).toBeUndefined();
  });
});
