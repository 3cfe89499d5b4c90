import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import type { ApprovalShape, NewInstance, VendorApprovals } from '../approvals.js';
import { fakeClock } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import { memoryRateLimiter } from '../rate-limiter.js';
import type { ImEvent } from '../types.js';
import { createWeComApprovals, KEY_LABEL, readWeComInstance, weComStatusOf } from './approvals.js';
import { handleWeComCallback } from './callback.js';
import { createWeComClient, type WeComApprovalInfo, type WeComConfig } from './client.js';
import { createWeComFake, type WeComFakeOptions } from './fake.js';
import { wecomSandboxSeed } from './seed.js';

const start = Date.UTC(2026, 0, 5, 2, 0, 0);
const corpId = wecomSandboxSeed.corp_id;
const sandboxApp = wecomSandboxSeed.apps[0]!;
const callback = sandboxApp.callback!;

function setup(options: { fake?: WeComFakeOptions } = {}) {
  const clock = fakeClock(start);
  const fake = createWeComFake({ clock, ...options.fake });
  const config: WeComConfig = {
    type: 'wecom',
    corp_id: corpId,
    agent_id: sandboxApp.agent_id,
    secret: sandboxApp.secret,
    token: callback.token,
    encoding_aes_key: callback.encoding_aes_key,
    api_base: 'https://qyapi.example.test/',
  };
  const client = createWeComClient(config, {
    fetch: fake.fetch,
    now: clock.now,
    tokens: memoryTokenStore(),
    // Waits move the fake clock: WeCom's limits are kept without real sleeping.
    limiter: memoryRateLimiter(clock.now, async (ms) => clock.advance(ms)),
  });
  const approvals = createWeComApprovals(client, config);
  return { clock, fake, config, client, approvals };
}

const shape: ApprovalShape = {
  key: 'AND-OR+cc',
  name: 'Signoff 审批 (AND-OR+cc)',
  nodes: ['AND', 'OR'],
  cc: true,
};

