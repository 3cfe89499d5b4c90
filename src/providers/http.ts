// The one way providers call the outside world: a timeout on every request, and failures mapped into
// the error table so the engine knows whether a retry can help.
import { AppError } from '../errors.js';

export type Fetch = typeof fetch;

export interface HttpRequest {
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
