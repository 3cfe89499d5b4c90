// The REST API on every test database: auth, the OpenAPI document, every route's happy path and its main
// errors, the error body shape, and that no token ever reaches a response it should not or a log line.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '../src/errors.js';
import { adminToken, databases, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

interface Route {
  method: string;
  path: string;
}

/**
 * The routes the source defines, read from the files themselves so that a route added without docs (or
 * without auth) makes these tests fail: `createRoute({ method, path })` and plain `app.get('/path', …)`.
 */
function routesInSource(): Route[] {
  const apiDir = fileURLToPath(new URL('../src/api/', import.meta.url));
  const files = [
    join(apiDir, 'app.ts'),
    ...readdirSync(join(apiDir, 'routes'))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => join(apiDir, 'routes', file)),
  ];
  const routes: Route[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const definitions = text.split('createRoute(').slice(1);
    for (const definition of definitions) {
      const method = /\bmethod:\s*['"](\w+)['"]/.exec(definition)?.[1];
      const path = /\bpath:\s*['"]([^'"]+)['"]/.exec(definition)?.[1];
      if (!method || !path) throw new Error(`cannot read a createRoute in ${file}`);
      routes.push({ method: method.toLowerCase(), path });
    }
    for (const match of text.matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*['"]([^'"]+)['"]/g)) {
      routes.push({ method: match[1]!, path: match[2]!.replace(/:(\w+)/g, '{$1}') });
    }
  }
  return routes;
}

