import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './parse-workflow.js';

// The example from docs/workflow.md: if this stops parsing, the docs are wrong.
const release = `name: release
description: Build and ship
params:
  - name: version
    default: 1.10
    required: true
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: make build VERSION={{ params.version }}
          env: { GOOS: linux, CGO_ENABLED: 0 }
  - name: approve
    jobs:
      - name: prod-approval
        type: approval
        spec:
          type: native
          approvers: [alice, bob@example.com]
          description: "Ship {{ params.version }}? Build {{ jobs.compile.status }}"
      - name: tell-ops
        type: notification
        spec:
          channel: webhook
          url: "{{ secrets.ops_hook }}"
          title: "Release {{ params.version }} waits for approval"
          headers: { X-Team: ops }
`;

function problemsOf(source: string, format?: 'yaml' | 'json') {
  const result = parseWorkflow(source, format);
  if (result.ok) throw new Error('expected problems, the document parsed');
  return result.problems;
}

describe('parseWorkflow: a valid workflow', () => {
  it('returns the complete value with defaults applied and durations in milliseconds', () => {
    const result = parseWorkflow(release);
    expect(result).toEqual({
      ok: true,
      workflow: {
        name: 'release',
        description: 'Build and ship',
        // `1.10` is kept as written, not read as the number 1.1.
        params: [{ name: 'version', default: '1.10', required: true }],
        stages: [
          {
            name: 'build',
            jobs: [
              {
                name: 'compile',
                type: 'shell',
                spec: {
                  script: 'make build VERSION={{ params.version }}',
                  shell: 'sh',
                  env: { GOOS: 'linux', CGO_ENABLED: '0' },
                  timeout: 3_600_000,
                },
              },
            ],
          },
          {
            name: 'approve',
            jobs: [
              {
                name: 'prod-approval',
                type: 'approval',
                spec: {
                  type: 'native',
                  approvers: ['alice', 'bob@example.com'],
                  needed_approvers: 1,
                  timeout: 3_600_000,
                  timeout_outcome: 'reject',
                  description: 'Ship {{ params.version }}? Build {{ jobs.compile.status }}',
                },
              },
              {
                name: 'tell-ops',
                type: 'notification',
                spec: {
                  channel: 'webhook',
                  url: '{{ secrets.ops_hook }}',
                  title: 'Release {{ params.version }} waits for approval',
                  headers: { 'X-Team': 'ops' },
                },
              },
            ],
          },
        ],
      },
    });
  });

  it('reads JSON the same way', () => {
    const json = JSON.stringify({
      name: 'tiny',
      stages: [{ name: 's', jobs: [{ name: 'j', type: 'shell', spec: { script: 'true', timeout: '90s' } }] }],
    });
    const result = parseWorkflow(json, 'json');
    expect(result.ok && result.workflow.stages[0]?.jobs[0]?.spec).toMatchObject({ timeout: 90_000 });
  });
});

