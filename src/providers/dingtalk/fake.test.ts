// The DingTalk fake on its own wire: approval flows and the bpms_* callbacks they push (checked by our
// own callback handler, as the real receiver), strictness, and the custom robot webhook.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { memoryTokenStore } from '../access-token.js';
import type { Fetch } from '../http.js';
import type { ImAppConfig, ImEvent } from '../types.js';
import { handleDingTalkCallback } from './callback.js';
import { createDingTalkClient, dingTalkErrorCode } from './client.js';
import { dingTalkRobotSign } from './crypto.js';
import { createDingTalkFake, type DingTalkFakeOptions } from './fake.js';
import { sendDingTalkRobot } from './robot.js';
import { dingTalkDemoSeed } from './seed.js';

const app = dingTalkDemoSeed.app;
const config: ImAppConfig = {
  type: 'dingtalk',
  app_key: app.appKey,
  app_secret: app.appSecret,
  aes_key: app.aesKey,
  token: app.token,
  api_base: 'https://api.dingtalk.com',
  oapi_base: 'https://oapi.dingtalk.com',
};

/** Our callback route in miniature: the handler answers, events are collected. */
function receiver(receiverConfig: ImAppConfig = config) {
  const events: ImEvent[] = [];
  const state = { verified: 0, down: false };
  const fetchImpl: Fetch = async (input, init) => {
    if (state.down) return new Response('unavailable', { status: 503 });
    const url = new URL(String(input));
    try {
      const result = handleDingTalkCallback(
        receiverConfig,
        {
          method: init?.method ?? 'GET',
          query: Object.fromEntries(url.searchParams),
          headers: {},
          body: String(init?.body ?? ''),
        },
        { now: Date.now },
      );
      if (result.verification) state.verified++;
      if (result.event) events.push(result.event);
      return new Response(result.body, {
        status: result.status,
        headers: { 'content-type': result.content_type },
      });
    } catch (error) {
      return new Response(JSON.stringify({ error: (error as Error).message }), { status: 400 });
    }
  };
  return { events, state, fetch: fetchImpl };
}

function setup(options: DingTalkFakeOptions = {}, receiverConfig?: ImAppConfig) {
  const inbox = receiver(receiverConfig);
  const fake = createDingTalkFake({ callbackFetch: inbox.fetch, ...options });
  const client = createDingTalkClient(config, {
    fetch: fake.fetch,
    now: fake.clock.now,
    tokens: memoryTokenStore(),
  });
  return { fake, client, inbox };
}

const form = {
  name: 'Release approval',
  formComponents: [
    { componentType: 'TextField', props: { componentId: 'TextField-1', label: '版本', required: true } },
    { componentType: 'TextareaField', props: { componentId: 'TextareaField-1', label: '说明' } },
  ],
};

const summary = (events: ImEvent[]) =>
  events.map((event) => {
    const p = event.payload as Record<string, unknown>;
    return [
      p.EventType === 'bpms_instance_change' ? 'instance' : 'task',
      p.type,
      p.staffId,
      p.result ?? null,
    ];
  });

