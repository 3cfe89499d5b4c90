// The sandbox inbox in a real browser, at desktop and phone widths: a DingTalk approval waits for a fake
// person, who approves it from the page (the fake's callback reaches Signoff and the run passes); the
// messages the run then sent show as the platforms draw them (a DingTalk robot's Markdown, a Feishu card,
// a WeCom robot's Markdown), a hostile parameter stays text, and the fake's developer console shows its
// demo credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedChatId } from '../../src/providers/feishu/seed.js';
import { job, waitForRun } from '../stack.js';
import { type ConsoleSession, desktop, hasChromium, openConsole, phone } from './browser.js';

const hostile = '<img src=x onerror=alert(1)>';

describe.skipIf(!hasChromium)('sandbox inbox', () => {
  let session: ConsoleSession;
  const dialogs: string[] = [];
  beforeAll(async () => {
    session = await openConsole({ viewport: desktop });
    session.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // An approval in DingTalk, then a DingTalk robot message (mentioning the approver), a Feishu card and
    // a WeCom robot's Markdown.
    const yaml = `name: inbox-check
params:
  - name: version
    required: true
  - name: note
stages:
  - name: approve
    jobs:
      - name: go-live
        type: approval
        spec:
          type: dingtalk
          app: sandbox-dingtalk
          title: "Ship {{ params.version }}?"
          nodes:
            - approvers: [{ id: manager001 }]
  - name: tell
    jobs:
      - name: tell-robot
        type: notification
        spec:
          channel: dingtalk_robot
          url: ${session.url}/sandbox/dingtalk/robot/send?access_token=signoff-demo-robot
          secret: SECsignoffdemorobotsecret
          mention: [{ id: manager001 }]
          title: "Robot news {{ params.version }}"
      - name: tell-chat
        type: notification
        spec:
          channel: feishu_app
          app: sandbox-feishu
          chat: ${seedChatId('deploys')}
          title: "Card news {{ params.version }}"
      - name: tell-wecom
        type: notification
        spec:
          channel: wecom_robot
          url: ${session.url}/sandbox/wecom/cgi-bin/webhook/send?key=sandbox-wecom-robot-key-0001
          title: "WeCom news {{ params.version }}"
`;
    const created = await session.stack.call('POST', '/api/workflows', yaml);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await session.signIn('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  async function startRun(version: string): Promise<number> {
    const started = await session.stack.call('POST', '/api/workflows/inbox-check/runs', {
      params: { version, note: hostile },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return started.body.id;
  }

  const main = () => session.page.locator('main');

  async function expectNoSideways(): Promise<void> {
    const overflow = await session.page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
  }

  for (const [width, viewport] of [
    ['desktop', desktop],
    ['phone', phone],
  ] as const) {
    it(`approves as a fake DingTalk person and shows the messages as the platforms draw them (${width})`, async () => {
      const { page, stack } = session;
      await page.setViewportSize(viewport);
      const version = `1.${width.length}`;
      const runId = await startRun(version);
      await page.goto('/inbox');
      await page.getByRole('heading', { name: 'Sandbox', level: 1 }).waitFor();

      const dingtalk = page.getByRole('tab', { name: /DingTalk/ });
      await dingtalk.click();
      expect(await dingtalk.getAttribute('aria-selected')).toBe('true');
      const panel = page.getByRole('tabpanel');
      expect(await panel.getByRole('heading', { name: /DingTalk/, level: 2 }).count()).toBe(1);
      expect(await panel.textContent()).toContain('sandbox-dingtalk');

      // The approval waits for 王芳 (manager001), under DingTalk's own title, with our form (which names
      // the job's title); she approves it here with a comment.
      const approval = panel.getByRole('article').filter({ hasText: `Ship ${version}?` });
      await approval.getByRole('heading', { name: /王芳提交的/ }).waitFor();
      expect(await approval.getByLabel('The approval form').textContent()).toContain(`Ship ${version}?`);
      await approval.getByLabel('Comment as 王芳 (optional)').fill('Looks good from the inbox');
      await session.screenshot(`inbox-approval-${width}`);
      await approval.getByRole('button', { name: 'Approve as 王芳' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /王芳 approved “王芳提交的.*” in DingTalk/ })
        .waitFor();
      const run = await waitForRun(stack, runId);
      expect(run.status).toBe('passed');
      expect(JSON.stringify(job(run, 'go-live'))).toContain('Looks good from the inbox');
      // Decided, it leaves the list.
      await approval.waitFor({ state: 'detached' });

      // The robot's Markdown: its heading is a heading, the mention names the person, no raw JSON.
      const robotMessage = panel.getByRole('article').filter({ hasText: `Robot news ${version}` });
      await robotMessage.getByRole('heading', { name: `Robot news ${version}` }).waitFor();
      expect(await robotMessage.textContent()).toContain('Group custom robot');
      expect(await robotMessage.textContent()).toContain('@王芳');
      expect(await main().textContent()).not.toContain('{"msgtype"');
      expect(await main().textContent()).not.toContain('"msgtype"');
      await robotMessage.getByRole('button', { name: 'Show raw' }).click();
      expect(await robotMessage.textContent()).toContain('"msgtype": "markdown"');
      await robotMessage.getByRole('button', { name: 'Hide raw' }).click();
      expect(await robotMessage.textContent()).not.toContain('"msgtype"');
      await expectNoSideways();
      await session.screenshot(`inbox-dingtalk-messages-${width}`);

      // The Feishu card: its header title, the hostile parameter as text (never an element).
      await page.getByRole('tab', { name: /Feishu/ }).click();
      const card = page
        .getByRole('tabpanel')
        .getByRole('article')
        .filter({ hasText: `Card news ${version}` });
      await card.getByRole('heading', { name: `Card news ${version}` }).waitFor();
      expect(await card.textContent()).toContain('Group chat 发布通知 Deploys');
      expect(await card.textContent()).toContain(hostile);
      expect(await card.textContent()).not.toContain('"elements"');
      expect(await page.locator('main img[src="x"]').count()).toBe(0);
      expect(dialogs).toEqual([]);
      await expectNoSideways();
      await session.screenshot(`inbox-feishu-card-${width}`);

      // WeCom's Markdown: the heading too, and the hostile value as text.
      await page.getByRole('tab', { name: /WeCom/ }).click();
      const wecom = page
        .getByRole('tabpanel')
        .getByRole('article')
        .filter({ hasText: `WeCom news ${version}` });
      await wecom.getByRole('heading', { name: `WeCom news ${version}` }).waitFor();
      expect(await wecom.textContent()).toContain('Group robot');
      expect(await wecom.textContent()).not.toContain('"msgtype"');
      expect(await page.locator('main img[src="x"]').count()).toBe(0);
      await session.screenshot(`inbox-wecom-${width}`);
    });
  }

  it('shows the fake developer console of each company, labelled as the vendor console labels it', async () => {
    const { page } = session;
    await page.setViewportSize(desktop);
    await page.goto('/inbox?vendor=dingtalk');
    const panel = page.getByRole('tabpanel');
    await panel.getByText('Developer console of this fake').click();
    const copyAppKey = panel.getByRole('button', { name: 'Copy AppKey (Client ID)' });
    await copyAppKey.waitFor();
    const consoleText = await panel
      .getByRole('group')
      .filter({ hasText: 'Developer console of this fake' })
      .textContent();
    expect(consoleText).toContain('dingsignoffdemoapp');
    expect(consoleText).toContain('AgentId');
    expect(consoleText).toContain(`${session.url}/sandbox/dingtalk`);
    expect(consoleText).toContain('signoff-demo-robot');
    await copyAppKey.click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('dingsignoffdemoapp');
    await session.screenshot('inbox-developer-console-desktop');

    // In Chinese, with the console's Chinese names.
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '沙箱', level: 1 }).waitFor();
    expect(await panel.textContent()).toContain('这个模拟平台的开发者后台');
    expect(await panel.textContent()).toContain('凭证与基础信息');
    await session.screenshot('inbox-zh-desktop');
    await page.getByLabel('语言').selectOption('en');
  });
});
