import { createRoute, z } from '@hono/zod-openapi';
import { pendingMigrations } from '../../store/migrate.js';
import type { Api, AppDeps } from '../app.js';

/** A readiness check that has not answered by then counts as failed (a probe must not hang). */
const checkTimeoutMs = 2_000;

const checkSchema = z.string().openapi({
  description:
    '`ok`, or why not: `unreachable`, `timeout`, `stopped`, `pending: <migration files>`, `unknown`, `skipped` (while stopping)',
});
const readySchema = z.object({
  status: z.enum(['ready', 'not_ready', 'stopping']),
  checks: z.object({ database: checkSchema, queue: checkSchema, migrations: checkSchema }),
});
type Ready = z.infer<typeof readySchema>;

export function healthRoutes(app: Api, deps: AppDeps): void {
  // Liveness: answers without a token and without touching the database.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['operations'],
      summary: 'Liveness; needs no token',
      security: [],
      responses: {
        200: {
          description: 'Alive',
          content: {
            'application/json': { schema: z.object({ status: z.literal('ok'), version: z.string() }) },
          },
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const, version: deps.version }, 200),
  );

  // Readiness: may this instance be sent work? Reasons stay short (the route is open); details go to the log.
  const reported = new Map<string, string>();
  const check = async (name: keyof Ready['checks'], probe: () => Promise<string>): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    let result: string;
    let failure: unknown;
    try {
      result = await Promise.race([
        probe(),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), checkTimeoutMs);
        }),
      ]);
    } catch (error) {
      failure = error;
      result = name === 'queue' && /stopped|draining/.test(String(error)) ? 'stopped' : 'unreachable';
    } finally {
      clearTimeout(timer);
    }
    // Logged when a check's answer changes, not at every probe.
    const before = reported.get(name);
    reported.set(name, result);
    if (result !== before) {
      if (result !== 'ok') deps.log.warn({ err: failure, check: name, result }, 'readiness check failed');
      else if (before !== undefined) deps.log.info({ check: name }, 'readiness check passes again');
    }
    return result;
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['operations'],
      summary: 'Readiness (database, queue, migrations; 503 while stopping); needs no token',
      security: [],
      responses: {
        200: { description: 'Ready for work', content: { 'application/json': { schema: readySchema } } },
        503: {
          description: 'Not ready: a check failed, or the server is stopping',
          content: { 'application/json': { schema: readySchema } },
        },
      },
    }),
    async (c) => {
      if (deps.draining()) {
        const skipped = 'skipped';
        return c.json(
          { status: 'stopping' as const, checks: { database: skipped, queue: skipped, migrations: skipped } },
          503,
        );
      }
      const [database, queue, migrations] = await Promise.all([
        check('database', async () => {
          await deps.db.query('select 1');
          return 'ok';
        }),
        check('queue', async () => {
          await deps.queue.ready();
          return 'ok';
        }),
        check('migrations', async () => {
          const pending = await pendingMigrations(deps.db);
          return pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`;
        }),
      ]);
      const checks = {
        database,
        queue,
        migrations: database === 'ok' || migrations === 'ok' ? migrations : 'unknown',
      };
      const ready = Object.values(checks).every((value) => value === 'ok');
      if (deps.draining()) return c.json({ status: 'stopping' as const, checks }, 503);
      return ready
        ? c.json({ status: 'ready' as const, checks }, 200)
        : c.json({ status: 'not_ready' as const, checks }, 503);
    },
  );
}
