// The console in a real browser: a Signoff on a free loopback port (PGlite, sandbox on) and headless
// Chromium driven by playwright-core. Screenshots go to test-results/ (ignored by git).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { adminToken, startStack, type TestStack } from '../stack.js';

/** Debian's Chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);
// CI installs Chromium and sets this: there, a missing browser fails the console tests instead of skipping them.
if (!hasChromium && process.env.SIGNOFF_REQUIRE_BROWSER) {
  throw new Error(`No Chromium at ${chromiumPath}: install Debian's chromium or set CHROMIUM_PATH.`);
}

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

export interface ConsoleSession {
  stack: TestStack;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The server's address, e.g. http://127.0.0.1:43123 */
  url: string;
  /** Opens the console signed in as the admin (the token goes in as a user types it). */
  signIn(path?: string): Promise<void>;
  /** Saves a full-page screenshot as test-results/<name>.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openConsole(
  options: { viewport?: { width: number; height: number }; locale?: string; sandbox?: boolean } = {},
): Promise<ConsoleSession> {
  const stack = await startStack('pglite', { listen: true, sandbox: options.sandbox ?? true });
  const url = stack.signoff.url!;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Without these Chromium keeps trying to reach Google's hosts, which this machine's network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    baseURL: url,
    viewport: options.viewport ?? desktop,
    locale: options.locale ?? 'en-US',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const results = join(process.cwd(), 'test-results');
  mkdirSync(results, { recursive: true });
  return {
    stack,
    browser,
    context,
    page,
    url,
    async signIn(path = '/') {
      await page.goto(path);
      await page.getByLabel(/API token|API 令牌/).fill(adminToken);
      await page.getByRole('button', { name: /^(Sign in|登录)$/ }).click();
      await page.getByRole('navigation').waitFor();
    },
    async screenshot(name) {
      await page.screenshot({ path: join(results, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close().catch(() => {});
      await stack.close();
    },
  };
}
