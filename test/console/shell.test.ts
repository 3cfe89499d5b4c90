// The console's frame in a real browser: signing in (a wrong token is refused with the server's reason),
// the sign-in link `signoff serve` prints, navigation, deep links, language switch, keyboard use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../stack.js';
import { type ConsoleSession, hasChromium, openConsole } from './browser.js';

describe.skipIf(!hasChromium)('console shell', () => {
  let session: ConsoleSession;
  beforeAll(async () => {
    session = await openConsole();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('refuses a wrong token with the reason, then signs in with the right one', async () => {
    const { page } = session;
    await page.goto('/');
    await page.getByLabel('API token').fill('not-a-real-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This API token is not valid');
    await session.screenshot('sign-in-error');
    await page.getByLabel('API token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation');
    await nav.waitFor();
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Start',
      'Runs',
      'Workflows',
      'Approvals',
      'IM apps',
      'Sandbox',
    ]);
    await session.screenshot('start');
  });

  it('keeps the token in this tab only and out of the address bar', async () => {
    const { page } = session;
    expect(await page.evaluate('sessionStorage.getItem("signoff.token")')).toBe(adminToken);
    expect(await page.evaluate('localStorage.getItem("signoff.token")')).toBeNull();
    const other = await session.browser.newContext({ baseURL: session.url });
    const fresh = await other.newPage();
    await fresh.goto('/');
    await fresh.getByLabel('API token').waitFor();
    // The link printed at first start carries the token after `#`, which the browser never sends.
    const linked = await other.newPage();
    await linked.goto(`/#token=${adminToken}`);
    await linked.getByRole('navigation').waitFor();
    expect(linked.url()).not.toContain(adminToken);
    await other.close();
  });

  it('opens a page from its URL and follows the links', async () => {
    const { page } = session;
    await page.goto('/approvals');
    await page.getByRole('navigation').waitFor();
    expect(await page.getByRole('link', { current: 'page' } as never).count()).toBeGreaterThan(0);
    await page.getByRole('navigation').getByRole('link', { name: 'Workflows' }).click();
    await page.waitForURL('**/workflows');
    await page.goBack();
    await page.waitForURL('**/approvals');
  });

  it('switches to Chinese and back, and remembers the choice', async () => {
    const { page } = session;
    await page.getByLabel('Language').selectOption('zh-CN');
    const nav = page.getByRole('navigation');
    await nav.getByRole('link', { name: '工作流' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await page.reload();
    await nav.getByRole('link', { name: '审批' }).waitFor();
    await session.screenshot('start-zh');
    await page.getByLabel('语言').selectOption('en');
    await nav.getByRole('link', { name: 'Approvals' }).waitFor();
  });

  it('is usable from the keyboard: the first Tab offers to skip to the content', async () => {
    const { page } = session;
    await page.goto('/');
    await page.getByRole('navigation').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Signoff');
  });
});
