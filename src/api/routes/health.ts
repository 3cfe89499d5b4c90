import type { Api, AppDeps } from '../app.js';

export function healthRoutes(app: Api, deps: AppDeps): void {
  // Liveness: answers without a token and without touching the database.
  app.get('/healthz', (c) => c.json({ status: 'ok', version: deps.version }));
}
