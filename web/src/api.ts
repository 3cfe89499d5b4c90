// The console's only way to the server: the REST API, with the session's token. Errors keep the API's
// code, message and field problems so pages can show them where they belong.
import { session } from './session';

export interface Problem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** Told when the server says the token is not valid (the app then shows the sign-in page). */
let onUnauthorized: () => void = () => {};
export const whenUnauthorized = (handler: () => void): void => {
  onUnauthorized = handler;
};

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Sent as JSON; a string is sent as it is (YAML documents). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Use this token instead of the session's (signing in checks one before keeping it). */
  token?: string;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = options.token ?? session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] =
      options.contentType ?? (typeof options.body === 'string' ? 'application/yaml' : 'application/json');
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The Signoff server cannot be reached. Is it running?');
  }
  const text = await response.text();
  const json = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; problems?: Problem[] } })?.error;
    if (response.status === 401 && !options.token) onUnauthorized();
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      error?.problems ?? [],
    );
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const segment = encodeURIComponent;
