// A lean node:http front for vendor callbacks, put before Hono by `signoff serve`. Under load a callback
// spent more time in the adapter (a web Request with its Headers, AbortSignal and ReadableStream built
// from the IncomingMessage, the body read through them, a Response written back) than in verifying,
// decrypting and recording it. This front reads the body as bytes and hands the same request to the same
// CallbackIngest the Hono route uses (one place decides the answer). Anything it does not recognise
// exactly — another path or method (HEAD too), percent-encoded or dot segments, a fragment, a missing or
// unusual Host — goes to Hono untouched, so routing, 404s and the adapter's own 400s stay Hono's.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Api } from './app.js';
import { type CallbackIngest, type IngestReply, maxCallbackBytes, tooLargeReply } from './callback-ingest.js';
import { callbackIngestOf } from './routes/callbacks.js';

// Segments of ids we issue (prefix_ + base64url) and of platform names; no '%', no '.', no '/'.
const callbackPath = /^\/callbacks\/([\w-]+)\/([\w-]+)(?:\?([^#]*))?$/;

/**
 * `createServer` for `@hono/node-server`'s `serve`: an http server whose listener serves callbacks itself
 * and passes every other request to Hono's listener.
 */
export function callbackFront(app: Api): typeof createServer {
  const ingest = callbackIngestOf(app);
  if (!ingest) throw new Error('the app has no callback routes');
  let knownHost: string | undefined;
  /** The adapter refuses a Host it cannot turn into a URL with that very host name; leave those to it. */
  const plainHost = (host: string | undefined) => {
    if (host === undefined || host === '') return false;
    if (host === knownHost) return true;
    try {
      const { hostname } = new URL(`http://${host}/`);
      if (hostname.length !== host.length && hostname !== host.replace(/:\d+$/, '')) return false;
    } catch {
      return false;
    }
    knownHost = host;
    return true;
  };
  // serve() always calls it as createServer(options, listener).
  const front = (options: ServerOptions, hono: RequestListener): Server =>
    createServer(options, (req, res) => {
      const method = req.method;
      const match = method === 'GET' || method === 'POST' ? callbackPath.exec(req.url ?? '') : null;
      if (!match) return hono(req, res);
      const headers = headersOf(req.rawHeaders);
      if (!plainHost(headers.host)) return hono(req, res);
      serveCallback(ingest, req, res, { type: match[1]!, id: match[2]!, rawQuery: match[3], headers });
    });
  return front as typeof createServer;
}

function serveCallback(
  ingest: CallbackIngest,
  req: IncomingMessage,
  res: ServerResponse,
  parts: { type: string; id: string; rawQuery: string | undefined; headers: Record<string, string> },
): void {
  const { type, id, rawQuery, headers } = parts;
  const answer = (reply: IngestReply, close = false) => {
    if (res.headersSent || res.destroyed) return;
    const replyHeaders: Record<string, string | number> = {
      'content-type': reply.contentType,
      'content-length': Buffer.byteLength(reply.body),
    };
    // The rest of an oversized body is not read: end the connection rather than drain it.
    if (close) replyHeaders.connection = 'close';
    res.writeHead(reply.status, replyHeaders);
    res.end(reply.body);
  };
  const run = (body: string) => {
    ingest({
      type,
      id,
      method: req.method!,
      query: rawQuery ? Object.fromEntries(new URLSearchParams(rawQuery)) : {},
      headers,
      body,
    }).then(answer, (error: unknown) => {
      // The ingest answers every failure itself; this is a bug, not a callback to refuse politely.
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  };
  if (req.method !== 'POST') {
    run('');
    return;
  }
  // The same limit as Hono's bodyLimit: a declared length over it is refused unread; a streamed body is
  // counted as it arrives.
  const declared = headers['content-length'];
  if (declared !== undefined && headers['transfer-encoding'] === undefined) {
    if (Number.parseInt(declared, 10) > maxCallbackBytes) {
      answer(tooLargeReply(), true);
      return;
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > maxCallbackBytes) {
      refused = true;
      chunks.length = 0;
      req.pause();
      answer(tooLargeReply(), true);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    // TextDecoder like Request.text(): UTF-8, invalid bytes replaced, a leading BOM dropped.
    run(decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
  });
  // A sender that goes away mid-body gets no answer; nothing was recorded.
  req.on('error', () => {});
}

const decoder = new TextDecoder();

/**
 * `Object.fromEntries(new Headers(…))` of what Hono's adapter builds from the same raw headers: lower-case
 * names, repeated headers joined with ", " (each set-cookie apart, so the last one wins). Nothing reads
 * them in order, so they are not sorted as Headers would.
 */
function headersOf(raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    const value = raw[index + 1]!;
    const earlier = Object.hasOwn(headers, name) ? headers[name] : undefined;
    const joined = earlier === undefined || name === 'set-cookie' ? value : `${earlier}, ${value}`;
    // An own property even for "__proto__", like fromEntries makes.
    Object.defineProperty(headers, name, {
      value: joined,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return headers;
}
