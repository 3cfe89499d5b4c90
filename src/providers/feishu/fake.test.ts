// The fake refuses what Feishu refuses, and the approval and message paths behave like the platform.
import { describe, expect, it } from 'vitest';
import { fakeClock } from '../fake-kit.js';
import { decryptFeishuEvent, feishuBotSign, verifyFeishuSignature } from './crypto.js';
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

/** Sends a message as the app's bot (im/v1). */
function sender(raw: ReturnType<typeof setup>['raw'], token: string) {
  return (receiveIdType: string, body: Record<string, unknown>) =>
    raw('POST', `/open-apis/im/v1/messages?receive_id_type=${receiveIdType}`, body, token);
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

describe('Feishu fake: send frequency limits', () => {
  const text = JSON.stringify({ text: 'deploy finished' });

  it('allows 5 messages a second into one group or to one user (230020), counting only accepted sends', async () => {
    const { raw, getToken, clock, fake } = setup();
    const send = sender(raw, await getToken());
    const toChat = (uuid?: string) =>
      send('chat_id', {
        receive_id: seedChatId('deploys'),
        msg_type: 'text',
        content: text,
        ...(uuid ? { uuid } : {}),
      });
    for (let i = 0; i < 4; i++) expect((await toChat(`c-${i}`)).body.code).toBe(0);
    // A repeated uuid answers with the earlier message and uses no slot.
    for (let i = 0; i < 3; i++) expect((await toChat('c-0')).body.code).toBe(0);
    expect((await toChat()).body.code).toBe(0);
    const sixth = await toChat();
    expect(sixth.status).toBe(400);
    expect(sixth.body).toMatchObject({ code: 230020, msg: 'This operation triggers the frequency limit.' });
    expect(fake.messages).toHaveLength(5);
    clock.advance(999);
    expect((await toChat()).body.code).toBe(230020);
    clock.advance(1);
    expect((await toChat()).body.code).toBe(0);

    // One user, whichever id names them.
    const ids = [seedOpenId('li.na'), 'li.na@example.com'];
    for (let i = 0; i < 5; i++) {
      const type = i % 2 === 0 ? 'open_id' : 'email';
      expect((await send(type, { receive_id: ids[i % 2], msg_type: 'text', content: text })).body.code).toBe(
        0,
      );
    }
    expect(
      (await send('email', { receive_id: 'li.na@example.com', msg_type: 'text', content: text })).body.code,
    ).toBe(230020);
    // Someone else is not affected.
    expect(
      (await send('open_id', { receive_id: seedOpenId('wang.fang'), msg_type: 'text', content: text })).body
        .code,
    ).toBe(0);
  });

  it('answers the 51st message of a second with 99991400 and the x-ogw-ratelimit headers', async () => {
    const { raw, getToken, clock, fake } = setup();
    const send = sender(raw, await getToken());
    const people = fake.seed.users.filter((user) => !user.is_resigned);
    for (const user of people.slice(0, 50)) {
      expect(
        (await send('open_id', { receive_id: user.open_id, msg_type: 'text', content: text })).body.code,
      ).toBe(0);
    }
    const over = await send('open_id', { receive_id: people[50]!.open_id, msg_type: 'text', content: text });
    expect(over.status).toBe(400);
    expect(over.body.code).toBe(99991400);
    expect(over.headers.get('x-ogw-ratelimit-limit')).toBe('50');
    expect(over.headers.get('x-ogw-ratelimit-reset')).toBe('1');
    fake.rateLimitStyle = 'http';
    expect(
      (await send('open_id', { receive_id: people[50]!.open_id, msg_type: 'text', content: text })).status,
    ).toBe(429);
    clock.advance(1000);
    expect(
      (await send('open_id', { receive_id: people[50]!.open_id, msg_type: 'text', content: text })).body.code,
    ).toBe(0);
    expect(fake.messages).toHaveLength(51);
  });

  it('allows 1000 messages a minute per app', async () => {
    const { raw, getToken, clock, fake } = setup();
    const send = sender(raw, await getToken());
    const people = fake.seed.users.filter((user) => !user.is_resigned).slice(0, 50);
    for (let second = 0; second < 20; second++) {
      const answers = await Promise.all(
        people.map((user) => send('open_id', { receive_id: user.open_id, msg_type: 'text', content: text })),
      );
      expect(answers.every((answer) => answer.body.code === 0)).toBe(true);
      clock.advance(1000);
    }
    const over = await send('open_id', { receive_id: people[0]!.open_id, msg_type: 'text', content: text });
    expect(over.body.code).toBe(99991400);
    expect(over.headers.get('x-ogw-ratelimit-limit')).toBe('1000');
    expect(over.headers.get('x-ogw-ratelimit-reset')).toBe('40');
    clock.advance(40_000);
    expect(
      (await send('open_id', { receive_id: people[0]!.open_id, msg_type: 'text', content: text })).body.code,
    ).toBe(0);
  });
});

describe('Feishu fake: updating a card in place', () => {
  const card = (title: string) =>
    JSON.stringify({
      config: { wide_screen_mode: true, update_multi: true },
      header: { title: { tag: 'plain_text', content: title }, template: 'blue' },
      elements: [{ tag: 'markdown', content: `**${title}**` }],
    });

  async function withCard() {
    const context = setup();
    const token = await context.getToken();
    const send = sender(context.raw, token);
    const sent = await send('chat_id', {
      receive_id: seedChatId('deploys'),
      msg_type: 'interactive',
      content: card('Deploy v2?'),
    });
    expect(sent.body.code).toBe(0);
    const messageId = sent.body.data.message_id as string;
    const patch = (id: string, body: unknown, as = token) =>
      context.raw('PATCH', `/open-apis/im/v1/messages/${id}`, body, as);
    return { ...context, token, send, messageId, patch };
  }

  it('replaces the card, keeps the earlier versions and says so when the message is read back', async () => {
    const { fake, messageId, patch, clock } = await withCard();
    clock.advance(5_000);
    const first = await patch(messageId, { content: card('Approved by Na Li') });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ code: 0, msg: 'success', data: {} });
    expect((await patch(messageId, { content: card('Deployed') })).body.code).toBe(0);
    const [message] = fake.messages;
    expect(JSON.parse(message!.content).header.title.content).toBe('Deployed');
    expect(message!.updates.map((content) => JSON.parse(content).header.title.content)).toEqual([
      'Deploy v2?',
      'Approved by Na Li',
    ]);
    expect(message!.update_time).toBe(String(clock.now()));
    expect(fake.messages).toHaveLength(1);
  });

  it('refuses text messages, unknown ids, other apps’ cards, bad content and cards older than 14 days', async () => {
    const { fake, raw, send, messageId, patch, clock, getToken } = await withCard();
    const textMessage = await send('chat_id', {
      receive_id: seedChatId('deploys'),
      msg_type: 'text',
      content: JSON.stringify({ text: 'plain' }),
    });
    const notACard = await patch(textMessage.body.data.message_id, { content: card('x') });
    expect(notACard.status).toBe(400);
    expect(notACard.body.code).toBe(230001);
    expect(notACard.body.msg).toContain('This message is NOT a card');
    expect((await patch('om_00000000000000000000000000000000', { content: card('x') })).body.code).toBe(
      99992354,
    );
    expect((await patch(messageId, { content: 'not json' })).body.code).toBe(230001);
    expect(
      (await patch(messageId, { content: JSON.stringify({ x: 'y'.repeat(31 * 1024) }) })).body.code,
    ).toBe(230025);
    expect((await patch(messageId, { content: card('x'), msg_type: 'interactive' })).body.code).toBe(
      99992402,
    );

    const other = seedAppId('fake-test-other');
    fake.addApp({ app_id: other, app_secret: 'other-secret' });
    const otherToken = (
      await raw('POST', '/open-apis/auth/v3/tenant_access_token/internal', {
        app_id: other,
        app_secret: 'other-secret',
      })
    ).body.tenant_access_token as string;
    expect((await patch(messageId, { content: card('x') }, otherToken)).body.code).toBe(230012);
    fake.setScopes(APP_ID, []);
    expect((await patch(messageId, { content: card('x') })).body.code).toBe(99991672);
    fake.setScopes(APP_ID, ['im:message:update']);
    expect((await patch(messageId, { content: card('still fresh') })).body.code).toBe(0);

    clock.advance(14 * 86_400_000 + 1);
    const expired = await patch(messageId, { content: card('x') }, await getToken());
    expect(expired.body.code).toBe(230031);
    expect(fake.messages[0]!.updates).toHaveLength(1);
  });

  it('takes at most 5 updates a second for one message', async () => {
    const { messageId, patch, clock } = await withCard();
    for (let i = 0; i < 5; i++)
      expect((await patch(messageId, { content: card(`v${i}`) })).body.code).toBe(0);
    expect((await patch(messageId, { content: card('v5') })).body.code).toBe(230020);
    clock.advance(1000);
    expect((await patch(messageId, { content: card('v5') })).body.code).toBe(0);
  });
});

