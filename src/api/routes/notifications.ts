import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import { listNotifications, type NotificationRecord, notificationsOfRun } from '../../store/notifications.js';
import { findRun } from '../../store/runs.js';
import type { Api, AppDeps } from '../app.js';
import { errorSchema, idNumber, runIdParam } from '../schemas.js';

const tags = ['notifications'];

const statuses = ['pending', 'sending', 'delivered', 'failed', 'skipped'] as const;

export const notificationSchema = z
  .object({
    id: z.number().int(),
    run_id: z.number().int(),
    job: z.string().nullable().openapi({ description: 'The job it is about or that sent it.' }),
    rule: z.string().openapi({
      example: 'notify[0]',
      description: '`notify[i]`, `jobs.<job>.notify[i]` or `job` (a notification job).',
    }),
    event: z.string().openapi({
      example: 'passed',
      description: 'What it tells: an event, `notification`, or `decided` (a card updated in place).',
    }),
    action: z.enum(['send', 'update']),
    channel: z.string().openapi({ example: 'dingtalk_robot' }),
    target: z.string().openapi({ description: 'Where it goes; keys in webhook URLs are redacted.' }),
    status: z.enum(statuses),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    vendor_message_id: z.string().nullable(),
    created_at: z.string(),
    next_attempt_at: z.string().nullable().openapi({ description: 'When a pending message is tried next.' }),
    delivered_at: z.string().nullable(),
  })
  .openapi('Notification');

function notificationView(row: NotificationRecord, jobNames: Map<number, string>) {
  return {
    id: row.id,
    run_id: row.run_id,
    job: row.job_id !== null ? (jobNames.get(row.job_id) ?? null) : null,
    rule: row.source,
    event: row.reason,
    action: row.action,
    channel: row.channel,
    target: row.target,
    status: row.status,
    attempts: row.attempts,
    last_error: row.last_error,
    vendor_message_id: row.vendor_message_id,
    created_at: new Date(row.created_at).toISOString(),
    next_attempt_at: row.status === 'pending' ? new Date(row.next_attempt_at).toISOString() : null,
    delivered_at: row.delivered_at ? new Date(row.delivered_at).toISOString() : null,
  };
}

async function jobNamesOf(deps: AppDeps, rows: NotificationRecord[]): Promise<Map<number, string>> {
  const ids = [...new Set(rows.map((row) => row.job_id).filter((id): id is number => id !== null))];
  if (ids.length === 0) return new Map();
  const jobs = await deps.db.query<{ id: number; name: string }>(
    'select id, name from jobs where id = any($1::int[])',
    [ids],
  );
  return new Map(jobs.map((job) => [job.id, job.name]));
}

const listSchema = z.object({ notifications: z.array(notificationSchema) });

export function notificationRoutes(app: Api, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}/notifications',
      tags,
      summary: "A run's delivery log: every message, where it went, and how delivery went",
      request: { params: runIdParam },
      responses: {
        200: {
          description: 'Messages, oldest first',
          content: { 'application/json': { schema: listSchema } },
        },
        404: { description: 'No such run', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await findRun(deps.db, id))) throw new AppError('not_found', `No run ${id}.`);
      const rows = await notificationsOfRun(deps.db, id);
      const names = await jobNamesOf(deps, rows);
      return c.json({ notifications: rows.map((row) => notificationView(row, names)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/notifications',
      tags,
      summary: 'Recent messages of every run, newest first',
      request: {
        query: z.object({
          status: z.enum(statuses).optional(),
          channel: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          before: idNumber.optional().openapi({ description: 'Only messages with a smaller id (paging).' }),
        }),
      },
      responses: {
        200: { description: 'Messages', content: { 'application/json': { schema: listSchema } } },
      },
    }),
    async (c) => {
      const rows = await listNotifications(deps.db, c.req.valid('query'));
      const names = await jobNamesOf(deps, rows);
      return c.json({ notifications: rows.map((row) => notificationView(row, names)) }, 200);
    },
  );
}
