// One error class and one code table for the whole service (the tRPC/Inngest pattern): the code decides
// the HTTP status an API caller sees and whether the engine may retry the work that raised it.

export const errorCodes = {
  // caller mistakes
  bad_request: { status: 400, retryable: false },
  validation_failed: { status: 422, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  conflict: { status: 409, retryable: false },
  payload_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  // the server or something it depends on
  internal: { status: 500, retryable: false },
  unavailable: { status: 503, retryable: true },
  // a remote system (webhook target, IM vendor)
  upstream_error: { status: 502, retryable: true },
  upstream_timeout: { status: 504, retryable: true },
  upstream_rejected: { status: 502, retryable: false },
  rate_limited: { status: 429, retryable: true },
  // the vendor no longer has an approval definition we cached (deleted in its console): recreate it once
  definition_gone: { status: 409, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

/** One problem in a document the user sent, located as precisely as we can. */
export interface Problem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface AppErrorOptions {
  /** Field-level problems (validation); shown to API callers. */
  problems?: Problem[];
  /** For rate limits: how long the remote asked us to wait. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[] | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.problems = options.problems;
    this.retryAfterMs = options.retryAfterMs;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** The body every API error is returned as. */
export function errorBody(error: AppError): {
  error: { code: ErrorCode; message: string; problems?: Problem[] };
} {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.problems ? { problems: error.problems } : {}),
    },
  };
}