describe('Feishu fake: custom bot webhooks', () => {
  const RELEASE_HOOK = 'signoff-release-hook';
  const UNSIGNED_HOOK = 'signoff-oncall-hook';

  function hooks() {
    const context = setup();
    const secret = context.fake.seed.hooks.find((hook) => hook.hook_id === RELEASE_HOOK)!.secret!;
    const post = async (hookId: string, body: unknown) => {
      const response = await context.fake.fetch(`${BASE}/open-apis/bot/v2/hook/${hookId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const now = () => Math.floor(context.clock.now() / 1000);
    const signed = (body: Record<string, unknown>, timestamp = now(), key = secret) => ({
      timestamp: String(timestamp),
      sign: feishuBotSign(key, timestamp),
      ...body,
    });
    return { ...context, secret, post, signed, now };
  }

  const text = (value: string) => ({ msg_type: 'text', content: { text: value } });

  it('accepts a signed message with the legacy StatusCode pair, and every message type', async () => {
    const { fake, post, signed, clock } = hooks();
    const accepted = await post(RELEASE_HOOK, signed(text('deploy finished')));
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({
      code: 0,
      msg: 'success',
      data: {},
      StatusCode: 0,
      StatusMessage: 'success',
    });
    expect(fake.hookMessages).toEqual([
      {
        hook_id: RELEASE_HOOK,
        msg_type: 'text',
        body: expect.objectContaining({ content: { text: 'deploy finished' } }),
        at: clock.now(),
      },
    ]);
    // A numeric timestamp works too.
    expect(
      (await post(RELEASE_HOOK, { ...signed(text('n')), timestamp: Number(signed({}).timestamp) })).body.code,
    ).toBe(0);
    const bodies = [
      {
        msg_type: 'post',
        content: { post: { zh_cn: { title: 'Deploy', content: [[{ tag: 'text', text: 'ok' }]] } } },
      },
      { msg_type: 'interactive', card: { elements: [{ tag: 'markdown', content: 'ok' }] } },
      { msg_type: 'image', content: { image_key: 'img_ecffc3b9-8f14-400f-a014-05eca1a4310g' } },
      { msg_type: 'share_chat', content: { share_chat_id: seedChatId('oncall') } },
    ];
    for (const body of bodies) expect((await post(UNSIGNED_HOOK, body)).body.code).toBe(0);
    expect(fake.hookMessages.map((message) => message.msg_type)).toEqual([
      'text',
      'text',
      'post',
      'interactive',
      'image',
      'share_chat',
    ]);
    // A card goes in `card`, not in `content`; unknown types and broken JSON are format errors.
    const badBodies = [
      { msg_type: 'interactive', content: { elements: [] } },
      { msg_type: 'text', content: {} },
      { msg_type: 'markdown', content: { text: 'x' } },
      '{"msg_type":',
    ];
    for (const body of badBodies) {
      const refused = await post(UNSIGNED_HOOK, body);
      expect(refused.status).toBe(200);
      expect(refused.body).toEqual({ code: 9499, msg: 'Bad Request', data: {} });
    }
    expect(fake.hookMessages).toHaveLength(6);
  });

  it('refuses a wrong sign, a timestamp more than an hour off, a missing sign and an unknown hook', async () => {
    const { fake, post, signed, now } = hooks();
    const signFail = {
      code: 19021,
      msg: 'sign match fail or timestamp is not within one hour from current time',
      data: {},
    };
    const wrong = await post(RELEASE_HOOK, signed(text('x'), now(), 'another-secret'));
    expect(wrong.status).toBe(200);
    expect(wrong.body).toEqual(signFail);
    expect((await post(RELEASE_HOOK, signed(text('x'), now() - 3601))).body).toEqual(signFail);
    expect((await post(RELEASE_HOOK, signed(text('x'), now() + 3601))).body).toEqual(signFail);
    expect((await post(RELEASE_HOOK, text('unsigned'))).body).toEqual(signFail);
    expect((await post(RELEASE_HOOK, signed(text('within the hour'), now() - 3599))).body.code).toBe(0);
    const unknown = await post('no-such-hook', text('x'));
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({
      code: 19001,
      msg: 'param invalid: incoming webhook access token invalid',
      data: {},
    });
    expect(fake.hookMessages).toHaveLength(1);
  });

  it('needs one of the keywords in the text (a link does not count)', async () => {
    const { fake, post } = hooks();
    fake.addHook({ hook_id: 'keyword-hook', keywords: ['发布', 'deploy'] });
    const missing = await post('keyword-hook', text('hello'));
    expect(missing.body).toEqual({ code: 19024, msg: 'Key Words Not Found', data: {} });
    const linkOnly = {
      msg_type: 'post',
      content: {
        post: {
          zh_cn: {
            title: 'News',
            content: [[{ tag: 'a', text: 'open', href: 'https://example.com/deploy' }]],
          },
        },
      },
    };
    expect((await post('keyword-hook', linkOnly)).body.code).toBe(19024);
    expect((await post('keyword-hook', text('v2 发布完成'))).body.code).toBe(0);
    expect(
      (
        await post('keyword-hook', {
          msg_type: 'interactive',
          card: { elements: [{ tag: 'markdown', content: 'deploy ok' }] },
        })
      ).body.code,
    ).toBe(0);
  });

  it('refuses a body over 20 KB with 9499', async () => {
    const { fake, post } = hooks();
    const big = text('x'.repeat(20 * 1024));
    const refused = await post(UNSIGNED_HOOK, big);
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ code: 9499, msg: 'Bad Request', data: {} });
    expect((await post(UNSIGNED_HOOK, text('x'.repeat(19 * 1024)))).body.code).toBe(0);
    expect(fake.hookMessages).toHaveLength(1);
  });

  it('limits a bot to 5 messages a second and 100 a minute with 11232 in an HTTP 200 answer', async () => {
    const { post, clock, fake } = hooks();
    for (let i = 0; i < 5; i++) expect((await post(UNSIGNED_HOOK, text(`m${i}`))).body.code).toBe(0);
    const sixth = await post(UNSIGNED_HOOK, text('m5'));
    expect(sixth.status).toBe(200);
    expect(sixth.body.code).toBe(11232);
    expect(sixth.body.msg).toMatch(/^frequency limited psm\[/);
    // Another bot has its own budget.
    fake.addHook({ hook_id: 'second-hook' });
    expect((await post('second-hook', text('other'))).body.code).toBe(0);
    for (let second = 1; second < 20; second++) {
      clock.advance(1000);
      for (let i = 0; i < 5; i++)
        expect((await post(UNSIGNED_HOOK, text(`s${second}-${i}`))).body.code).toBe(0);
    }
    clock.advance(1000);
    expect((await post(UNSIGNED_HOOK, text('101st'))).body.code).toBe(11232);
    clock.advance(40_000);
    expect((await post(UNSIGNED_HOOK, text('a minute later'))).body.code).toBe(0);
    expect(fake.hookMessages.filter((message) => message.hook_id === UNSIGNED_HOOK)).toHaveLength(101);
  });

  it('takes injected faults: a rate limit is 11232 here, a 5xx stays a 5xx', async () => {
    const { post, fake } = hooks();
    fake.faults.failNext('rate_limit', 'server_error');
    const limited = await post(UNSIGNED_HOOK, text('x'));
    expect(limited.status).toBe(200);
    expect(limited.body.code).toBe(11232);
    expect((await post(UNSIGNED_HOOK, text('x'))).status).toBe(500);
    expect((await post(UNSIGNED_HOOK, text('x'))).body.code).toBe(0);
    expect(fake.hookMessages).toHaveLength(1);
  });
});

describe('Feishu fake: answer_lost', () => {
  it('sends the message, then never answers; the retry with the same uuid finds it', async () => {
    const { fake, raw, getToken } = setup();
    const token = await getToken();
    const body = {
      receive_id: seedChatId('deploys'),
      msg_type: 'text',
      content: JSON.stringify({ text: 'deploy finished' }),
      uuid: 'lost-1',
    };
    fake.faults.failNext('answer_lost');
    const lost = fake.fetch(`${BASE}/open-apis/im/v1/messages?receive_id_type=chat_id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(50),
    });
    await expect(lost).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fake.faults.served.answer_lost).toBe(1);
    expect(fake.messages).toHaveLength(1);
    const retry = await sender(raw, token)('chat_id', body);
    expect(retry.body.data.message_id).toBe(fake.messages[0]!.message_id);
    expect(fake.messages).toHaveLength(1);
  });

  it('applies to custom bot webhooks too', async () => {
    const { fake } = setup();
    fake.faults.failNext('answer_lost');
    const lost = fake.fetch(`${BASE}/open-apis/bot/v2/hook/signoff-oncall-hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msg_type: 'text', content: { text: 'x' } }),
      signal: AbortSignal.timeout(50),
    });
    await expect(lost).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fake.hookMessages).toHaveLength(1);
  });
});
