import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPath, type Workflow, workflowJsonSchema, workflowSchema } from './workflow-spec.js';

const minimal = {
  name: 'release',
  stages: [
    {
      name: 'build',
      jobs: [
        { name: 'compile', type: 'shell', spec: { script: 'make' } },
        { name: 'ok', type: 'approval', spec: { type: 'native', approvers: ['alice'] } },
        { name: 'tell', type: 'notification', spec: { channel: 'webhook', url: 'https://example.com/hook' } },
      ],
    },
  ],
};

describe('workflowSchema', () => {
  it('fills every default so the engine gets a complete value', () => {
    const workflow: Workflow = workflowSchema.parse(minimal);
    expect(workflow).toEqual({
      name: 'release',
      params: [],
      stages: [
        {
          name: 'build',
          jobs: [
            {
              name: 'compile',
              type: 'shell',
              spec: { script: 'make', shell: 'sh', env: {}, timeout: 3_600_000 },
            },
            {
              name: 'ok',
              type: 'approval',
              spec: {
                type: 'native',
                approvers: ['alice'],
                needed_approvers: 1,
                timeout: 3_600_000,
                timeout_outcome: 'reject',
              },
            },
            {
              name: 'tell',
              type: 'notification',
              spec: { channel: 'webhook', url: 'https://example.com/hook', headers: {} },
            },
          ],
        },
      ],
    });
  });

  it('reads a bare approval timeout as minutes, as Zadig does', () => {
    const workflow = workflowSchema.parse({
      ...minimal,
      stages: [
        {
          name: 'gate',
          jobs: [
            { name: 'ok', type: 'approval', spec: { type: 'native', approvers: ['alice'], timeout: 90 } },
          ],
        },
      ],
    });
    const job = workflow.stages[0]?.jobs[0];
    expect(job?.type === 'approval' && job.spec.timeout).toBe(5_400_000);
  });

  it('refuses a bare number as a shell timeout, where its unit would be a guess', () => {
    const result = workflowSchema.safeParse({
      ...minimal,
      stages: [{ name: 'b', jobs: [{ name: 'c', type: 'shell', spec: { script: 'make', timeout: 30 } }] }],
    });
    expect(result.success).toBe(false);
  });

  it('takes numbers and booleans as text where text is expected', () => {
    const workflow = workflowSchema.parse({
      ...minimal,
      params: [{ name: 'count', default: 3 }],
      stages: [
        { name: 'b', jobs: [{ name: 'c', type: 'shell', spec: { script: 'x', env: { DEBUG: true } } }] },
      ],
    });
    expect(workflow.params[0]?.default).toBe('3');
    const job = workflow.stages[0]?.jobs[0];
    expect(job?.type === 'shell' && job.spec.env).toEqual({ DEBUG: 'true' });
  });

  it('accepts a templated webhook url but not another scheme', () => {
    const withUrl = (url: string) =>
      workflowSchema.safeParse({
        ...minimal,
        stages: [
          { name: 'n', jobs: [{ name: 't', type: 'notification', spec: { channel: 'webhook', url } }] },
        ],
      }).success;
    expect(withUrl('{{ secrets.ops_hook }}')).toBe(true);
    expect(withUrl('http://localhost:8080/x')).toBe(true);
    expect(withUrl('ftp://example.com/x')).toBe(false);
    expect(withUrl('example.com/x')).toBe(false);
  });
});

describe('formatPath', () => {
  it('writes paths the way the docs show them', () => {
    expect(formatPath(['stages', 0, 'jobs', 1, 'spec', 'needed_approvers'])).toBe(
      'stages[0].jobs[1].spec.needed_approvers',
    );
    expect(formatPath(['stages', 0, 'jobs', 0, 'spec', 'headers', 'X-Team'])).toBe(
      'stages[0].jobs[0].spec.headers["X-Team"]',
    );
    expect(formatPath([])).toBe('');
  });
});

describe('docs/workflow.schema.json', () => {
  it('is what the model generates (run `npx tsx scripts/gen-schema.ts` after changing the model)', () => {
    const committed = readFileSync(new URL('../../docs/workflow.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
  });
});