describe('DingTalk fake: approvals and callbacks', () => {
  it('verifies the callback URL with check_url before keeping it', async () => {
    const { fake, inbox } = setup();
    expect(await fake.subscribe('https://signoff.example/callbacks/dingtalk/ima_1')).toBe(true);
    expect(inbox.state.verified).toBe(1);
    expect(fake.callbackUrl).toBe('https://signoff.example/callbacks/dingtalk/ima_1');
    const wrongToken = setup({}, { ...config, token: 'another-token' });
    expect(await wrongToken.fake.subscribe('https://signoff.example/cb')).toBe(false);
    expect(wrongToken.fake.callbackUrl).toBeUndefined();
  });

  it('runs a two-node flow (single approver, then OR) and pushes every change', async () => {
    const { fake, client, inbox } = setup();
    await fake.subscribe('https://signoff.example/cb');
    const processCode = await client.saveForm(form);
    const id = await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v1.2.3' }],
      approvers: [
        { actionType: 'NONE', userIds: ['manager001'] },
        { actionType: 'OR', userIds: ['lina', 'liuyang'] },
      ],
    });
    fake.decide(id, 'manager001', 'agree', 'ok');
    fake.decide(id, 'liuyang', 'agree');
    await fake.flush();
    expect(summary(inbox.events)).toEqual([
      ['instance', 'start', 'zhangwei', null],
      ['task', 'start', 'manager001', null],
      ['task', 'finish', 'manager001', 'agree'],
      ['task', 'start', 'lina', null],
      ['task', 'start', 'liuyang', null],
      ['task', 'finish', 'liuyang', 'agree'],
      ['task', 'cancel', 'lina', null],
      ['instance', 'finish', 'zhangwei', 'agree'],
    ]);
    expect(new Set(inbox.events.map((e) => e.dedup_key)).size).toBe(inbox.events.length);
    const instance = await client.getProcessInstance(id);
    expect([instance.status, instance.result]).toEqual(['COMPLETED', 'agree']);
    expect(instance.tasks.map((t) => [t.userId, t.status, t.result])).toEqual([
      ['manager001', 'COMPLETED', 'AGREE'],
      ['lina', 'CANCELED', 'NONE'],
      ['liuyang', 'COMPLETED', 'AGREE'],
    ]);
    expect(instance.operationRecords.map((r) => r.type)).toEqual([
      'START_PROCESS_INSTANCE',
      'EXECUTE_TASK_NORMAL',
      'EXECUTE_TASK_NORMAL',
    ]);
    expect(instance.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
  });

  it('needs every AND approver, ends at the first refusal, and shows a redirect as a new task', async () => {
    const { fake, client, inbox } = setup();
    await fake.subscribe('https://signoff.example/cb');
    const processCode = await client.saveForm(form);
    const id = await client.startProcessInstance({
      processCode,
      originatorUserId: 'lina',
      formComponentValues: [{ name: '版本', value: 'v2' }],
      approvers: [{ actionType: 'AND', userIds: ['manager001', 'zhangwei'] }],
    });
    fake.decide(id, 'manager001', 'agree');
    expect((await client.getProcessInstance(id)).status).toBe('RUNNING');
    fake.redirect(id, 'zhangwei', 'chenjing', '出差中');
    fake.decide(id, 'chenjing', 'refuse', '缺少回滚方案');
    await fake.flush();
    const instance = await client.getProcessInstance(id);
    expect([instance.status, instance.result]).toEqual(['COMPLETED', 'refuse']);
    expect(instance.tasks.map((t) => [t.userId, t.result])).toEqual([
      ['manager001', 'AGREE'],
      ['zhangwei', 'REDIRECTED'],
      ['chenjing', 'REFUSE'],
    ]);
    expect(summary(inbox.events).slice(-4)).toEqual([
      ['task', 'finish', 'zhangwei', 'redirect'],
      ['task', 'start', 'chenjing', null],
      ['task', 'finish', 'chenjing', 'refuse'],
      ['instance', 'finish', 'lina', 'refuse'],
    ]);
  });

  it('pushes a terminate event when we (or the originator) revoke', async () => {
    const { fake, client, inbox } = setup();
    await fake.subscribe('https://signoff.example/cb');
    const processCode = await client.saveForm(form);
    const start = () =>
      client.startProcessInstance({
        processCode,
        originatorUserId: 'zhangwei',
        deptId: -1,
        formComponentValues: [{ name: '版本', value: 'v3' }],
      });
    const ours = await start();
    await client.terminateProcessInstance({ processInstanceId: ours, remark: 'run cancelled' });
    const theirs = await start();
    fake.revokeInstance(theirs, 'zhangwei');
    await fake.flush();
    const terminated = inbox.events.filter((e) => (e.payload as { type: string }).type === 'terminate');
    expect(terminated.map((e) => (e.payload as { processInstanceId: string }).processInstanceId)).toEqual([
      ours,
      theirs,
    ]);
    // Without approvers the console's flow applies (here: the seed's default approver).
    expect((await client.getProcessInstance(theirs)).approverUserIds).toEqual(['manager001']);
  });

  it('keeps failed deliveries and sends them again, with the same dedup keys', async () => {
    const { fake, client, inbox } = setup();
    await fake.subscribe('https://signoff.example/cb');
    const processCode = await client.saveForm(form);
    inbox.state.down = true;
    await client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v4' }],
      approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
    });
    await fake.flush();
    expect(fake.deliveries.filter((d) => !d.ok).map((d) => d.status)).toEqual([503, 503]);
    inbox.state.down = false;
    expect(await fake.redeliverFailed()).toBe(2);
    expect(summary(inbox.events)).toEqual([
      ['instance', 'start', 'zhangwei', null],
      ['task', 'start', 'manager001', null],
    ]);
    expect(fake.deliveries.every((d) => d.ok)).toBe(true);
  });

  it('refuses what DingTalk refuses when starting an instance', async () => {
    const { client } = setup();
    const processCode = await client.saveForm(form);
    const base = {
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v1' }],
      approvers: [{ actionType: 'NONE' as const, userIds: ['manager001'] }],
    };
    const refusal = async (input: typeof base | Record<string, unknown>) => {
      try {
        await client.startProcessInstance(input as typeof base);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(await refusal({ ...base, processCode: 'PROC-NOPE' })).toContain('processCodeError');
    expect(await refusal({ ...base, originatorUserId: 'ghost' })).toContain('invalidParameter');
    expect(await refusal({ ...base, formComponentValues: [{ name: '说明', value: 'x' }] })).toContain(
      'formConverterError',
    );
    expect(await refusal({ ...base, approvers: [{ actionType: 'NONE', userIds: ['a', 'b'] }] })).toContain(
      'processInstanceInvalidParameter',
    );
    expect(await refusal({ ...base, approvers: undefined })).toContain('deptId');
    expect(await refusal({ ...base, unknownField: 1 })).toContain('不支持的参数');
  });
});

