import { describe, expect, it } from 'vitest';
import { formatOfChannel } from './index.js';
import { HOSTILE, hostileMessage, job, sampleMessage, waitingMessage } from './sample.js';
import { webhookPayload } from './webhook.js';

describe('webhookPayload', () => {
  it('is the event with the run, its stages and a readable summary', () => {
    const payload = webhookPayload(sampleMessage({ reason: 'changed', previous: 'failed' }));
    expect(payload).toEqual({
      event: 'changed',
      status: 'passed',
      previous: 'failed',
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
      },
      stages: [
        {
          name: 'build',
          jobs: [
            { name: 'compile', type: 'shell', status: 'passed', duration_ms: 65_000, reason: null },
            { name: 'unit-test', type: 'shell', status: 'passed', duration_ms: 20_000, reason: null },
          ],
        },
        {
          name: 'deploy',
          jobs: [{ name: 'deploy', type: 'approval', status: 'passed', duration_ms: 65_000, reason: null }],
        },
      ],
      title: '✅ release #12 passed (previously failed)',
      content: [
        'Started by: alice · Duration: 1m 5s',
        'Workflow: release · Run: #12 · Passed',
        'outcome changed from Failed to Passed',
        'View run: https://signoff.example.com/runs/42',
      ].join('\n'),
    });
  });

  it('carries the job and the approval, and leads the summary with who must approve', () => {
    const payload = webhookPayload(waitingMessage({ language: 'zh-CN' }));
    expect(payload.job?.name).toBe('deploy');
    expect(payload.approval?.waiting_for).toEqual(['bob', 'carol']);
    expect(payload.content.split('\n')[0]).toBe('待审批人：bob、carol · 截止时间：2024-05-01 20:00 (UTC+8)');
    expect(payload).not.toHaveProperty('previous');
  });

  it('uses the author title and content', () => {
    const payload = webhookPayload(
      sampleMessage({ custom: { title: 'Deployed', content: 'version 1.2.3', format: 'plain' } }),
    );
    expect(payload.title).toBe('Deployed');
    expect(payload.content).toBe('version 1.2.3');
  });

  it('sends data as it is (JSON is the only encoding)', () => {
    const payload = webhookPayload(hostileMessage());
    expect(payload.workflow).toBe(`wf ${HOSTILE}`);
    expect(payload.content).toContain(`job reason ${HOSTILE.replace(/\n/g, ' ')}`);
  });

  it('lists failed jobs in the summary', () => {
    const payload = webhookPayload(
      sampleMessage({
        status: 'failed',
        reason: 'failed',
        stages: [{ name: 'test', jobs: [job('unit', { status: 'failed', reason: 'exit status 1' })] }],
      }),
    );
    expect(payload.content).toContain('test / unit: Failed · exit status 1');
  });
});

describe('formatOfChannel', () => {
  it.each([
    ['feishu_app', 'feishu_md'],
    ['lark_app', 'feishu_md'],
    ['feishu_webhook', 'feishu_md'],
    ['lark_webhook', 'feishu_md'],
    ['dingtalk_robot', 'dingtalk_md'],
    ['dingtalk_app', 'dingtalk_md'],
    ['wecom_robot', 'wecom_md'],
    ['wecom_app', 'wecom_md'],
    ['mail', 'html'],
    ['webhook', 'plain'],
  ])('%s takes %s', (channel, format) => {
    expect(formatOfChannel(channel)).toBe(format);
  });
});
