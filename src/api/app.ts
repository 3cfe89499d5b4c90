// The HTTP application (Hono). It never listens by itself: server.ts serves it, tests call app.request.
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { Engine } from '../engine/engine.js';
import type { Queue } from '../engine/queue.js';
import { AppError, errorBody, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SignoffMetrics } from '../metrics/signoff-metrics.js';
import type { ImClients } from '../providers/clients.js';
import type { ImEvent } from '../providers/types.js';
import type { CallbackRecorder } from '../store/callback-recorder.js';
import type { Db } from '../store/db.js';
import type { ImAppConfigs } from '../store/im-app-configs.js';
import type { SecretBox } from '../store/secret-box.js';
import { type AuthVariables, authenticate } from './auth.js';
import { approvalRoutes } from './routes/approvals.js';
import { callbackRoutes } from './routes/callbacks.js';
import { consoleRoutes } from './routes/console.js';
import { healthRoutes } from './routes/health.js';
import { imAppRoutes } from './routes/im-apps.js';
import { metricsRoutes } from './routes/metrics.js';
import { notificationRoutes } from './routes/notifications.js';
import { runRoutes } from './routes/runs.js';
import { userRoutes } from './routes/users.js';
import { workflowRoutes } from './routes/workflows.js';
import { validationHook } from './validation.js';

export interface AppDeps {
  db: Db;
  engine: Engine;
  log: Logger;
  publicUrl: string;
  version: string;
  secretBox: SecretBox;
  imClients: ImClients;
  imAppConfigs: ImAppConfigs;
  callbackRecorder: CallbackRecorder;
  /** The sandbox is mounted (the home page links to it). */
  sandbox?: boolean;
  /**
   * Told about every newly recorded vendor event (the approval engine listens), with when its callback
   * arrived (`performance.now()`).
   */
  callbackEvents?: (imAppId: string, event: ImEvent | undefined, receivedAt: number) => void;
  /** Told when an IM app was added, changed or removed (its long connection follows its settings). */
  imAppChanged?: (imAppId: string) => void;
  /** For /readyz: the queue answers. */
  queue: Pick<Queue, 'ready'>;
  /** For /readyz: true once a shutdown has begun (answer 503 so load balancers send work elsewhere). */
  draining: () => boolean;
  /** Counted by the callback routes, served at /metrics. */
  metrics: SignoffMetrics;
  /** Bearer token /metrics asks for (SIGNOFF_METRICS_TOKEN); without one, /metrics is open. */
  metricsToken?: string | undefined;
}

export type Api = OpenAPIHono<{ Variables: AuthVariables }>;

/** Hono and the OpenAPI validator throw HTTPExceptions for bodies they cannot read: say what to send. */
function fromHttpException(error: unknown): AppError | undefined {
  if (!(error instanceof HTTPException)) return undefined;
  if (error.status === 413) return new AppError('payload_too_large', 'The request body is too large.');
  if (error.status === 415) {
    return new AppError(
      'unsupported_media_type',
      'Send this body as JSON, with the header content-type: application/json.',
    );
  }
  if (error.status === 400)
    return new AppError('bad_request', `The request body is not valid JSON: ${error.message}.`);
  return undefined;
}

export function createApp(deps: AppDeps): Api {
  const app: Api = new OpenAPIHono({ defaultHook: validationHook });

  app.onError((error, c) => {
    if (isAppError(error)) return c.json(errorBody(error), error.status as 400);
    const known = fromHttpException(error);
    if (known) return c.json(errorBody(known), known.status as 400);
    deps.log.error({ err: error, path: c.req.path }, 'request failed');
    return c.json(
      errorBody(new AppError('internal', 'Something went wrong on the server; the log has details.')),
      500,
    );
  });
  app.notFound((c) =>
    c.json(errorBody(new AppError('not_found', `No route ${c.req.method} ${c.req.path}.`)), 404),
  );

  healthRoutes(app, deps);
  metricsRoutes(app, deps);
  consoleRoutes(app, { ...deps, sandbox: deps.sandbox ?? false });
  callbackRoutes(app, deps);
  app.use('/api/*', async (c, next) => {
    if (c.req.path === '/api/openapi.json') return next();
    return authenticate(deps.db)(c, next);
  });
  workflowRoutes(app, deps);
  runRoutes(app, deps);
  notificationRoutes(app, deps);
  approvalRoutes(app, deps);
  userRoutes(app, deps);
  imAppRoutes(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Signoff API',
      version: deps.version,
      description:
        'Workflows whose approvals and notifications run through Feishu, Lark, DingTalk and WeCom.',
    },
    security: [{ bearer: [] }],
  });
  return app;
}
