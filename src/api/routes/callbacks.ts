// Vendor callbacks: `/callbacks/<type>/<app id>`, unique per app (never keyed by a vendor id that can
// repeat across companies: Zadig's W2). Verify and decrypt (the provider), refuse replays, record the
// event once, then answer — quickly, because vendors retry slow answers.
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError, errorBody, isAppError } from '../../errors.js';
import { providerFor } from '../../providers/registry.js';
import type { ImType } from '../../providers/types.js';
import type { Api, AppDeps } from '../app.js';

export const maxCallbackBytes = 1024 * 1024;

export function callbackRoutes(app: Api, deps: AppDeps & { now?: () => number }): void {
  const now = deps.now ?? Date.now;
  app.on(
    ['GET', 'POST'],
    '/callbacks/:type/:id',
    bodyLimit({
      maxSize: maxCallbackBytes,
      onError: (c) =>
        c.json(errorBody(new AppError('payload_too_large', 'Callback bodies are limited to 1 MB.')), 413),
    }),
    async (c: Context) => {
      const type = c.req.param('type') as ImType;
      const id = c.req.param('id')!;
      let outcome = 'accepted';
      try {
        const app = await deps.imAppConfigs.get(id);
        if (!app || app.record.type !== type)
          throw new AppError('not_found', 'No IM app at this callback URL.');
        const record = app.record;
        const provider = providerFor(type);
        const result = provider.handleCallback(
          app.config,
          {
            method: c.req.method,
            query: Object.fromEntries(new URL(c.req.url).searchParams),
            headers: Object.fromEntries(c.req.raw.headers),
            body: c.req.method === 'POST' ? await c.req.text() : '',
          },
          { now },
        );
        const recorded = await deps.callbackRecorder.record({ appId: record.id, ...result });
        if (recorded.replay)
          throw new AppError('conflict', 'This callback was already received (same timestamp and nonce).');
        if (result.event && !recorded.stored) outcome = 'duplicate';
        deps.callbackEvents?.(record.id, result.event);
        return c.body(result.body, result.status as 200, { 'content-type': result.content_type });
      } catch (error) {
        const failure = isAppError(error)
          ? error
          : new AppError('bad_request', 'The callback could not be read.');
        outcome = failure.code;
        if (!isAppError(error)) deps.log.warn({ err: error, type, im_app: id }, 'callback handler failed');
        // A forged or malformed callback gets a 4xx and changes nothing; the reason stays generic enough
        // to teach an attacker nothing, but names the check that failed for the operator.
        return c.json(errorBody(failure), (failure.status >= 500 ? 400 : failure.status) as 400);
      } finally {
        deps.log.debug({ type, im_app: id, outcome }, 'callback');
      }
    },
  );
}
