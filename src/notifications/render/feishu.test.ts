import { describe, expect, it } from 'vitest';
import { jobStatuses, runStatuses } from '../../engine/status.js';
import { noMentions } from '../message.js';
import { byteLength, oneLine } from './escape.js';
import { type FeishuCard, type FeishuElement, feishuCard, feishuWebhookBody } from './feishu.js';
import { defaultTitle } from './i18n.js';
import {
  activeIn,
  HOSTILE,
  hostileMessage,
  manyJobsMessage,
  sampleMessage,
  shown,
  waitingMessage,
} from './sample.js';

/** Every card Markdown text (markdown elements and lark_md fields). */
function markdownOf(card: FeishuCard): string[] {
  return card.elements.flatMap((element: FeishuElement) => {
    if (element.tag === 'markdown') return [element.content];
    if (element.tag === 'div') return element.fields.map((field) => field.text.content);
    return [];
  });
}

function buttonsOf(card: FeishuCard) {
  return card.elements.flatMap((element) => (element.tag === 'action' ? element.actions : []));
}

const TEMPLATES = new Set([
  'blue',
  'wathet',
  'turquoise',
  'green',
  'yellow',
  'orange',
  'red',
  'carmine',
  'violet',
  'purple',
  'indigo',
  'grey',
  'default',
]);

