// The front door until the web console lands: where to go next.
import type { Api, AppDeps } from '../app.js';

export function homeRoutes(app: Api, deps: AppDeps & { sandbox: boolean }): void {
  app.get('/', (c) =>
    c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signoff</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head><body>
<h1>Signoff ${deps.version}</h1>
<p>Signoff is running. Workflows, runs and approvals are driven with the <code>signoff</code> CLI or the REST API.</p>
<ul>
${deps.sandbox ? '<li><a href="/sandbox">Sandbox</a>: fake Feishu, Lark, DingTalk and WeCom companies, with an IM app registered for each; act as their people.</li>' : ''}
<li><a href="/api/openapi.json">REST API</a> (OpenAPI 3.1; send <code>Authorization: Bearer &lt;token&gt;</code>)</li>
<li><a href="/healthz">Health</a></li>
</ul>
<p>First steps: <code>export SIGNOFF_TOKEN=…</code> (printed at first start), then <code>npx signoff apply -f release.yaml</code> and
<code>npx signoff run release --watch</code>; see the README.</p>
</body></html>`),
  );
}
