// The fake refuses what Feishu refuses, and the approval and message paths behave like the platform.
import { describe, expect, it } from 'vitest';
import { fakeClock } from '../fake-kit.js';
import { decryptFeishuEvent, verifyFeishuSignature } from './crypto.js';
import { createFeishuFake } from './fake.js';
import { seedAppId, seedChatId, seedOpenId } from './seed.js';

const APP_ID = seedAppId('fake-test');
const SECRET = 'fake-test-secret';
const ENCRYPT_KEY = 'fake-test-encrypt-key';
const BASE = 'https://open.feishu.cn';

function setup() {
  const clock = fakeClock(Date.UTC(2026, 10, 2));
  const fake = createFeishuFake({
    clock,
    apps: [{ app_id: APP_ID, app_secret: SECRET, encrypt_key: ENCRYPT_KEY, verification_token: 'vt' }],
  });
  const raw = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fake.fetch(`${BASE}${path}`, {
      method,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  const getToken = async () =>
    (
      await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
        app_id: APP_ID,
        app_secret: SECRET,
      })
    ).body.tenant_access_token as string;
  return { fake, clock, raw, getToken };
}

const definitionBody = {
  approval_name: '@i18n@name',
  viewers: [{ viewer_type: 'NONE' }],
  form: {
    form_content: JSON.stringify([{ id: 'reason', type: 'textarea', name: '@i18n@reason', required: true }]),
  },
  node_list: [
    { id: 'START' },
    { id: 'approve', name: '@i18n@node', node_type: 'OR', approver: [{ type: 'Free' }] },
    { id: 'END' },
  ],
  settings: { revert_interval: 0 },
  i18n_resources: [
    {
      locale: 'zh-CN',
      is_default: true,
      texts: [
        { key: '@i18n@name', value: 'Deploy approval' },
        { key: '@i18n@reason', value: 'Reason' },
        { key: '@i18n@node', value: 'Approver' },
      ],
    },
  ],
};

describe('Feishu fake: tokens and refusals', () => {
  it('issues tokens like Feishu: top-level fields, the same token until 30 minutes remain, then a new one', async () => {
    const { raw, clock } = setup();
    const first = await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: SECRET,
    });
    expect(first.body).toMatchObject({
      code: 0,
      msg: 'ok',
      expire: 7200,
      tenant_access_token: expect.stringMatching(/^t-/),
    });
    clock.advance(60 * 60_000);
    const again = await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: SECRET,
    });
    expect(again.body.tenant_access_token).toBe(first.body.tenant_access_token);
    expect(again.body.expire).toBe(3600);
    clock.advance(40 * 60_000);
    const renewed = await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: APP_ID,
      app_secret: SECRET,
    });
    expect(renewed.body.tenant_access_token).not.toBe(first.body.tenant_access_token);
    // The old one still works until it expires.
    expect(
      (await raw('GET', '/open-apis/im/v1/chats', undefined, first.body.tenant_access_token)).body.code,
    ).toBe(0);
    clock.advance(21 * 60_000);
    expect(
      (await raw('GET', '/open-apis/im/v1/chats', undefined, first.body.tenant_access_token)).body.code,
    ).toBe(99991663);
  });

  it('refuses bad credentials, missing and unknown tokens, unknown fields, oversized pages', async () => {
    const { raw, getToken } = setup();
    expect(
      (
        await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
          app_id: APP_ID,
          app_secret: 'x',
        })
      ).body,
    ).toMatchObject({
      code: 10014,
      msg: 'app secret invalid',
    });
    expect(
      (
        await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
          app_id: 'cli_nope',
          app_secret: 'x',
        })
      ).body.code,
    ).toBe(10003);
    const missing = await raw('GET', '/open-apis/im/v1/chats');
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe(99991661);
    expect((await raw('GET', '/open-apis/im/v1/chats', undefined, 't-forged')).body.code).toBe(99991663);
    const token = await getToken();
    const unknownField = await raw(
      'POST',
      '/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id',
      { emails: [], nickname: 'x' },
      token,
    );
    expect(unknownField.body).toMatchObject({
      code: 99992402,
      error: { field_violations: [{ field: 'nickname' }] },
    });
    expect((await raw('GET', '/open-apis/im/v1/chats?page_size=101', undefined, token)).body.code).toBe(
      99992402,
    );
    expect((await raw('GET', '/open-apis/nope', undefined, token)).status).toBe(404);
  });

  it('answers a missing scope with 99991672 and the permission violations', async () => {
    const { raw, getToken, fake } = setup();
    fake.setScopes(APP_ID, []);
    const answer = await raw('GET', '/open-apis/im/v1/chats', undefined, await getToken());
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe(99991672);
    expect(answer.body.msg).toContain('One of the following scopes is required');
    expect(answer.body.error.permission_violations).toEqual([
      { type: 'action_scope_required', subject: 'im:chat:readonly' },
      { type: 'action_scope_required', subject: 'im:chat' },
    ]);
  });

  it('answers injected rate limits the two ways Feishu does', async () => {
    const { raw, getToken, fake } = setup();
    const token = await getToken();
    fake.faults.failNext('rate_limit');
    const byCode = await raw('GET', '/open-apis/im/v1/chats', undefined, token);
    expect(byCode.status).toBe(400);
    expect(byCode.body.code).toBe(99991400);
    expect(byCode.headers.get('x-ogw-ratelimit-reset')).toBe('1');
    fake.rateLimitStyle = 'http';
    fake.faults.failNext('rate_limit');
    const byStatus = await raw('GET', '/open-apis/im/v1/chats', undefined, token);
    expect(byStatus.status).toBe(429);
    expect(fake.faults.served.rate_limit).toBe(2);
  });
});