describe('feishuCard', () => {
  it('is a shared card (updates reach everyone) with the title in a plain_text header', () => {
    const card = feishuCard(sampleMessage(), noMentions);
    expect(card.config).toEqual({ wide_screen_mode: true, update_multi: true });
    expect(card.header.title).toEqual({ tag: 'plain_text', content: '✅ release #12 passed' });
  });

  it.each([
    ['passed', 'green'],
    ['failed', 'red'],
    ['rejected', 'red'],
    ['timeout', 'red'],
    ['cancelled', 'grey'],
    ['waiting_for_approval', 'orange'],
    ['running', 'blue'],
  ] as const)('colours a %s run %s', (status, template) => {
    expect(feishuCard(sampleMessage({ status }), noMentions).header.template).toBe(template);
  });

  it('uses a valid header template for every status', () => {
    for (const status of [...runStatuses, ...jobStatuses])
      expect(TEMPLATES.has(feishuCard(sampleMessage({ status }), noMentions).header.template)).toBe(true);
  });

  it('shows the facts in both languages', () => {
    const en = markdownOf(feishuCard(sampleMessage(), noMentions)).join('\n');
    expect(en).toContain('**Workflow**\nrelease');
    expect(en).toContain('**Started by**\nalice');
    expect(en).toContain('**Duration**\n1m 5s');
    expect(en).toContain("#12 · ✅ <font color='green'>Passed</font>");
    expect(en).toContain(
      '**build**: ✅ compile &#40;1m 5s&#41; · ✅ unit&#45;test &#40;20s&#41;'.replace('&#45;', '-'),
    );
    const zh = markdownOf(feishuCard(sampleMessage({ language: 'zh-CN' }), noMentions)).join('\n');
    expect(zh).toContain('**工作流**\nrelease');
    expect(zh).toContain('**触发人**\nalice');
    expect(zh).toContain('**耗时**\n1分5秒');
    expect(zh).toContain('**阶段**');
  });

  it('leads with who must approve and by when, and lists each approver', () => {
    const card = feishuCard(waitingMessage(), noMentions);
    const [first] = markdownOf(card);
    expect(first).toBe(
      '⏳ **Waiting for**: bob, carol · **Deadline**: 2024&#45;05&#45;01 12:00 &#40;UTC+0&#41;'.replace(
        /&#45;/g,
        '-',
      ),
    );
    const text = markdownOf(card).join('\n');
    expect(text).toContain('**Step 1**: ✅ dave: “LGTM”');
    expect(text).toContain('**Step 2 &#40;any one approves&#41;**: ⏳ bob · ⏳ carol');
  });

  it('mentions people and everyone with <at>', () => {
    const card = feishuCard(waitingMessage(), {
      ids: ['ou_1', 'ou_2', 'bad id"'],
      mobiles: ['138'],
      all: true,
    });
    expect(markdownOf(card)[0]).toContain('<at id=ou_1></at> <at id=ou_2></at> <at id=all></at>');
    expect(JSON.stringify(card)).not.toContain('bad id');
    expect(JSON.stringify(feishuCard(waitingMessage(), noMentions))).not.toContain('<at');
  });

  it('links to the run and to the approval in Feishu or Lark', () => {
    expect(buttonsOf(feishuCard(waitingMessage(), noMentions))).toEqual([
      {
        tag: 'button',
        text: { tag: 'plain_text', content: 'View run' },
        type: 'primary',
        url: 'https://signoff.example.com/runs/42',
      },
      {
        tag: 'button',
        text: { tag: 'plain_text', content: 'Open in Feishu' },
        type: 'default',
        url: 'https://applink.feishu.cn/client/approval?instanceCode=abc',
      },
    ]);
    expect(buttonsOf(feishuCard(waitingMessage(), noMentions, 'Lark'))[1]?.text.content).toBe('Open in Lark');
    expect(
      buttonsOf(feishuCard(waitingMessage({ language: 'zh-CN' }), noMentions, 'Feishu'))[1]?.text.content,
    ).toBe('在飞书中打开');
    expect(buttonsOf(feishuCard(sampleMessage(), noMentions)).map((button) => button.text.content)).toEqual([
      'View run',
    ]);
  });

  it('never links to a URL that is not http(s)', () => {
    const card = feishuCard(sampleMessage({ run: { url: 'javascript:alert(1)' } }), noMentions);
    expect(buttonsOf(card)).toEqual([]);
    expect(JSON.stringify(card)).not.toContain('javascript');
  });

  it('escapes every value and keeps the plain title as it is', () => {
    const message = hostileMessage();
    const card = feishuCard(message, noMentions);
    expect(card.header.title.content).toBe(defaultTitle(message));
    const texts = markdownOf(card);
    for (const text of texts) for (const active of activeIn('feishu_md')) expect(text).not.toContain(active);
    const seen = shown('feishu_md', texts.join('\n'));
    for (const what of [
      'wf',
      'eve',
      'run reason',
      'job reason',
      'stage',
      'job',
      'mallory',
      'comment',
      'bob',
      'approval',
    ])
      expect(seen).toContain(`${what} ${oneLine(HOSTILE)}`);
    expect(seen).toContain('p {{ 7*6 }} <script>alert(1)</script> **bold**');
  });

  it('puts the author content above the facts; the title stays plain', () => {
    const card = feishuCard(
      sampleMessage({
        custom: { title: 'Deploy <b>done</b>', content: '**Shipped** 1.2.3', format: 'feishu_md' },
      }),
      noMentions,
    );
    expect(card.header.title.content).toBe('Deploy <b>done</b>');
    expect(card.elements[0]).toEqual({ tag: 'markdown', content: '**Shipped** 1.2.3' });
    expect(markdownOf(card).join('\n')).toContain('**Workflow**');
    expect(buttonsOf(card)).toHaveLength(1);
  });

  it('escapes author content given as plain text', () => {
    const card = feishuCard(
      sampleMessage({ custom: { title: null, content: '*a*\n<at id=all></at>', format: 'plain' } }),
      noMentions,
    );
    expect(card.elements[0]).toEqual({
      tag: 'markdown',
      content: '&#42;a&#42;\n&#60;at id=all&#62;&#60;/at&#62;',
    });
    expect(card.header.title.content).toBe('✅ release #12 passed');
  });

  it('stays under 30 KB with 500 jobs, problem jobs first', () => {
    const card = feishuCard(manyJobsMessage(500, { language: 'zh-CN' }), {
      ids: ['ou_1'],
      mobiles: [],
      all: true,
    });
    expect(byteLength(JSON.stringify(card))).toBeLessThanOrEqual(30 * 1024);
    const text = markdownOf(card).join('\n');
    expect(text).toMatch(/…… 还有 \d+ 项/);
    expect(text).toContain('job&#45;013'.replace('&#45;', '-'));
    expect(card.config.update_multi).toBe(true);
  });

  it('stays under 30 KB with a huge author content', () => {
    const content = `${'**big** line\n'.repeat(20_000)}`;
    const card = feishuCard(
      sampleMessage({ custom: { title: null, content, format: 'feishu_md' } }),
      noMentions,
    );
    expect(byteLength(JSON.stringify(card))).toBeLessThanOrEqual(30 * 1024);
    expect(buttonsOf(card)).toHaveLength(1);
  });
});

describe('feishuWebhookBody', () => {
  it('wraps the card for a custom bot', () => {
    const body = feishuWebhookBody(sampleMessage(), noMentions);
    expect(body.msg_type).toBe('interactive');
    expect(body.card.config.update_multi).toBe(true);
  });

  it('stays under 20 KB with 500 jobs', () => {
    const body = feishuWebhookBody(manyJobsMessage(500), { ids: ['ou_1'], mobiles: [], all: false });
    // The sender adds timestamp and sign.
    const signed = { timestamp: '1700000000', sign: 'x'.repeat(44), ...body };
    expect(byteLength(JSON.stringify(signed))).toBeLessThanOrEqual(20 * 1024);
    expect(markdownOf(body.card).join('\n')).toMatch(/… and \d+ more/);
  });
});
