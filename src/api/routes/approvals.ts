import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import { type ApprovalRecord, decisionsOf, findApproval, listApprovals } from '../../store/approvals.js';
import type { Queryable } from '../../store/db.js';
import type { Api, AppDeps } from '../app.js';
import { approvalSchema, decideSchema, errorSchema, idNumber } from '../schemas.js';
import { approvalView } from '../views.js';

const tags = ['approvals'];

async function approvalViews(db: Queryable, approvals: ApprovalRecord[]) {
  if (approvals.length === 0) return [];
  const decisions = await decisionsOf(
    db,
    approvals.map((approval) => approval.id),
  );
  const names = await db.query<{ id: number; job: string; workflow: string }>(
    'select j.id, j.name as job, r.workflow_name as workflow from jobs j join runs r on r.id = j.run_id where j.id = any($1::int[])',
    [approvals.map((approval) => approval.job_id)],
  );
  return approvals.map((approval) => {
    const name = names.find((row) => row.id === approval.job_id)!;
    return approvalView(approval, decisions, name);
  });
}

export function approvalRoutes(app: Api, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/approvals',
      tags,
      summary: 'Approvals; by default the ones waiting for a decision, soonest deadline first',
      request: {
        query: z.object({
          status: z.enum(['pending', 'approved', 'rejected', 'timeout', 'cancelled', 'all']).optional(),
        }),
      },
      responses: {
        200: {
          description: 'Approvals',
          content: { 'application/json': { schema: z.object({ approvals: z.array(approvalSchema) }) } },
        },
      },
    }),
    async (c) => {
      const { status = 'pending' } = c.req.valid('query');
      const approvals = await listApprovals(deps.db, status === 'all' ? undefined : status);
      return c.json({ approvals: await approvalViews(deps.db, approvals) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/approvals/{id}/decision',
      tags,
      summary: 'Approve or reject',
      request: {
        params: z.object({ id: idNumber.openapi({ param: { name: 'id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: decideSchema } }, required: true },
      },
      responses: {
        200: {
          description: 'The approval after this decision',
          content: { 'application/json': { schema: approvalSchema } },
        },
        403: { description: 'Not an approver', content: { 'application/json': { schema: errorSchema } } },
        404: { description: 'No such approval', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'Already decided', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      if (!(await findApproval(deps.db, id))) throw new AppError('not_found', `No approval ${id}.`);
      const decided = await deps.engine.decide({
        approvalId: id,
        actor: c.get('user'),
        decision: body.decision,
        comment: body.comment,
      });
      const [view] = await approvalViews(deps.db, [decided]);
      return c.json(view!, 200);
    },
  );
}
