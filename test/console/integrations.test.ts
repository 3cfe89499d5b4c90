// Settings → Integrations → IM in a real browser, as a first-time admin goes through it with the sandbox
// on: the list, adding a Feishu app against the sandbox's fake Feishu (a wrong App Secret first, refused
// with Feishu's reason; then the right one), the callback URL and its copy button, Test connection, the
// edit page that never shows a secret, and Delete (refused while a workflow uses the app, with the reason).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleSession, desktop, hasChromium, openConsole, phone } from './browser.js';

const appName = 'feishu-trial';
const workflowYaml = `
name: trial-release
stages:
  - name: approve
    jobs:
      - name: go-live
        type: approval
        spec:
          type: feishu
          app: ${appName}
          title: Ship it?
          nodes:
            - type: OR
              approvers: [{ email: li.na@example.com }]
`;

describe.skipIf(!hasChromium)('console: IM apps', () => {
  let session: ConsoleSession;
  // The fake Feishu's own credentials (made up, accepted only by the fake).
  let fake: { settings: Record<string, string>; secrets: Record<string, string> };
  const horizontalOverflow = () =>
    session.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');

  beforeAll(async () => {
    session = await openConsole({ viewport: desktop });
    fake = session.stack.signoff.sandbox!.find((vendor) => vendor.type === 'feishu')!.imApp;
    await session.signIn('/settings/im');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('lists each app with its platform, credential check, event mode and callback state', async () => {
    const { page } = session;
    await page.getByRole('heading', { name: 'IM apps', level: 1 }).waitFor();
    const cards = page.getByRole('listitem').filter({ has: page.getByRole('heading', { level: 2 }) });
    await cards.first().waitFor();
    expect(await cards.getByRole('link').allTextContents()).toEqual([
      'sandbox-dingtalk',
      'sandbox-feishu',
      'sandbox-lark',
      'sandbox-wecom',
    ]);
    const feishu = cards.filter({ hasText: 'sandbox-feishu' });
    await expect(feishu.getByRole('img', { name: 'Feishu 飞书' }).count()).resolves.toBe(1);
    expect(await feishu.getByText('sandbox', { exact: true }).count()).toBe(1);
    const text = await feishu.textContent();
    expect(text).toContain('Event modeWebhook');
    // The fake saved the callback URL at start, which verified it.
    expect(text).toContain('Callbackverified');
    await session.screenshot('im-apps-list');

    await page.getByRole('button', { name: 'Add IM app' }).click();
    const dialog = page.getByRole('dialog', { name: 'Which platform is the app on?' });
    expect(await dialog.getByRole('link').count()).toBe(4);
    await dialog.getByRole('link', { name: /DingTalk 钉钉/ }).click();
    await page.waitForURL('**/settings/im/new/dingtalk');
    // Exactly DingTalk's fields, with where to find them in its console.
    await page.getByLabel(/^AppKey \(Client ID\)/).waitFor();
    for (const label of [/^AppSecret/, /^AgentId/, /^aes_key/, /^token/]) {
      expect(await page.getByLabel(label).count()).toBe(1);
    }
    expect(await page.getByLabel(/^App ID/).count()).toBe(0);
    expect(await page.getByText('应用开发 → your app → 凭证与基础信息').count()).toBe(1);
    expect(await page.getByText('Workflow.Instance.Write', { exact: true }).count()).toBe(1);
    // In Chinese, with the console's own labels.
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '添加 DingTalk 钉钉 应用' }).waitFor();
    expect(await page.getByRole('button', { name: '向钉钉校验并保存' }).count()).toBe(1);
    expect(await page.getByText('事件与回调，推送方式 HTTP 推送 → 加密 aes_key').count()).toBe(1);
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Add a DingTalk 钉钉 app' }).waitFor();
  });

  it('adds a Feishu app: a wrong App Secret is refused with Feishu’s reason, the right one saves it', async () => {
    const { page, stack } = session;
    await page.goto('/settings/im/new/feishu');
    await page.getByRole('heading', { name: 'Add a Feishu 飞书 app' }).waitFor();
    // Feishu's scopes are listed exactly, and poll mode (App ID + Secret only) is the default.
    expect(await page.getByText('approval:approval.list:readonly', { exact: true }).count()).toBe(1);
    expect(await page.getByRole('radio', { name: 'Poll (default)' }).isChecked()).toBe(true);
    // Webhook-only keys appear with webhook mode.
    expect(await page.getByLabel(/^Encrypt Key/).count()).toBe(0);
    await page.getByRole('radio', { name: /^Webhook/ }).check();
    await page.getByLabel(/^Encrypt Key/).waitFor();
    await page.getByRole('radio', { name: /^Poll/ }).check();

    await page.getByLabel(/^Name/).fill(appName);
    await page.getByLabel(/^App ID/).fill(fake.settings.app_id!);
    await page.getByLabel(/^App Secret/).fill('not-the-secret-of-this-app');
    await page.getByText('Advanced: API host').click();
    await page.getByRole('button', { name: 'Use the sandbox’s fake Feishu' }).click();
    const sandboxApp = await stack.call('GET', '/api/im-apps/ima_sandbox_feishu');
    await expect
      .poll(() => page.getByLabel(/^API base/).inputValue())
      .toBe(sandboxApp.body.settings.api_base);

    await page.getByRole('button', { name: 'Check with Feishu and save' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const refusal = await alert.textContent();
    expect(refusal).toContain('The platform refused these credentials');
    expect(refusal).toMatch(/code \d+/);
    // The reason is also at the field, and what was typed is still there.
    const secret = page.getByLabel(/^App Secret/);
    expect(await secret.getAttribute('aria-invalid')).toBe('true');
    expect(await secret.inputValue()).toBe('not-the-secret-of-this-app');
    expect(await page.getByLabel(/^App ID/).inputValue()).toBe(fake.settings.app_id);
    expect(await page.getByLabel(/^Name/).inputValue()).toBe(appName);
    expect((await stack.call('GET', `/api/im-apps/${appName}`)).status).toBe(404);
    await session.screenshot('im-app-add-error');

    await secret.fill(fake.secrets.app_secret!);
    await page.getByRole('button', { name: 'Check with Feishu and save' }).click();
    await page.waitForURL(/\/settings\/im\/ima_[^/?]+\?created=1$/);
    await page.getByRole('heading', { name: appName, level: 1 }).waitFor();
    const saved = (await stack.call('GET', `/api/im-apps/${appName}`)).body;
    expect(page.url()).toContain(`/settings/im/${saved.id}`);
    expect(saved.settings.api_base).toBe(sandboxApp.body.settings.api_base);
    expect(await page.getByRole('status').first().textContent()).toContain('Feishu accepted the credentials');

    const callback = page.getByRole('region', { name: 'Callback URL' });
    expect(await callback.locator('code').textContent()).toBe(saved.callback_url);
    await callback.getByRole('button', { name: 'Copy the callback URL' }).click();
    await callback.getByRole('button', { name: 'Copy the callback URL' }).getByText('Copied').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(saved.callback_url);

    const test = page.getByRole('region', { name: 'Test connection' });
    await test.getByRole('button', { name: 'Test connection' }).click();
    await test.getByText('Connection works').waitFor();
    await session.screenshot('im-app-saved');
  });

  it('the app’s page never shows a secret, and a change keeps the saved one', async () => {
    const { page, stack } = session;
    const before = (await stack.call('GET', `/api/im-apps/${appName}`)).body;
    await page.goto(`/settings/im/${before.id}`);
    const secret = page.getByLabel(/^App Secret/);
    await secret.waitFor();
    expect(await secret.inputValue()).toBe('');
    expect(await page.getByText('Saved — leave blank to keep.').count()).toBeGreaterThan(0);
    expect(await page.content()).not.toContain(fake.secrets.app_secret);

    // Switch to webhook mode with Feishu's Encrypt Key, leaving the App Secret blank.
    await page.getByRole('radio', { name: /^Webhook/ }).check();
    await page.getByLabel(/^Encrypt Key/).fill(fake.secrets.encrypt_key!);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.', { exact: true }).waitFor();
    const after = (await stack.call('GET', `/api/im-apps/${appName}`)).body;
    expect(after.event_mode).toBe('webhook');
    expect(after.has_app_secret).toBe(true);
    expect(after.has_encrypt_key).toBe(true);
    // The steps to paste the URL in Feishu appear, in Feishu's order, with its console's labels.
    const steps = page.getByRole('region', { name: 'Callback URL' }).getByRole('listitem');
    await expect.poll(() => steps.count()).toBe(4);
    expect(await steps.nth(1).textContent()).toContain('请求地址 (Request URL)');
    expect(await steps.nth(2).textContent()).toContain('审批实例状态变更');
    const html = await page.content();
    for (const value of [fake.secrets.app_secret!, fake.secrets.encrypt_key!])
      expect(html).not.toContain(value);
    expect(await page.getByLabel(/^Encrypt Key/).inputValue()).toBe('');
    await session.screenshot('im-app-saved-webhook');
  });

  it('refuses to delete an app a workflow uses, naming the workflow; deletes it once unused', async () => {
    const { page, stack } = session;
    const created = await stack.call('POST', '/api/workflows', workflowYaml);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const app = (await stack.call('GET', `/api/im-apps/${appName}`)).body;
    await page.goto(`/settings/im/${app.id}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Delete the IM app ${appName}?` });
    await dialog.getByRole('button', { name: `Yes, delete ${appName}` }).click();
    const refusal = await dialog.getByRole('alert').textContent();
    expect(refusal).toContain('used by the workflow trial-release');
    await dialog.getByRole('button', { name: 'No, keep it' }).click();
    expect((await stack.call('GET', `/api/im-apps/${appName}`)).status).toBe(200);

    expect((await stack.call('DELETE', '/api/workflows/trial-release')).status).toBe(204);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: `Yes, delete ${appName}` }).click();
    await page.waitForURL('**/settings/im?deleted=*');
    await page.getByText(`${appName} was deleted.`).waitFor();
    expect(await page.getByRole('link', { name: appName }).count()).toBe(0);
    expect((await stack.call('GET', `/api/im-apps/${appName}`)).status).toBe(404);
  });

  it('fits a phone screen: the list, the form with an error, an app with its callback steps', async () => {
    const { page } = session;
    await page.setViewportSize(phone);
    await page.goto('/settings/im');
    await page.getByRole('link', { name: 'sandbox-wecom' }).waitFor();
    expect(await horizontalOverflow()).toBe(0);
    await session.screenshot('im-apps-list-phone');

    await page.goto('/settings/im/new/feishu');
    await page.getByLabel(/^Name/).fill('Not A Valid Name');
    await page.getByLabel(/^App ID/).fill('not-an-app-id');
    await page.getByRole('button', { name: 'Check with Feishu and save' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('Correct the fields marked in red.');
    expect(await page.getByLabel(/^App ID/).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel(/^Name/).getAttribute('aria-invalid')).toBe('true');
    expect(await horizontalOverflow()).toBe(0);
    await session.screenshot('im-app-add-error-phone');

    await page.goto('/settings/im/ima_sandbox_wecom');
    await page.getByRole('region', { name: 'Callback URL' }).getByRole('listitem').first().waitFor();
    expect(await horizontalOverflow()).toBe(0);
    await session.screenshot('im-app-saved-phone');
    await page.setViewportSize(desktop);
  });
});