describe('DingTalk fake: wire strictness', () => {
  it('answers a missing or unknown token the way each API does', async () => {
    const { fake } = setup();
    const missing = await fake.fetch(
      'https://api.dingtalk.com/v1.0/workflow/processInstances?processInstanceId=x',
    );
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'AuthenticationFailed.MissingParameter' });
    const unknown = await fake.fetch(
      'https://api.dingtalk.com/v1.0/workflow/processInstances?processInstanceId=x',
      {
        headers: { 'x-acs-dingtalk-access-token': 'nope' },
      },
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      code: 'InvalidAuthentication',
      message: '不合法的access_token',
    });
    const old = await fake.fetch('https://oapi.dingtalk.com/topapi/v2/user/get?access_token=nope', {
      method: 'POST',
      body: JSON.stringify({ userid: 'lina' }),
    });
    expect(old.status).toBe(200);
    expect(await old.json()).toMatchObject({ errcode: 88, sub_code: '40014' });
    const token = await fake.fetch('https://api.dingtalk.com/v1.0/oauth2/accessToken', {
      method: 'POST',
      body: JSON.stringify({ appKey: app.appKey, appSecret: 'bad' }),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ code: 'invalidClientIdOrSecret' });
  });

  it('refuses unknown fields and oversized pages on the old API', async () => {
    const { fake, client } = setup();
    const answer = await client.callOld<{ errcode: number; errmsg: string }>({
      path: '/topapi/v2/user/get',
      body: { userid: 'lina' },
      what: 'reading a user',
    });
    expect(answer.errcode).toBe(0);
    const token = (await (
      await fake.fetch('https://api.dingtalk.com/v1.0/oauth2/accessToken', {
        method: 'POST',
        body: JSON.stringify({ appKey: app.appKey, appSecret: app.appSecret }),
      })
    ).json()) as { accessToken: string };
    const post = async (path: string, body: unknown) =>
      (await fake
        .fetch(`https://oapi.dingtalk.com${path}?access_token=${token.accessToken}`, {
          method: 'POST',
          body: JSON.stringify(body),
        })
        .then((r) => r.json())) as { errcode: number; errmsg: string };
    expect((await post('/topapi/v2/user/get', { userId: 'lina' })).errcode).toBe(400002);
    expect((await post('/topapi/v2/user/list', { dept_id: 1, cursor: 0, size: 101 })).errcode).toBe(400002);
    expect((await post('/topapi/v2/user/list', { dept_id: 1 })).errcode).toBe(40035);
    expect((await post('/topapi/v2/department/listsub', { dept_id: 42 })).errcode).toBe(60003);
  });

  it('answers the old gettoken with the same token the new endpoint issued', async () => {
    const { fake } = setup();
    const fresh = (await (
      await fake.fetch('https://api.dingtalk.com/v1.0/oauth2/accessToken', {
        method: 'POST',
        body: JSON.stringify({ appKey: app.appKey, appSecret: app.appSecret }),
      })
    ).json()) as { accessToken: string; expireIn: number };
    expect(fresh.expireIn).toBe(7200);
    const old = (await (
      await fake.fetch(`https://oapi.dingtalk.com/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`)
    ).json()) as { errcode: number; access_token: string };
    expect(old).toMatchObject({ errcode: 0, access_token: fresh.accessToken });
    const wrong = (await (
      await fake.fetch(`https://oapi.dingtalk.com/gettoken?appkey=${app.appKey}&appsecret=x`)
    ).json()) as {
      errcode: number;
    };
    expect(wrong.errcode).toBe(40096);
  });
});

