// The whole console, as a newcomer goes through it with the sandbox on, with nothing set up by the API:
// add a Feishu app (a wrong App Secret first: Feishu's refusal is shown; then the right one) and copy its
// callback URL; write a workflow whose DingTalk approval and Feishu group message come from the form
// editor and its pickers; run it; approve as the fake DingTalk person in the Sandbox inbox while the run
// page, open in another tab, follows the run to "passed" without a reload; and read the Feishu card the
// fake group received. Once at 1280 px, once on a 390 px phone. Screenshots: test-results/scenario-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../stack.js';
import { type ConsoleSession, desktop, hasChromium, openConsole, phone } from './browser.js';

const scenarios = [
  ['desktop', desktop],
  ['phone', phone],
] as const;

describe.skipIf(!hasChromium)('console: from nothing to a run through an approval', () => {
  for (const [width, viewport] of scenarios) {
    describe(width, () => {
      let session: ConsoleSession;
      beforeAll(async () => {
        session = await openConsole({ viewport });
      });
      afterAll(async () => {
        await session?.close();
      });
      const shot = (name: string) => session.screenshot(`scenario-${width}-${name}`);
      const go = async (link: string) => {
        await session.page.getByRole('navigation').getByRole('link', { name: link }).click();
      };
      const fitsTheScreen = async () =>
        expect(await session.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
          viewport.width,
        );

      it('adds a Feishu app: the wrong secret is refused with the reason, the right one is saved', async () => {
        const { page, stack } = session;
        const fake = stack.signoff.sandbox!.find((vendor) => vendor.type === 'feishu')!.imApp;
        await session.signIn('/');
        await shot('start');
        await go('IM apps');
        await page.getByRole('button', { name: 'Add IM app' }).click();
        await page
          .getByRole('dialog', { name: 'Which platform is the app on?' })
          .getByRole('link', { name: /Feishu 飞书/ })
          .click();
        await page.waitForURL('**/settings/im/new/feishu');
        await page.getByLabel(/^Name/).fill('release-bot');
        await page.getByLabel(/^App ID/).fill(fake.settings.app_id!);
        await page.getByLabel(/^App Secret/).fill('a-secret-from-another-app');
        await page.getByText('Advanced: API host').click();
        await page.getByRole('button', { name: 'Use the sandbox’s fake Feishu' }).click();
        await page.getByRole('button', { name: 'Check with Feishu and save' }).click();
        const refusal = page.getByRole('alert');
        await refusal.waitFor();
        expect(await refusal.textContent()).toContain('The platform refused these credentials');
        await fitsTheScreen();
        await shot('feishu-wrong-secret');

        await page.getByLabel(/^App Secret/).fill(fake.secrets.app_secret!);
        await page.getByRole('button', { name: 'Check with Feishu and save' }).click();
        await page.getByRole('heading', { name: 'release-bot', level: 1 }).waitFor();
        const saved = (await stack.call('GET', '/api/im-apps/release-bot')).body;
        const callback = page.getByRole('region', { name: 'Callback URL' });
        await callback.getByRole('button', { name: 'Copy the callback URL' }).click();
        expect(await page.evaluate('navigator.clipboard.readText()')).toBe(saved.callback_url);
        expect(await page.content()).not.toContain(fake.secrets.app_secret!);
        await fitsTheScreen();
        await shot('feishu-saved');
      });

      it('writes a workflow with a DingTalk approval and a Feishu group message from the form editor', async () => {
        const { page, stack } = session;
        await go('Workflows');
        await page.getByRole('link', { name: 'New workflow' }).click();
        await page.waitForURL('**/workflows/new');
        await page
          .getByLabel('Workflow YAML')
          .fill(
            [
              'name: ship',
              'params:',
              '  - name: version',
              '    required: true',
              'stages:',
              '  - name: build',
              '    jobs:',
              '      - name: compile',
              '        type: shell',
              '        spec:',
              '          script: echo "building {{ params.version }}"',
              '',
            ].join('\n'),
          );

        await page.getByRole('button', { name: 'Add approval job' }).click();
        const approval = page.getByRole('dialog', { name: 'Add an approval job' });
        await approval.getByLabel('Job name').fill('go-live');
        await approval.getByRole('radio', { name: 'DingTalk' }).check();
        await approval.getByLabel('IM app').selectOption('ima_sandbox_dingtalk');
        await approval.getByRole('button', { name: 'Open department 研发部' }).click();
        await approval.getByRole('checkbox', { name: /张伟/ }).check();
        await approval.getByLabel('Title (optional)').fill('Ship {{ params.version }}?');
        await fitsTheScreen();
        await shot('approver-picker');
        await approval.getByRole('button', { name: 'Add to the YAML' }).click();
        await approval.waitFor({ state: 'hidden' });

        await page.getByRole('button', { name: 'Add notification job' }).click();
        const notification = page.getByRole('dialog', { name: 'Add a notification job' });
        await notification.getByLabel('Job name').fill('tell-deploys');
        await notification.getByLabel('IM app').selectOption('ima_sandbox_feishu');
        await notification.getByLabel('Search chats').fill('deploys');
        await notification.getByRole('radio', { name: /Deploys/ }).check();
        await notification.getByRole('button', { name: 'Add to the YAML' }).click();
        await notification.waitFor({ state: 'hidden' });

        const yaml = await page.getByLabel('Workflow YAML').inputValue();
        expect(yaml).toContain('type: dingtalk');
        expect(yaml).toContain('zhangwei');
        expect(yaml).toContain('channel: feishu_app');
        await page.getByRole('status').filter({ hasText: 'No problems.' }).waitFor();
        const drawing = page.getByRole('region', { name: 'Stages' });
        await drawing.getByText('go-live', { exact: true }).waitFor();
        await shot('workflow-editor');
        await page.getByRole('button', { name: 'Save', exact: true }).click();
        await page.waitForURL('**/workflows/ship');
        expect((await stack.call('GET', '/api/workflows/ship')).status).toBe(200);
      });

      it('runs it, approves in the sandbox inbox, and the run page follows it to passed live', {
        timeout: 90_000,
      }, async () => {
        const { page, context } = session;
        await page.getByRole('button', { name: 'Run…' }).click();
        const dialog = page.getByRole('dialog', { name: 'Run ship' });
        await dialog.getByLabel(/^version/).fill('3.1.0');
        await dialog.getByRole('button', { name: 'Start run' }).click();
        await page.waitForURL(/\/runs\/\d+$/);
        const runUrl = page.url();
        // The run waits for 张伟 in DingTalk.
        await page.getByText('张伟').first().waitFor();
        await page.getByRole('img', { name: 'DingTalk 钉钉' }).first().waitFor();
        const waitingStatus = page.getByLabel('Run summary').locator('.badge').first();
        await expect.poll(() => waitingStatus.textContent()).toBe('waiting for approval');
        await fitsTheScreen();
        await shot('run-waiting');

        // The run page stays open in its own tab, never reloaded, while the approver decides elsewhere
        // (a new tab signs in again: the token is kept per tab).
        const inbox = await context.newPage();
        await inbox.goto('/inbox?vendor=dingtalk');
        await inbox.getByLabel('API token').fill(adminToken);
        await inbox.getByRole('button', { name: 'Sign in' }).click();
        const panel = inbox.getByRole('tabpanel');
        const waiting = panel.getByRole('article').filter({ hasText: 'Ship 3.1.0?' });
        await waiting.getByLabel('Comment as 张伟 (optional)').fill('Ship it');
        await waiting.getByRole('button', { name: 'Approve as 张伟' }).click();
        await inbox
          .getByRole('status')
          .filter({ hasText: /张伟 approved/ })
          .waitFor();

        expect(page.url()).toBe(runUrl);
        const runStatus = page.getByLabel('Run summary').locator('.badge').first();
        await expect.poll(() => runStatus.textContent(), { timeout: 20_000 }).toBe('passed');
        await page.getByText('Ship it').first().waitFor();
        await shot('run-passed');

        // The Feishu group got the card: the sandbox shows it as Feishu draws it.
        await inbox.getByRole('tab', { name: /Feishu/ }).click();
        const card = inbox.getByRole('tabpanel').getByRole('article').filter({ hasText: 'ship' }).first();
        await card.getByRole('heading').first().waitFor();
        const text = await card.textContent();
        expect(text).toContain('Deploys');
        expect(text).toContain('3.1.0');
        expect(text).not.toContain('"elements"');
        await inbox.screenshot({ path: `test-results/scenario-${width}-sandbox-card.png`, fullPage: true });
        await inbox.close();
      });
    });
  }
});
