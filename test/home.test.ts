// The front door: `/` and every console page URL serve the web console; its assets are cached for good;
// the API keeps its JSON 404s; the sandbox page is there only when the sandbox is on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, startStack, type TestStack } from './stack.js';

describe('web console files', () => {
  let withSandbox: TestStack;
  let without: TestStack;
  beforeAll(async () => {
    [withSandbox, without] = await Promise.all([
      startStack('pglite', { sandbox: true }),
      startStack('pglite'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withSandbox?.close(), without?.close()]);
  });

  it('serves the console at / and at each page URL (a run link in a notification opens it)', async () => {
    const home = await withSandbox.signoff.app.request('/');
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('<div id="root"></div>');
    expect(home.headers.get('content-security-policy')).toContain("default-src 'self'");
    for (const path of [
      '/runs/12',
      '/workflows/release',
      '/settings/im/new/feishu',
      '/approvals',
      '/inbox',
    ]) {
      const page = await withSandbox.signoff.app.request(path);
      expect(page.status, path).toBe(200);
      expect(await page.text(), path).toBe(html);
    }
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await withSandbox.signoff.app.request(script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('answers unknown API routes and assets with 404, and never serves files outside the build', async () => {
    const api = await withSandbox.signoff.app.request('/api/nothing-here', {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await withSandbox.signoff.app.request('/assets/missing.js')).status).toBe(404);
    expect((await withSandbox.signoff.app.request('/assets/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await withSandbox.signoff.app.request('/assets/../../package.json')).status).not.toBe(200);
  });

  it('has the sandbox page only when the sandbox is on', async () => {
    expect((await withSandbox.signoff.app.request('/sandbox')).status).toBe(200);
    expect((await without.signoff.app.request('/sandbox')).status).toBe(404);
    expect((await without.signoff.app.request('/sandbox/state')).status).toBe(404);
  });
});
