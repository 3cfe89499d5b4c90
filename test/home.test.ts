// The front door: what someone sees opening the server's address in a browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from './stack.js';

describe('home page', () => {
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

  it('points to the sandbox, the API and the CLI without a token', async () => {
    const response = await withSandbox.signoff.app.request('/');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('href="/sandbox"');
    expect(html).toContain('href="/api/openapi.json"');
    expect(html).toContain('signoff run release --watch');
    expect((await withSandbox.signoff.app.request('/sandbox')).status).toBe(200);
  });

  it('does not offer a sandbox that is off', async () => {
    const html = await (await without.signoff.app.request('/')).text();
    expect(html).not.toContain('href="/sandbox"');
    expect((await without.signoff.app.request('/sandbox')).status).toBe(404);
  });
});