describe('Feishu fake: approvals', () => {
  it('creates a definition, refuses one without START/END, and reads it back', async () => {
    const { raw, getToken } = setup();
    const token = await getToken();
    const bad = await raw(
      'POST',
      '/open-apis/approval/v4/approvals?user_id_type=open_id',
      { ...definitionBody, node_list: [{ id: 'approve' }] },
      token,
    );
    expect(bad.body).toMatchObject({ code: 1390001, msg: 'node amount not enough' });
    const created = await raw(
      'POST',
      '/open-apis/approval/v4/approvals?user_id_type=open_id',
      definitionBody,
      token,
    );
    expect(created.body).toMatchObject({
      code: 0,
      data: { approval_code: expect.any(String), approval_id: expect.any(String) },
    });
    const code = created.body.data.approval_code;
    const read = await raw('GET', `/open-apis/approval/v4/approvals/${code}`, undefined, token);
    expect(read.body.data).toMatchObject({
      approval_name: 'Deploy approval',
      status: 'ACTIVE',
      form: definitionBody.form.form_content,
    });
    expect(read.body.data.node_list.map((n: any) => n.custom_node_id)).toEqual(['START', 'approve', 'END']);
  });

  it('runs an instance: uuid idempotency, decision, signed encrypted callback, status on GET', async () => {
    const { raw, getToken, fake, clock } = setup();
    const token = await getToken();
    const code = (await raw('POST', '/open-apis/approval/v4/approvals', definitionBody, token)).body.data
      .approval_code;
    expect(
      (await raw('POST', `/open-apis/approval/v4/approvals/${code}/subscribe`, undefined, token)).body.code,
    ).toBe(0);
    const instance = {
      approval_code: code,
      open_id: seedOpenId('zhang.wei'),
      form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'deploy v1.2' }]),
      node_approver_open_id_list: [{ key: 'approve', value: [seedOpenId('li.na'), seedOpenId('chen.jie')] }],
      uuid: 'run-42-approval-1',
    };
    const first = await raw('POST', '/open-apis/approval/v4/instances', instance, token);
    expect(first.body.code).toBe(0);
    // A uuid makes one instance per tenant: a second create with it fails with 60012 (instance/create) …
    const second = await raw('POST', '/open-apis/approval/v4/instances', instance, token);
    expect(second.status).toBe(400);
    expect(second.body.code).toBe(60012);
    expect(fake.instances.size).toBe(1);
    const instanceCode = first.body.data.instance_code;
    // … and instance/get accepts the uuid (any case) in place of the instance code.
    const byUuid = await raw('GET', '/open-apis/approval/v4/instances/RUN-42-APPROVAL-1', undefined, token);
    expect(byUuid.body.data.instance_code).toBe(instanceCode);

    const pending = await raw('GET', `/open-apis/approval/v4/instances/${instanceCode}`, undefined, token);
    expect(pending.body.data).toMatchObject({
      status: 'PENDING',
      uuid: 'run-42-approval-1',
      approval_code: code,
    });
    expect(pending.body.data.task_list).toHaveLength(2);

    const callback = fake.decide(instanceCode, 'APPROVED', {
      by: seedOpenId('chen.jie'),
      comment: 'ship it',
    });
    expect(callback).toBeDefined();
    const headers = callback!.headers;
    expect(
      verifyFeishuSignature(ENCRYPT_KEY, {
        timestamp: headers['x-lark-request-timestamp']!,
        nonce: headers['x-lark-request-nonce']!,
        body: callback!.body,
        signature: headers['x-lark-signature'],
      }),
    ).toBe(true);
    expect(Number(headers['x-lark-request-timestamp'])).toBe(Math.floor(clock.now() / 1000));
    const event = JSON.parse(decryptFeishuEvent(ENCRYPT_KEY, JSON.parse(callback!.body).encrypt));
    expect(event).toMatchObject({
      schema: '2.0',
      header: {
        event_type: 'approval.instance.status_changed_v4',
        app_id: APP_ID,
        token: 'vt',
        event_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
      event: { instance_code: instanceCode, status: 'APPROVED', approval_code: code },
    });

    const done = await raw('GET', `/open-apis/approval/v4/instances/${instanceCode}`, undefined, token);
    expect(done.body.data.status).toBe('APPROVED');
    expect(done.body.data.task_list.map((t: any) => t.status).sort()).toEqual(['APPROVED', 'DONE']);
    expect(done.body.data.timeline.map((t: any) => t.type)).toEqual(['START', 'PASS']);
    // The reason given with a decision is in the timeline, tied to the task; comment_list holds comments.
    const chen = done.body.data.task_list.find((t: any) => t.open_id === seedOpenId('chen.jie'));
    expect(done.body.data.timeline[1]).toMatchObject({ task_id: chen.id, comment: 'ship it' });
    expect(done.body.data.comment_list).toEqual([]);
  });

  it('lets only the initiator withdraw a pending instance', async () => {
    const { raw, getToken, fake } = setup();
    const token = await getToken();
    const code = (await raw('POST', '/open-apis/approval/v4/approvals', definitionBody, token)).body.data
      .approval_code;
    const created = await raw(
      'POST',
      '/open-apis/approval/v4/instances',
      {
        approval_code: code,
        open_id: seedOpenId('zhang.wei'),
        form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'x' }]),
        node_approver_open_id_list: [{ key: 'approve', value: [seedOpenId('li.na')] }],
      },
      token,
    );
    const instanceCode = created.body.data.instance_code;
    const cancel = (user_id: string) =>
      raw(
        'POST',
        '/open-apis/approval/v4/instances/cancel?user_id_type=open_id',
        { approval_code: code, instance_code: instanceCode, user_id },
        token,
      );
    expect((await cancel(seedOpenId('li.na'))).body.code).toBe(1390001);
    expect((await cancel(seedOpenId('zhang.wei'))).body.code).toBe(0);
    expect(fake.instances.get(instanceCode)!.status).toBe('CANCELED');
    expect((await cancel(seedOpenId('zhang.wei'))).body.code).toBe(1390001);
    // Not subscribed: no push.
    expect(() => fake.decide(instanceCode, 'APPROVED')).toThrow(/CANCELED/);
  });

  it('refuses an instance without approvers for a Free node, or with unknown form widgets', async () => {
    const { raw, getToken } = setup();
    const token = await getToken();
    const code = (await raw('POST', '/open-apis/approval/v4/approvals', definitionBody, token)).body.data
      .approval_code;
    const base = {
      approval_code: code,
      open_id: seedOpenId('zhang.wei'),
      form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'x' }]),
    };
    expect((await raw('POST', '/open-apis/approval/v4/instances', base, token)).body.code).toBe(1390001);
    const unknownWidget = {
      ...base,
      form: JSON.stringify([{ id: 'other', type: 'input', value: 'x' }]),
      node_approver_open_id_list: [{ key: 'approve', value: [seedOpenId('li.na')] }],
    };
    expect((await raw('POST', '/open-apis/approval/v4/instances', unknownWidget, token)).body.code).toBe(
      1390001,
    );
  });
});

