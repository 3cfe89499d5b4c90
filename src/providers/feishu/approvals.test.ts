// The Feishu / Lark approval adapter against the fake, in-process: every call goes over the vendor's paths
// with its envelopes, codes and token handling.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import type { ApprovalShape, NewInstance, NodeType } from '../approvals.js';
import { fakeClock } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import { larkProvider } from '../lark/index.js';
import type { CallbackRequest, ImAppConfig } from '../types.js';
import { feishuInstanceStatus } from './approvals.js';
import { handleFeishuCallback } from './callback.js';
import { createFeishuFake } from './fake.js';
import { type FeishuClient, feishuProvider } from './index.js';
import { feishuSeed, seedAppId, seedOpenId } from './seed.js';

const APP_ID = seedAppId('approvals-test');
const SECRET = 'approvals-test-secret';
const ENCRYPT_KEY = 'approvals-test-encrypt-key';
const TOKEN = 'approvals-test-verification-token';
const START = Date.UTC(2026, 10, 3, 8);
const RUN_LINK = 'https://signoff.example.com/runs/42';

const id = (key: string) => seedOpenId(key);

function setup(type: 'feishu' | 'lark' = 'feishu', options: { fetch?: (fetch: Fetch) => Fetch } = {}) {
  const clock = fakeClock(START);
  const fake = createFeishuFake({
    clock,
    seed: feishuSeed({ extraUsers: 4, extraChats: 1 }),
    apps: [{ app_id: APP_ID, app_secret: SECRET, encrypt_key: ENCRYPT_KEY, verification_token: TOKEN }],
    ...(type === 'lark' ? { applinkBase: 'https://applink.larksuite.com' } : {}),
  });
  const config: ImAppConfig = {
    type,
    app_id: APP_ID,
    app_secret: SECRET,
    encrypt_key: ENCRYPT_KEY,
    verification_token: TOKEN,
    api_base: type === 'lark' ? 'https://open.larksuite.com' : 'https://open.feishu.cn',
  };
  const provider = type === 'lark' ? larkProvider : feishuProvider;
  const fetch = options.fetch ? options.fetch(fake.fetch) : fake.fetch;
  const connect = () =>
    provider.approvals(
      provider.createClient(config, { fetch, now: clock.now, tokens: memoryTokenStore() }) as FeishuClient,
      config,
    );
  const approvals = connect();
  const requests = (path: string) => fake.requests.filter((request) => request.path === path).length;
  const deliver = (push: CallbackRequest | undefined) => {
    expect(push).toBeDefined();
    return handleFeishuCallback(config, push!, { now: clock.now }).event!;
  };
  return { fake, clock, config, approvals, connect, requests, deliver };
}

function shape(nodes: NodeType[], cc = false): ApprovalShape {
  const key = `${nodes.join('-')}${cc ? '+cc' : ''}`;
  return { key, name: `Signoff 审批 (${key})`, nodes, cc };
}