describe('parseWorkflow: a document with several mistakes', () => {
  it('lists every problem at once, in line order, at the line and column to change', () => {
    const source = `name: Release
params:
  - name: version
  - name: version
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: echo {{ param.version }}
          timeout: 5 minutes
          shel: bash
      - name: compile
        type: approval
        spec:
          type: native
          approvers: [alice, bob, alice]
          needed_approvers: 4
      - name: tell
        type: notification
        spec:
          channel: webhook
`;
    expect(problemsOf(source)).toEqual([
      {
        path: 'name',
        message:
          'workflow name must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit',
        line: 1,
        column: 7,
      },
      {
        path: 'params[1].name',
        message: 'param `version` is already declared at params[0]; param names must be unique',
        line: 4,
        column: 11,
      },
      {
        path: 'stages[0].jobs[0].spec.script',
        message: 'unknown variable `param` in script; use params, run, jobs or secrets',
        line: 11,
        column: 19,
      },
      {
        path: 'stages[0].jobs[0].spec.timeout',
        message: 'timeout must be a duration like 30m, 2h or 1h30m',
        line: 12,
        column: 20,
      },
      {
        path: 'stages[0].jobs[0].spec.shel',
        message: 'unknown field `shel`; remove it or check its spelling',
        line: 13,
        column: 11,
      },
      {
        path: 'stages[0].jobs[1].name',
        message:
          'job name `compile` is already used by stages[0].jobs[0]; job names must be unique across the workflow',
        line: 14,
        column: 15,
      },
      {
        path: 'stages[0].jobs[1].spec.approvers[2]',
        message: 'approver `alice` is listed twice; list each approver once',
        line: 18,
        column: 35,
      },
      {
        path: 'stages[0].jobs[1].spec.needed_approvers',
        message: 'needed_approvers must be between 1 and 3 (the number of approvers)',
        line: 19,
        column: 29,
      },
      // A missing field is reported on the object it belongs in.
      { path: 'stages[0].jobs[2].spec.url', message: 'url is required', line: 23, column: 11 },
    ]);
  });

  it('stops at YAML syntax errors, since the rest of the tree would be a guess', () => {
    expect(problemsOf('name: release\nname: again\nstages:\n  - name: build\n   jobs: []\n')).toEqual([
      { path: '', message: 'YAML syntax error: Map keys must be unique', line: 2, column: 1 },
      { path: '', message: 'YAML syntax error: Sequence item without - indicator', line: 5, column: 1 },
    ]);
  });

  it('refuses YAML-only syntax in a JSON document', () => {
    expect(problemsOf('{"name": release, "stages": []}', 'json')).toEqual([
      { path: '', message: 'JSON syntax error: Unresolved plain scalar "release"', line: 1, column: 10 },
    ]);
  });

  it('refuses aliases that expand without bound instead of throwing', () => {
    // "Billion laughs": each line holds ten copies of the one before.
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]'];
    laughs.push(
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    );
    expect(problemsOf(laughs.join('\n'))).toEqual([{ path: '', message: expect.stringContaining('alias') }]);
  });

  it('says what to do with an empty document', () => {
    expect(problemsOf('')).toEqual([
      { path: '', message: 'the document is empty; a workflow needs at least name and stages' },
    ]);
  });
});

// One shell job, with `spec` lines supplied by each test, after a stage that has a job named `earlier`.
function withSpec(specLines: string, type = 'shell'): string {
  return `name: t
params:
  - name: version
stages:
  - name: one
    jobs:
      - name: earlier
        type: shell
        spec: { script: "true" }
  - name: two
    jobs:
      - name: job
        type: ${type}
        spec:
${specLines
  .split('\n')
  .map((line) => `          ${line}`)
  .join('\n')}
`;
}

describe('parseWorkflow: field problems', () => {
  it.each([
    ['script: make\nshell: zsh', 'spec.shell', 'shell must be one of sh, bash, not `zsh`'],
    ['script: make\ntimeout: 2d', 'spec.timeout', 'timeout must be between 1s and 1d'],
    ['script: make\ntimeout: 30', 'spec.timeout', 'timeout must be a string, not a number'],
    [
      'script: make\nenv: { 1BAD: x }',
      'spec.env["1BAD"]',
      'env name must start with a letter or _ and contain only letters, digits and _ (got `1BAD`)',
    ],
    ['script: "  "', 'spec.script', 'script must not be empty'],
  ])('%j', (specLines, path, message) => {
    expect(problemsOf(withSpec(specLines))).toEqual([
      expect.objectContaining({ path: `stages[1].jobs[0].${path}`, message }),
    ]);
  });

  it('points at an empty value by its key', () => {
    expect(problemsOf(withSpec('script:'))).toEqual([
      {
        path: 'stages[1].jobs[0].spec.script',
        message: 'script has no value; it must be a string',
        line: 15,
        column: 11,
      },
    ]);
  });

  it('names the allowed job types', () => {
    const source = withSpec('script: make', 'shel');
    expect(problemsOf(source)).toEqual([
      {
        path: 'stages[1].jobs[0].type',
        message: 'type must be one of shell, approval, notification, not `shel`',
        line: 13,
        column: 15,
      },
    ]);
  });

  it('checks the approval timeout range and reads bare numbers as minutes', () => {
    const spec = (timeout: string) =>
      withSpec(`type: native\napprovers: [alice]\ntimeout: ${timeout}`, 'approval');
    expect(problemsOf(spec('31d'))[0]?.message).toBe('timeout must be between 1m and 30d');
    expect(problemsOf(spec('0'))[0]?.message).toBe('timeout must be between 1m and 30d');
    const ok = parseWorkflow(spec('120'));
    expect(ok.ok && ok.workflow.stages[1]?.jobs[0]?.spec).toMatchObject({ timeout: 7_200_000 });
  });

  it('refuses an approver that is neither a user name nor an email', () => {
    expect(problemsOf(withSpec('type: native\napprovers: ["bob smith"]', 'approval'))).toEqual([
      expect.objectContaining({
        path: 'stages[1].jobs[0].spec.approvers[0]',
        message: 'each approver must be a Signoff user name or an email address',
      }),
    ]);
  });
});

