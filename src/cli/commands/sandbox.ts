// `signoff sandbox`: the four vendor fakes on their own, for trying a Signoff server against them (or for
// developing against Feishu, DingTalk and WeCom without accounts). Loaded only when it runs.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { errorBody, isAppError } from '../../errors.js';
import { mountSandbox } from '../../sandbox/sandbox.js';
import { createSandboxVendors } from '../../sandbox/vendors.js';
import { UsageError } from './define.js';

export async function sandbox(args: string[]): Promise<number> {
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : 9090;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a port number');
  const vendors = createSandboxVendors({ callbackFetch: (input, init) => fetch(input, init) });
  const app = new Hono();
  app.onError((error, c) =>
    isAppError(error) ? c.json(errorBody(error), error.status as 400) : c.text('error', 500),
  );
  mountSandbox(app, vendors);
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${port}`;
  const lines = [
    `Sandbox fakes on ${base}/sandbox (page) — register them in Signoff with these credentials:`,
    '',
  ];
  for (const vendor of vendors) {
    const fields = { ...vendor.imApp.settings, ...vendor.imApp.secrets };
    const api = `${base}/sandbox/${vendor.type}`;
    lines.push(`  ${vendor.label}: api_base ${api}${vendor.type === 'dingtalk' ? `, oapi_base ${api}` : ''}`);
    lines.push(
      `    ${Object.entries(fields)
        .map(([name, value]) => `${name}=${value}`)
        .join('  ')}`,
    );
  }
  lines.push(
    '',
    `Then point a fake's callbacks at the app: POST ${base}/sandbox/connect {"vendor":"feishu","url":"<callback_url>"}`,
    '',
  );
  process.stdout.write(lines.join('\n'));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  server.close();
  return 0;
}