function newInstance(
  definition: string,
  key: string,
  nodes: Array<{ type: NodeType; approvers: string[] }>,
  cc: string[] = [],
): NewInstance {
  return {
    definition,
    key,
    initiator: id('zhang.wei'),
    title: 'Deploy api v1.2 to prod',
    content: 'Deploy api v1.2 to prod (stage: release).',
    link: RUN_LINK,
    nodes,
    cc,
  };
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

/** A flow with an AND level (李娜, 王芳) then an OR level (陈杰, 刘洋). */
async function twoLevels(context: ReturnType<typeof setup>, key = 'run-42-approval-1') {
  const definition = await context.approvals.createDefinition(shape(['AND', 'OR'], true));
  const instance = newInstance(
    definition,
    key,
    [
      { type: 'AND', approvers: [id('li.na'), id('wang.fang')] },
      { type: 'OR', approvers: [id('chen.jie'), id('liu.yang')] },
    ],
    [id('ceo')],
  );
  const created = await context.approvals.createInstance(instance);
  return { definition, instance, created, code: created.id };
}

describe.each(['feishu', 'lark'] as const)('%s approvals: definitions', (type) => {
  it('creates a definition of free approver nodes with CC, in zh-CN and en-US, and subscribes to it', async () => {
    const { fake, approvals, requests } = setup(type);
    const code = await approvals.createDefinition(shape(['AND', 'OR'], true));
    const definition = fake.definitions.get(code)!;
    expect(definition.subscribed).toBe(true);
    expect(requests(`/open-apis/approval/v4/approvals/${code}/subscribe`)).toBe(1);
    const body = definition.body as any;
    expect(body.node_list).toEqual([
      { id: 'START', ccer: [{ type: 'Free' }] },
      { id: 'APPROVAL_NODE_0', name: '@i18n@node_0', node_type: 'AND', approver: [{ type: 'Free' }] },
      { id: 'APPROVAL_NODE_1', name: '@i18n@node_1', node_type: 'OR', approver: [{ type: 'Free' }] },
      { id: 'END', ccer: [{ type: 'Free' }] },
    ]);
    expect(JSON.parse(body.form.form_content)).toEqual([
      { id: 'signoff_content', type: 'textarea', name: '@i18n@content_label', required: true },
    ]);
    expect(body.i18n_resources.map((r: any) => [r.locale, r.is_default])).toEqual([
      ['zh-CN', true],
      ['en-US', false],
    ]);
    expect(body.approval_code).toBeUndefined(); // Feishu names it
    expect(definition.approval_name).toBe('Signoff 审批 (AND-OR+cc)');
    expect(await approvals.definitionExists(code)).toBe(true);

    const plain = fake.definitions.get(await approvals.createDefinition(shape(['OR'])))!;
    expect((plain.body as any).node_list.map((node: any) => Object.keys(node).includes('ccer'))).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('treats “subscription existed” (1390007) as subscribed, e.g. when a lost answer is retried', async () => {
    // A network that loses the first answer to subscribe: the request is sent again and the second answer
    // (1390007, the definition is subscribed already) is the one we see.
    const context = setup(type, {
      fetch: (inner) => async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (url.endsWith('/subscribe')) await inner(input, init);
        return inner(input, init);
      },
    });
    const code = await context.approvals.createDefinition(shape(['OR']));
    expect(context.requests(`/open-apis/approval/v4/approvals/${code}/subscribe`)).toBe(2);
    expect(context.fake.definitions.get(code)!.subscribed).toBe(true);
  });

  it('says a definition is gone when Feishu deleted, deactivated or never had it', async () => {
    const { fake, approvals } = setup(type);
    const deleted = await approvals.createDefinition(shape(['OR']));
    const inactive = await approvals.createDefinition(shape(['AND']));
    fake.deleteDefinition(deleted);
    fake.deactivateDefinition(inactive);
    expect(await approvals.definitionExists(deleted)).toBe(false);
    expect(await approvals.definitionExists(inactive)).toBe(false);
    expect(await approvals.definitionExists('7C468A54-8745-2245-9675-08B7C63E7A85')).toBe(false);
    for (const code of [deleted, inactive]) {
      const error = await caught(() =>
        approvals.createInstance(
          newInstance(code, `gone-${code}`, [{ type: 'OR', approvers: [id('li.na')] }]),
        ),
      );
      expect(error.code).toBe('definition_gone');
    }
  });
});

describe.each(['feishu', 'lark'] as const)('%s approvals: instances', (type) => {
  it('creates one instance per key, with the run link and the key in the form, and finds it again', async () => {
    const context = setup(type);
    const { fake, approvals } = context;
    const { definition, instance, created, code } = await twoLevels(context);
    const brand = type === 'lark' ? 'applink.larksuite.com' : 'applink.feishu.cn';
    expect(created.link).toContain(brand);
    expect(created.link).toContain(type === 'lark' ? 'cli_9c7cc8a9a9edd105' : 'cli_9cb844403dbb9108');
    expect(created.link).toContain(encodeURIComponent(`pages/detail/index?instanceId=${code}`));

    // A retry after a lost answer: Feishu refuses the reused uuid (60012), the uuid finds the instance.
    expect((await approvals.createInstance(instance)).id).toBe(code);
    expect(fake.instances.size).toBe(1);
    const stored = fake.instances.get(code)!;
    expect(stored).toMatchObject({
      uuid: 'run-42-approval-1',
      approval_code: definition,
      open_id: id('zhang.wei'),
    });
    expect(stored.title).toBe('Deploy api v1.2 to prod');
    const [field] = JSON.parse(stored.form);
    expect(field).toMatchObject({ id: 'signoff_content', type: 'textarea' });
    expect(field.value).toContain('Deploy api v1.2 to prod (stage: release).');
    expect(field.value).toContain(RUN_LINK);
    expect(field.value).toContain('run-42-approval-1');
    expect(stored.cc.START).toEqual([id('ceo')]);

    expect(await approvals.findInstance(instance, new Date(START))).toBe(code);
    expect(
      await approvals.findInstance({ ...instance, key: 'never-created' }, new Date(START)),
    ).toBeUndefined();
  });

  it('follows an AND level then an OR level, approver by approver, with names, comments and times', async () => {
    const context = setup(type);
    const { fake, clock, approvals } = context;
    const { code } = await twoLevels(context);

    const fresh = await approvals.instance(code);
    expect(fresh).toMatchObject({ status: 'pending', vendor_status: 'PENDING' });
    expect(fresh.link).toContain(code);
    expect(fresh.nodes.map((node) => [node.type, node.status])).toEqual([
      ['AND', 'pending'],
      ['OR', 'waiting'],
    ]);
    expect(fresh.nodes[0]!.approvers).toEqual([
      { id: id('li.na'), name: '李娜', avatar: expect.stringContaining('feishucdn'), decision: 'pending' },
      {
        id: id('wang.fang'),
        name: '王芳',
        avatar: expect.stringContaining('feishucdn'),
        decision: 'pending',
      },
    ]);
    // Feishu lists a level's tasks only once the flow reaches it; the plan fills the waiting level.
    expect(fresh.nodes[1]!.approvers).toEqual([
      { id: id('chen.jie'), decision: 'waiting' },
      { id: id('liu.yang'), decision: 'waiting' },
    ]);

    clock.advance(60_000);
    fake.decide(code, 'APPROVED', { by: id('li.na'), comment: 'LGTM' });
    const half = await approvals.instance(code);
    expect(half.status).toBe('pending');
    expect(half.nodes[0]!.status).toBe('pending');
    expect(half.nodes[0]!.approvers[0]).toMatchObject({
      id: id('li.na'),
      decision: 'approved',
      comment: 'LGTM',
      decided_at: new Date(START + 60_000).toISOString(),
    });

    clock.advance(60_000);
    fake.decide(code, 'APPROVED', { by: id('wang.fang') });
    fake.comment(code, id('liu.yang'), 'watching the dashboards');
    const second = await approvals.instance(code);
    expect(second.nodes.map((node) => node.status)).toEqual(['approved', 'pending']);
    expect(second.nodes[1]!.approvers.map((approver) => [approver.name, approver.decision])).toEqual([
      ['陈杰', 'pending'],
      ['刘洋', 'pending'],
    ]);
    expect(second.nodes[1]!.approvers[1]!.comment).toBe('watching the dashboards');

    clock.advance(60_000);
    fake.decide(code, 'APPROVED', { by: id('chen.jie'), comment: 'go' });
    const done = await approvals.instance(code);
    expect(done).toMatchObject({ status: 'approved', vendor_status: 'APPROVED' });
    expect(done.reason).toBeUndefined();
    expect(done.nodes.map((node) => node.status)).toEqual(['approved', 'approved']);
    expect(done.nodes[1]!.approvers).toMatchObject([
      {
        id: id('chen.jie'),
        decision: 'approved',
        comment: 'go',
        decided_at: new Date(START + 180_000).toISOString(),
      },
      { id: id('liu.yang'), decision: 'pending' }, // DONE: the OR level ended without them
    ]);

    // Names come from the contact API once per person, then from the adapter's cache.
    const lookups = fake.requests.filter((request) =>
      request.path.startsWith('/open-apis/contact/v3/users/ou_'),
    );
    expect(lookups.length).toBe(4);
  });

  it('reports a rejection with its reason', async () => {
    const context = setup(type);
    const { code } = await twoLevels(context);
    context.fake.decide(code, 'REJECTED', { by: id('wang.fang'), comment: 'not on a Friday' });
    const state = await context.approvals.instance(code);
    expect(state).toMatchObject({ status: 'rejected', vendor_status: 'REJECTED' });
    expect(state.nodes.map((node) => node.status)).toEqual(['rejected', 'waiting']);
    expect(state.nodes[0]!.approvers.map((approver) => [approver.decision, approver.comment])).toEqual([
      ['pending', undefined],
      ['rejected', 'not on a Friday'],
    ]);
  });

  it('shows a transfer in its level: the first approver transferred, the new one pending', async () => {
    const context = setup(type);
    const { code } = await twoLevels(context);
    context.fake.transfer(code, id('li.na'), id('grace.hopper'));
    const state = await context.approvals.instance(code);
    expect(state.nodes[0]!.approvers.map((approver) => [approver.name, approver.decision])).toEqual([
      ['李娜', 'transferred'],
      ['王芳', 'pending'],
      ['Grace Hopper', 'pending'],
    ]);
    context.fake.decide(code, 'APPROVED', { by: id('wang.fang') });
    context.fake.decide(code, 'APPROVED', { by: id('grace.hopper') });
    expect((await context.approvals.instance(code)).nodes.map((node) => node.status)).toEqual([
      'approved',
      'pending',
    ]);
  });

  it('reads CANCELED (one L) as cancelled: the initiator withdrew it in the approval app', async () => {
    const context = setup(type);
    const { code } = await twoLevels(context);
    context.fake.cancelAtVendor(code);
    const state = await context.approvals.instance(code);
    expect(state).toMatchObject({ status: 'cancelled', vendor_status: 'CANCELED' });
    expect(state.reason).toMatch(/withdrawn/);
  });

  it('reads DELETED as cancelled, even after its definition is gone and after a restart', async () => {
    const context = setup(type);
    const { code, definition } = await twoLevels(context);
    context.fake.deleteDefinition(definition);
    // A new adapter knows neither the definition nor the plan: the tasks still tell the levels.
    const state = await context.connect().instance(code);
    expect(state).toMatchObject({ status: 'cancelled', vendor_status: 'DELETED' });
    expect(state.reason).toMatch(/deleted/);
    expect(state.nodes.map((node) => [node.type, node.status])).toEqual([['AND', 'pending']]);
  });

  it('reads a revoked approval (reverted, REVERTED) as cancelled', async () => {
    const context = setup(type);
    const { code } = await twoLevels(context);
    for (const by of ['li.na', 'wang.fang', 'liu.yang'])
      context.fake.decide(code, 'APPROVED', { by: id(by) });
    context.fake.revert(code);
    const state = await context.approvals.instance(code);
    expect(state).toMatchObject({ status: 'cancelled', vendor_status: 'REVERTED' });
    expect(state.reason).toMatch(/revoked/);
  });

  it('names the people Feishu does not know when it refuses an instance', async () => {
    const context = setup(type);
    const definition = await context.approvals.createDefinition(shape(['OR']));
    const stranger = 'ou_00000000000000000000000000000000';
    const error = await caught(() =>
      context.approvals.createInstance(
        newInstance(definition, 'run-43', [{ type: 'OR', approvers: [id('li.na'), stranger] }]),
      ),
    );
    expect(error.code).toBe('upstream_rejected');
    expect(error.message).toContain(`${stranger} (approver at level 1)`);
    expect(error.message).not.toContain(id('li.na'));
    expect(error.message).toContain('通讯录权限范围');
    expect(context.fake.instances.size).toBe(0);
  });

  it('withdraws a pending instance for its initiator, and leaves ended ones alone', async () => {
    const context = setup(type);
    const { fake, approvals, requests } = context;
    const { code, definition } = await twoLevels(context);
    expect(await approvals.revoke(code, { initiator: id('zhang.wei'), definition })).toBe('revoked');
    expect(fake.instances.get(code)!.status).toBe('CANCELED');
    expect(await approvals.revoke(code, { initiator: id('zhang.wei'), definition })).toBe('revoked');
    expect(requests('/open-apis/approval/v4/instances/cancel')).toBe(1);

    const approved = await twoLevels(context, 'run-44');
    for (const by of ['li.na', 'wang.fang', 'chen.jie'])
      fake.decide(approved.code, 'APPROVED', { by: id(by) });
    expect(await approvals.revoke(approved.code, { initiator: id('zhang.wei'), definition })).toBe('revoked');
    // Cancelling an approved instance would revert it: never sent.
    expect(requests('/open-apis/approval/v4/instances/cancel')).toBe(1);
    expect(fake.instances.get(approved.code)).toMatchObject({ status: 'APPROVED', reverted: false });
  });

  it('reminds people by bot message with the link, once per person even when retried', async () => {
    const { fake, approvals } = setup(type);
    await approvals.remind([id('li.na'), id('wang.fang'), id('li.na')], 'Your approval is waiting', RUN_LINK);
    await approvals.remind([id('li.na'), id('wang.fang')], 'Your approval is waiting', RUN_LINK);
    expect(
      fake.messages.map((message) => [message.receive_id_type, message.receive_id, message.msg_type]),
    ).toEqual([
      ['open_id', id('li.na'), 'text'],
      ['open_id', id('wang.fang'), 'text'],
    ]);
    expect(JSON.parse(fake.messages[0]!.content)).toEqual({ text: `Your approval is waiting\n${RUN_LINK}` });
  });

  it('names the people a reminder could not reach', async () => {
    const { fake, approvals } = setup(type);
    fake.setContactScope(APP_ID, { department_ids: [], user_ids: [id('li.na')] });
    const error = await caught(() => approvals.remind([id('li.na'), id('chen.jie')], 'Waiting', RUN_LINK));
    expect(error.code).toBe('upstream_rejected');
    expect(error.message).toContain(id('chen.jie'));
    expect(fake.messages.map((message) => message.receive_id)).toEqual([id('li.na')]);
  });

  it('finds the instance of an approval event, whichever schema Feishu pushes', async () => {
    const context = setup(type);
    const { fake, approvals, deliver } = context;
    const first = await twoLevels(context, 'run-45');
    for (const by of ['li.na', 'wang.fang']) fake.decide(first.code, 'APPROVED', { by: id(by) });
    const v2 = deliver(fake.decide(first.code, 'APPROVED', { by: id('chen.jie') }));
    expect(v2.type).toBe('approval.instance.status_changed_v4');
    expect(approvals.instanceOfEvent(v2)).toBe(first.code);

    const second = await twoLevels(context, 'run-46');
    const v1 = deliver(fake.cancelAtVendor(second.code, { schema: '1.0' }));
    expect(v1.type).toBe('approval_instance');
    expect(approvals.instanceOfEvent(v1)).toBe(second.code);

    const task = deliver(
      fake.eventRequest(
        APP_ID,
        'approval_task',
        { approval_code: second.definition, instance_code: second.code, task_id: '1', status: 'DONE' },
        { schema: '1.0' },
      ),
    );
    expect(approvals.instanceOfEvent(task)).toBe(second.code);
    // The SDK's long connection hands the event's fields over flat.
    expect(
      approvals.instanceOfEvent({ dedup_key: 'x', type: 'approval_task', payload: { instance_code: 'I-9' } }),
    ).toBe('I-9');
    const other = deliver(
      fake.eventRequest(APP_ID, 'im.message.receive_v1', { message: { message_id: 'om_1' } }),
    );
    expect(approvals.instanceOfEvent(other)).toBeUndefined();
  });

  it('finds people by email, mobile and id, and nobody for unknown ones', async () => {
    const { fake, approvals } = setup(type);
    const liNa = fake.seed.users.find((user) => user.open_id === id('li.na'))!;
    expect(await approvals.findUser({ email: 'li.na@example.com' })).toMatchObject({
      id: id('li.na'),
      id_type: 'open_id',
      name: '李娜',
    });
    expect((await approvals.findUser({ mobile: liNa.mobile }))?.id).toBe(id('li.na'));
    expect((await approvals.findUser({ id: id('chen.jie') }))?.name).toBe('陈杰');
    expect(await approvals.findUser({ email: 'nobody@example.com' })).toBeUndefined();
    expect(await approvals.findUser({ mobile: '+8613900000000' })).toBeUndefined();
    expect(await approvals.findUser({ id: 'ou_00000000000000000000000000000000' })).toBeUndefined();
    expect(await approvals.findUser({})).toBeUndefined();
  });
});

describe('Feishu approval status words', () => {
  it('maps every status Feishu documents, and refuses to guess an unknown one', () => {
    const map = (status: string, reverted = false) => feishuInstanceStatus('Feishu', { status, reverted });
    expect(map('PENDING').status).toBe('pending');
    expect(map('APPROVED').status).toBe('approved');
    expect(map('REJECTED').status).toBe('rejected');
    for (const status of ['CANCELED', 'DELETED', 'REVERTED', 'OVERTIME_CLOSE']) {
      expect(map(status)).toMatchObject({
        status: 'cancelled',
        vendor_status: status,
        reason: expect.any(String),
      });
    }
    expect(map('APPROVED', true)).toMatchObject({ status: 'cancelled', vendor_status: 'REVERTED' });
    // Zadig compared with "CANCELLED" (W6); Feishu never sends it, so it is not taken for anything.
    expect(() => map('CANCELLED')).toThrow(AppError);
  });
});