describe('DingTalk fake: mounted under a prefix (the sandbox)', () => {
  it('serves both APIs, guards and permissions under /sandbox/dingtalk', async () => {
    const fake = createDingTalkFake();
    const outer = new Hono();
    outer.route('/sandbox/dingtalk', fake.app);
    const base = 'https://signoff.example/sandbox/dingtalk';
    const mounted = createDingTalkClient(
      { ...config, api_base: base, oapi_base: base },
      {
        fetch: async (input, init) => outer.fetch(new Request(input, init)),
        now: Date.now,
        tokens: memoryTokenStore(),
      },
    );
    expect((await mounted.department('1')).departments).toHaveLength(2);
    fake.revoke('Workflow.Instance.Read');
    expect((await mounted.checkPermissions()).missing).toEqual(['Workflow.Instance.Read']);
    expect(fake.calls.get('POST /v1.0/oauth2/accessToken')).toBe(1);
  });
});

describe('DingTalk fake: custom robot', () => {
  const robot = dingTalkDemoSeed.robots[0]!;
  const text = (content: string) => ({
    msgtype: 'text' as const,
    text: { content },
    at: { atMobiles: [] as string[], isAtAll: false },
  });

  async function send(
    fake: ReturnType<typeof createDingTalkFake>,
    body: unknown,
    timestamp = fake.clock.now(),
    secret = robot.secret!,
  ) {
    const url = `https://oapi.dingtalk.com/robot/send?access_token=${robot.accessToken}&timestamp=${timestamp}&sign=${dingTalkRobotSign(secret, timestamp)}`;
    const response = await fake.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { errcode: number; errmsg: string };
  }

  it('checks the SEC signature and its one-hour timestamp window', async () => {
    const fake = createDingTalkFake();
    expect(await send(fake, text('构建成功'))).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(fake.robotMessages).toHaveLength(1);
    expect((await send(fake, text('x'), fake.clock.now(), 'SECwrong')).errmsg).toBe('sign not match');
    expect((await send(fake, text('x'), fake.clock.now() - 61 * 60_000)).errmsg).toBe('invalid timestamp');
    const unknown = await fake.fetch('https://oapi.dingtalk.com/robot/send?access_token=nope', {
      method: 'POST',
      body: JSON.stringify(text('x')),
    });
    expect(((await unknown.json()) as { errcode: number }).errcode).toBe(300001);
    expect((await send(fake, { msgtype: 'text', text: {} })).errcode).toBe(400002);
  });

  it('enforces keywords when the robot has them', async () => {
    const fake = createDingTalkFake();
    fake.addRobot({ accessToken: 'kw-robot', keywords: ['Signoff'] });
    const post = (content: string) =>
      fake
        .fetch('https://oapi.dingtalk.com/robot/send?access_token=kw-robot', {
          method: 'POST',
          body: JSON.stringify(text(content)),
        })
        .then((r) => r.json() as Promise<{ errcode: number; errmsg: string }>);
    expect((await post('hello')).errmsg).toBe('keywords not in content');
    expect((await post('Signoff: deploy done')).errcode).toBe(0);
  });

  it('allows 20 messages a minute, then throttles the robot for 10 minutes', async () => {
    const fake = createDingTalkFake();
    for (let i = 0; i < 20; i++) expect((await send(fake, text(`m${i}`))).errcode).toBe(0);
    expect((await send(fake, text('21st'))).errcode).toBe(130101);
    fake.clock.advance(2 * 60_000);
    expect((await send(fake, text('still throttled'))).errcode).toBe(130101);
    fake.clock.advance(8 * 60_000 + 1);
    expect((await send(fake, text('back'))).errcode).toBe(0);
    expect(fake.robotMessages).toHaveLength(21);
  });

  it('is reached by our robot sender, which signs, reports DingTalk’s verdicts and hides the URL', async () => {
    const fake = createDingTalkFake();
    const webhookUrl = `https://oapi.dingtalk.com/robot/send?access_token=${robot.accessToken}`;
    const options = { now: fake.clock.now };
    await sendDingTalkRobot(fake.fetch, { webhookUrl, secret: robot.secret }, text('部署完成'), options);
    expect(fake.robotMessages.map((m) => m.body)).toEqual([text('部署完成')]);
    const wrong = await sendDingTalkRobot(
      fake.fetch,
      { webhookUrl, secret: 'SECnope' },
      text('x'),
      options,
    ).catch((error: Error & { code: string }) => error);
    expect(wrong).toMatchObject({ code: 'upstream_rejected' });
    expect((wrong as Error).message).toContain('安全设置');
    expect((wrong as Error).message).not.toContain(robot.accessToken);
    for (let i = 0; i < 19; i++)
      await sendDingTalkRobot(fake.fetch, { webhookUrl, secret: robot.secret }, text(`${i}`), options);
    const muted = await sendDingTalkRobot(
      fake.fetch,
      { webhookUrl, secret: robot.secret },
      text('x'),
      options,
    ).catch((error: Error & { code: string; retryAfterMs: number }) => error);
    expect(muted).toMatchObject({ code: 'rate_limited', retryAfterMs: 600_000 });
  });
});

