import { describe, expect, it } from 'vitest';
import { noMentions } from '../message.js';
import { byteLength, oneLine } from './escape.js';
import {
  activeIn,
  HOSTILE,
  hostileMessage,
  manyJobsMessage,
  sampleMessage,
  shown,
  waitingMessage,
} from './sample.js';
import { wecomAppMessage, wecomRobotBodies } from './wecom.js';

describe('wecomRobotBodies', () => {
  it('sends one markdown message, mentioning ids with <@userid>', () => {
    const bodies = wecomRobotBodies(waitingMessage(), { ids: ['zhangsan', 'lisi'], mobiles: [], all: false });
    expect(bodies).toHaveLength(1);
    const [card] = bodies;
    expect(card.msgtype).toBe('markdown');
    expect(card.markdown.content).toContain('<@zhangsan> <@lisi>');
    expect(card.markdown.content).toContain('[View run](https://signoff.example.com/runs/42)');
    expect(card.markdown.content.startsWith('### ⏳ release #12 is waiting for approval (deploy)\n')).toBe(
      true,
    );
  });

  it('adds a text message for mobiles and @all', () => {
    const bodies = wecomRobotBodies(waitingMessage({ language: 'zh-CN' }), {
      ids: ['zhangsan'],
      mobiles: ['13800000000'],
      all: true,
    });
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toEqual({
      msgtype: 'text',
      text: {
        content: '⏳ release #12 等待审批（deploy）',
        mentioned_list: ['@all'],
        mentioned_mobile_list: ['13800000000'],
      },
    });
    expect(
      wecomRobotBodies(sampleMessage(), { ids: [], mobiles: ['13800000000'], all: false })[1]?.text,
    ).toEqual({
      content: '✅ release #12 passed',
      mentioned_list: [],
      mentioned_mobile_list: ['13800000000'],
    });
  });

  it.each([
    ['passed', 'info'],
    ['failed', 'warning'],
    ['rejected', 'warning'],
    ['timeout', 'warning'],
    ['waiting_for_approval', 'warning'],
    ['cancelled', 'comment'],
    ['running', 'comment'],
  ] as const)('colours a %s run %s', (status, colour) => {
    const [card] = wecomRobotBodies(sampleMessage({ status }), noMentions);
    expect(card.markdown.content).toContain(`<font color="${colour}">`);
  });

  it('leads with who waits for whom, in both languages', () => {
    const en = wecomRobotBodies(waitingMessage(), noMentions)[0].markdown.content.split('\n');
    expect(en[1]).toBe('⏳ **Waiting for**: bob, carol · **Deadline**: 2024-05-01 12:00 (UTC+0)');
    expect(en[2]).toBe('**Started by**: alice · **Duration**: 5m');
    const zh = wecomRobotBodies(waitingMessage({ language: 'zh-CN' }), noMentions)[0].markdown.content.split(
      '\n',
    );
    expect(zh[1]).toBe('⏳ **待审批人**：bob、carol · **截止时间**：2024-05-01 20:00 (UTC+8)');
  });

  it('escapes every value', () => {
    const [card] = wecomRobotBodies(hostileMessage(), noMentions);
    const content = card.markdown.content;
    for (const active of activeIn('wecom_md')) expect(content).not.toContain(active);
    const seen = shown('wecom_md', content);
    for (const what of ['wf', 'eve', 'run reason', 'job reason', 'stage', 'mallory', 'comment'])
      expect(seen).toContain(`${what} ${oneLine(HOSTILE)}`);
  });

  it('keeps to 4096 bytes with 500 jobs, with the link and the mentions', () => {
    const bodies = wecomRobotBodies(manyJobsMessage(500, { language: 'zh-CN' }), {
      ids: ['zhangsan'],
      mobiles: ['13800000000'],
      all: false,
    });
    const content = bodies[0].markdown.content;
    expect(byteLength(content)).toBeLessThanOrEqual(4096);
    expect(content).toMatch(/…… 还有 \d+ 项/);
    expect(content.endsWith('[查看运行](https://signoff.example.com/runs/42)\n<@zhangsan>')).toBe(true);
    expect(byteLength(bodies[1]!.text.content)).toBeLessThanOrEqual(2048);
  });

  it('keeps to the limits with a huge title and content', () => {
    const message = sampleMessage({
      custom: { title: '标题'.repeat(2000), content: '内容\n'.repeat(5000), format: 'wecom_md' },
    });
    const bodies = wecomRobotBodies(message, { ids: [], mobiles: [], all: true });
    expect(byteLength(bodies[0].markdown.content)).toBeLessThanOrEqual(4096);
    expect(byteLength(bodies[1]!.text.content)).toBeLessThanOrEqual(2048);
    expect(bodies[0].markdown.content).toContain('[View run]');
  });

  it('shows the author content in place of the facts', () => {
    const [card] = wecomRobotBodies(
      sampleMessage({
        custom: { title: null, content: '**Shipped** <font color="info">1.2.3</font>', format: 'wecom_md' },
      }),
      noMentions,
    );
    expect(card.markdown.content).toBe(
      '### ✅ release #12 passed\n**Shipped** <font color="info">1.2.3</font>\n[View run](https://signoff.example.com/runs/42)',
    );
  });
});

describe('wecomAppMessage', () => {
  it('is a markdown body without recipients, within 4096 bytes', () => {
    const body = wecomAppMessage(manyJobsMessage(500));
    expect(Object.keys(body)).toEqual(['msgtype', 'markdown']);
    expect(body.msgtype).toBe('markdown');
    expect(byteLength(body.markdown.content)).toBeLessThanOrEqual(4096);
    expect(body.markdown.content).not.toContain('<@');
  });
});
