// The DingTalk approvals adapter against the fake (in-process fetch): forms, instances, per-approver
// state, redirects, withdrawals, crash recovery, revoke, reminders, events and people.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import type { ApprovalShape, NewInstance, VendorApprovals } from '../approvals.js';
import type { Fetch } from '../http.js';
import type { ImAppConfig, ImEvent } from '../types.js';
import {
  assignTasks,
  createDingTalkApprovals,
  DINGTALK_FORM_FIELD,
  formatFlow,
  parseFlow,
} from './approvals.js';
import { handleDingTalkCallback } from './callback.js';
import { createDingTalkClient, type DingTalkConfig, type ProcessInstanceTask } from './client.js';
import { createDingTalkFake, type DingTalkFake, type DingTalkFakeOptions } from './fake.js';
import { dingtalkProvider } from './index.js';
import { dingTalkDemoSeed } from './seed.js';

const shape: ApprovalShape = {
  key: 'AND-OR',
  name: 'Signoff 审批 (AND-OR)',
  nodes: ['AND', 'OR'],
  cc: false,
};

function setup(options: DingTalkFakeOptions = {}, configOverrides: Partial<DingTalkConfig> = {}) {
  const events: ImEvent[] = [];
  const fake: DingTalkFake = createDingTalkFake({ qpsLimit: 0, callbackFetch: receiver(events), ...options });
  const app = fake.seed.app;
  const config: DingTalkConfig = {
    type: 'dingtalk',
    app_key: app.appKey,
    app_secret: app.appSecret,
    aes_key: app.aesKey,
    token: app.token,
    agent_id: String(app.agentId),
    api_base: 'https://api.dingtalk.example',
    oapi_base: 'https://oapi.dingtalk.example',
    ...configOverrides,
  };
  const client = createDingTalkClient(config, {
    fetch: fake.fetch,
    now: fake.clock.now,
    tokens: memoryTokenStore(),
    limiter: { take: async () => {} },
    sleep: async () => {},
  });
  const approvals = createDingTalkApprovals(client, config, { now: fake.clock.now });
  return { fake, client, config, approvals, events };
}

/** Our callback route in miniature: the real handler verifies, decrypts and answers; events are kept. */
function receiver(events: ImEvent[]): Fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const app = dingTalkDemoSeed.app;
    const result = handleDingTalkCallback(
      {
        type: 'dingtalk',
        app_key: app.appKey,
        app_secret: app.appSecret,
        aes_key: app.aesKey,
        token: app.token,
        api_base: '',
        oapi_base: '',
      },
      {
        method: init?.method ?? 'POST',
        query: Object.fromEntries(url.searchParams),
        headers: {},
        body: String(init?.body ?? ''),
      },
      { now: Date.now },
    );
    if (result.event) events.push(result.event);
    return new Response(result.body, {
      status: result.status,
      headers: { 'content-type': result.content_type },
    });
  };
}

