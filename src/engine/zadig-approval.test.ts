// Vendor approval jobs as authors write them: our fields, and Zadig's own field names translated.
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './parse-workflow.js';

const wrap = (spec: string) => `name: release
params:
  - name: version
    default: "1.2"
stages:
  - name: approve
    jobs:
      - name: prod-approval
        type: approval
        spec:
${spec
  .trim()
  .split('\n')
  .map((line) => `          ${line}`)
  .join('\n')}
`;

function specOf(source: string) {
  const result = parseWorkflow(source);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.workflow.stages[0]!.jobs[0]!.spec as Record<string, unknown>;
}

function problemsOf(source: string) {
  const result = parseWorkflow(source);
  if (result.ok) throw new Error('expected problems, the document parsed');
  return result.problems;
}

describe('vendor approval jobs', () => {
  it('reads the documented example with defaults filled in', () => {
    const spec = specOf(
      wrap(`
type: feishu
app: feishu-main
title: Release {{ params.version }} to production
initiator: { email: ops@example.com }
nodes:
  - type: AND
    approvers: [{ id: ou_a }, { email: b@example.com }]
  - type: OR
    approvers: [{ mobile: "+86 13800000001" }]
cc: [{ id: ou_c }]
timeout: 2h
remind_before: 15m`),
    );
    expect(spec).toEqual({
      type: 'feishu',
      app: 'feishu-main',
      title: 'Release {{ params.version }} to production',
      initiator: { email: 'ops@example.com' },
      nodes: [
        { type: 'AND', approvers: [{ id: 'ou_a' }, { email: 'b@example.com' }] },
        { type: 'OR', approvers: [{ mobile: '+86 13800000001' }] },
      ],
      cc: [{ id: 'ou_c' }],
      timeout: 7_200_000,
      timeout_outcome: 'reject',
      remind_before: 900_000,
    });
  });

  it('names the line and field of a bad person and a missing node list', () => {
    const problems = problemsOf(
      wrap(`
type: dingtalk
app: dt
nodes:
  - approvers: [{ name: bob }]`),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        line: 14,
        path: 'stages[0].jobs[0].spec.nodes[0].approvers[0]',
        message: expect.stringContaining('{ id: … }, { email: … } or { mobile: … }'),
      }),
    ]);
    expect(problemsOf(wrap('type: wecom\napp: wc'))).toEqual([
      expect.objectContaining({ path: 'stages[0].jobs[0].spec.nodes' }),
    ]);
  });

  it('checks templates in the title like any other template field', () => {
    const problems = problemsOf(
      wrap(`
type: lark
app: lark-main
title: Release {{ params.nope }}
nodes: [{ approvers: [{ id: ou_a }] }]`),
    );
    expect(problems[0]?.message).toContain('`params.nope` in title is not a declared param');
  });
});

describe("Zadig's approval fields", () => {
  it('translates a lark_approval job (type lark is Feishu) with START/END CC nodes', () => {
    const spec = specOf(
      wrap(`
type: lark
timeout: 90
approval_title: Prod release
lark_approval:
  approval_id: feishu-main
  default_approval_initiator: { id: ou_init, name: Ops }
  approval_nodes:
    - type: START
      cc_users: [{ id: ou_cc1 }]
    - type: AND
      approve_users: [{ id: ou_a, id_type: open_id, name: A }, { id: ou_b, name: B }]
    - type: OR
      approve_users: [{ id: ou_c }]`),
    );
    expect(spec).toMatchObject({
      type: 'feishu',
      app: 'feishu-main',
      title: 'Prod release',
      initiator: { id: 'ou_init' },
      nodes: [
        { type: 'AND', approvers: [{ id: 'ou_a' }, { id: 'ou_b' }] },
        { type: 'OR', approvers: [{ id: 'ou_c' }] },
      ],
      cc: [{ id: 'ou_cc1' }],
      timeout: 90 * 60_000,
    });
  });

  it('translates lark_intl to Lark and dingtalk_approval to DingTalk', () => {
    expect(
      specOf(
        wrap(`
type: lark_intl
lark_approval:
  approval_id: lark-main
  approval_nodes: [{ type: OR, approve_users: [{ id: ou_a }] }]`),
      ),
    ).toMatchObject({ type: 'lark', app: 'lark-main', nodes: [{ type: 'OR' }] });
    expect(
      specOf(
        wrap(`
type: dingtalk
dingtalk_approval:
  approval_id: dt-main
  approval_nodes: [{ type: AND, approve_users: [{ id: user1 }, { id: user2 }] }]`),
      ),
    ).toMatchObject({
      type: 'dingtalk',
      app: 'dt-main',
      nodes: [{ type: 'AND', approvers: [{ id: 'user1' }, { id: 'user2' }] }],
    });
  });

  it('translates workwx_approval: apv_rel 1 is AND, 2 is OR, node type 2 is CC', () => {
    const spec = specOf(
      wrap(`
type: workwx
workwx_approval:
  approval_id: wecom-main
  creator_user: { id: zhangsan }
  approval_nodes:
    - { type: 1, apv_rel: 1, users: [{ id: lisi }, { id: wangwu }] }
    - { type: 1, apv_rel: 2, users: [{ id: zhaoliu }] }
    - { type: 2, users: [{ id: boss }] }`),
    );
    expect(spec).toMatchObject({
      type: 'wecom',
      app: 'wecom-main',
      initiator: { id: 'zhangsan' },
      nodes: [
        { type: 'AND', approvers: [{ id: 'lisi' }, { id: 'wangwu' }] },
        { type: 'OR', approvers: [{ id: 'zhaoliu' }] },
      ],
      cc: [{ id: 'boss' }],
    });
  });

  it('translates native_approval', () => {
    expect(
      specOf(
        wrap(`
type: native
native_approval:
  timeout: 30
  needed_approvers: 2
  approve_users: [{ user_name: alice, user_id: u1 }, { user_name: bob }]`),
      ),
    ).toMatchObject({ type: 'native', approvers: ['alice', 'bob'], needed_approvers: 2, timeout: 1_800_000 });
  });

  it('still names what it cannot translate', () => {
    const problems = problemsOf(
      wrap(`
type: workwx
workwx_approval:
  approval_nodes: [{ type: 1, apv_rel: 1, users: [{ id: lisi }] }]`),
    );
    expect(problems.map((problem) => problem.path)).toContain('stages[0].jobs[0].spec.app');
  });
});
