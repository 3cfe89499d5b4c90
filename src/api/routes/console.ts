// The web console: the static files Vite built into dist/console, served at `/`. Its pages' URLs (a run's
// link in a notification is /runs/<id>) all answer with index.html; the app then routes in the browser.
// Without a build (a checkout that skipped `npm run build`) `/` says how to get one.
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import type { Api, AppDeps } from '../app.js';

/** dist/console beside src/ and dist/ alike: this file is three folders down in both. */
export const consoleDir = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const pages = ['/', '/settings/*', '/workflows', '/workflows/*', '/runs', '/runs/*', '/approvals', '/inbox'];

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

// The console runs only our own script; avatars may come from the IM platforms' image hosts.
const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function consoleRoutes(app: Api, deps: AppDeps & { sandbox: boolean }, dir = consoleDir): void {
  const indexHtml = async (c: Context) => {
    const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => undefined);
    if (!html) return c.html(notBuilt(deps), 200);
    return c.html(html, 200, { ...securityHeaders, 'cache-control': 'no-cache' });
  };
  for (const page of pages) app.get(page, indexHtml);

  app.get('/assets/*', async (c) => {
    const file = normalize(join(dir, c.req.path));
    if (!file.startsWith(join(dir, 'assets') + sep)) return c.notFound();
    const body = await readFile(file).catch(() => undefined);
    if (!body) return c.notFound();
    return c.body(body, 200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      // Vite names assets by content hash: a name never changes meaning.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
  });
}

function notBuilt(deps: AppDeps & { sandbox: boolean }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signoff</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head><body>
<h1>Signoff ${deps.version}</h1>
<p>Signoff is running, but its web console has not been built in this checkout: run <code>npm run build</code>
(<code>npm ci</code> does it) and reload. Meanwhile the <code>signoff</code> CLI and the REST API work.</p>
<ul>
${deps.sandbox ? '<li><a href="/sandbox">Sandbox</a>: fake Feishu, Lark, DingTalk and WeCom companies; act as their people.</li>' : ''}
<li><a href="/api/openapi.json">REST API</a> (OpenAPI 3.1; send <code>Authorization: Bearer &lt;token&gt;</code>)</li>
<li><a href="/healthz">Health</a></li>
</ul>
</body></html>`;
}
