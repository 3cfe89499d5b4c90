// The CLI's side of the REST API: a small fetch client that finds the server (SIGNOFF_URL) and the user's
// token (SIGNOFF_TOKEN), and turns error bodies into messages that say what to do next.
import { z } from 'zod';
import type * as schemas from '../api/schemas.js';

// Response shapes come from the server's own schemas (types only: nothing of the server is loaded).
export type Run = z.infer<typeof schemas.runSchema>;
export type RunSummary = z.infer<typeof schemas.runSummarySchema>;
export type Stage = z.infer<typeof schemas.stageSchema>;
export type Job = z.infer<typeof schemas.jobSchema>;
export type Approval = z.infer<typeof schemas.approvalSchema>;
export type Decision = z.infer<typeof schemas.decisionSchema>;
export type User = z.infer<typeof schemas.userSchema>;
export type TokenInfo = z.infer<typeof schemas.tokenInfoSchema>;
export type IssuedToken = z.infer<typeof schemas.issuedTokenSchema>;
export type Workflow = z.infer<typeof schemas.workflowSchema>;
export type WorkflowSummary = z.infer<typeof schemas.workflowSummarySchema>;
export type LogChunk = z.infer<typeof schemas.logChunkSchema>;
export type Problem = z.infer<typeof schemas.problemSchema>;
export interface LogPage {
  chunks: LogChunk[];
  next: number;
  done: boolean;
}

export const defaultUrl = 'http://localhost:8080';
const requestTimeoutMs = 30_000;

const envSchema = z.object({
  SIGNOFF_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, such as http://localhost:8080' })
    .optional(),
  SIGNOFF_TOKEN: z.string().optional(),
});

export interface ClientConfig {
  url: string;
  token: string | undefined;
}

/** Reads SIGNOFF_URL and SIGNOFF_TOKEN once; every problem is reported at once. */
export function readClientConfig(env: Record<string, string | undefined>): ClientConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(
      ([key, value]) => key.startsWith('SIGNOFF_') && value !== undefined && value.trim() !== '',
    ),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`The client configuration is not valid:\n${lines.join('\n')}`);
  }
  return {
    url: (result.data.SIGNOFF_URL ?? defaultUrl).replace(/\/+$/, ''),
    token: result.data.SIGNOFF_TOKEN?.trim(),
  };
}

/** An error answer from the server, with the problems it listed (validation). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No server answered at all (nothing listening, unknown host, network down). */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** `  line L, column C: path: message`, one line per problem. */
export function formatProblems(problems: readonly Problem[]): string[] {
  return problems.map((problem) => {
    const column = problem.column !== undefined ? `, column ${problem.column}` : '';
    const where = problem.line !== undefined ? `line ${problem.line}${column}: ` : '';
    return `  ${where}${problem.path}: ${problem.message}`;
  });
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with this content type (workflow documents). */
  raw?: { text: string; contentType: string };
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  body: T;
}

export class SignoffClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly fetch: typeof fetch;

  constructor(config: ClientConfig, fetchImpl: typeof fetch = fetch) {
    this.url = config.url;
    this.token = config.token;
    this.fetch = fetchImpl;
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options).then((answer) => answer.body);
  }

  post<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    return this.request<T>('POST', path, options);
  }

  delete(path: string, options: RequestOptions = {}): Promise<Answer<undefined>> {
    return this.request<undefined>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    if (!this.token) {
      throw new Error(
        'No API token: set SIGNOFF_TOKEN (export SIGNOFF_TOKEN=<token>). The admin token is printed when ' +
          '`signoff serve` starts for the first time; an admin can give you one with `signoff users add` or `signoff tokens add`.',
      );
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    let body: string | undefined;
    if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.text;
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const target = `${this.url}${path}${queryString(options.query)}`;
    const signals = [AbortSignal.timeout(requestTimeoutMs), ...(options.signal ? [options.signal] : [])];
    let response: Response;
    try {
      response = await this.fetch(target, {
        method,
        headers,
        signal: AbortSignal.any(signals),
        ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      throw this.transportError(error, options.signal);
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) throw this.apiError(response, parsed, text);
    if (text !== '' && parsed === undefined) {
      throw new Error(
        `${method} ${target} answered something that is not JSON; is SIGNOFF_URL (${this.url}) a Signoff server?`,
      );
    }
    return { status: response.status, body: parsed as T };
  }

  private transportError(error: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError')
      return new UnreachableError(`The Signoff server at ${this.url} did not answer within 30s.`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? '';
    if (
      ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH'].includes(
        code,
      )
    ) {
      return new UnreachableError(
        `no Signoff server at ${this.url}; start one with \`signoff serve\` or set SIGNOFF_URL`,
      );
    }
    const detail = cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new UnreachableError(`Could not reach the Signoff server at ${this.url}: ${detail}`);
  }

  private apiError(response: Response, parsed: unknown, text: string): ApiError {
    const error = (
      parsed as { error?: { code?: unknown; message?: unknown; problems?: unknown } } | undefined
    )?.error;
    if (!error || typeof error.message !== 'string') {
      const excerpt = text.trim().slice(0, 200);
      return new ApiError(
        `HTTP ${response.status} ${response.statusText} from ${this.url}${excerpt ? `: ${excerpt}` : ''}`,
        response.status,
        'http_error',
      );
    }
    const problems = Array.isArray(error.problems) ? (error.problems as Problem[]) : [];
    let message = error.message;
    if (response.status === 401) message += ' Check SIGNOFF_TOKEN.';
    if (problems.length > 0) message = [message, ...formatProblems(problems)].join('\n');
    return new ApiError(
      message,
      response.status,
      typeof error.code === 'string' ? error.code : 'unknown',
      problems,
    );
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function clientFromEnv(env: Record<string, string | undefined>): SignoffClient {
  return new SignoffClient(readClientConfig(env));
}
