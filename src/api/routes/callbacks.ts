// Vendor callbacks: `/callbacks/<type>/<app id>`, unique per app (never keyed by a vendor id that can
// repeat across companies: Zadig's W2). This route only translates Hono's request and reply; what is
// checked, recorded and answered is decided in one place, callback-ingest.ts, which `signoff serve` also
// reaches through a lean node:http front (callback-front.ts) without Hono's per-request adaptation.
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Api, AppDeps } from '../app.js';
import {
  type CallbackIngest,
  createCallbackIngest,
  maxCallbackBytes,
  tooLargeReply,
} from '../callback-ingest.js';

export { maxCallbackBytes };

const ingests = new WeakMap<Api, CallbackIngest>();

/** The callback handler `callbackRoutes` mounted on this app, for the lean front (the same instance). */
export function callbackIngestOf(app: Api): CallbackIngest | undefined {
  return ingests.get(app);
}

export function callbackRoutes(app: Api, deps: AppDeps & { now?: () => number }): void {
  const ingest = createCallbackIngest(deps);
  ingests.set(app, ingest);
  app.on(
    ['GET', 'POST'],
    '/callbacks/:type/:id',
    bodyLimit({
      maxSize: maxCallbackBytes,
      onError: (c) => {
        const reply = tooLargeReply();
        return c.body(reply.body, reply.status as 413, { 'content-type': reply.contentType });
      },
    }),
    async (c: Context) => {
      const reply = await ingest({
        type: c.req.param('type')!,
        id: c.req.param('id')!,
        method: c.req.method,
        query: Object.fromEntries(new URL(c.req.url).searchParams),
        headers: Object.fromEntries(c.req.raw.headers),
        body: c.req.method === 'POST' ? () => c.req.text() : '',
      });
      return c.body(reply.body, reply.status as 200, { 'content-type': reply.contentType });
    },
  );
}
