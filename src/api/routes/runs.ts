import { createRoute, z } from '@hono/zod-openapi';
import { runStatuses } from '../../engine/status.js';
import { decisionsOf } from '../../store/approvals.js';
import { readLogs } from '../../store/job-logs.js';
import { findJobByName, getRun, jobsOfRun, listRuns } from '../../store/runs.js';
import type { Api, AppDeps } from '../app.js';
import {
  approvalSchema,
  decideSchema,
  errorSchema,
  idNumber,
  logChunkSchema,
  runIdParam,
  runSchema,
  runSummarySchema,
} from '../schemas.js';
import { approvalView, runSummaryView, runViews } from '../views.js';

const tags = ['runs'];
const notFound = {
  404: { description: 'No such run', content: { 'application/json': { schema: errorSchema } } },
};
const jobParams = runIdParam.extend({
  job: z.string().openapi({ param: { name: 'job', in: 'path' }, example: 'build' }),
});

export function runRoutes(app: Api, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs',
      tags,
      summary: 'List runs, newest first',
      request: {
        query: z.object({
          workflow: z.string().optional(),
          status: z.enum(runStatuses).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          before: idNumber.optional().openapi({ description: 'Only runs with a smaller id (paging).' }),
        }),
      },
      responses: {
        200: {
          description: 'Runs',
          content: { 'application/json': { schema: z.object({ runs: z.array(runSummarySchema) }) } },
        },
      },
    }),
    async (c) => {
      const runs = await listRuns(deps.db, c.req.valid('query'));
      return c.json({ runs: runs.map((run) => runSummaryView(run, deps.publicUrl)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs',
      tags,
      summary: 'Start a run of a workflow',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({
                workflow: z.string(),
                params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        201: { description: 'The run', content: { 'application/json': { schema: runSchema } } },
        404: { description: 'No such workflow', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'Bad params', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const run = await deps.engine.startRun(body.workflow, body.params ?? {}, c.get('user'));
      const [view] = await runViews(deps.db, [run], deps.publicUrl);
      return c.json(view!, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}',
      tags,
      summary: 'A run with its stages, jobs, statuses, timings and approvals',
      request: { params: runIdParam },
      responses: {
        200: { description: 'The run', content: { 'application/json': { schema: runSchema } } },
        ...notFound,
      },
    }),
    async (c) => {
      const run = await getRun(deps.db, c.req.valid('param').id);
      const [view] = await runViews(deps.db, [run], deps.publicUrl);
      return c.json(view!, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/cancel',
      tags,
      summary: 'Cancel a run: running jobs are stopped, pending approvals withdrawn',
      request: { params: runIdParam },
      responses: {
        200: { description: 'The cancelled run', content: { 'application/json': { schema: runSchema } } },
        409: {
          description: 'The run has already ended',
          content: { 'application/json': { schema: errorSchema } },
        },
        ...notFound,
      },
    }),
    async (c) => {
      const run = await deps.engine.cancelRun(c.req.valid('param').id, c.get('user'));
      const [view] = await runViews(deps.db, [run], deps.publicUrl);
      return c.json(view!, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}/logs',
      tags,
      summary: "The run's job logs (all jobs, or one with ?job=); poll with ?after=<last id> to follow",
      request: {
        params: runIdParam,
        query: z.object({
          job: z.string().optional(),
          after: z.coerce.number().int().min(0).max(2_147_483_647).optional(),
        }),
      },
      responses: {
        200: {
          description: 'Log chunks in order',
          content: {
            'application/json': {
              schema: z.object({
                chunks: z.array(logChunkSchema),
                next: z.number().int().describe('Pass as ?after= to get what comes next.'),
                done: z.boolean().describe('True when the run has ended and everything was returned.'),
              }),
            },
          },
        },
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { job, after = 0 } = c.req.valid('query');
      const run = await getRun(deps.db, id);
      const jobs = job ? [await findJobByName(deps.db, id, job)] : await jobsOfRun(deps.db, id);
      const names = new Map(jobs.map((candidate) => [candidate.id, candidate.name]));
      const limit = 5000;
      const chunks = await readLogs(deps.db, [...names.keys()], after, limit);
      const ended = run.finished_at !== null && chunks.length < limit;
      return c.json(
        {
          chunks: chunks.map((chunk) => ({
            id: chunk.id,
            job: names.get(chunk.job_id)!,
            stream: chunk.stream,
            text: chunk.text,
            at: new Date(chunk.at).toISOString(),
          })),
          next: chunks.at(-1)?.id ?? after,
          done: ended,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/jobs/{job}/decision',
      tags,
      summary: 'Approve or reject an approval job of a run',
      request: {
        params: jobParams,
        body: { content: { 'application/json': { schema: decideSchema } }, required: true },
      },
      responses: {
        200: {
          description: 'The approval after this decision',
          content: { 'application/json': { schema: approvalSchema } },
        },
        403: { description: 'Not an approver', content: { 'application/json': { schema: errorSchema } } },
        409: {
          description: 'Already decided, or not waiting',
          content: { 'application/json': { schema: errorSchema } },
        },
        ...notFound,
      },
    }),
    async (c) => {
      const { id, job } = c.req.valid('param');
      const body = c.req.valid('json');
      const approval = await deps.engine.approvalFor(id, job);
      const decided = await deps.engine.decide({
        approvalId: approval.id,
        actor: c.get('user'),
        decision: body.decision,
        comment: body.comment,
      });
      const run = await getRun(deps.db, id);
      return c.json(
        approvalView(decided, await decisionsOf(deps.db, [decided.id]), { workflow: run.workflow_name, job }),
        200,
      );
    },
  );
}