describe('DingTalk fake: approval strictness', () => {
  /** DingTalk's error code for a call through our client (undefined when it succeeds). */
  async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
    try {
      await run();
      return undefined;
    } catch (error) {
      return dingTalkErrorCode(error) ?? (error as Error).message;
    }
  }

  async function oneInstance(options: DingTalkFakeOptions = {}) {
    const context = setup(options);
    const processCode = await context.client.saveForm(form);
    const id = await context.client.startProcessInstance({
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v1' }],
      approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
    });
    return { ...context, processCode, id };
  }

  it('checks the instance-id query as DingTalk documents it', async () => {
    const { fake, client, processCode, id } = await oneInstance();
    const query = (body: Record<string, unknown>) => () =>
      client.callNew({
        method: 'POST',
        path: '/v1.0/workflow/processes/instanceIds/query',
        body,
        what: 'query',
      });
    const now = fake.clock.now();
    const base = { processCode, startTime: now - 60_000, nextToken: 0, maxResults: 20 };
    expect(
      await client.callNew({
        method: 'POST',
        path: '/v1.0/workflow/processes/instanceIds/query',
        body: base,
        what: 'q',
      }),
    ).toEqual({
      result: { list: [id] },
      success: true,
    });
    expect(await codeOf(query({ ...base, processCode: '' }))).toBe('invalidProcessCode');
    expect(await codeOf(query({ ...base, startTime: undefined }))).toBe('invalidInstanceListIdsStartTime');
    expect(await codeOf(query({ ...base, nextToken: undefined }))).toBe('invalidNextToken');
    expect(await codeOf(query({ ...base, maxResults: 21 }))).toBe('invalidMaxResults');
    expect(await codeOf(query({ ...base, userIds: Array.from({ length: 11 }, (_, i) => `u${i}`) }))).toBe(
      'invalidUserIds',
    );
    const day = 24 * 60 * 60_000;
    expect(await codeOf(query({ ...base, startTime: now - 121 * day }))).toBe('invalidEndTime');
    expect(
      await codeOf(query({ ...base, startTime: now - 200 * day, endTime: now - 100 * day })),
    ).toBeUndefined();
    expect(await codeOf(query({ ...base, startTime: now - 400 * day, endTime: now - 300 * day }))).toBe(
      'invalidEndTime',
    );
    expect(await codeOf(query({ ...base, endTime: now - 120_000 }))).toBe('invalidEndTime');
    expect(await codeOf(query({ ...base, statuses: ['DONE'] }))).toBe('invalidParameter');
    expect(await codeOf(query({ ...base, unknownField: 1 }))).toBe('invalidParameter');
  });

  it('terminates only running instances, with the codes of 撤销审批实例, and optionally not in the first 15 s', async () => {
    const { fake, client, id } = await oneInstance({ terminateMinAgeMs: 15_000 });
    const terminate = (body: Record<string, unknown>) => () =>
      client.callNew({
        method: 'POST',
        path: '/v1.0/workflow/processInstances/terminate',
        body,
        what: 'terminate',
      });
    expect(await codeOf(terminate({ processInstanceId: id }))).toBe('invalidInstanceTerminateIsSystem');
    expect(await codeOf(terminate({ processInstanceId: id, isSystem: false }))).toBe(
      'invalidInstanceTerminateOperatingUserId',
    );
    expect(await codeOf(terminate({ processInstanceId: id, isSystem: true, operatingUserId: 'ghost' }))).toBe(
      'userNotExist',
    );
    expect(await codeOf(terminate({ processInstanceId: 'nope', isSystem: true }))).toBe(
      'aflowProcessInstNotExist',
    );
    expect(await codeOf(terminate({ processInstanceId: id, isSystem: true }))).toBe(
      'aflowProcessInstStatusException',
    );
    fake.clock.advance(15_000);
    expect(await codeOf(terminate({ processInstanceId: id, isSystem: false, operatingUserId: 'lina' }))).toBe(
      'invalidParameter',
    );
    expect(
      await codeOf(terminate({ processInstanceId: id, isSystem: false, operatingUserId: 'zhangwei' })),
    ).toBe(undefined);
    expect(fake.instances.get(id)?.status).toBe('TERMINATED');
    expect(await codeOf(terminate({ processInstanceId: id, isSystem: true }))).toBe(
      'aflowProcessInstStatusException',
    );
  });

  it('checks CC people, ignores them without approvers, and names nobody in its refusals', async () => {
    const { client, processCode } = await oneInstance();
    const base = {
      processCode,
      originatorUserId: 'zhangwei',
      formComponentValues: [{ name: '版本', value: 'v2' }],
      approvers: [{ actionType: 'NONE' as const, userIds: ['manager001'] }],
    };
    const ghost = await client.startProcessInstance({ ...base, ccList: ['ghost'] }).catch((e: Error) => e);
    expect(dingTalkErrorCode(ghost)).toBe('processInstanceInvalidParameter');
    expect((ghost as Error).message).not.toContain('ghost');
    const approver = await client
      .startProcessInstance({ ...base, approvers: [{ actionType: 'NONE', userIds: ['ghost'] }] })
      .catch((e: Error) => e);
    expect(dingTalkErrorCode(approver)).toBe('processInstanceInvalidParameter');
    expect(
      await codeOf(() =>
        client.startProcessInstance({ ...base, ccList: ['lina'], ccPosition: 'END' as 'START' }),
      ),
    ).toBe('processInstanceInvalidParameter');
    const withCc = await client.startProcessInstance({ ...base, ccList: ['lina'], ccPosition: 'START' });
    expect((await client.getProcessInstance(withCc)).ccUserIds).toEqual(['lina']);
    const consoleFlow = await client.startProcessInstance({
      ...base,
      approvers: undefined,
      deptId: -1,
      ccList: ['lina'],
    });
    expect((await client.getProcessInstance(consoleFlow)).ccUserIds).toEqual([]);
  });

  it('forgets a deleted form and a deleted instance (pushing the delete event)', async () => {
    const { fake, client, inbox, processCode, id } = await oneInstance();
    await fake.subscribe('https://signoff.example/cb');
    fake.deleteForm(processCode);
    expect(await client.listTemplates()).toEqual([]);
    expect(await client.formSchema(processCode)).toBeUndefined();
    expect(
      await codeOf(() =>
        client.startProcessInstance({
          processCode,
          originatorUserId: 'zhangwei',
          formComponentValues: [{ name: '版本', value: 'v3' }],
          approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
        }),
      ),
    ).toBe('processCodeError');
    // Instances of a deleted form stay readable.
    expect((await client.getProcessInstance(id)).status).toBe('RUNNING');
    fake.deleteInstance(id);
    await fake.flush();
    expect(await codeOf(() => client.getProcessInstance(id))).toBe('processInstanceNotExist');
    expect(summary(inbox.events).at(-1)).toEqual(['instance', 'delete', 'zhangwei', null]);
  });

  it('records comments (ADD_REMARK) and sends work notifications to at most 100 people', async () => {
    const { fake, client, id } = await oneInstance();
    fake.addRemark(id, 'lina', '请尽快');
    expect((await client.getProcessInstance(id)).operationRecords.at(-1)).toMatchObject({
      userId: 'lina',
      type: 'ADD_REMARK',
      remark: '请尽快',
    });
    const many = Array.from({ length: 101 }, (_, i) => `u${i}`);
    const refused = await client
      .sendWorkNotification(fake.seed.app.agentId, many, { msgtype: 'text', text: { content: 'x' } })
      .catch((e: Error) => e);
    expect((refused as Error).message).toContain('400002');
    await client.sendWorkNotification(fake.seed.app.agentId, many.slice(0, 100), {
      msgtype: 'action_card',
      action_card: { title: 't', markdown: 'm', single_title: 'open', single_url: 'https://x' },
    });
    expect(fake.workNotifications).toHaveLength(1);
  });
});
