import { describe, expect, it } from 'vitest';
import { noMentions } from '../message.js';
import {
  DINGTALK_NOTICE_MAX_BYTES,
  dingtalkLink,
  dingtalkRobotBody,
  dingtalkWorkNotice,
} from './dingtalk.js';
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

const RUN_URL = 'https://signoff.example.com/runs/42';

describe('dingtalkRobotBody', () => {
  it('sends an actionCard with a wrapped link when nobody is mentioned', () => {
    const body = dingtalkRobotBody(sampleMessage(), noMentions);
    expect(body.msgtype).toBe('actionCard');
    if (body.msgtype !== 'actionCard') return;
    expect(body.actionCard.title).toBe('✅ release #12 passed');
    expect(body.actionCard.btnOrientation).toBe('0');
    expect(body.actionCard.btns).toEqual([
      {
        title: 'View run',
        actionURL:
          'dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fsignoff.example.com%2Fruns%2F42&pc_slide=false',
      },
    ]);
    expect(dingtalkLink('https://x.example/a?b=1&c=2')).toBe(
      'dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fx.example%2Fa%3Fb%3D1%26c%3D2&pc_slide=false',
    );
  });

  it('adds "Open in DingTalk" for a DingTalk approval', () => {
    const message = waitingMessage({ language: 'zh-CN' });
    message.approval = {
      ...message.approval!,
      platform: 'dingtalk',
      vendor_link: 'https://aflow.dingtalk.com/x',
    };
    const body = dingtalkRobotBody(message, noMentions);
    if (body.msgtype !== 'actionCard') throw new Error(body.msgtype);
    expect(body.actionCard.btns.map((button) => button.title)).toEqual(['查看运行', '在钉钉中打开']);
    expect(body.actionCard.btns[1]?.actionURL).toBe(dingtalkLink('https://aflow.dingtalk.com/x'));
  });

  it('sends markdown with at and the @names in the text when people are mentioned', () => {
    const body = dingtalkRobotBody(waitingMessage(), {
      ids: ['user123'],
      mobiles: ['13800000000'],
      all: false,
    });
    expect(body.msgtype).toBe('markdown');
    if (body.msgtype !== 'markdown') return;
    expect(body.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['user123'], isAtAll: false });
    expect(body.markdown.title).toBe('⏳ release #12 is waiting for approval (deploy)');
    expect(body.markdown.text).toContain('@13800000000');
    expect(body.markdown.text).toContain('@user123');
    expect(body.markdown.text).toContain(`[View run](${RUN_URL})`);
  });

  it('mentions everyone through isAtAll', () => {
    const body = dingtalkRobotBody(sampleMessage(), { ids: [], mobiles: [], all: true });
    if (body.msgtype !== 'markdown') throw new Error(body.msgtype);
    expect(body.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: true });
  });

  it('leads with who waits for whom, then who started it', () => {
    const body = dingtalkRobotBody(waitingMessage({ language: 'zh-CN' }), noMentions);
    if (body.msgtype !== 'actionCard') throw new Error(body.msgtype);
    const lines = body.actionCard.text.split('\n').filter(Boolean);
    expect(lines[0]).toBe('#### <font color=#e8710a>⏳ release #12 等待审批（deploy）</font>');
    expect(lines[1]).toBe('⏳ **待审批人**：bob、carol · **截止时间**：2024-05-01 20:00 (UTC+8)  ');
    expect(lines[2]).toBe('**触发人**：alice · **耗时**：5分  ');
  });

  it.each([
    ['passed', '#1f9d55'],
    ['failed', '#d93026'],
    ['cancelled', '#8c8c8c'],
    ['waiting_for_approval', '#e8710a'],
    ['running', '#3270e3'],
  ] as const)('colours a %s run %s', (status, colour) => {
    const body = dingtalkRobotBody(sampleMessage({ status }), noMentions);
    if (body.msgtype !== 'actionCard') throw new Error(body.msgtype);
    expect(body.actionCard.text.startsWith(`#### <font color=${colour}>`)).toBe(true);
  });

  it('escapes every value', () => {
    const body = dingtalkRobotBody(hostileMessage(), { ids: [], mobiles: ['13800000000'], all: false });
    if (body.msgtype !== 'markdown') throw new Error(body.msgtype);
    const text = body.markdown.text;
    for (const active of activeIn('dingtalk_md')) expect(text).not.toContain(active);
    const seen = shown('dingtalk_md', text);
    for (const what of ['wf', 'eve', 'run reason', 'job reason', 'stage', 'mallory', 'comment'])
      expect(seen).toContain(`${what} ${oneLine(HOSTILE)}`);
  });

  it('shows the author content in place of the facts, keeping the link', () => {
    const body = dingtalkRobotBody(
      sampleMessage({
        custom: { title: 'Deploy *done*', content: '**Shipped** 1.2.3', format: 'dingtalk_md' },
      }),
      { ids: [], mobiles: ['13800000000'], all: false },
    );
    if (body.msgtype !== 'markdown') throw new Error(body.msgtype);
    expect(body.markdown.title).toBe('Deploy *done*');
    expect(body.markdown.text).toContain('Deploy ＊done＊');
    expect(body.markdown.text).toContain('**Shipped** 1.2.3');
    expect(body.markdown.text).not.toContain('**Workflow**');
    expect(body.markdown.text).toContain(`[View run](${RUN_URL})`);
  });

  it('stays under 20000 bytes with 500 jobs, with and without mentions', () => {
    for (const mentions of [noMentions, { ids: ['u1'], mobiles: ['13800000000'], all: true }]) {
      const body = dingtalkRobotBody(manyJobsMessage(500), mentions);
      expect(byteLength(JSON.stringify(body))).toBeLessThanOrEqual(20_000);
      expect(JSON.stringify(body)).toMatch(/… and \d+ more/);
    }
  });

  it('stays under 20000 bytes with a huge author content and keeps the mentions', () => {
    const body = dingtalkRobotBody(
      sampleMessage({ custom: { title: null, content: 'line\n'.repeat(50_000), format: 'dingtalk_md' } }),
      { ids: [], mobiles: ['13800000000'], all: false },
    );
    expect(byteLength(JSON.stringify(body))).toBeLessThanOrEqual(20_000);
    if (body.msgtype !== 'markdown') throw new Error(body.msgtype);
    expect(body.markdown.text.endsWith('@13800000000')).toBe(true);
  });
});

describe('dingtalkWorkNotice', () => {
  it('is an action_card with one button, as asyncsend_v2 takes it', () => {
    const msg = dingtalkWorkNotice(waitingMessage({ language: 'zh-CN' }));
    expect(msg.msgtype).toBe('action_card');
    expect(msg.action_card.title).toBe('⏳ release #12 等待审批（deploy）');
    expect(typeof msg.action_card.markdown).toBe('string');
    expect(msg.action_card.markdown).toContain('**待审批人**：bob、carol');
    expect(msg.action_card.single_title).toBe('查看运行');
    expect(msg.action_card.single_url).toBe(dingtalkLink(RUN_URL));
  });

  it('stays small with 500 jobs', () => {
    const msg = dingtalkWorkNotice(manyJobsMessage(500));
    expect(byteLength(JSON.stringify(msg))).toBeLessThanOrEqual(DINGTALK_NOTICE_MAX_BYTES);
    expect(msg.action_card.markdown).toMatch(/… and \d+ more/);
  });
});