/** 1-based line and column of the first character of `needle` in `source`, as an editor shows them. */
function positionOf(source: string, needle: string): { line: number; column: number } {
  const offset = source.indexOf(needle);
  if (offset < 0) throw new Error(`${needle} is not in the document`);
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** Every non-2xx body is exactly `{ error: { code, message, problems? } }`, its code matching the status. */
function expectErrorBody(status: number, body: any, context: string): void {
  expect(body, context).toBeTypeOf('object');
  expect(Object.keys(body), context).toEqual(['error']);
  const { code, message, problems, ...rest } = body.error;
  expect(rest, `${context}: unexpected fields in error`).toEqual({});
  expect(Object.keys(errorCodes), `${context}: unknown error code ${code}`).toContain(code);
  expect(
    errorCodes[code as keyof typeof errorCodes].status,
    `${context}: code ${code} with status ${status}`,
  ).toBe(status);
  expect(message, context).toMatch(/\S/);
  if (problems !== undefined) {
    expect(Array.isArray(problems), context).toBe(true);
    for (const problem of problems) {
      expect(typeof problem.path, context).toBe('string');
      expect(problem.message, context).toMatch(/\S/);
      for (const key of Object.keys(problem))
        expect(['path', 'message', 'line', 'column'], context).toContain(key);
      if ('line' in problem)
        expect(Number.isInteger(problem.line) && Number.isInteger(problem.column), context).toBe(true);
    }
  }
}

const routes = routesInSource();
const apiRoutes = routes.filter(
  (route) => route.path.startsWith('/api/') && route.path !== '/api/openapi.json',
);
/** A concrete URL for a route: any value will do for auth checks, which come before any lookup. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '1');

describe.each(databases)('api on %s', (kind) => {
  let stack: TestStack;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  /** Every token this suite saw or sent, checked against the server's log at the end. */
  const secrets = new Set<string>([adminToken]);
  const statusesSeen = new Set<number>();
  let workspace: string;

  function check(method: string, path: string, status: number, body: any): void {
    statusesSeen.add(status);
    if (status < 200 || status > 299) expectErrorBody(status, body, `${method} ${path} → ${status}`);
    if (typeof body?.token === 'string') secrets.add(body.token);
  }

  /** The API as the admin (or with `token`); string bodies go as YAML. Every response's shape is checked. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: any }> {
    const response = await stack.call(method, path, body, token);
    check(method, path, response.status, response.body);
    return response;
  }

  /** A request exactly as given (headers, raw body), for what `call` cannot send. */
  async function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: any; contentType: string | null }> {
    const response = await stack.signoff.app.request(path, {
      method,
      headers: options.headers ?? {},
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type');
    if (response.status >= 300)
      expect(contentType, `${method} ${path} → ${response.status}`).toContain('application/json');
    const body = text ? JSON.parse(text) : undefined;
    check(method, path, response.status, body);
    return { status: response.status, body, contentType };
  }

  const asAdmin = { authorization: `Bearer ${adminToken}` };

  async function apply(yaml: string): Promise<any> {
    const { status, body } = await call('POST', '/api/workflows', yaml);
    expect(status, JSON.stringify(body)).toBeLessThan(300);
    return body;
  }

  async function start(workflow: string, params: Record<string, string> = {}, token?: string): Promise<any> {
    const { status, body } = await call('POST', `/api/workflows/${workflow}/runs`, { params }, token);
    expect(status, JSON.stringify(body)).toBe(201);
    return body;
  }

  async function waitForJob(runId: number, name: string, status: string): Promise<any> {
    return waitFor(async () => {
      const { body } = await call('GET', `/api/runs/${runId}`);
      return job(body, name).status === status ? body : undefined;
    }, `${name} to be ${status}`);
  }

  const gate = (name: string, approvers: string) => `name: ${name}
stages:
  - name: gate
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [${approvers}] }
  - name: after
    jobs:
      - name: ship
        type: shell
        spec: { script: echo shipped }
`;

  beforeAll(async () => {
    stack = await startStack(kind);
    workspace = mkdtempSync(join(tmpdir(), 'signoff-api-test-'));
    for (const name of ['alice', 'bob']) {
      const { status, body } = await call('POST', '/api/users', { name, email: `${name}@example.com` });
      expect(status).toBe(201);
      tokens[name] = body.token;
      ids[name] = body.user.id;
    }
  });
  afterAll(async () => {
    await stack?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  describe('auth and the OpenAPI document', () => {
    it('finds the routes in the source (the checks below are only as good as this list)', () => {
      expect(apiRoutes.length).toBeGreaterThanOrEqual(20);
      expect(apiRoutes).toContainEqual({ method: 'post', path: '/api/workflows' });
      expect(apiRoutes).toContainEqual({ method: 'get', path: '/api/runs/{id}/logs' });
      expect(apiRoutes).toContainEqual({ method: 'delete', path: '/api/tokens/{id}' });
      expect(routes).toContainEqual({ method: 'get', path: '/healthz' });
    });

    it('refuses every /api route without a token, saying how to send one', async () => {
      for (const route of [...apiRoutes, { method: 'get', path: '/api/no-such-route' }]) {
        const path = concrete(route.path);
        const { status, body } = await send(route.method.toUpperCase(), path);
        expect(status, `${route.method} ${path}`).toBe(401);
        expect(body.error.code).toBe('unauthorized');
        expect(body.error.message).toContain('Authorization: Bearer <token>');
      }
    });

    it('refuses every /api route with a wrong token or another auth scheme', async () => {
      const forged = `so_${randomBytes(32).toString('base64url')}`;
      const almost = `${adminToken.slice(0, -1)}${adminToken.endsWith('0') ? '1' : '0'}`;
      secrets.add(forged);
      secrets.add(almost);
      for (const route of apiRoutes) {
        const path = concrete(route.path);
        for (const authorization of [`Bearer ${forged}`, `Bearer ${almost}`, `Basic ${adminToken}`]) {
          const { status, body } = await send(route.method.toUpperCase(), path, {
            headers: { authorization },
          });
          expect(status, `${route.method} ${path} with ${authorization.split(' ')[0]}`).toBe(401);
          expect(body.error.code).toBe('unauthorized');
        }
      }
    });

    it('answers /healthz without a token', async () => {
      const { status, body } = await send('GET', '/healthz');
      expect(status).toBe(200);
      expect(body.status).toBe('ok');
    });

    it('serves an OpenAPI 3.1 document without a token, with every route and the bearer scheme', async () => {
      const { status, body: doc } = await send('GET', '/api/openapi.json');
      expect(status).toBe(200);
      expect(doc.openapi).toMatch(/^3\.1/);
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      expect(doc.security).toContainEqual({ bearer: [] });

      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, operations]) => Object.keys(operations).map((method) => ({ method, path })),
      );
      const undocumented = apiRoutes.filter(
        (route) => !documented.some((entry) => entry.method === route.method && entry.path === route.path),
      );
      expect(undocumented, 'routes in src/api/routes missing from /api/openapi.json').toEqual([]);
      const stale = documented.filter(
        (entry) => !routes.some((route) => route.method === entry.method && route.path === entry.path),
      );
      expect(stale, 'operations in /api/openapi.json that no route serves').toEqual([]);
    });
  });

  describe('workflows', () => {
    // Comments, blank lines and odd spacing: the stored source must be exactly this text.
    const releaseV1 = `# release pipeline, kept as written
name: release
description: "first version"

params:
  - name: version   # which build
    required: true
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: |
            echo "building {{ params.version }}"
`;
    const releaseV2 = releaseV1.replace('first version', 'second version');

    it('creates from YAML (201), replaces (200, version 2), lists and gets the source byte for byte', async () => {
      const created = await call('POST', '/api/workflows', releaseV1);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'release',
        version: 1,
        description: 'first version',
        source: releaseV1,
      });
      expect(created.body.params).toEqual([
        { name: 'version', default: null, required: true, description: null },
      ]);
      expect(created.body.stages).toEqual([{ name: 'build', jobs: [{ name: 'compile', type: 'shell' }] }]);

      const replaced = await call('POST', '/api/workflows', releaseV2);
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ name: 'release', version: 2, description: 'second version' });

      const list = await call('GET', '/api/workflows');
      expect(list.status).toBe(200);
      const listed = list.body.workflows.find((workflow: any) => workflow.name === 'release');
      expect(listed).toMatchObject({ version: 2, description: 'second version' });

      const got = await call('GET', '/api/workflows/release');
      expect(got.status).toBe(200);
      expect(got.body.source).toBe(releaseV2);
      expect(got.body.version).toBe(2);

      const put = await call('PUT', '/api/workflows/release', releaseV1);
      expect(put.status).toBe(200);
      expect(put.body.version).toBe(3);
    });

    it('creates and replaces from JSON (content-type application/json), keeping the JSON text', async () => {
      const document = {
        name: 'from-json',
        stages: [{ name: 'only', jobs: [{ name: 'hello', type: 'shell', spec: { script: 'echo hello' } }] }],
      };
      const source = `${JSON.stringify(document, null, 2)}\n`;
      const created = await send('POST', '/api/workflows', {
        headers: { ...asAdmin, 'content-type': 'application/json' },
        body: source,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({ name: 'from-json', version: 1, source });

      const replaced = await send('PUT', '/api/workflows/from-json', {
        headers: { ...asAdmin, 'content-type': 'application/json' },
        body: JSON.stringify({ ...document, description: 'now described' }),
      });
      expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
      expect(replaced.body).toMatchObject({ version: 2, description: 'now described' });
    });

    it('refuses a PUT whose document names another workflow (422 naming the field)', async () => {
      const { status, body } = await call('PUT', '/api/workflows/other-name', releaseV1);
      expect(status).toBe(422);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.problems).toContainEqual(expect.objectContaining({ path: 'name' }));
      expect((await call('GET', '/api/workflows/other-name')).status).toBe(404);
    });

    it('refuses a document with several mistakes, listing each with its line, column, path and message', async () => {
      const yaml = `name: Bad Name
description: several mistakes
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: echo hi
          timeot: 5m
      - name: tell
        type: notification
        spec: { channel: carrier-pigeon }
`;
      const { status, body } = await call('POST', '/api/workflows', yaml);
      expect(status).toBe(422);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.message).toContain('3 problems');
      const problems = body.error.problems as any[];
      expect(problems).toHaveLength(3);
      for (const problem of problems) {
        expect(Object.keys(problem).sort()).toEqual(['column', 'line', 'message', 'path']);
      }
      expect(problems[0]).toMatchObject({ path: 'name', ...positionOf(yaml, 'Bad Name') });
      expect(problems[1]).toMatchObject({
        path: 'stages[0].jobs[0].spec.timeot',
        ...positionOf(yaml, 'timeot'),
      });
      expect(problems[1].message).toContain('timeot');
      expect(problems[2]).toMatchObject({
        path: 'stages[0].jobs[1].spec.channel',
        ...positionOf(yaml, 'carrier-pigeon'),
      });
      expect(problems[2].message).toContain('webhook');
      // the literal figures, so a shared mistake in positionOf cannot hide one in the server
      expect(problems.map((problem) => [problem.line, problem.column])).toEqual([
        [1, 7],
        [10, 11],
        [13, 26],
      ]);
      expect((await call('GET', '/api/workflows/bad-name')).status).toBe(404);
    });

    it('reports a YAML syntax error with its position', async () => {
      const yaml = 'name: broken\nstages:\n  - name: "unterminated\n';
      const { status, body } = await call('POST', '/api/workflows', yaml);
      expect(status).toBe(422);
      expect(body.error.problems[0].message).toContain('YAML syntax error');
      expect(body.error.problems[0].line).toBeGreaterThanOrEqual(3);
    });

    it('validates a document without saving it', async () => {
      const good = await call(
        'POST',
        '/api/workflows/validate',
        releaseV1.replace('name: release', 'name: validated-only'),
      );
      expect(good.status).toBe(200);
      expect(good.body).toEqual({ valid: true, problems: [] });
      expect((await call('GET', '/api/workflows/validated-only')).status).toBe(404);

      const yaml = 'name: checked\nstages: []\n';
      const bad = await call('POST', '/api/workflows/validate', yaml);
      expect(bad.status).toBe(200);
      expect(bad.body.valid).toBe(false);
      expect(bad.body.problems).toEqual([
        expect.objectContaining({ path: 'stages', ...positionOf(yaml, '[]') }),
      ]);
    });

    it('deletes a workflow (204), then answers 404 for it', async () => {
      await apply(
        'name: doomed\nstages:\n  - name: s\n    jobs:\n      - { name: j, type: shell, spec: { script: "true" } }\n',
      );
      expect((await call('DELETE', '/api/workflows/doomed')).status).toBe(204);
      const gone = await call('GET', '/api/workflows/doomed');
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('not_found');
      expect((await call('DELETE', '/api/workflows/doomed')).status).toBe(404);
      expect((await call('POST', '/api/workflows/doomed/runs', { params: {} })).status).toBe(404);
    });
  });

  describe('users who are not admins', () => {
    it('cannot create, replace or delete workflows, nor create or delete users (403)', async () => {
      await apply(gate('guarded', 'alice'));
      const attempts = [
        await call('POST', '/api/workflows', gate('sneaky', 'alice'), tokens.alice),
        await call('PUT', '/api/workflows/guarded', gate('guarded', 'bob'), tokens.alice),
        await call('DELETE', '/api/workflows/guarded', undefined, tokens.alice),
        await call('POST', '/api/users', { name: 'mallory', is_admin: true }, tokens.alice),
        await call('DELETE', '/api/users/bob', undefined, tokens.alice),
      ];
      for (const attempt of attempts) {
        expect(attempt.status).toBe(403);
        expect(attempt.body.error.code).toBe('forbidden');
        expect(attempt.body.error.message).toContain('Only an admin');
      }
      expect((await call('GET', '/api/workflows/sneaky')).status).toBe(404);
      expect((await call('GET', '/api/workflows/guarded')).body.source).toBe(gate('guarded', 'alice'));
      expect((await call('GET', '/api/users/mallory')).status).toBe(404);
      expect((await call('GET', '/api/users/bob')).status).toBe(200);
    });

    it('can list workflows and runs and start runs, recorded as theirs', async () => {
      await apply(gate('self-service', 'alice'));
      expect((await call('GET', '/api/workflows', undefined, tokens.bob)).status).toBe(200);
      const viaWorkflow = await start('self-service', {}, tokens.bob);
      expect(viaWorkflow.triggered_by).toBe('bob');
      const viaRuns = await call('POST', '/api/runs', { workflow: 'self-service' }, tokens.bob);
      expect(viaRuns.status).toBe(201);
      expect(viaRuns.body.triggered_by).toBe('bob');
      const list = await call('GET', '/api/runs?workflow=self-service', undefined, tokens.bob);
      expect(list.status).toBe(200);
      expect(list.body.runs.map((run: any) => run.id)).toEqual([viaRuns.body.id, viaWorkflow.id]);
      for (const run of [viaWorkflow, viaRuns.body]) await call('POST', `/api/runs/${run.id}/cancel`);
    });

    it('can decide approvals they are listed on, and only those', async () => {
      await apply(gate('alice-decides', 'alice'));
      const run = await start('alice-decides');
      await waitForJob(run.id, 'approve', 'waiting_for_approval');
      const outsider = await call(
        'POST',
        `/api/runs/${run.id}/jobs/approve/decision`,
        { decision: 'approve' },
        tokens.bob,
      );
      expect(outsider.status).toBe(403);
      const decided = await call(
        'POST',
        `/api/runs/${run.id}/jobs/approve/decision`,
        { decision: 'approve', comment: 'ok' },
        tokens.alice,
      );
      expect(decided.status).toBe(200);
      expect(decided.body.status).toBe('approved');
      expect(decided.body.decisions).toEqual([
        expect.objectContaining({ user_name: 'alice', as_admin: false, comment: 'ok' }),
      ]);
      expect((await waitForRun(stack, run.id)).status).toBe('passed');
    });
  });

  describe('runs', () => {
    beforeAll(async () => {
      await apply(`name: quick
params:
  - name: who
    default: world
stages:
  - name: one
    jobs:
      - name: hello
        type: shell
        spec: { script: "echo hello {{ params.who }}" }
  - name: two
    jobs:
      - name: bye
        type: shell
        spec: { script: echo bye }
`);
      await apply(gate('held', 'alice'));
    });

    it('starts a run with params (201) and returns its stages and jobs', async () => {
      const run = await start('quick', { who: 'tester' });
      expect(run).toMatchObject({
        workflow: 'quick',
        params: { who: 'tester' },
        triggered_by: expect.any(String),
      });
      expect(run.url).toContain(String(run.id));
      expect(
        run.stages.map((stage: any) => [stage.name, stage.jobs.map((candidate: any) => candidate.name)]),
      ).toEqual([
        ['one', ['hello']],
        ['two', ['bye']],
      ]);
      const viaRuns = await call('POST', '/api/runs', { workflow: 'quick', params: { who: 'again' } });
      expect(viaRuns.status).toBe(201);
      expect(viaRuns.body.number).toBe(run.number + 1);
      expect(viaRuns.body.stages).toHaveLength(2);

      const done = await waitForRun(stack, run.id);
      expect(done.status).toBe('passed');
      expect(job(done, 'hello')).toMatchObject({
        status: 'passed',
        started_at: expect.any(String),
        duration_ms: expect.any(Number),
      });

      expect((await call('POST', '/api/runs', { workflow: 'no-such-workflow' })).status).toBe(404);
      const badParam = await call('POST', '/api/workflows/quick/runs', { params: { whom: 'x' } });
      expect(badParam.status).toBe(422);
      expect(badParam.body.error.problems[0].path).toBe('params.whom');
      const missing = await call('POST', '/api/runs', { params: {} });
      expect(missing.status).toBe(422);
      expect(missing.body.error.problems).toContainEqual(expect.objectContaining({ path: 'workflow' }));
    });

    it('lists runs newest first, filtered by workflow, status, limit and before', async () => {
      await apply(`name: listed
stages:
  - name: s
    jobs:
      - { name: j, type: shell, spec: { script: "true" } }
`);
      const started = [];
      for (let i = 0; i < 3; i++) started.push((await start('listed')).id as number);
      for (const id of started) await waitForRun(stack, id);
      const [first, second, third] = started as [number, number, number];
      const waiting = (await start('held')).id as number;
      await waitForJob(waiting, 'approve', 'waiting_for_approval');

      const byWorkflow = await call('GET', '/api/runs?workflow=listed');
      expect(byWorkflow.status).toBe(200);
      expect(byWorkflow.body.runs.map((run: any) => run.id)).toEqual([third, second, first]);
      expect(byWorkflow.body.runs[0]).not.toHaveProperty('stages');

      const passed = await call('GET', '/api/runs?workflow=listed&status=passed');
      expect(passed.body.runs.map((run: any) => run.id)).toEqual([third, second, first]);
      expect((await call('GET', '/api/runs?workflow=listed&status=failed')).body.runs).toEqual([]);
      const waitingRuns = (await call('GET', '/api/runs?status=waiting_for_approval')).body.runs;
      expect(waitingRuns.map((run: any) => run.id)).toContain(waiting);
      expect(waitingRuns.every((run: any) => run.status === 'waiting_for_approval')).toBe(true);

      expect(
        (await call('GET', '/api/runs?workflow=listed&limit=2')).body.runs.map((run: any) => run.id),
      ).toEqual([third, second]);
      expect(
        (await call('GET', `/api/runs?workflow=listed&before=${third}`)).body.runs.map((run: any) => run.id),
      ).toEqual([second, first]);
      expect(
        (await call('GET', `/api/runs?before=${second}&limit=1&workflow=listed`)).body.runs.map(
          (run: any) => run.id,
        ),
      ).toEqual([first]);

      const badStatus = await call('GET', '/api/runs?status=finished');
      expect(badStatus.status).toBe(422);
      expect(badStatus.body.error.problems[0].path).toBe('status');
      const badLimit = await call('GET', '/api/runs?limit=0');
      expect(badLimit.status).toBe(422);
      expect(badLimit.body.error.problems[0].path).toBe('limit');
      await call('POST', `/api/runs/${waiting}/cancel`);
    });

    it('gets a run; 404 for an unknown id, a clean 422 for an id that is not a number', async () => {
      const run = await start('quick');
      const got = await call('GET', `/api/runs/${run.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: run.id, workflow: 'quick' });
      expect(got.body.stages).toHaveLength(2);

      const unknown = await call('GET', '/api/runs/999999');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toEqual({ code: 'not_found', message: expect.stringContaining('999999') });
      for (const id of ['abc', '-1', '1.5']) {
        const bad = await call('GET', `/api/runs/${id}`);
        expect(bad.status, id).toBe(422);
        expect(bad.body.error.code).toBe('validation_failed');
        expect(bad.body.error.problems[0].path).toBe('id');
      }
      await waitForRun(stack, run.id);
    });

    it('answers ids beyond the database integer range with a clean 4xx, not a 500', async () => {
      const huge = '99999999999';
      const answers: string[] = [];
      for (const [method, path, body] of [
        ['GET', `/api/runs/${huge}`],
        ['GET', `/api/runs/${huge}/logs`],
        ['POST', `/api/runs/${huge}/cancel`],
        ['POST', `/api/runs/${huge}/jobs/approve/decision`, { decision: 'approve' }],
        ['POST', `/api/approvals/${huge}/decision`, { decision: 'approve' }],
        ['GET', `/api/runs?before=${huge}`],
      ] as const) {
        answers.push(`${method} ${path} → ${(await call(method, path, body)).status}`);
      }
      // an unknown id is 404 (or 422 if the API bounds ids); `before` past every id lists everything (or 422)
      expect(
        answers.filter((answer) => !/ → (404|422)$/.test(answer) && !/before=.* → 200$/.test(answer)),
      ).toEqual([]);
    });

    it('cancels a run (200), then refuses to cancel it again (409)', async () => {
      const run = await start('held');
      await waitForJob(run.id, 'approve', 'waiting_for_approval');
      const cancelled = await call('POST', `/api/runs/${run.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(job(cancelled.body, 'approve').status).toBe('cancelled');
      expect(job(cancelled.body, 'ship').status).toBe('skipped');
      const again = await call('POST', `/api/runs/${run.id}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('conflict');
      expect((await call('POST', '/api/runs/999999/cancel')).status).toBe(404);
    });

    it('serves job logs: ?job= selects a job, ?after= returns only newer chunks, done at the end', async () => {
      await apply(`name: chatty
params:
  - name: go
    required: true
stages:
  - name: talk
    jobs:
      - name: talker
        type: shell
        spec:
          script: |
            echo first-line
            while [ ! -e "$GO" ]; do sleep 0.05; done
            echo second-line
          env: { GO: "{{ params.go }}" }
      - name: other
        type: shell
        spec: { script: echo other-output }
`);
      const go = join(workspace, 'go');
      const run = await start('chatty', { go });
      const firstPage = await waitFor(async () => {
        const { body } = await call('GET', `/api/runs/${run.id}/logs?job=talker`);
        return body.chunks.some((chunk: any) => chunk.text.includes('first-line')) ? body : undefined;
      }, 'the first line');
      expect(firstPage.done).toBe(false);
      expect(firstPage.chunks.every((chunk: any) => chunk.job === 'talker')).toBe(true);
      expect(firstPage.chunks.map((chunk: any) => chunk.text).join('')).not.toContain('second-line');
      expect(firstPage.next).toBe(firstPage.chunks.at(-1).id);

      writeFileSync(go, '');
      expect((await waitForRun(stack, run.id)).status).toBe('passed');

      const secondPage = (await call('GET', `/api/runs/${run.id}/logs?job=talker&after=${firstPage.next}`))
        .body;
      expect(secondPage.chunks.length).toBeGreaterThan(0);
      expect(
        secondPage.chunks.every((chunk: any) => chunk.id > firstPage.next && chunk.job === 'talker'),
      ).toBe(true);
      const newer = secondPage.chunks.map((chunk: any) => chunk.text).join('');
      expect(newer).toContain('second-line');
      expect(newer).not.toContain('first-line');
      expect(secondPage.done).toBe(true);

      const end = (await call('GET', `/api/runs/${run.id}/logs?job=talker&after=${secondPage.next}`)).body;
      expect(end).toEqual({ chunks: [], next: secondPage.next, done: true });

      const all = (await call('GET', `/api/runs/${run.id}/logs`)).body;
      expect(new Set(all.chunks.map((chunk: any) => chunk.job))).toEqual(new Set(['talker', 'other']));
      expect(all.chunks.map((chunk: any) => chunk.text).join('')).toContain('other-output');
      const ids = all.chunks.map((chunk: any) => chunk.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(all.done).toBe(true);

      const unknownJob = await call('GET', `/api/runs/${run.id}/logs?job=nobody`);
      expect(unknownJob.status).toBe(404);
      expect((await call('GET', '/api/runs/999999/logs')).status).toBe(404);
    });
  });

  describe('approvals', () => {
    beforeAll(async () => {
      await apply(gate('approvals', 'alice, bob'));
      await apply(`name: no-approval
stages:
  - name: s
    jobs:
      - { name: build, type: shell, spec: { script: "true" } }
`);
    });

    it('lists pending approvals, and decided ones by status', async () => {
      const run = await start('approvals');
      await waitForJob(run.id, 'approve', 'waiting_for_approval');
      const pending = await call('GET', '/api/approvals');
      expect(pending.status).toBe(200);
      const mine = pending.body.approvals.find((approval: any) => approval.run_id === run.id);
      expect(mine).toMatchObject({
        workflow: 'approvals',
        job: 'approve',
        status: 'pending',
        needed: 1,
        decisions: [],
      });
      expect(mine.approvers.map((approver: any) => approver.name)).toEqual(['alice', 'bob']);
      expect(pending.body.approvals.every((approval: any) => approval.status === 'pending')).toBe(true);

      await call(
        'POST',
        `/api/approvals/${mine.id}/decision`,
        { decision: 'reject', comment: 'no' },
        tokens.bob,
      );
      const after = await call('GET', '/api/approvals');
      expect(after.body.approvals.some((approval: any) => approval.id === mine.id)).toBe(false);
      const rejected = await call('GET', '/api/approvals?status=rejected');
      expect(rejected.body.approvals.find((approval: any) => approval.id === mine.id)).toMatchObject({
        status: 'rejected',
      });
      const badStatus = await call('GET', '/api/approvals?status=maybe');
      expect(badStatus.status).toBe(422);
      expect(badStatus.body.error.problems[0].path).toBe('status');
    });

    it('decides through /api/approvals/{id}/decision', async () => {
      const run = await start('approvals');
      const waiting = await waitForJob(run.id, 'approve', 'waiting_for_approval');
      const approvalId = job(waiting, 'approve').approval.id;
      const decided = await call(
        'POST',
        `/api/approvals/${approvalId}/decision`,
        { decision: 'approve', comment: 'go' },
        tokens.alice,
      );
      expect(decided.status).toBe(200);
      expect(decided.body).toMatchObject({ id: approvalId, run_id: run.id, status: 'approved' });
      expect((await waitForRun(stack, run.id)).status).toBe('passed');
      const late = await call(
        'POST',
        `/api/approvals/${approvalId}/decision`,
        { decision: 'reject' },
        tokens.bob,
      );
      expect(late.status).toBe(409);
      expect((await call('POST', '/api/approvals/999999/decision', { decision: 'approve' })).status).toBe(
        404,
      );
    });

    it('decides through /api/runs/{id}/jobs/{job}/decision', async () => {
      const run = await start('approvals');
      await waitForJob(run.id, 'approve', 'waiting_for_approval');
      const decided = await call(
        'POST',
        `/api/runs/${run.id}/jobs/approve/decision`,
        { decision: 'reject' },
        tokens.bob,
      );
      expect(decided.status).toBe(200);
      expect(decided.body).toMatchObject({
        run_id: run.id,
        job: 'approve',
        workflow: 'approvals',
        status: 'rejected',
      });
      expect((await waitForRun(stack, run.id)).status).toBe('rejected');
      expect(
        (await call('POST', `/api/runs/${run.id}/jobs/nobody/decision`, { decision: 'approve' })).status,
      ).toBe(404);
    });

    it('refuses a decision value it does not know (422 naming the field)', async () => {
      const run = await start('approvals');
      const waiting = await waitForJob(run.id, 'approve', 'waiting_for_approval');
      for (const path of [
        `/api/runs/${run.id}/jobs/approve/decision`,
        `/api/approvals/${job(waiting, 'approve').approval.id}/decision`,
      ]) {
        const bad = await call('POST', path, { decision: 'maybe' }, tokens.alice);
        expect(bad.status).toBe(422);
        expect(bad.body.error.code).toBe('validation_failed');
        expect(bad.body.error.problems[0].path).toBe('decision');
        expect(bad.body.error.message).toContain('decision');
      }
      expect(job((await call('GET', `/api/runs/${run.id}`)).body, 'approve').approval.decisions).toEqual([]);
      await call('POST', `/api/runs/${run.id}/cancel`);
    });

    it('refuses to decide a job that is not an approval (400)', async () => {
      const run = await start('no-approval');
      await waitForRun(stack, run.id);
      const { status, body } = await call('POST', `/api/runs/${run.id}/jobs/build/decision`, {
        decision: 'approve',
      });
      expect(status).toBe(400);
      expect(body.error.code).toBe('bad_request');
      expect(body.error.message).toContain('not an approval');
    });
  });

  describe('users and tokens', () => {
    it('creates a user with a token (201) that works for /api/me; refuses a taken name (409) and a bad email (422)', async () => {
      const created = await call('POST', '/api/users', {
        name: 'carol',
        email: 'carol@example.com',
        mobile: '+86 138 0000 0000',
      });
      expect(created.status).toBe(201);
      expect(created.body.user).toMatchObject({
        name: 'carol',
        email: 'carol@example.com',
        mobile: '+86 138 0000 0000',
        is_admin: false,
      });
      expect(created.body.token).toMatch(/^\S{20,}$/);
      tokens.carol = created.body.token;
      ids.carol = created.body.user.id;

      const me = await call('GET', '/api/me', undefined, tokens.carol);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: ids.carol, name: 'carol', is_admin: false });
      expect((await call('GET', '/api/me')).body).toMatchObject({ name: 'admin', is_admin: true });

      const taken = await call('POST', '/api/users', { name: 'carol' });
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('conflict');
      const takenEmail = await call('POST', '/api/users', { name: 'carol2', email: 'carol@example.com' });
      expect(takenEmail.status).toBe(409);

      const badEmail = await call('POST', '/api/users', { name: 'dave', email: 'not-an-email' });
      expect(badEmail.status).toBe(422);
      expect(badEmail.body.error.problems).toEqual([expect.objectContaining({ path: 'email' })]);
      const badName = await call('POST', '/api/users', { name: 'two words' });
      expect(badName.status).toBe(422);
      expect(badName.body.error.problems[0].path).toBe('name');
      expect((await call('GET', '/api/users/dave')).status).toBe(404);

      const users = await call('GET', '/api/users');
      expect(users.body.users.map((user: any) => user.name)).toEqual(
        expect.arrayContaining(['admin', 'alice', 'bob', 'carol']),
      );
      expect((await call('GET', '/api/users/carol@example.com')).body.id).toBe(ids.carol);
    });

    it('refuses an email that differs from a taken one only in case (users are found by email case-insensitively)', async () => {
      const first = await call('POST', '/api/users', { name: 'erin', email: 'Erin@Example.com' });
      expect(first.status).toBe(201);
      const second = await call('POST', '/api/users', { name: 'erin2', email: 'erin@example.com' });
      expect(second.status).toBe(409);
    });

    it('lists tokens without the token or its hash, issues a new one and revokes it (then 401)', async () => {
      const list = await call('GET', '/api/users/carol/tokens');
      expect(list.status).toBe(200);
      expect(list.body.tokens).toHaveLength(1);
      expect(Object.keys(list.body.tokens[0]).sort()).toEqual([
        'created_at',
        'id',
        'label',
        'last_used_at',
        'user_id',
      ]);
      const hashes = await stack.signoff.db.query<{ token_hash: string }>(
        'select token_hash from api_tokens',
      );
      const listed = JSON.stringify(list.body);
      expect(listed).not.toContain(tokens.carol);
      for (const { token_hash } of hashes) expect(listed).not.toContain(token_hash);

      const issued = await call('POST', '/api/users/carol/tokens', { label: 'ci' }, tokens.carol);
      expect(issued.status).toBe(201);
      expect(issued.body.info).toMatchObject({ user_id: ids.carol, label: 'ci' });
      const extra = issued.body.token as string;
      expect(extra).not.toBe(tokens.carol);
      expect((await call('GET', '/api/me', undefined, extra)).body.name).toBe('carol');

      const both = await call('GET', '/api/users/carol/tokens', undefined, tokens.carol);
      expect(both.body.tokens.map((token: any) => token.label)).toEqual(['created with the user', 'ci']);
      expect(JSON.stringify(both.body)).not.toContain(extra);
      expect(both.body.tokens[1].last_used_at).not.toBeNull();

      expect(
        (await call('DELETE', `/api/tokens/${issued.body.info.id}`, undefined, tokens.carol)).status,
      ).toBe(204);
      const revoked = await call('GET', '/api/me', undefined, extra);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error.code).toBe('unauthorized');
      expect((await call('GET', '/api/me', undefined, tokens.carol)).status).toBe(200);
      expect((await call('DELETE', `/api/tokens/${issued.body.info.id}`)).status).toBe(404);
    });

    it("does not let a non-admin list, issue or revoke another user's tokens (403)", async () => {
      const aliceTokens = await call('GET', '/api/users/alice/tokens');
      const aliceTokenId = aliceTokens.body.tokens[0].id;
      for (const attempt of [
        await call('GET', '/api/users/alice/tokens', undefined, tokens.bob),
        await call('POST', '/api/users/alice/tokens', { label: 'stolen' }, tokens.bob),
        await call('DELETE', `/api/tokens/${aliceTokenId}`, undefined, tokens.bob),
      ]) {
        expect(attempt.status).toBe(403);
        expect(attempt.body.error.code).toBe('forbidden');
      }
      expect((await call('GET', '/api/me', undefined, tokens.alice)).status).toBe(200);
      expect((await call('GET', '/api/users/bob/tokens', undefined, tokens.bob)).status).toBe(200);
    });

    it('refuses to delete the last admin (409) but deletes other users, whose tokens then stop working', async () => {
      const last = await call('DELETE', '/api/users/admin');
      expect(last.status).toBe(409);
      expect(last.body.error.message).toContain('last admin');
      expect((await call('GET', '/api/me')).status).toBe(200);

      const second = await call('POST', '/api/users', { name: 'deputy', is_admin: true });
      expect(second.status).toBe(201);
      expect((await call('GET', '/api/users/deputy/tokens', undefined, second.body.token)).status).toBe(200);
      expect((await call('DELETE', '/api/users/deputy')).status).toBe(204);
      expect((await call('GET', '/api/me', undefined, second.body.token)).status).toBe(401);

      const temp = await call('POST', '/api/users', { name: 'temp' });
      expect((await call('DELETE', '/api/users/temp')).status).toBe(204);
      expect((await call('GET', '/api/users/temp')).status).toBe(404);
      expect((await call('GET', '/api/me', undefined, temp.body.token)).status).toBe(401);
      expect((await call('DELETE', '/api/users/temp')).status).toBe(404);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with a JSON 404', async () => {
      for (const [method, path] of [
        ['GET', '/api/nothing-here'],
        ['PATCH', '/api/workflows/release'],
        ['GET', '/nothing-here'],
      ] as const) {
        const { status, body } = await send(method, path, { headers: asAdmin });
        expect(status, `${method} ${path}`).toBe(404);
        expect(body.error.code).toBe('not_found');
      }
    });

    it('answers a malformed JSON body with a 400 that says so, not a 500', async () => {
      const answers: string[] = [];
      for (const path of [
        '/api/users',
        '/api/runs',
        '/api/users/admin/tokens',
        '/api/runs/1/jobs/approve/decision',
      ]) {
        const { status, body } = await send('POST', path, {
          headers: { ...asAdmin, 'content-type': 'application/json' },
          body: '{"name": ',
        });
        answers.push(
          `POST ${path} → ${status} ${body.error.code}: ${/JSON/.test(body.error.message) ? 'mentions JSON' : body.error.message}`,
        );
      }
      expect(answers).toEqual([
        'POST /api/users → 400 bad_request: mentions JSON',
        'POST /api/runs → 400 bad_request: mentions JSON',
        'POST /api/users/admin/tokens → 400 bad_request: mentions JSON',
        'POST /api/runs/1/jobs/approve/decision → 400 bad_request: mentions JSON',
      ]);
    });

    it('answers a JSON workflow with a syntax error like any invalid document (422 with a position)', async () => {
      const { status, body } = await send('POST', '/api/workflows', {
        headers: { ...asAdmin, 'content-type': 'application/json' },
        body: '{\n  "name": "x",\n  "stages": [\n}',
      });
      expect(status).toBe(422);
      expect(body.error.problems[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    });

    it('answers a body that is not JSON on a JSON-only route with a 4xx naming the content type, not a 500', async () => {
      // no body and no content type: the missing fields (422) or the missing JSON (400/415) are both clean answers
      const empty = await send('POST', '/api/users', { headers: asAdmin });
      expect([400, 415, 422]).toContain(empty.status);
      const answers: string[] = [];
      for (const [label, headers, body] of [
        ['application/yaml', { 'content-type': 'application/yaml' }, 'name: frank\n'],
        ['text/plain', { 'content-type': 'text/plain' }, 'name: frank\n'],
      ] as const) {
        const response = await send('POST', '/api/users', {
          headers: { ...asAdmin, ...headers },
          body,
        });
        const says = response.body.error.message.includes('application/json')
          ? 'names application/json'
          : response.body.error.message;
        const status = response.status === 400 || response.status === 415 ? '4xx' : response.status;
        answers.push(`${label} → ${status}: ${says}`);
      }
      expect(answers).toEqual([
        'application/yaml → 4xx: names application/json',
        'text/plain → 4xx: names application/json',
      ]);
      expect((await call('GET', '/api/users/frank')).status).toBe(404);
    });
  });

  it('never put a token in a log line (checked last, over everything this suite did)', () => {
    // the suite did exercise the error statuses whose bodies were checked above
    for (const status of [400, 401, 403, 404, 409, 422]) expect([...statusesSeen]).toContain(status);
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    const log = stack.logs.join('');
    expect(log).toContain('user created');
    for (const secret of secrets)
      expect(log.includes(secret), `a token is in the log: ${secret.slice(0, 6)}…`).toBe(false);
  });
});
