// DingTalk's error answers mapped into our error table (reference/platforms.md §4.2, §6.2). Two envelopes:
// the new API (api.dingtalk.com) answers HTTP 4xx/5xx + {code, message, requestid}; the old API
// (oapi.dingtalk.com) answers HTTP 200 + {errcode, errmsg}, often errcode 88 with the real reason in
// sub_code/sub_msg. Every message says what the operator should do next and never carries a token.
import { AppError } from '../../errors.js';

export const CONSOLE_CREDENTIALS =
  'DingTalk developer console (开发者后台) → 应用开发 → your app → 凭证与基础信息 (Credentials & Basic Info)';
export const CONSOLE_PERMISSIONS =
  'DingTalk developer console (开发者后台) → 应用开发 → your app → 权限管理 (Permission Management)';

/** The new API's answer to a wrong AppKey/AppSecret (HTTP 400). */
export const INVALID_CLIENT_CODE = 'invalidClientIdOrSecret';
/** The old `gettoken` answer to a wrong AppKey/AppSecret (observed; not in the global code table). */
export const INVALID_APP_KEY_OR_SECRET_ERRCODE = 40096;

/** New API: the token is unknown or expired; refresh it and retry once. */
export const newTokenInvalidCodes = new Set(['InvalidAuthentication']);
/** Old API: 40014 invalid, 42001 expired; they also arrive as errcode 88 with that sub_code. */
export const oldTokenInvalidCodes = new Set([40014, 42001]);

/** Per-app-per-API and per-API QPS limits: sleep a second and retry (platforms.md §4.2). */
export const newRateLimitCodes = new Set([
  'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
  'Forbidden.AccessDenied.QpsLimitForApi',
]);
export const oldRateLimitCodes = new Set([90018, 90002]);
/** The organisation's monthly call quota: retrying this month will not help. */
export const newQuotaCodes = new Set(['Forbidden.AccessDenied.ApiCountLimitForOrg']);
export const oldQuotaCodes = new Set([90020]);

export const newPermissionCodes = new Set(['Forbidden.AccessDenied.AccessTokenPermissionDenied', 'needAuth']);
/** errcode 88 + sub_code 60011 ("应用尚未开通所需的权限"); 60011 also seen at the top level. */
export const oldPermissionSubCodes = new Set([60011]);

/** Old API "system busy". */
export const oldTransientCodes = new Set([-1]);

/** Old API: no such user (user/get, getbymobile). */
export const USER_NOT_FOUND_ERRCODE = 60121;
/** Old API: no such department. */
export const DEPARTMENT_NOT_FOUND_ERRCODE = 60003;

const RATE_LIMIT_WAIT_MS = 1000;
const IP_BAN_WAIT_MS = 5 * 60_000;

/** The new API's error body. `accessdenieddetail` is how the SDK gateway reads permission details. */
export interface NewApiErrorBody {
  code?: string;
  message?: string;
  requestid?: string;
  accessdenieddetail?: { requiredScopes?: string[] } | null;
}

export interface OldApiEnvelope {
  errcode?: number;
  errmsg?: string;
  sub_code?: string;
  sub_msg?: string;
  request_id?: string;
}

export type DingTalkErrorKind = 'token_invalid' | 'rate_limited' | 'other';

export interface ClassifiedError {
  kind: DingTalkErrorKind;
  error: AppError;
}

/** Names inside "应用尚未开通所需的权限：[a, b]" (the text DingTalk puts in message / sub_msg). */
export function permissionNamesIn(text: string | undefined): string[] {
  if (!text) return [];
  const match = /\[([^\]]+)\]/.exec(text);
  if (!match?.[1]) return [];
  return match[1]
    .split(/[,，\s]+/)
    .map((name) => name.trim())
    .filter((name) => /^[A-Za-z][\w.]*$/.test(name));
}

const missingPermissions = new WeakMap<AppError, string[]>();

/** The permission names a `forbidden` error from this module is about (empty when DingTalk named none). */
export function permissionsOf(error: unknown): string[] {
  return error instanceof AppError ? (missingPermissions.get(error) ?? []) : [];
}

export function permissionError(what: string, permissions: string[], detail?: string): AppError {
  const names = permissions.length > 0 ? permissions.join(', ') : 'the permission this API needs';
  const error = new AppError(
    'forbidden',
    `DingTalk refused ${what}: the app lacks ${names}${detail ? ` (${detail})` : ''}. Grant it in ${CONSOLE_PERMISSIONS}, then publish the app again.`,
  );
  missingPermissions.set(error, permissions);
  return error;
}

export function credentialsError(detail: string): AppError {
  // Not 'unauthorized': that would tell our own API caller that *their* token is wrong.
  return new AppError(
    'upstream_rejected',
    `DingTalk rejected the AppKey/AppSecret (${detail}). Copy both again from ${CONSOLE_CREDENTIALS} → AppSecret.`,
  );
}

