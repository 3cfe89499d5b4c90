// The one place that decides the answer to a vendor callback (`/callbacks/<type>/<app id>`): verify and
// decrypt (the provider), refuse replays, record the event once, then answer — quickly, because vendors
// retry slow answers. Two doors lead here and both only translate HTTP: the Hono route (tests, in-process
// calls to our own public URL) and the lean node:http front that `signoff serve` puts before Hono
// (callback-front.ts), so a callback does not pay for Hono's web Request/Response adaptation.
import { AppError, errorBody, isAppError } from '../errors.js';
import { providerFor } from '../providers/registry.js';
import type { ImType } from '../providers/types.js';
import type { AppDeps } from './app.js';

export const maxCallbackBytes = 1024 * 1024;

export interface IngestRequest {
  /** The path's two segments, already decoded. */
  type: string;
  id: string;
  method: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", " (what `Object.fromEntries(new Headers(…))` gives). */
  headers: Record<string, string>;
  /** The body as text, or how to read it (a failure to read is answered like a malformed callback). */
  body: string | (() => Promise<string>);
}

export interface IngestReply {
  status: number;
  contentType: string;
  body: string;
}

export type CallbackIngest = (request: IngestRequest) => Promise<IngestReply>;

export type IngestDeps = Pick<AppDeps, 'imAppConfigs' | 'callbackRecorder' | 'callbackEvents' | 'log'> & {
  now?: () => number;
  /** Counts every answered callback by vendor and result. */
  metrics?: Pick<AppDeps['metrics'], 'callback'>;
};

const errorReply = (error: AppError): IngestReply => ({
  status: error.status,
  contentType: 'application/json',
  body: JSON.stringify(errorBody(error)),
});

/** The answer to a body over `maxCallbackBytes` (declared or streamed); nothing is read further. */
export const tooLargeReply = (): IngestReply =>
  errorReply(new AppError('payload_too_large', 'Callback bodies are limited to 1 MB.'));

export function createCallbackIngest(deps: IngestDeps): CallbackIngest {
  const now = deps.now ?? Date.now;
  return async (request) => {
    const receivedAt = performance.now();
    const { id } = request;
    const type = request.type as ImType;
    let outcome = 'accepted';
    try {
      const app = await deps.imAppConfigs.get(id);
      if (!app || app.record.type !== type)
        throw new AppError('not_found', 'No IM app at this callback URL.');
      const record = app.record;
      const body = typeof request.body === 'string' ? request.body : await request.body();
      const result = providerFor(type).handleCallback(
        app.config,
        { method: request.method, query: request.query, headers: request.headers, body },
        { now },
      );
      // Durable before the answer: the reply waits for the write that holds this callback.
      const recorded = await deps.callbackRecorder.record({ appId: record.id, ...result });
      if (recorded.replay)
        throw new AppError('conflict', 'This callback was already received (same timestamp and nonce).');
      if (result.event && !recorded.stored) outcome = 'duplicate';
      // Told once the answer is on its way: what listens may query the database, and on PGlite a query
      // runs inside the microtasks that would otherwise come before this batch's replies are written.
      const told = deps.callbackEvents;
      if (told) setImmediate(() => told(record.id, result.event, receivedAt));
      return { status: result.status, contentType: result.content_type, body: result.body };
    } catch (error) {
      const failure = isAppError(error)
        ? error
        : new AppError('bad_request', 'The callback could not be read.');
      outcome = failure.code;
      if (!isAppError(error)) deps.log.warn({ err: error, type, im_app: id }, 'callback handler failed');
      // A forged or malformed callback gets a 4xx and changes nothing; the reason stays generic enough
      // to teach an attacker nothing, but names the check that failed for the operator.
      const reply = errorReply(failure);
      if (reply.status >= 500) reply.status = 400;
      return reply;
    } finally {
      deps.metrics?.callback(type, outcome);
      deps.log.debug({ type, im_app: id, outcome }, 'callback');
    }
  };
}