describe('parseWorkflow: templates', () => {
  const messages = (specLines: string, type?: string) =>
    problemsOf(withSpec(specLines, type)).map((problem) => problem.message);

  it('reports Liquid syntax errors at the field, with the position inside the template', () => {
    expect(problemsOf(withSpec('script: echo {{ params.version'))).toEqual([
      {
        path: 'stages[1].jobs[0].spec.script',
        message:
          'script is not a valid Liquid template: output "{{ params.version" not closed (template line 1, column 6)',
        line: 15,
        column: 19,
      },
    ]);
  });

  it('refuses filters the renderer does not have', () => {
    expect(messages('script: echo {{ params.version | upcsae }}')).toEqual([
      expect.stringMatching(/^script is not a valid Liquid template: undefined filter: upcsae/),
    ]);
  });

  it('refuses params that are not declared', () => {
    expect(messages('script: echo {{ params.verison }}')).toEqual([
      '`params.verison` in script is not a declared param; declared params: version',
    ]);
  });

  it('refuses jobs that do not exist or have no result yet', () => {
    expect(
      messages('script: echo {{ jobs.nope.status }} {{ jobs.job.status }} {{ jobs.earlier.status }}'),
    ).toEqual([
      '`jobs.nope` in script is not a job of this workflow',
      '`jobs.job` in script runs in the same or a later stage, so it has no result yet; refer only to jobs of earlier stages',
    ]);
  });

  it('checks env and header values, and leaves loop variables alone', () => {
    expect(
      messages(
        'script: "{% for v in params.version %}{{ v }}{{ forloop.index }}{% endfor %}"\nenv: { A: "{{ secret.x }}" }',
      ),
    ).toEqual(['unknown variable `secret` in env.A; use params, run, jobs or secrets']);
    expect(
      messages(
        'channel: webhook\nurl: https://example.com\nheaders: { X-Run: "{{ runs.id }}" }',
        'notification',
      ),
    ).toEqual(['unknown variable `runs` in headers.X-Run; use params, run, jobs or secrets']);
  });
});

describe('parseWorkflow: notify rules', () => {
  const workflow = (notify: string) => `name: n
stages:
  - name: s
    jobs:
      - name: j
        type: shell
        spec: { script: "true" }
notify:
${notify}`;

  it('takes rules for every channel', () => {
    const result = parseWorkflow(
      workflow(`  - { on: [passed, changed], channel: dingtalk_robot, url: "{{ secrets.robot }}", secret: "{{ secrets.robot_sec }}", mention: [{ mobile: "13800000002" }] }
  - { on: [failed], channel: feishu_app, app: feishu, chat: oc_1, mention: [{ email: a@example.com }] }
  - { on: [wait_for_approval], channel: wecom_app, app: wecom, to: [{ id: ZhangWei }], language: zh-CN }
  - { on: [created], channel: mail, to: [ops@example.com], title: "{{ run.workflow }} started" }`),
    );
    expect(result.ok).toBe(true);
  });

  it('names the line and field of a wrong event, a missing recipient and a bad template', () => {
    const problems = problemsOf(
      workflow(`  - { on: [finished], channel: wecom_robot, url: https://example.com/hook }
  - { on: [passed], channel: feishu_app, app: feishu }
  - { on: [passed], channel: mail, to: [ops@example.com], content: "{{ params.nope }}" }`),
    );
    expect(problems.map((problem) => [problem.path, problem.line])).toEqual([
      ['notify[0].on[0]', 9],
      ['notify[1].chat', 10],
      ['notify[2].content', 11],
    ]);
    expect(problems[1]!.message).toContain('needs `chat`');
    expect(problems[2]!.message).toContain('`params.nope`');
  });
});

describe('docs/workflow.md', () => {
  const docs = readFileSync(new URL('../../docs/workflow.md', import.meta.url), 'utf8');
  const firstBlock = (text: string, language: string) =>
    new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\`\`\``).exec(text)?.[1] ?? '';

  it('has a first workflow that parses', () => {
    expect(parseWorkflow(firstBlock(docs.split('## A first workflow')[1] ?? '', 'yaml')).ok).toBe(true);
  });

  it('shows exactly the problems its broken example gets', () => {
    const example = docs.split('For example, this document')[1] ?? '';
    expect(problemsOf(firstBlock(example, 'yaml'))).toEqual(JSON.parse(firstBlock(example, 'json')));
  });
});
