// The one way providers call the outside world: a timeout on every request, and failures mapped into
// the error table so the engine knows whether a retry can help. Every call is also reported to the
// observer that came with the injected `fetch` (see `observedFetch`; server.ts counts them for /metrics),
// so providers keep taking nothing but their edges.
import { AppError } from '../errors.js';

export type Fetch = typeof fetch;

/** Who is called: an IM platform, or an operator's own webhook receiver. */
export type Vendor = 'feishu' | 'lark' | 'dingtalk' | 'wecom' | 'webhook';

/** One finished call, as the observer is told it. Never the URL, a header or a body. */
export interface HttpCallReport {
  vendor: Vendor;
  /**
   * Undefined when the call succeeded; otherwise the vendor's own error code from its JSON envelope
   * (`errcode` or `code`, e.g. `99991663`, `40014`, `Forbidden.AccessDenied`), else `http_<status>`, or
   * `timeout` / `network` when no answer came.
   */
  error: string | undefined;
  durationMs: number;
}

export type HttpObserver = (call: HttpCallReport) => void;

const observers = new WeakMap<Fetch, HttpObserver>();

/** The same fetch, whose calls through `request` are reported to `observer`. */
export function observedFetch(fetchImpl: Fetch, observer: HttpObserver): Fetch {
  const observed: Fetch = (input, init) => fetchImpl(input, init);
  observers.set(observed, observer);
  return observed;
}

export interface HttpRequest {
  /** Who is called (metrics label; the envelope check for the IM platforms). */
  vendor: Vendor;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** How the target is named in errors: never the URL itself, which may carry a key. */
  target: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export async function request(fetchImpl: Fetch, req: HttpRequest): Promise<HttpResponse> {
  const observer = observers.get(fetchImpl);
  if (!observer) return send(fetchImpl, req);
  const started = performance.now();
  let error: string | undefined;
  try {
    const response = await send(fetchImpl, req);
    error = errorOf(req.vendor, response);
    return response;
  } catch (failure) {
    error = (failure as AppError).code === 'upstream_timeout' ? 'timeout' : 'network';
    throw failure;
  } finally {
    observer({ vendor: req.vendor, error, durationMs: performance.now() - started });
  }
}

async function send(fetchImpl: Fetch, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 10_000;
  let response: Response;
  try {
    response = await fetchImpl(req.url, {
      method: req.method ?? 'GET',
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new AppError('upstream_timeout', `${req.target} did not answer within ${timeoutMs} ms.`);
    }
    throw new AppError(
      'upstream_error',
      `${req.target} could not be reached: ${describeNetworkError(error)}.`,
    );
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/**
 * The error a finished call came to, for the observer: the IM platforms answer errors in a JSON envelope
 * (`errcode` for DingTalk's oapi and WeCom, `code` for Feishu/Lark and DingTalk's v1.0 API), often with
 * HTTP 200; webhook receivers are only judged by their status.
 */
function errorOf(vendor: Vendor, response: HttpResponse): string | undefined {
  const failed = response.status < 200 || response.status >= 300;
  if (vendor !== 'webhook' && response.text.startsWith('{') && response.text.length <= 256 * 1024) {
    let envelope: { errcode?: unknown; code?: unknown } | undefined;
    try {
      envelope = JSON.parse(response.text);
    } catch {
      envelope = undefined;
    }
    const code = envelope?.errcode ?? envelope?.code;
    if ((typeof code === 'number' || typeof code === 'string') && String(code) !== '0') {
      // It becomes a label value: short and plain, or not at all.
      if (/^[\w.-]{1,64}$/.test(String(code))) return String(code);
      return failed ? `http_${response.status}` : 'other';
    }
  }
  return failed ? `http_${response.status}` : undefined;
}

/** Maps an HTTP status from a remote into our table: 429 and 5xx may be retried, other 4xx may not. */
export function statusError(
  target: string,
  status: number,
  detail: string,
  retryAfter?: string | null,
): AppError {
  const excerpt = detail.length > 200 ? `${detail.slice(0, 200)}…` : detail;
  if (status === 429) {
    return new AppError('rate_limited', `${target} is rate limiting us (HTTP 429).`, {
      retryAfterMs: parseRetryAfter(retryAfter),
    });
  }
  if (status >= 500)
    return new AppError('upstream_error', `${target} failed with HTTP ${status}: ${excerpt}`);
  return new AppError('upstream_rejected', `${target} refused the request with HTTP ${status}: ${excerpt}`);
}

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'unknown error';
}