function request(definition: string, overrides: Partial<NewInstance> = {}): NewInstance {
  return {
    definition,
    key: 'run-42-approve-prod',
    initiator: 'zhangwei',
    title: 'Deploy v1.2.3 to production',
    content: 'Pipeline release #42 wants to deploy v1.2.3.',
    link: 'https://signoff.example/runs/42',
    nodes: [
      { type: 'AND', approvers: ['lina', 'liuyang'] },
      { type: 'OR', approvers: ['manager001', 'chenjing'] },
    ],
    cc: [],
    ...overrides,
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

async function started(approvals: VendorApprovals, overrides: Partial<NewInstance> = {}) {
  const definition = await approvals.createDefinition(shape);
  const { id } = await approvals.createInstance(request(definition, overrides));
  return { definition, id };
}

describe('DingTalk approvals: definitions', () => {
  it('finds the form by name before creating one; a second call (or another replica) creates nothing', async () => {
    const { fake, approvals, client, config } = setup();
    const code = await approvals.createDefinition(shape);
    expect(code).toMatch(/^PROC-/);
    expect(await approvals.createDefinition(shape)).toBe(code);
    const other = createDingTalkApprovals(client, config);
    expect(await other.createDefinition(shape)).toBe(code);
    expect(fake.forms.size).toBe(1);
    const form = fake.forms.get(code)!;
    expect(form.name).toBe('Signoff 审批 (AND-OR)');
    expect(form.formComponents).toEqual([
      expect.objectContaining({
        componentType: 'TextareaField',
        props: expect.objectContaining({ label: DINGTALK_FORM_FIELD, required: true }),
      }),
    ]);
    expect(fake.calls.get('POST /v1.0/workflow/forms')).toBe(1);
  });

  it('re-reads the list when DingTalk says the name is taken (two creations at once)', async () => {
    const { fake, approvals } = setup();
    const [a, b] = await Promise.all([approvals.createDefinition(shape), approvals.createDefinition(shape)]);
    expect(a).toBe(b);
    expect(fake.forms.size).toBe(1);
    expect(fake.calls.get('POST /v1.0/workflow/forms')).toBe(2);
  });

  it('finds its form among many pages of templates', async () => {
    const { fake, client, approvals } = setup();
    for (let i = 0; i < 130; i++) {
      await client.saveForm({
        name: `Other form ${i}`,
        formComponents: [{ componentType: 'TextField', props: { componentId: 'TextField-1', label: 'x' } }],
      });
    }
    const code = await approvals.createDefinition(shape);
    expect(await approvals.createDefinition(shape)).toBe(code);
    expect(fake.forms.size).toBe(131);
  });

  it('tells a deleted form apart, refuses instances of it as definition_gone, and recreates it', async () => {
    const { fake, approvals } = setup();
    const code = await approvals.createDefinition(shape);
    expect(await approvals.definitionExists(code)).toBe(true);
    fake.deleteForm(code);
    expect(await approvals.definitionExists(code)).toBe(false);
    const gone = await caught(() => approvals.createInstance(request(code)));
    expect(gone.code).toBe('definition_gone');
    expect(gone.message).toContain('processCodeError');
    const again = await approvals.createDefinition(shape);
    expect(again).not.toBe(code);
    expect((await approvals.createInstance(request(again))).id).toBeTruthy();
  });

  it('refuses a form name DingTalk would refuse', async () => {
    const { approvals } = setup();
    const error = await caught(() => approvals.createDefinition({ ...shape, name: 'x'.repeat(201) }));
    expect(error.code).toBe('validation_failed');
  });
});

describe('DingTalk approvals: instances', () => {
  it('starts an instance with one DingTalk node per step, NONE for one person, CC, and our key and flow in the form', async () => {
    const { fake, approvals } = setup();
    const definition = await approvals.createDefinition({ ...shape, key: 'AND-OR+cc', cc: true });
    const { id, link } = await approvals.createInstance(
      request(definition, {
        nodes: [
          { type: 'AND', approvers: ['lina', 'liuyang'] },
          { type: 'OR', approvers: ['manager001'] },
        ],
        cc: ['chenjing'],
      }),
    );
    expect(link).toBeUndefined();
    const raw = fake.instances.get(id)!;
    expect(raw.nodes).toEqual([
      { actionType: 'AND', userIds: ['lina', 'liuyang'] },
      { actionType: 'NONE', userIds: ['manager001'] },
    ]);
    expect(raw.ccList).toEqual(['chenjing']);
    expect(raw.originatorUserId).toBe('zhangwei');
    const text = raw.formComponentValues[0]!.value;
    expect(raw.formComponentValues[0]!.name).toBe('详情');
    expect(text).toContain('Deploy v1.2.3 to production');
    expect(text).toContain('Pipeline release #42 wants to deploy v1.2.3.');
    expect(text).toContain('https://signoff.example/runs/42');
    expect(text.split('\n')).toContain('Signoff key: run-42-approve-prod');
    expect(text.split('\n')).toContain('Signoff flow: AND(lina,liuyang) OR(manager001)');

    const state = await approvals.instance(id);
    expect(state.status).toBe('pending');
    expect(state.vendor_status).toBe('RUNNING');
    expect(state.link).toMatch(/^https:\/\/aflow\.dingtalk\.com\//);
    expect(state.nodes).toEqual([
      {
        type: 'AND',
        status: 'pending',
        approvers: [
          { id: 'lina', name: '李娜', avatar: null, decision: 'pending' },
          { id: 'liuyang', name: '刘洋', avatar: null, decision: 'pending' },
        ],
      },
      {
        type: 'OR',
        status: 'waiting',
        approvers: [{ id: 'manager001', name: '王芳', avatar: null, decision: 'waiting' }],
      },
    ]);
  });

  it('approves a single-approver (NONE) flow and reports who, when and the comment', async () => {
    const { fake, approvals } = setup();
    const { id } = await started(approvals, { nodes: [{ type: 'AND', approvers: ['manager001'] }] });
    expect(fake.instances.get(id)!.nodes).toEqual([{ actionType: 'NONE', userIds: ['manager001'] }]);
    fake.decide(id, 'manager001', 'agree', '同意发布');
    const state = await approvals.instance(id);
    expect(state.status).toBe('approved');
    expect(state.vendor_status).toBe('COMPLETED/agree');
    expect(state.nodes[0]).toMatchObject({
      status: 'approved',
      approvers: [{ id: 'manager001', name: '王芳', decision: 'approved', comment: '同意发布' }],
    });
    expect(state.nodes[0]!.approvers[0]!.decided_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
  });

  it('reports a refusal with its comment; later nodes stay waiting', async () => {
    const { fake, approvals } = setup();
    const { id } = await started(approvals);
    fake.decide(id, 'lina', 'refuse', '缺少回滚方案');
    const state = await approvals.instance(id);
    expect(state.status).toBe('rejected');
    expect(state.nodes.map((node) => node.status)).toEqual(['rejected', 'waiting']);
    expect(state.nodes[0]!.approvers).toMatchObject([
      { id: 'lina', decision: 'rejected', comment: '缺少回滚方案' },
      { id: 'liuyang', decision: 'pending' },
    ]);
  });

  it('follows an AND node then an OR node, approver by approver', async () => {
    const { fake, approvals } = setup();
    const { id } = await started(approvals);
    fake.decide(id, 'lina', 'agree', 'LGTM');
    let state = await approvals.instance(id);
    expect(state.status).toBe('pending');
    expect(state.nodes.map((node) => node.status)).toEqual(['pending', 'waiting']);
    expect(state.nodes[0]!.approvers.map((a) => [a.id, a.decision, a.comment])).toEqual([
      ['lina', 'approved', 'LGTM'],
      ['liuyang', 'pending', undefined],
    ]);

    fake.decide(id, 'liuyang', 'agree');
    state = await approvals.instance(id);
    expect(state.nodes.map((node) => node.status)).toEqual(['approved', 'pending']);
    expect(state.nodes[1]!.approvers.map((a) => [a.id, a.name, a.decision])).toEqual([
      ['manager001', '王芳', 'pending'],
      ['chenjing', '陈静', 'pending'],
    ]);

    fake.addRemark(id, 'manager001', '我看一下'); // a comment decides nothing
    fake.decide(id, 'chenjing', 'agree', '可以');
    state = await approvals.instance(id);
    expect(state.status).toBe('approved');
    expect(state.nodes.map((node) => node.status)).toEqual(['approved', 'approved']);
    // manager001's task was cancelled when chenjing decided (OR): never decided.
    expect(state.nodes[1]!.approvers.map((a) => [a.id, a.decision, a.comment])).toEqual([
      ['manager001', 'pending', undefined],
      ['chenjing', 'approved', '可以'],
    ]);
  });

  it('shows a redirect (转交) as transferred, with the new assignee in the same node', async () => {
    const { fake, approvals } = setup();
    // The new assignee is also the approver of the next node: the redirect keeps them in node 1.
    const { id } = await started(approvals, {
      nodes: [
        { type: 'AND', approvers: ['lina', 'liuyang'] },
        { type: 'OR', approvers: ['manager001'] },
      ],
    });
    fake.redirect(id, 'liuyang', 'manager001', '出差中，请王芳审批');
    let state = await approvals.instance(id);
    expect(state.nodes[0]!.approvers.map((a) => [a.id, a.decision, a.comment])).toEqual([
      ['lina', 'pending', undefined],
      ['liuyang', 'transferred', '出差中，请王芳审批'],
      ['manager001', 'pending', undefined],
    ]);
    expect(state.nodes[1]!.approvers).toMatchObject([{ id: 'manager001', decision: 'waiting' }]);

    fake.decide(id, 'manager001', 'agree', 'node 1');
    fake.decide(id, 'lina', 'agree');
    state = await approvals.instance(id);
    expect(state.nodes.map((node) => node.status)).toEqual(['approved', 'pending']);
    expect(state.nodes[0]!.approvers.map((a) => [a.id, a.decision])).toEqual([
      ['lina', 'approved'],
      ['liuyang', 'transferred'],
      ['manager001', 'approved'],
    ]);
    expect(state.nodes[1]!.approvers).toMatchObject([{ id: 'manager001', decision: 'pending' }]);
    fake.decide(id, 'manager001', 'agree', 'node 2');
    state = await approvals.instance(id);
    expect(state.status).toBe('approved');
    expect(state.nodes[1]!.approvers).toMatchObject([
      { id: 'manager001', decision: 'approved', comment: 'node 2' },
    ]);
  });

  it('reports an instance the originator withdrew (撤销) in DingTalk as cancelled, with who and why', async () => {
    const { fake, approvals } = setup();
    const { id } = await started(approvals);
    fake.decide(id, 'lina', 'agree');
    fake.revokeInstance(id, 'zhangwei', '不需要了');
    const state = await approvals.instance(id);
    expect(state.status).toBe('cancelled');
    expect(state.vendor_status).toBe('TERMINATED');
    expect(state.reason).toBe('terminated (撤销) in DingTalk by 张伟: 不需要了');
    expect(state.nodes[0]!.approvers.map((a) => a.decision)).toEqual(['approved', 'pending']);
  });

  it('reports a deleted instance as cancelled', async () => {
    const { fake, approvals } = setup();
    const { id } = await started(approvals);
    fake.deleteInstance(id);
    expect(await approvals.instance(id)).toMatchObject({
      status: 'cancelled',
      vendor_status: 'processInstanceNotExist',
      reason: expect.stringContaining('deleted in DingTalk'),
    });
  });

  it('names the people DingTalk does not know (it names nobody itself)', async () => {
    const { approvals } = setup();
    const definition = await approvals.createDefinition(shape);
    const approver = await caught(() =>
      approvals.createInstance(
        request(definition, { nodes: [{ type: 'OR', approvers: ['lina', 'ghost'] }], cc: ['nobody'] }),
      ),
    );
    expect(approver.code).toBe('upstream_rejected');
    expect(approver.message).toContain('ghost (approver), nobody (CC)');
    expect(approver.message).toContain('通讯录权限范围');
    const initiator = await caught(() =>
      approvals.createInstance(request(definition, { initiator: 'left-company' })),
    );
    expect(initiator.code).toBe('upstream_rejected');
    expect(initiator.message).toContain('left-company (initiator)');
  });

  it('refuses what cannot be sent before calling DingTalk', async () => {
    const { fake, approvals } = setup();
    const definition = await approvals.createDefinition(shape);
    const before = fake.calls.get('POST /v1.0/workflow/processInstances') ?? 0;
    const key = await caught(() => approvals.createInstance(request(definition, { key: 'has spaces' })));
    expect(key.code).toBe('validation_failed');
    const many = Array.from({ length: 21 }, () => ({ type: 'AND' as const, approvers: ['lina'] }));
    expect((await caught(() => approvals.createInstance(request(definition, { nodes: many })))).code).toBe(
      'validation_failed',
    );
    expect(
      (
        await caught(() =>
          approvals.createInstance(request(definition, { nodes: [{ type: 'OR', approvers: [] }] })),
        )
      ).code,
    ).toBe('validation_failed');
    expect(fake.calls.get('POST /v1.0/workflow/processInstances') ?? 0).toBe(before);
  });
});

describe('DingTalk approvals: after a crash', () => {
  it('finds the instance created before the crash by its key, and nothing for another key', async () => {
    const { approvals } = setup();
    const since = new Date(Date.now() - 1000);
    const definition = await approvals.createDefinition(shape);
    const { id } = await approvals.createInstance(request(definition));
    // The id was lost: only the request and the time of the first attempt are known.
    expect(await approvals.findInstance(request(definition), since)).toBe(id);
    expect(
      await approvals.findInstance(request(definition, { key: 'run-43-approve-prod' }), since),
    ).toBeUndefined();
    // A prefix of another key is not that key.
    expect(
      await approvals.findInstance(request(definition, { key: 'run-42-approve' }), since),
    ).toBeUndefined();
  });

  it('reads an instance again when one read of the search fails for a moment', async () => {
    const { fake, approvals } = setup();
    const since = new Date(fake.clock.now() - 1000);
    const definition = await approvals.createDefinition(shape);
    for (let i = 0; i < 3; i++) await approvals.createInstance(request(definition, { key: `other-${i}` }));
    const { id } = await approvals.createInstance(request(definition));
    // The id query, then the first instance read: DingTalk unavailable, then over its QPS.
    fake.faults.failNext('server_error', 'rate_limit');
    expect(await approvals.findInstance(request(definition), since)).toBe(id);
    expect(fake.faults.served.server_error + fake.faults.served.rate_limit).toBe(2);
  });

  it('says undefined when the crash came before DingTalk created anything', async () => {
    const { fake, approvals } = setup();
    const definition = await approvals.createDefinition(shape);
    expect(await approvals.findInstance(request(definition), new Date(fake.clock.now()))).toBeUndefined();
  });

  it('pages through the initiator’s other instances (20 per page) and skips other initiators', async () => {
    const { fake, approvals } = setup();
    const since = new Date(fake.clock.now() - 1000);
    const definition = await approvals.createDefinition(shape);
    for (let i = 0; i < 23; i++) await approvals.createInstance(request(definition, { key: `run-${i}` }));
    await approvals.createInstance(request(definition, { key: 'run-other', initiator: 'lina' }));
    const { id } = await approvals.createInstance(request(definition, { key: 'run-target' }));
    expect(await approvals.findInstance(request(definition, { key: 'run-target' }), since)).toBe(id);
    expect(fake.calls.get('POST /v1.0/workflow/processes/instanceIds/query')).toBe(2);
    expect(await approvals.findInstance(request(definition, { key: 'run-other' }), since)).toBeUndefined();
  });
});

describe('DingTalk approvals: revoke', () => {
  it('terminates the instance as the initiator; a second revoke is a no-op', async () => {
    const { fake, approvals } = setup();
    const { id, definition } = await started(approvals);
    expect(await approvals.revoke(id, { initiator: 'zhangwei', definition })).toBe('revoked');
    const raw = fake.instances.get(id)!;
    expect(raw.status).toBe('TERMINATED');
    expect(raw.operationRecords.at(-1)).toMatchObject({
      userId: 'zhangwei',
      type: 'TERMINATE_PROCESS_INSTANCE',
    });
    expect((await approvals.instance(id)).status).toBe('cancelled');
    expect(await approvals.revoke(id, { initiator: 'zhangwei', definition })).toBe('revoked');
  });

  it('asks to retry within DingTalk’s first 15 s, and refuses to revoke a decided approval', async () => {
    const { fake, approvals } = setup({ terminateMinAgeMs: 15_000 });
    const { id, definition } = await started(approvals);
    const young = await caught(() => approvals.revoke(id, { initiator: 'zhangwei', definition }));
    expect(young.code).toBe('upstream_error');
    expect(young.retryable).toBe(true);
    expect(young.retryAfterMs).toBe(15_000);
    fake.clock.advance(15_000);
    expect(await approvals.revoke(id, { initiator: 'zhangwei', definition })).toBe('revoked');

    const decided = (await approvals.createInstance(request(definition, { key: 'run-decided' }))).id;
    fake.decide(decided, 'lina', 'refuse');
    const done = await caught(() => approvals.revoke(decided, { initiator: 'zhangwei', definition }));
    expect(done.code).toBe('conflict');
    expect(done.message).toContain('rejected');
  });
});

describe('DingTalk approvals: reminders', () => {
  it('sends a work notification with a button to the run', async () => {
    const { fake, approvals } = setup();
    await approvals.remind(
      ['lina', 'liuyang', 'lina'],
      'Deploy v1.2.3 waits for you\nTimes out in 10 min',
      'https://signoff.example/runs/42',
    );
    expect(fake.workNotifications).toHaveLength(1);
    expect(fake.workNotifications[0]).toMatchObject({
      agentId: fake.seed.app.agentId,
      userIds: ['lina', 'liuyang'],
      msg: {
        msgtype: 'action_card',
        action_card: {
          title: 'Deploy v1.2.3 waits for you',
          single_url: 'https://signoff.example/runs/42',
        },
      },
    });
  });

  it('sends in batches of 100 people', async () => {
    const { fake, approvals } = setup();
    const many = Array.from({ length: 150 }, (_, i) => `user${i}`);
    await approvals.remind(many, 'Waiting', 'https://signoff.example/runs/1');
    expect(fake.workNotifications.map((n) => n.userIds.length)).toEqual([100, 50]);
  });

  it('says to set agent_id when the app has none', async () => {
    const { fake, approvals } = setup({}, { agent_id: undefined });
    const error = await caught(() => approvals.remind(['lina'], 'x', 'https://signoff.example'));
    expect(error.code).toBe('validation_failed');
    expect(error.message).toContain('agent_id');
    expect(error.message).toContain('AgentId');
    expect(fake.workNotifications).toHaveLength(0);
  });
});

describe('DingTalk approvals: events', () => {
  it('reads the instance id from the fake’s own callbacks, through our callback handler', async () => {
    const { fake, approvals, events } = setup();
    expect(await fake.subscribe('https://signoff.example/callbacks/dingtalk/ima_1')).toBe(true);
    const { id } = await started(approvals, { nodes: [{ type: 'AND', approvers: ['manager001'] }] });
    fake.decide(id, 'manager001', 'agree');
    await fake.flush();
    expect(events.map((e) => e.type)).toEqual([
      'bpms_instance_change',
      'bpms_task_change',
      'bpms_task_change',
      'bpms_instance_change',
    ]);
    expect(events.map((event) => approvals.instanceOfEvent(event))).toEqual([id, id, id, id]);
    expect(
      approvals.instanceOfEvent({ dedup_key: 'x', type: 'user_add_org', payload: { UserId: ['a'] } }),
    ).toBe(undefined);
    expect(
      approvals.instanceOfEvent({ dedup_key: 'y', type: 'bpms_task_change', payload: {} }),
    ).toBeUndefined();
    expect(
      approvals.instanceOfEvent({
        dedup_key: 'z',
        type: 'bpms_instance_change',
        payload: { data: { processInstanceId: id } },
      }),
    ).toBe(id);
  });
});

describe('DingTalk approvals: people', () => {
  it('finds people by userid, mobile and e-mail (an address-book walk, kept for a while)', async () => {
    const { fake, approvals } = setup();
    expect(await approvals.findUser({ id: 'lina' })).toMatchObject({
      id: 'lina',
      name: '李娜',
      id_type: 'userid',
    });
    expect(await approvals.findUser({ mobile: '13800000005' })).toMatchObject({ id: 'chenjing' });
    expect(await approvals.findUser({ email: 'Ray.Zhao@example.com' })).toMatchObject({ id: 'zhaolei' });
    const walks = fake.calls.get('POST /topapi/v2/user/list');
    expect(await approvals.findUser({ email: 'ray.zhao@example.com' })).toMatchObject({ id: 'zhaolei' });
    expect(fake.calls.get('POST /topapi/v2/user/list')).toBe(walks);
    // org_email counts too.
    expect(await approvals.findUser({ email: 'li.na@corp.example.com' })).toMatchObject({ id: 'lina' });
  });

  it('says undefined for someone unknown, and refuses an empty question', async () => {
    const { approvals } = setup();
    expect(await approvals.findUser({ id: 'ghost' })).toBeUndefined();
    expect(await approvals.findUser({ mobile: '19900000000' })).toBeUndefined();
    expect(await approvals.findUser({ email: 'nobody@example.com' })).toBeUndefined();
    expect((await caught(() => approvals.findUser({}))).code).toBe('bad_request');
  });
});

describe('DingTalk approvals: wiring and helpers', () => {
  it('is the provider’s approvals member', async () => {
    const { fake, client, config } = setup();
    const approvals = dingtalkProvider.approvals(client, config as ImAppConfig);
    const code = await approvals.createDefinition(shape);
    expect(fake.forms.has(code)).toBe(true);
    expect(() =>
      dingtalkProvider.approvals(client, { ...config, type: 'wecom' } as unknown as ImAppConfig),
    ).toThrow(AppError);
  });

  it('writes and reads the flow line', () => {
    const nodes = [
      { type: 'AND' as const, approvers: ['a1', 'b-2', 'a1'] },
      { type: 'OR' as const, approvers: ['c_3'] },
    ];
    expect(formatFlow(nodes)).toBe('AND(a1,b-2) OR(c_3)');
    expect(parseFlow('AND(a1,b-2) OR(c_3)')).toEqual([
      { type: 'AND', approvers: ['a1', 'b-2'] },
      { type: 'OR', approvers: ['c_3'] },
    ]);
    expect(parseFlow('XOR(a)')).toBeUndefined();
    expect(parseFlow('')).toBeUndefined();
  });

  it('places tasks in nodes without activity ids: repeated people, and a redirect to a later approver', () => {
    const task = (userId: string, result: ProcessInstanceTask['result'] = 'AGREE'): ProcessInstanceTask => ({
      taskId: 0,
      userId,
      status: 'COMPLETED',
      result,
    });
    const plan = [
      { type: 'AND' as const, approvers: ['a', 'b'] },
      { type: 'OR' as const, approvers: ['a', 'c'] },
    ];
    const nodes = assignTasks(plan, [task('a'), task('b', 'REDIRECTED'), task('c'), task('a'), task('c')]);
    expect(nodes.map((tasks) => tasks.map((t) => t.userId))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
  });
});
