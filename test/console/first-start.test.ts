// Opening Signoff cold, as `npm start` does it: a fresh data directory, the sandbox on, no token chosen.
// The server prints a console link that carries the new admin token after `#`; following it lands in the
// console signed in, with the sandbox's four IM apps already there.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../server-process.js';
import { waitFor } from '../stack.js';
import { chromiumPath, hasChromium, phone } from './browser.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

describe.skipIf(!hasChromium)('first start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-first-start-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a link that opens the console signed in, with the sandbox ready', async () => {
    const port = await freePort();
    server = await startServerProcess({ PORT: String(port), SIGNOFF_DATA_DIR: dataDir }, '');
    const link = await waitFor(
      async () => /Open the console:\s+(http:\/\/\S+#token=\S+)/.exec(server!.output())?.[1],
      'the console link',
    );
    expect(link.startsWith(`http://localhost:${port}/#token=so_`)).toBe(true);

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: phone });
      await page.goto(link);
      const nav = page.getByRole('navigation');
      await nav.getByRole('link', { name: 'Sandbox' }).waitFor();
      expect(page.url()).toBe(`http://localhost:${port}/`);
      await page.getByText('IM apps: 4').waitFor();
    } finally {
      await browser.close();
    }
  });
});
