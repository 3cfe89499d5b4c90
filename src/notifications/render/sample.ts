// Sample messages for the renderer tests (and for looking at what a renderer produces).
import type { MessageApproval, MessageJob, NotificationMessage, TextFormat } from '../message.js';

type Overrides = Partial<Omit<NotificationMessage, 'run'>> & { run?: Partial<NotificationMessage['run']> };

export function job(name: string, overrides: Partial<MessageJob> = {}): MessageJob {
  return {
    name,
    stage: 'build',
    type: 'shell',
    status: 'passed',
    duration_ms: 65_000,
    reason: null,
    ...overrides,
  };
}

/** A finished run of `release` (#12) with two stages. */
export function sampleMessage(overrides: Overrides = {}): NotificationMessage {
  const { run, ...rest } = overrides;
  return {
    reason: 'passed',
    status: 'passed',
    language: 'en',
    workflow: 'release',
    run: {
      id: 42,
      number: 12,
      url: 'https://signoff.example.com/runs/42',
      triggered_by: 'alice',
      created_at: '2024-05-01T10:00:00.000Z',
      finished_at: '2024-05-01T10:01:05.000Z',
      duration_ms: 65_000,
      reason: null,
      params: { env: 'prod', version: '1.2.3' },
      ...run,
    },
    stages: [
      { name: 'build', jobs: [job('compile'), job('unit-test', { duration_ms: 20_000 })] },
      { name: 'deploy', jobs: [job('deploy', { stage: 'deploy', type: 'approval' })] },
    ],
    ...rest,
  };
}

export function sampleApproval(overrides: Partial<MessageApproval> = {}): MessageApproval {
  return {
    job: 'deploy',
    platform: 'feishu',
    status: 'pending',
    waiting_for: ['bob', 'carol'],
    deadline: '2024-05-01T12:00:00.000Z',
    nodes: [
      {
        type: 'AND',
        status: 'approved',
        approvers: [
          { name: 'dave', decision: 'approved', comment: 'LGTM', decided_at: '2024-05-01T10:05:00.000Z' },
        ],
      },
      {
        type: 'OR',
        status: 'pending',
        approvers: [
          { name: 'bob', decision: 'pending', comment: null, decided_at: null },
          { name: 'carol', decision: 'pending', comment: null, decided_at: null },
        ],
      },
    ],
    vendor_link: 'https://applink.feishu.cn/client/approval?instanceCode=abc',
    ...overrides,
  };
}

/** A run waiting at the `deploy` approval. */
export function waitingMessage(overrides: Overrides = {}): NotificationMessage {
  const { run, ...rest } = overrides;
  return sampleMessage({
    reason: 'wait_for_approval',
    status: 'waiting_for_approval',
    run: { finished_at: null, duration_ms: 300_000, ...run },
    stages: [
      { name: 'build', jobs: [job('compile'), job('unit-test')] },
      {
        name: 'deploy',
        jobs: [
          job('deploy', {
            stage: 'deploy',
            type: 'approval',
            status: 'waiting_for_approval',
            duration_ms: null,
          }),
        ],
      },
    ],
    job: job('deploy', {
      stage: 'deploy',
      type: 'approval',
      status: 'waiting_for_approval',
      duration_ms: null,
    }),
    approval: sampleApproval(),
    ...rest,
  });
}

/** What hostile or careless data looks like: templates, HTML, Markdown, links, mentions and line breaks. */
export const HOSTILE =
  '{{ 7*6 }} <script>alert(1)</script> **bold** [x](http://evil) <at id=all></at> <@all>\n# head\n> quote `code` _i_ ~~s~~ \\ &amp; &#42;';

/** A failed run whose every string is hostile. */
export function hostileMessage(overrides: Overrides = {}): NotificationMessage {
  const { run, ...rest } = overrides;
  return sampleMessage({
    reason: 'failed',
    status: 'failed',
    workflow: `wf ${HOSTILE}`,
    run: {
      triggered_by: `eve ${HOSTILE}`,
      reason: `run reason ${HOSTILE}`,
      params: { [`p ${HOSTILE}`]: `v ${HOSTILE}` },
      ...run,
    },
    stages: [
      {
        name: `stage ${HOSTILE}`,
        jobs: [job(`job ${HOSTILE}`, { status: 'failed', reason: `job reason ${HOSTILE}` })],
      },
    ],
    approval: sampleApproval({
      job: `approval ${HOSTILE}`,
      waiting_for: [`bob ${HOSTILE}`],
      nodes: [
        {
          type: 'OR',
          status: 'rejected',
          approvers: [
            {
              name: `mallory ${HOSTILE}`,
              decision: 'rejected',
              comment: `comment ${HOSTILE}`,
              decided_at: null,
            },
          ],
        },
      ],
    }),
    ...rest,
  });
}

/** A run with `count` jobs in five stages, a few of them failed. */
export function manyJobsMessage(count: number, overrides: Overrides = {}): NotificationMessage {
  const stages = Array.from({ length: 5 }, (_, index) => ({
    name: `stage-${index + 1}`,
    jobs: [] as MessageJob[],
  }));
  for (let index = 0; index < count; index++) {
    const failed = index % 97 === 13;
    stages[index % 5]!.jobs.push(
      job(`job-${String(index).padStart(3, '0')}-with-a-rather-long-name-测试任务`, {
        stage: stages[index % 5]!.name,
        status: failed ? 'failed' : 'passed',
        reason: failed ? `exit status 1: assertion failed in step ${index} ${'详细信息 '.repeat(20)}` : null,
      }),
    );
  }
  return sampleMessage({ reason: 'failed', status: 'failed', stages, ...overrides });
}

/** What a reader sees for `text` in `format` (the inverse of the escaping). */
export function shown(format: TextFormat, text: string): string {
  switch (format) {
    case 'feishu_md':
      return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
    case 'dingtalk_md':
    case 'wecom_md':
      return text
        .replace(/\u200b/g, '')
        .replace(/[＆＜＞＊＿～｀［］＼｜]/g, (char) => String.fromCodePoint(char.codePointAt(0)! - 0xfee0));
    case 'html':
      return text
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&');
    case 'plain':
      return text;
  }
}

/** Sequences that would be markup, a link, a mention or a template if they reached `format` raw. */
export function activeIn(format: TextFormat): string[] {
  const tags = ['<script', '<at id=all', '<@all>', '</at>'];
  if (format === 'html' || format === 'plain') return tags;
  return [...tags, '**bold**', '[x](http://evil)', '`code`', '~~s~~', '7*6', '\n# head', '\n> quote'];
}
