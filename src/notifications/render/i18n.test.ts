import { describe, expect, it } from 'vitest';
import { jobStatuses, runStatuses } from '../../engine/status.js';
import { languages } from '../message.js';
import {
  defaultTitle,
  formatDuration,
  formatTime,
  labels,
  openInText,
  reasonText,
  statusIcon,
  statusText,
} from './i18n.js';
import { job, sampleApproval, sampleMessage, waitingMessage } from './sample.js';

describe('statusText', () => {
  it.each(languages)('has a text and an icon for every run and job status (%s)', (language) => {
    for (const status of [...runStatuses, ...jobStatuses]) {
      expect(statusText(language, status)).toMatch(/\S/);
      expect(statusIcon(status)).toMatch(/\S/);
    }
  });

  it.each([
    ['passed', '执行成功', 'Passed'],
    ['failed', '执行失败', 'Failed'],
    ['rejected', '被拒绝', 'Rejected'],
    ['timeout', '超时', 'Timed out'],
    ['cancelled', '已取消', 'Cancelled'],
    ['running', '执行中', 'Running'],
    ['waiting_for_approval', '等待审批', 'Waiting for approval'],
    ['pending', '未开始', 'Pending'],
    ['skipped', '已跳过', 'Skipped'],
  ] as const)('%s reads %s / %s', (status, zh, en) => {
    expect(statusText('zh-CN', status)).toBe(zh);
    expect(statusText('en', status)).toBe(en);
  });
});

describe('labels', () => {
  it('names the facts in both languages', () => {
    expect(labels('zh-CN')).toMatchObject({
      workflow: '工作流',
      run: '运行',
      startedBy: '触发人',
      duration: '耗时',
      stages: '阶段',
      approval: '审批',
      waitingFor: '待审批人',
      deadline: '截止时间',
      viewRun: '查看运行',
    });
    expect(labels('en')).toMatchObject({
      startedBy: 'Started by',
      waitingFor: 'Waiting for',
      viewRun: 'View run',
    });
    expect(labels('en').more(3)).toBe('… and 3 more');
    expect(openInText('zh-CN', '飞书')).toBe('在飞书中打开');
    expect(openInText('zh-CN', 'Lark')).toBe('在 Lark 中打开');
    expect(openInText('en', 'DingTalk')).toBe('Open in DingTalk');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '<1s', '不到1秒'],
    [999, '<1s', '不到1秒'],
    [5_000, '5s', '5秒'],
    [65_000, '1m 5s', '1分5秒'],
    [120_000, '2m', '2分'],
    [3_723_000, '1h 2m', '1小时2分'],
    [3_600_000, '1h', '1小时'],
    [90_061_000, '1d 1h', '1天1小时'],
  ])('%d ms reads %s / %s', (ms, en, zh) => {
    expect(formatDuration('en', ms)).toBe(en);
    expect(formatDuration('zh-CN', ms)).toBe(zh);
  });
});

describe('formatTime', () => {
  it('shows the time with its offset, in Beijing time for zh-CN by default', () => {
    expect(formatTime('en', '2024-05-01T12:00:00.000Z')).toBe('2024-05-01 12:00 (UTC+0)');
    expect(formatTime('zh-CN', '2024-05-01T12:00:00.000Z')).toBe('2024-05-01 20:00 (UTC+8)');
    expect(formatTime('en', '2024-05-01T12:00:00.000Z', 'America/New_York')).toBe('2024-05-01 08:00 (UTC-4)');
  });

  it('keeps what it cannot read', () => {
    expect(formatTime('en', 'soon')).toBe('soon');
    expect(formatTime('en', '2024-05-01T12:00:00Z', 'Not/AZone')).toBe('2024-05-01 12:00 (UTC+0)');
  });
});

describe('reasonText', () => {
  it('says what changed', () => {
    const message = sampleMessage({ reason: 'changed', status: 'passed', previous: 'failed' });
    expect(reasonText(message)).toBe('outcome changed from Failed to Passed');
    expect(reasonText({ ...message, language: 'zh-CN' })).toBe('结果由 执行失败 变为 执行成功');
  });

  it.each([
    ['created', 'run created', '运行已创建'],
    ['running', 'run started', '开始执行'],
    ['wait_for_approval', 'waiting for approval', '等待审批'],
    ['decided', 'approval decided', '审批已处理'],
    ['notification', 'notification', '通知'],
    ['failed', 'Failed', '执行失败'],
  ] as const)('%s reads %s / %s', (reason, en, zh) => {
    expect(reasonText(sampleMessage({ reason }))).toBe(en);
    expect(reasonText(sampleMessage({ reason, language: 'zh-CN' }))).toBe(zh);
  });
});

describe('defaultTitle', () => {
  it('says workflow, run number and what happened', () => {
    expect(defaultTitle(sampleMessage())).toBe('✅ release #12 passed');
    expect(defaultTitle(sampleMessage({ language: 'zh-CN' }))).toBe('✅ release #12 执行成功');
    expect(defaultTitle(sampleMessage({ status: 'timeout', reason: 'timeout' }))).toBe(
      '⏰ release #12 timed out',
    );
    expect(defaultTitle(sampleMessage({ status: 'running', reason: 'created' }))).toBe(
      '🚀 release #12 started',
    );
    expect(defaultTitle(sampleMessage({ status: 'running', reason: 'created', language: 'zh-CN' }))).toBe(
      '🚀 release #12 开始执行',
    );
  });

  it('names the approval a run waits for', () => {
    expect(defaultTitle(waitingMessage())).toBe('⏳ release #12 is waiting for approval (deploy)');
    expect(defaultTitle(waitingMessage({ language: 'zh-CN' }))).toBe('⏳ release #12 等待审批（deploy）');
  });

  it('says how an approval was decided', () => {
    const decided = waitingMessage({
      reason: 'decided',
      status: 'rejected',
      approval: sampleApproval({ status: 'rejected', waiting_for: [] }),
    });
    expect(defaultTitle(decided)).toBe('⛔ release #12: deploy rejected');
    expect(defaultTitle({ ...decided, language: 'zh-CN' })).toBe('⛔ release #12：deploy 审批被拒绝');
  });

  it('names the job of a job-level message', () => {
    const failed = sampleMessage({
      reason: 'failed',
      status: 'failed',
      job: job('build', { status: 'failed' }),
    });
    expect(defaultTitle(failed)).toBe('❌ release #12: build failed');
    expect(defaultTitle({ ...failed, language: 'zh-CN' })).toBe('❌ release #12：build 执行失败');
  });

  it('says what the outcome was before a change', () => {
    const changed = sampleMessage({ reason: 'changed', status: 'passed', previous: 'failed' });
    expect(defaultTitle(changed)).toBe('✅ release #12 passed (previously failed)');
    expect(defaultTitle({ ...changed, language: 'zh-CN' })).toBe('✅ release #12 执行成功（上次执行失败）');
  });
});
