import { createRoute, z } from '@hono/zod-openapi';
import type { Api, AppDeps } from '../app.js';

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
}
