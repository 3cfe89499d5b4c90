// GET /metrics: Prometheus text format. Open unless SIGNOFF_METRICS_TOKEN is set; the values are counts,
// statuses, kinds, vendors, channels and error codes, never a name, URL, token or secret.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { AppError, errorBody } from '../../errors.js';
import { contentType } from '../../metrics/registry.js';
import type { Api, AppDeps } from '../app.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function metricsRoutes(app: Api, deps: Pick<AppDeps, 'metrics' | 'metricsToken'>): void {
  const expected = deps.metricsToken ? digest(`Bearer ${deps.metricsToken}`) : undefined;
  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['operations'],
      summary:
        'Metrics in the Prometheus text format; asks for SIGNOFF_METRICS_TOKEN as a bearer token when set',
      security: [],
      responses: {
        200: {
          description: 'Every metric (docs/operations.md explains them)',
          content: { 'text/plain': { schema: z.string() } },
        },
        401: {
          description: 'SIGNOFF_METRICS_TOKEN is set and the request did not bring it',
          content: { 'application/json': { schema: z.object({ error: z.object({ code: z.string() }) }) } },
        },
      },
    }),
    async (c) => {
      // Compared as digests: constant time, and the length of the token is not given away either.
      if (expected && !timingSafeEqual(digest(c.req.header('authorization') ?? ''), expected)) {
        c.header('www-authenticate', 'Bearer realm="signoff-metrics"');
        return c.json(
          errorBody(
            new AppError(
              'unauthorized',
              'Send the metrics token (SIGNOFF_METRICS_TOKEN) as Authorization: Bearer <token>.',
            ),
          ),
          401,
        );
      }
      return c.text(await deps.metrics.render(), 200, { 'Content-Type': contentType });
    },
  );
}