describe('Feishu fake: the approval flow inside Feishu', () => {
  const twoLevels = {
    ...definitionBody,
    node_list: [
      { id: 'START', ccer: [{ type: 'Free' }] },
      { id: 'first', name: '@i18n@node', node_type: 'AND', approver: [{ type: 'Free' }] },
      { id: 'second', name: '@i18n@node', node_type: 'OR', approver: [{ type: 'Free' }] },
      { id: 'END', ccer: [{ type: 'Free' }] },
    ],
  };

  async function started(options: { subscribe?: boolean } = {}) {
    const context = setup();
    const token = await context.getToken();
    const code = (await context.raw('POST', '/open-apis/approval/v4/approvals', twoLevels, token)).body.data
      .approval_code as string;
    if (options.subscribe !== false)
      await context.raw('POST', `/open-apis/approval/v4/approvals/${code}/subscribe`, undefined, token);
    const created = await context.raw(
      'POST',
      '/open-apis/approval/v4/instances',
      {
        approval_code: code,
        open_id: seedOpenId('zhang.wei'),
        form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'deploy' }]),
        node_approver_open_id_list: [
          { key: 'first', value: [seedOpenId('li.na'), seedOpenId('wang.fang')] },
          { key: 'second', value: [seedOpenId('chen.jie'), seedOpenId('liu.yang')] },
        ],
        node_cc_open_id_list: [{ key: 'START', value: [seedOpenId('ceo')] }],
        title: '@i18n@title',
        i18n_resources: [
          { locale: 'zh-CN', is_default: true, texts: [{ key: '@i18n@title', value: '上线 v2' }] },
        ],
      },
      token,
    );
    expect(created.body.code).toBe(0);
    const instanceCode = created.body.data.instance_code as string;
    const get = async () =>
      (await context.raw('GET', `/open-apis/approval/v4/instances/${instanceCode}`, undefined, token)).body
        .data;
    return { ...context, token, code, instanceCode, get };
  }

  const eventOf = (push: { body: string } | undefined) =>
    JSON.parse(decryptFeishuEvent(ENCRYPT_KEY, JSON.parse(push!.body).encrypt));

  it('gives a node its tasks only when the flow reaches it, AND before OR', async () => {
    const { fake, instanceCode, get } = await started();
    const first = await get();
    expect(first.task_list.map((t: any) => [t.custom_node_id, t.status, t.end_time])).toEqual([
      ['first', 'PENDING', '0'],
      ['first', 'PENDING', '0'],
    ]);
    expect(first.timeline.map((t: any) => t.type)).toEqual(['START', 'CC']);
    expect(fake.instances.get(instanceCode)!.title).toBe('上线 v2');
    expect(() => fake.decide(instanceCode, 'APPROVED', { by: seedOpenId('chen.jie') })).toThrow(
      /no pending task/,
    );
    expect(fake.decide(instanceCode, 'APPROVED', { by: seedOpenId('li.na') })).toBeUndefined();
    expect((await get()).task_list).toHaveLength(2);
    fake.decide(instanceCode, 'APPROVED', { by: seedOpenId('wang.fang') });
    const second = await get();
    expect(second.task_list.map((t: any) => [t.custom_node_id, t.status])).toEqual([
      ['first', 'APPROVED'],
      ['first', 'APPROVED'],
      ['second', 'PENDING'],
      ['second', 'PENDING'],
    ]);
    const push = fake.decide(instanceCode, 'APPROVED', { by: seedOpenId('liu.yang'), schema: '1.0' });
    expect(eventOf(push)).toMatchObject({
      type: 'event_callback',
      event: { type: 'approval_instance', instance_code: instanceCode, status: 'APPROVED' },
    });
    const done = await get();
    expect(done.status).toBe('APPROVED');
    expect(done.task_list.map((t: any) => t.status)).toEqual(['APPROVED', 'APPROVED', 'DONE', 'APPROVED']);
  });

  it('transfers a task, keeps comments apart from decisions, and ends on a rejection', async () => {
    const { fake, instanceCode, get } = await started();
    fake.transfer(instanceCode, seedOpenId('li.na'), seedOpenId('grace.hopper'), { comment: 'on leave' });
    fake.comment(instanceCode, seedOpenId('wang.fang'), 'which build?');
    const moved = await get();
    expect(moved.task_list.map((t: any) => [t.open_id, t.status])).toEqual([
      [seedOpenId('li.na'), 'TRANSFERRED'],
      [seedOpenId('wang.fang'), 'PENDING'],
      [seedOpenId('grace.hopper'), 'PENDING'],
    ]);
    expect(moved.timeline.at(-1)).toMatchObject({
      type: 'TRANSFER',
      open_id: seedOpenId('li.na'),
      open_id_list: [seedOpenId('grace.hopper')],
    });
    expect(moved.comment_list).toMatchObject([{ open_id: seedOpenId('wang.fang'), comment: 'which build?' }]);
    const push = fake.decide(instanceCode, 'REJECTED', {
      by: seedOpenId('grace.hopper'),
      comment: 'not today',
    });
    expect(eventOf(push).event.status).toBe('REJECTED');
    const done = await get();
    expect(done.task_list.map((t: any) => t.status)).toEqual(['TRANSFERRED', 'DONE', 'REJECTED']);
  });

  it('withdraws in the app (CANCELED), revokes after approval (REVERTED) and deletes definitions (DELETED)', async () => {
    const withdrawn = await started();
    const cancel = withdrawn.fake.cancelAtVendor(withdrawn.instanceCode, { schema: '1.0' });
    expect(eventOf(cancel).event).toMatchObject({
      status: 'CANCELED',
      instance_code: withdrawn.instanceCode,
    });
    expect((await withdrawn.get()).task_list.map((t: any) => t.status)).toEqual(['DONE', 'DONE']);

    const reverted = await started();
    for (const by of ['li.na', 'wang.fang', 'chen.jie'])
      reverted.fake.decide(reverted.instanceCode, 'APPROVED', { by: seedOpenId(by) });
    const revert = reverted.fake.revert(reverted.instanceCode, { schema: '1.0' });
    // approval_instance: on REVERTED, operate_time is an int64.
    expect(eventOf(revert).event).toMatchObject({ status: 'REVERTED', operate_time: expect.any(Number) });
    expect(await reverted.get()).toMatchObject({ status: 'APPROVED', reverted: true });

    const deleted = await started();
    const pushes = deleted.fake.deleteDefinition(deleted.code);
    expect(pushes.map((push) => eventOf(push).event.status)).toEqual(['DELETED']);
    expect((await deleted.get()).status).toBe('DELETED');
    const gone = await deleted.raw(
      'GET',
      `/open-apis/approval/v4/approvals/${deleted.code}`,
      undefined,
      deleted.token,
    );
    expect(gone.body).toMatchObject({ code: 1390002, msg: 'approval code not found' });
  });

  it('answers a second subscribe with 1390007 and refuses instances of a deactivated definition', async () => {
    const { raw, token, code, fake } = await started();
    const again = await raw('POST', `/open-apis/approval/v4/approvals/${code}/subscribe`, undefined, token);
    expect(again.body).toMatchObject({ code: 1390007, msg: 'subscription existed' });
    fake.deactivateDefinition(code);
    expect(
      (await raw('GET', `/open-apis/approval/v4/approvals/${code}`, undefined, token)).body.data.status,
    ).toBe('INACTIVE');
    const refused = await raw(
      'POST',
      '/open-apis/approval/v4/instances',
      {
        approval_code: code,
        open_id: seedOpenId('zhang.wei'),
        form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'x' }]),
        node_approver_open_id_list: [
          { key: 'first', value: [seedOpenId('li.na')] },
          { key: 'second', value: [seedOpenId('li.na')] },
        ],
      },
      token,
    );
    expect(refused.body).toMatchObject({ code: 1390015, msg: 'approval is not active' });
  });

  it('pushes nothing for a definition nobody subscribed to', async () => {
    const { fake, instanceCode } = await started({ subscribe: false });
    expect(fake.cancelAtVendor(instanceCode)).toBeUndefined();
  });
});