function newInstance(definition: string, overrides: Partial<NewInstance> = {}): NewInstance {
  return {
    definition,
    key: 'run-42-job-7',
    initiator: 'SignoffAdmin',
    title: 'Deploy payments v1.2 to production',
    content: 'Deploy payments v1.2 to production.\nChanges: 12 commits.',
    link: 'https://signoff.example.test/runs/42',
    nodes: [
      { type: 'AND', approvers: ['ZhangWei', 'LiNa'] },
      { type: 'OR', approvers: ['WangFang', 'LiuYang'] },
    ],
    cc: ['ChenJing'],
    ...overrides,
  };
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

async function created(approvals: VendorApprovals, overrides: Partial<NewInstance> = {}) {
  const definition = await approvals.createDefinition(shape);
  const { id } = await approvals.createInstance(newInstance(definition, overrides));
  return { definition, id };
}

describe('WeCom approvals: definitions', () => {
  it('creates a template with one required Textarea under the shape name, and sees it exist', async () => {
    const { approvals, fake, client } = setup();
    const definition = await approvals.createDefinition(shape);
    expect(fake.templates()).toEqual([{ template_id: definition, name: 'Signoff 审批 (AND-OR+cc)' }]);
    const detail = await client.templateDetail(definition);
    expect(detail.template_content.controls).toMatchObject([
      { property: { control: 'Textarea', id: 'Textarea-1', require: 1 } },
    ]);
    expect(await approvals.definitionExists(definition)).toBe(true);
  });

  it('says a template deleted in WeCom (or never made) is gone, and an instance of it throws definition_gone', async () => {
    const { approvals, fake } = setup();
    const definition = await approvals.createDefinition(shape);
    fake.deleteTemplate(definition);
    expect(await approvals.definitionExists(definition)).toBe(false);
    expect(await approvals.definitionExists('no-such-template')).toBe(false);
    const gone = await failure(approvals.createInstance(newInstance(definition)));
    expect(gone.code).toBe('definition_gone');
    expect(gone.message).toContain(definition);
    expect(fake.approvals()).toHaveLength(0);
  });
});

describe('WeCom approvals: instances', () => {
  it('submits the flow inline: AND then OR nodes, CC, the form text with link and key, a short summary', async () => {
    const { approvals, fake } = setup();
    const { definition, id } = await created(approvals);
    const approval = fake.approval(id)!;
    expect(approval).toMatchObject({
      template_id: definition,
      sp_status: 1,
      applyer: { userid: 'SignoffAdmin' },
      notifyer: ['ChenJing'],
    });
    // apv_rel 1 (AND) and 2 (OR) come back as approverattr 2 (会签) and 1 (或签).
    expect(approval.nodes.map((node) => [node.approverattr, node.details.map((d) => d.userid)])).toEqual([
      [2, ['ZhangWei', 'LiNa']],
      [1, ['WangFang', 'LiuYang']],
    ]);
    const text = (approval.apply_data.contents[0] as { value: { text: string } }).value.text;
    expect(text).toBe(
      'Deploy payments v1.2 to production.\nChanges: 12 commits.\n\n' +
        'https://signoff.example.test/runs/42\n\n' +
        `${KEY_LABEL}run-42-job-7`,
    );
    // WeCom shows at most 20 characters per summary line.
    expect(approval.summary).toEqual(['Deploy payments v1.…']);
  });

  it('reads approve and reject, with the comment, the time and the name', async () => {
    const { approvals, fake, clock } = setup();
    const single = { nodes: [{ type: 'OR' as const, approvers: ['WangFang'] }], cc: [] };
    const first = await created(approvals, { ...single, key: 'k-approve' });
    expect(await approvals.instance(first.id)).toMatchObject({
      status: 'pending',
      vendor_status: '1',
      nodes: [{ type: 'OR', status: 'pending', approvers: [{ id: 'WangFang', decision: 'pending' }] }],
    });
    clock.advance(60_000);
    fake.decide(first.id, 'WangFang', 'approve', '同意');
    expect(await approvals.instance(first.id)).toEqual({
      status: 'approved',
      vendor_status: '2',
      nodes: [
        {
          type: 'OR',
          status: 'approved',
          approvers: [
            {
              id: 'WangFang',
              name: '王芳',
              avatar: null,
              decision: 'approved',
              comment: '同意',
              decided_at: new Date(start + 60_000).toISOString(),
            },
          ],
        },
      ],
    });

    const second = await created(approvals, { ...single, key: 'k-reject' });
    fake.decide(second.id, 'WangFang', 'reject', 'freeze week');
    const rejected = await approvals.instance(second.id);
    expect(rejected.status).toBe('rejected');
    expect(rejected.nodes[0]).toMatchObject({
      status: 'rejected',
      approvers: [{ decision: 'rejected', comment: 'freeze week' }],
    });
  });

  it('follows an AND node then an OR node per approver: decisions, 转审, remarks and names', async () => {
    const { approvals, fake } = setup();
    const { id } = await created(approvals);

    let state = await approvals.instance(id);
    expect(state.nodes.map((node) => [node.type, node.status])).toEqual([
      ['AND', 'pending'],
      ['OR', 'waiting'],
    ]);
    expect(state.nodes[1]!.approvers.map((approver) => approver.decision)).toEqual(['waiting', 'waiting']);

    fake.decide(id, 'ZhangWei', 'approve', 'ok from me');
    fake.transfer(id, 'LiNa', 'ZhaoLei', 'ZhaoLei owns payments');
    state = await approvals.instance(id);
    expect(state.status).toBe('pending');
    expect(state.nodes[0]).toMatchObject({
      type: 'AND',
      status: 'pending',
      approvers: [
        { id: 'ZhangWei', name: '张伟', decision: 'approved', comment: 'ok from me' },
        { id: 'LiNa', name: '李娜', decision: 'transferred', comment: 'ZhaoLei owns payments' },
        { id: 'ZhaoLei', name: '赵磊', decision: 'pending' },
      ],
    });

    fake.decide(id, 'ZhaoLei', 'approve');
    fake.comment(id, 'WangFang', 'checking the rollback plan');
    state = await approvals.instance(id);
    expect(state.nodes.map((node) => node.status)).toEqual(['approved', 'pending']);
    expect(state.nodes[1]!.approvers).toMatchObject([
      { id: 'WangFang', name: '王芳', decision: 'pending', comment: 'checking the rollback plan' },
      { id: 'LiuYang', name: '刘洋', decision: 'pending' },
    ]);

    fake.decide(id, 'LiuYang', 'approve', 'ship it');
    state = await approvals.instance(id);
    expect(state.status).toBe('approved');
    expect(state.nodes[1]).toMatchObject({
      type: 'OR',
      status: 'approved',
      approvers: [
        { id: 'WangFang', decision: 'pending' },
        { id: 'LiuYang', decision: 'approved', comment: 'ship it' },
      ],
    });
    // CC members are not approvers.
    expect(state.nodes.flatMap((node) => node.approvers.map((approver) => approver.id))).not.toContain(
      'ChenJing',
    );
  });

  it('reports withdrawn (4), revoked after approval (6) and deleted (7) as cancelled with the reason, paid (10) as approved', async () => {
    const { approvals, fake } = setup();
    const single = { nodes: [{ type: 'OR' as const, approvers: ['WangFang'] }], cc: [] };

    const withdrawn = await created(approvals, { ...single, key: 'k-4' });
    fake.withdraw(withdrawn.id);
    expect(await approvals.instance(withdrawn.id)).toMatchObject({
      status: 'cancelled',
      vendor_status: '4',
      reason: expect.stringContaining('withdrawn by the initiator'),
    });

    const revoked = await created(approvals, { ...single, key: 'k-6' });
    fake.decide(revoked.id, 'WangFang', 'approve');
    fake.revoke(revoked.id);
    expect(await approvals.instance(revoked.id)).toMatchObject({
      status: 'cancelled',
      vendor_status: '6',
      reason: expect.stringContaining('after it had been approved'),
    });

    const deleted = await created(approvals, { ...single, key: 'k-7' });
    fake.remove(deleted.id);
    expect(await approvals.instance(deleted.id)).toMatchObject({
      status: 'cancelled',
      vendor_status: '7',
      reason: expect.stringContaining('deleted in WeCom'),
    });

    const paid = await created(approvals, { ...single, key: 'k-10' });
    fake.decide(paid.id, 'WangFang', 'approve');
    fake.pay(paid.id);
    expect(await approvals.instance(paid.id)).toMatchObject({ status: 'approved', vendor_status: '10' });
  });

  it('names the members WeCom does not know, or cannot see, when it refuses an approval', async () => {
    const { approvals, fake } = setup();
    const definition = await approvals.createDefinition(shape);
    const unknown = await failure(
      approvals.createInstance(
        newInstance(definition, {
          nodes: [
            { type: 'AND', approvers: ['ZhangWei'] },
            { type: 'OR', approvers: ['Ghost', 'WangFang'] },
          ],
          cc: ['Nobody'],
        }),
      ),
    );
    expect(unknown.code).toBe('upstream_rejected');
    expect(unknown.message).toContain('Ghost (approver in node 2: no such member)');
    expect(unknown.message).toContain('Nobody (cc: no such member)');
    expect(unknown.message).not.toContain('ZhangWei');

    // The applicant outside the app's visible range: WeCom answers 301055.
    fake.updateApp(corpId, sandboxApp.agent_id, { visible: { departments: [2, 3] } });
    const invisible = await failure(approvals.createInstance(newInstance(definition)));
    expect(invisible.code).toBe('upstream_rejected');
    expect(invisible.message).toContain('301055');
    expect(invisible.message).toContain("SignoffAdmin (initiator: outside the app's visible range)");
    expect(fake.approvals()).toHaveLength(0);
  });
});

describe('WeCom approvals: after a crash', () => {
  it('finds the approval created with this key among the template and initiator approvals, across pages', async () => {
    const { approvals, fake, clock } = setup();
    const definition = await approvals.createDefinition(shape);
    const other = await approvals.createDefinition({ ...shape, key: 'AND', name: 'Signoff 审批 (AND)' });
    // Noise: other keys (one a prefix of ours), another initiator, another template; over a page of 100.
    for (let i = 0; i < 104; i++)
      await approvals.createInstance(newInstance(definition, { key: `run-42-job-7${i}` }));
    await approvals.createInstance(newInstance(definition, { key: 'run-42-job-7', initiator: 'ZhangWei' }));
    await approvals.createInstance(newInstance(other, { key: 'run-42-job-7' }));

    const since = new Date(clock.now());
    clock.advance(1_000);
    // "Created at the vendor", then the process died before recording the id.
    const lost = await approvals.createInstance(newInstance(definition));
    clock.advance(3_600_000);

    const calls = fake.stats.calls['oa/getapprovalinfo'] ?? 0;
    expect(await approvals.findInstance(newInstance(definition), since)).toBe(lost.id);
    expect((fake.stats.calls['oa/getapprovalinfo'] ?? 0) - calls).toBe(2);
    expect(await approvals.findInstance(newInstance(definition, { key: 'never-created' }), since)).toBe(
      undefined,
    );
  });

  it('reads an approval again when one read of the search fails for a moment', async () => {
    const { approvals, fake, clock } = setup();
    const definition = await approvals.createDefinition(shape);
    const since = new Date(clock.now());
    for (let i = 0; i < 3; i++)
      await approvals.createInstance(newInstance(definition, { key: `other-${i}` }));
    const lost = await approvals.createInstance(newInstance(definition));
    // The list, then the first detail read: WeCom is busy (errcode -1) twice.
    fake.faults.failNext('server_error', 'server_error');
    expect(await approvals.findInstance(newInstance(definition), since)).toBe(lost.id);
    expect(fake.faults.served.server_error).toBe(2);
  });

  it('keeps the search inside the 31 days WeCom allows when the restart comes much later', async () => {
    const { approvals, clock } = setup();
    const definition = await approvals.createDefinition(shape);
    const since = new Date(clock.now());
    const lost = await approvals.createInstance(newInstance(definition));
    clock.advance(40 * 86_400_000);
    expect(await approvals.findInstance(newInstance(definition), since)).toBe(lost.id);
  });
});

describe('WeCom approvals: revoke, remind, events, people', () => {
  it('answers unsupported to revoke without calling WeCom (it has no withdraw API)', async () => {
    const { approvals, fake } = setup();
    const { id, definition } = await created(approvals);
    const before = structuredClone(fake.stats);
    expect(await approvals.revoke(id, { initiator: 'SignoffAdmin', definition })).toBe('unsupported');
    expect(fake.stats).toEqual(before);
    expect(fake.approval(id)!.sp_status).toBe(1);
  });

  it('reminds through an app message with the link, skipping members WeCom does not know', async () => {
    const { approvals, fake } = setup();
    await approvals.remind(
      ['WangFang', 'LiuYang', 'WangFang', 'Ghost'],
      'Reminder: "Deploy v1.2" is waiting for your decision.',
      'https://signoff.example.test/runs/42',
    );
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({
      agent_id: sandboxApp.agent_id,
      msgtype: 'text',
      touser: ['WangFang', 'LiuYang'],
    });
    expect((fake.messages[0]!.body.text as { content: string }).content).toBe(
      'Reminder: "Deploy v1.2" is waiting for your decision.\n' +
        '<a href="https://signoff.example.test/runs/42">https://signoff.example.test/runs/42</a>',
    );

    await approvals.remind(['LiNa'], 'x'.repeat(5000), 'https://signoff.example.test/runs/43');
    const long = (fake.messages[1]!.body.text as { content: string }).content;
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(2048);
    expect(long).toContain('runs/43</a>');
  });

  it("reads the approval id from the fake's own callbacks, passed through the WeCom callback handler", async () => {
    const events: ImEvent[] = [];
    let handlerConfig: WeComConfig | undefined;
    let now = () => start;
    // WeCom → our callback route, in-process: the handler checks signature, time, receiver and decrypts.
    const receiver: Fetch = async (input, init) => {
      const url = new URL(String(input));
      const result = handleWeComCallback(
        handlerConfig!,
        {
          method: init?.method ?? 'GET',
          query: Object.fromEntries(url.searchParams),
          headers: {},
          body: typeof init?.body === 'string' ? init.body : '',
        },
        { now },
      );
      if (result.event) events.push(result.event);
      return new Response(result.body, { status: result.status });
    };
    const { approvals, fake, config, clock } = setup({ fake: { fetch: receiver } });
    handlerConfig = config;
    now = clock.now;
    expect(
      await fake.configureCallback(corpId, sandboxApp.agent_id, {
        url: 'https://signoff.example.test/callbacks/wecom/ima_1',
        token: callback.token,
        encodingAesKey: callback.encoding_aes_key,
      }),
    ).toEqual({ ok: true, status: 200 });

    const { id } = await created(approvals);
    fake.decide(id, 'ZhangWei', 'approve');
    fake.comment(id, 'LiNa', 'looking');
    await fake.push(
      corpId,
      sandboxApp.agent_id,
      `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName>
<FromUserName><![CDATA[LiNa]]></FromUserName><CreateTime>${Math.floor(clock.now() / 1000)}</CreateTime>
<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1234567</MsgId>
<AgentID>${sandboxApp.agent_id}</AgentID></xml>`,
    );
    await fake.idle();

    expect(events.map((event) => event.type)).toEqual([
      'sys_approval_change',
      'sys_approval_change',
      'sys_approval_change',
      'text',
    ]);
    expect(events.map((event) => approvals.instanceOfEvent(event))).toEqual([id, id, id, undefined]);
  });

  it('finds people by mobile, company or personal email and userid, and nobody for unknown ones', async () => {
    const { approvals } = setup();
    expect(await approvals.findUser({ mobile: '+86 13800000004' })).toMatchObject({
      id: 'WangFang',
      id_type: 'userid',
      name: '王芳',
    });
    expect(await approvals.findUser({ email: 'zhangwei@sandbox.wecom.work' })).toMatchObject({
      id: 'ZhangWei',
    });
    expect(await approvals.findUser({ email: 'li.na@example.com' })).toMatchObject({ id: 'LiNa' });
    expect(await approvals.findUser({ id: 'LiuYang' })).toMatchObject({ id: 'LiuYang', name: '刘洋' });
    expect(await approvals.findUser({ mobile: '+86 19999999999' })).toBeUndefined();
    expect(await approvals.findUser({ email: 'nobody@example.com' })).toBeUndefined();
    expect(await approvals.findUser({ id: 'Ghost' })).toBeUndefined();
    expect(await approvals.findUser({})).toBeUndefined();
  });
});

describe('WeCom approvals: reading detail shapes', () => {
  const legacy: WeComApprovalInfo = {
    sp_no: '202601050001',
    sp_name: 'Signoff 审批',
    sp_status: 1,
    template_id: 'tpl',
    apply_time: 1_767_578_400,
    applyer: { userid: 'SignoffAdmin', partyid: '1' },
    sp_record: [
      {
        sp_status: 2,
        approverattr: 1,
        details: [
          { approver: { userid: 'a' }, speech: 'ok', sp_status: 2, sptime: 1_767_578_500 },
          { approver: { userid: 'b' }, speech: '', sp_status: 1, sptime: 0 },
        ],
      },
      {
        sp_status: 1,
        approverattr: 2,
        details: [{ approver: { userid: 'c' }, speech: '', sp_status: 1, sptime: 0 }],
      },
    ],
    notifyer: [],
  };

  it('reads sp_record alone (no process_list), minding approverattr 1 = OR, 2 = AND', () => {
    const state = readWeComInstance(legacy);
    expect(state.nodes).toEqual([
      {
        type: 'OR',
        status: 'approved',
        approvers: [
          {
            id: 'a',
            decision: 'approved',
            comment: 'ok',
            decided_at: new Date(1_767_578_500_000).toISOString(),
          },
          { id: 'b', decision: 'pending' },
        ],
      },
      { type: 'AND', status: 'pending', approvers: [{ id: 'c', decision: 'pending' }] },
    ]);
  });

  it('prefers process_list, skips CC nodes, and reads sp_yj 11 returned, 12 co-sign added, 13 agreed with co-sign', () => {
    const state = readWeComInstance({
      ...legacy,
      process_list: {
        node_list: [
          {
            node_type: 1,
            sp_status: 1,
            apv_rel: 1,
            sub_node_list: [
              { userid: 'a', speech: 'back to you', sp_yj: 11, sptime: 1_767_578_500 },
              { userid: 'b', speech: '', sp_yj: 12, sptime: 0 },
              { userid: 'c', speech: 'fine', sp_yj: 13, sptime: 1_767_578_600 },
            ],
          },
          {
            node_type: 2,
            sp_status: 1,
            apv_rel: 1,
            sub_node_list: [{ userid: 'cc', speech: '', sp_yj: 1, sptime: 0 }],
          },
          {
            node_type: 1,
            sp_status: 1,
            apv_rel: 3,
            sub_node_list: [{ userid: 'd', speech: '', sp_yj: 1, sptime: 0 }],
          },
        ],
      },
    });
    expect(state.nodes.map((node) => [node.type, node.status])).toEqual([
      ['AND', 'pending'],
      ['AND', 'waiting'],
    ]);
    expect(state.nodes[0]!.approvers.map((approver) => approver.decision)).toEqual([
      'transferred',
      'pending',
      'approved',
    ]);
    expect(state.nodes[1]!.approvers).toEqual([{ id: 'd', decision: 'waiting' }]);
  });

  it('maps every documented SpStatus and refuses to guess an unknown one', () => {
    expect([1, 2, 3, 4, 6, 7, 10].map((status) => weComStatusOf(status).status)).toEqual([
      'pending',
      'approved',
      'rejected',
      'cancelled',
      'cancelled',
      'cancelled',
      'approved',
    ]);
    const unknown = (() => {
      try {
        weComStatusOf(5);
      } catch (error) {
        return error as AppError;
      }
      return undefined;
    })();
    expect(unknown).toMatchObject({ code: 'upstream_error' });
    expect(unknown?.retryable).toBe(true);
  });
});