/** Classifies a non-2xx answer of the new API. `expectedPermission` is named when DingTalk names none. */
export function classifyNewApiError(
  what: string,
  status: number,
  text: string,
  expectedPermission?: string,
): ClassifiedError {
  const body = (parseJson(text) ?? {}) as NewApiErrorBody & { status?: number; wait?: number };
  const code = typeof body?.code === 'string' ? body.code : undefined;
  const message = typeof body?.message === 'string' ? body.message : undefined;
  const detail = code ? `${code}${message ? `: ${message}` : ''}` : `HTTP ${status}`;
  if (body.status === 1111) return ipBan(what, body.wait);
  if (code && newTokenInvalidCodes.has(code)) {
    return {
      kind: 'token_invalid',
      error: new AppError(
        'upstream_error',
        `DingTalk did not accept our access token for ${what} (${detail}).`,
      ),
    };
  }
  if (code && newRateLimitCodes.has(code)) return rateLimited(what, detail);
  if (code && newQuotaCodes.has(code)) return { kind: 'other', error: quotaError(what, detail) };
  if (code === INVALID_CLIENT_CODE) return { kind: 'other', error: credentialsError(detail) };
  if (code && newPermissionCodes.has(code)) {
    const named = body.accessdenieddetail?.requiredScopes ?? permissionNamesIn(message);
    const permissions = named.length > 0 ? named : expectedPermission ? [expectedPermission] : [];
    return { kind: 'other', error: permissionError(what, permissions, detail) };
  }
  if (status === 429) return rateLimited(what, detail);
  if (status >= 500) {
    return { kind: 'other', error: new AppError('upstream_error', `DingTalk failed ${what} (${detail}).`) };
  }
  return {
    kind: 'other',
    error: new AppError('upstream_rejected', `DingTalk refused ${what} (HTTP ${status}, ${detail}).`),
  };
}

/** Classifies an old-API envelope whose errcode is not 0. */
export function classifyOldApiError(
  what: string,
  envelope: OldApiEnvelope,
  expectedPermission?: string,
): ClassifiedError {
  const errcode = Number(envelope.errcode);
  const sub = envelope.sub_code !== undefined ? Number(envelope.sub_code) : undefined;
  const reason = envelope.sub_msg ?? envelope.errmsg ?? '';
  const detail = `errcode ${errcode}${sub !== undefined ? `/${sub}` : ''}${reason ? `: ${reason}` : ''}`;
  const codes = [errcode, ...(sub !== undefined && !Number.isNaN(sub) ? [sub] : [])];
  if (codes.some((code) => oldTokenInvalidCodes.has(code))) {
    return {
      kind: 'token_invalid',
      error: new AppError(
        'upstream_error',
        `DingTalk did not accept our access token for ${what} (${detail}).`,
      ),
    };
  }
  if (codes.some((code) => oldRateLimitCodes.has(code))) return rateLimited(what, detail);
  if (codes.some((code) => oldQuotaCodes.has(code)))
    return { kind: 'other', error: quotaError(what, detail) };
  if (codes.some((code) => oldPermissionSubCodes.has(code))) {
    const named = permissionNamesIn(reason);
    const permissions = named.length > 0 ? named : expectedPermission ? [expectedPermission] : [];
    return { kind: 'other', error: permissionError(what, permissions, detail) };
  }
  if (codes.includes(INVALID_APP_KEY_OR_SECRET_ERRCODE)) {
    return { kind: 'other', error: credentialsError(detail) };
  }
  if (codes.some((code) => oldTransientCodes.has(code))) {
    return { kind: 'other', error: new AppError('upstream_error', `DingTalk is busy (${what}; ${detail}).`) };
  }
  return { kind: 'other', error: new AppError('upstream_rejected', `DingTalk refused ${what} (${detail}).`) };
}

function rateLimited(what: string, detail: string): ClassifiedError {
  return {
    kind: 'rate_limited',
    error: new AppError('rate_limited', `DingTalk is rate limiting ${what} (${detail}).`, {
      retryAfterMs: RATE_LIMIT_WAIT_MS,
    }),
  };
}

function ipBan(what: string, waitMinutes: unknown): ClassifiedError {
  const minutes = typeof waitMinutes === 'number' && waitMinutes > 0 ? waitMinutes : 5;
  return {
    kind: 'other',
    error: new AppError(
      'rate_limited',
      `DingTalk has banned this server's IP for about ${minutes} minutes after too many calls (${what}).`,
      { retryAfterMs: Math.max(IP_BAN_WAIT_MS, minutes * 60_000) },
    ),
  };
}

function quotaError(what: string, detail: string): AppError {
  return new AppError(
    'upstream_rejected',
    `DingTalk refused ${what}: the organisation used up its monthly API call quota (${detail}). Upgrade the DingTalk edition or wait for next month.`,
  );
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