describe('Feishu fake: messages', () => {
  it('stores messages, honours uuid, refuses chats without the bot and users outside availability', async () => {
    const { raw, getToken, fake } = setup();
    const token = await getToken();
    const send = (receiveIdType: string, body: Record<string, unknown>) =>
      raw('POST', `/open-apis/im/v1/messages?receive_id_type=${receiveIdType}`, body, token);
    const text = JSON.stringify({ text: 'deploy finished' });
    const first = await send('chat_id', {
      receive_id: seedChatId('deploys'),
      msg_type: 'text',
      content: text,
      uuid: 'n-1',
    });
    expect(first.body.data).toMatchObject({
      message_id: expect.stringMatching(/^om_/),
      chat_id: seedChatId('deploys'),
      msg_type: 'text',
    });
    const again = await send('chat_id', {
      receive_id: seedChatId('deploys'),
      msg_type: 'text',
      content: text,
      uuid: 'n-1',
    });
    expect(again.body.data.message_id).toBe(first.body.data.message_id);
    expect(fake.messages).toHaveLength(1);
    expect(
      (await send('chat_id', { receive_id: seedChatId('random'), msg_type: 'text', content: text })).body
        .code,
    ).toBe(230002);
    expect(
      (await send('open_id', { receive_id: seedOpenId('li.na'), msg_type: 'text', content: text })).body.code,
    ).toBe(0);
    expect(
      (await send('email', { receive_id: 'li.na@example.com', msg_type: 'text', content: text })).body.code,
    ).toBe(0);
    fake.setContactScope(APP_ID, { department_ids: [], user_ids: [] });
    expect(
      (await send('open_id', { receive_id: seedOpenId('li.na'), msg_type: 'text', content: text })).body.code,
    ).toBe(230013);
    expect(
      (await send('chat_id', { receive_id: seedChatId('deploys'), msg_type: 'text', content: 'not json' }))
        .body.code,
    ).toBe(230001);
    expect(
      (
        await send('chat_id', {
          receive_id: seedChatId('deploys'),
          msg_type: 'interactive',
          content: JSON.stringify({ x: 'y'.repeat(31 * 1024) }),
        })
      ).body.code,
    ).toBe(230025);
    expect((await send('nonsense', { receive_id: 'x', msg_type: 'text', content: text })).body.code).toBe(
      99992402,
    );
  });
});
