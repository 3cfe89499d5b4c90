import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context, HonoRequest } from 'hono';
import { parseWorkflow } from '../../engine/parse-workflow.js';
import { AppError } from '../../errors.js';
import { deleteWorkflow, getWorkflow, listWorkflows, saveWorkflow } from '../../store/workflows.js';
import type { Api, AppDeps } from '../app.js';
import { type AuthVariables, requireAdmin } from '../auth.js';
import { errorSchema, problemSchema, runSchema, workflowSchema, workflowSummarySchema } from '../schemas.js';
import { runViews, workflowSummaryView, workflowView } from '../views.js';

const tags = ['workflows'];
const documentBody = {
  content: {
    'application/yaml': {
      schema: z.string().openapi({ description: 'The workflow as YAML (see docs/workflow.md).' }),
    },
    'application/json': { schema: z.record(z.string(), z.unknown()) },
  },
  required: true,
};
const errors = {
  401: { description: 'No or bad token', content: { 'application/json': { schema: errorSchema } } },
  422: {
    description: 'The document is not valid; every problem is listed with its line and column',
    content: { 'application/json': { schema: errorSchema } },
  },
};
const nameParam = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'release' }),
});

/** Reads a workflow document from the body: YAML unless the content type says JSON. */
async function readDocument(req: HonoRequest): Promise<{ source: string; format: 'yaml' | 'json' }> {
  const source = await req.text();
  if (source.length > 1_000_000)
    throw new AppError('payload_too_large', 'A workflow document may be at most 1 MB.');
  const type = req.header('content-type') ?? '';
  return { source, format: type.includes('json') ? 'json' : 'yaml' };
}

function parseOrThrow(source: string, format: 'yaml' | 'json') {
  const result = parseWorkflow(source, format);
  if (!result.ok) {
    const first = result.problems[0]!;
    const where = first.line ? ` (line ${first.line}, column ${first.column})` : '';
    throw new AppError(
      'validation_failed',
      `The workflow has ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; the first: ${first.path}: ${first.message}${where}.`,
      { problems: result.problems },
    );
  }
  return result.workflow;
}

/**
 * Routes whose body is a workflow document are documented in OpenAPI but not validated by it: the
 * document's own parser reports every problem with its line and column, which a generic JSON check
 * would pre-empt with a bare "malformed JSON".
 */
function documented(
  app: Api,
  route: RouteConfig,
  handler: (c: Context<{ Variables: AuthVariables }>) => Promise<Response>,
): void {
  app.openAPIRegistry.registerPath(route);
  const path = route.path.replace(/\{(\w+)\}/g, ':$1');
  app.on(route.method.toUpperCase(), path, handler);
}

export function workflowRoutes(app: Api, deps: AppDeps): void {
  documented(
    app,
    createRoute({
      method: 'post',
      path: '/api/workflows',
      tags,
      summary: 'Create a workflow, or replace the one with the same name',
      request: { body: documentBody },
      responses: {
        200: { description: 'Replaced', content: { 'application/json': { schema: workflowSchema } } },
        201: { description: 'Created', content: { 'application/json': { schema: workflowSchema } } },
        ...errors,
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'change workflows');
      const { source, format } = await readDocument(c.req);
      const { workflow, created } = await saveWorkflow(deps.db, source, parseOrThrow(source, format));
      return c.json(workflowView(workflow), created ? 201 : 200);
    },
  );

  documented(
    app,
    createRoute({
      method: 'put',
      path: '/api/workflows/{name}',
      tags,
      summary: 'Create or replace the workflow with this name',
      request: { params: nameParam, body: documentBody },
      responses: {
        200: { description: 'Replaced', content: { 'application/json': { schema: workflowSchema } } },
        201: { description: 'Created', content: { 'application/json': { schema: workflowSchema } } },
        ...errors,
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'change workflows');
      const name = c.req.param('name')!;
      const { source, format } = await readDocument(c.req);
      const spec = parseOrThrow(source, format);
      if (spec.name !== name) {
        throw new AppError(
          'validation_failed',
          `The document is named ${spec.name} but the URL says ${name}.`,
          {
            problems: [{ path: 'name', message: `must be ${name}` }],
          },
        );
      }
      const { workflow, created } = await saveWorkflow(deps.db, source, spec);
      return c.json(workflowView(workflow), created ? 201 : 200);
    },
  );

  documented(
    app,
    createRoute({
      method: 'post',
      path: '/api/workflows/validate',
      tags,
      summary: 'Check a workflow document without saving it',
      request: { body: documentBody },
      responses: {
        200: {
          description: 'The verdict',
          content: {
            'application/json': {
              schema: z.object({ valid: z.boolean(), problems: z.array(problemSchema) }),
            },
          },
        },
      },
    }),
    async (c) => {
      const { source, format } = await readDocument(c.req);
      const result = parseWorkflow(source, format);
      return c.json({ valid: result.ok, problems: result.ok ? [] : result.problems }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflows',
      tags,
      summary: 'List workflows',
      responses: {
        200: {
          description: 'Workflows',
          content: {
            'application/json': { schema: z.object({ workflows: z.array(workflowSummarySchema) }) },
          },
        },
      },
    }),
    async (c) => c.json({ workflows: (await listWorkflows(deps.db)).map(workflowSummaryView) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflows/{name}',
      tags,
      summary: 'Get a workflow with its source',
      request: { params: nameParam },
      responses: {
        200: { description: 'The workflow', content: { 'application/json': { schema: workflowSchema } } },
        404: { description: 'No such workflow', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => c.json(workflowView(await getWorkflow(deps.db, c.req.valid('param').name)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/workflows/{name}',
      tags,
      summary: 'Delete a workflow (its runs stay)',
      request: { params: nameParam },
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'No such workflow', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'delete workflows');
      const { name } = c.req.valid('param');
      if (!(await deleteWorkflow(deps.db, name)))
        throw new AppError('not_found', `No workflow named ${name}.`);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workflows/{name}/runs',
      tags,
      summary: 'Start a run',
      request: {
        params: nameParam,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
              }),
            },
          },
          required: false,
        },
      },
      responses: {
        201: { description: 'The run', content: { 'application/json': { schema: runSchema } } },
        404: { description: 'No such workflow', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'Bad params', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const run = await deps.engine.startRun(name, body.params ?? {}, c.get('user'));
      const [view] = await runViews(deps.db, [run], deps.publicUrl);
      return c.json(view!, 201);
    },
  );
}
