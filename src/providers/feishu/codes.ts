// Feishu / Lark error codes (reference/platforms.md §3.3, §6.2) and how each maps into our error table.
// A code says whether a retry can help; the message says what the operator should do next, in the words
// of the vendor's console (Chinese first, the English console's name in brackets), never a secret.
import { AppError } from '../../errors.js';

/** The vendor's own names for the console pages our fix sentences point to. */
export const consolePages = {
  credentials: '开发者后台 → 凭证与基础信息 (Credentials & Basic Info)',
  permissions: '开发者后台 → 权限管理 (Permissions & Scopes)',
  encryption: '开发者后台 → 事件与回调 (Events & Callbacks) → 加密策略 (Encryption Strategy)',
  availability: '开发者后台 → 版本管理与发布 (Version Management & Release) → 可用范围 (Availability)',
  contactScope: '开发者后台 → 权限管理 (Permissions & Scopes) → 通讯录权限范围 (Contacts data scope)',
} as const;

export const feishuCodes = {
  ok: 0,
  /** Token request: a field is missing or the App ID is unknown. */
  invalidParam: 10003,
  /** Token request: the App Secret does not belong to the App ID. */
  appSecretInvalid: 10014,
  /** Tenant token invalid or expired: drop the cached token, fetch a new one, retry once. */
  tokenInvalid: 99991663,
  /** No `Authorization` header (or an empty one): same recovery as an invalid token. */
  tokenMissing: 99991661,
  /** Frequency limit, answered with HTTP 400 (some APIs answer HTTP 429 instead). */
  rateLimited: 99991400,
  /** The app lacks an API scope; `error.permission_violations[]` names the scopes. */
  permissionDenied: 99991672,
  /** A request field failed validation; `error.field_violations[]` names the fields. */
  fieldValidation: 99992402,
  /** Contact: the department is outside the app's contact data scope. */
  noDepartmentAuthority: 40004,
  /** Contact: the user is outside the app's contact data scope. */
  noUserAuthority: 41050,
  /** Approval: parameter error (also "node amount not enough" when START/END are missing). */
  approvalParamError: 1390001,
  /** Approval: server busy, retryable. */
  approvalBusy: 1395001,
  imBadParam: 230001,
  imBotNotInChat: 230002,
  imBotAbilityOff: 230006,
  /** Message APIs: the app's bot did not send this message ("Bot is NOT the sender of the message."). */
  imNotMessageSender: 230012,
  imUserOutsideAvailability: 230013,
  imFrequencyLimit: 230020,
  imContentTooLong: 230025,
  /** Updating a card: messages can only be updated within 14 days of sending. */
  imUpdateExpired: 230031,
  imBadReceiveId: 230034,
  imBotStopped: 230053,
  /** A path id (e.g. a message_id) that is malformed or does not exist [UNVERIFIED for message PATCH]. */
  invalidId: 99992354,
  /** Custom bot webhook: format error or body over 20 KB ("Bad Request"). */
  hookBadRequest: 9499,
  /** Custom bot webhook: unknown or deleted hook [UNVERIFIED: observed answer, not in the doc]. */
  hookTokenInvalid: 19001,
  /** Custom bot webhook: sign mismatch, or timestamp not within one hour. */
  hookSignInvalid: 19021,
  /** Custom bot webhook: none of the bot's keywords is in the message. */
  hookKeywordMissing: 19024,
  /** Custom bot webhook: over 5/s or 100/min per bot (HTTP 200). */
  hookRateLimited: 11232,
} as const;

/** The `action` the token request reports, so 10003 can be explained as a credential problem. */
export const tokenAction = 'the tenant_access_token request';

export const tokenInvalidCodes: ReadonlySet<number> = new Set([
  feishuCodes.tokenInvalid,
  feishuCodes.tokenMissing,
]);
const rateLimitCodes: ReadonlySet<number> = new Set([feishuCodes.rateLimited, feishuCodes.imFrequencyLimit]);
const transientCodes: ReadonlySet<number> = new Set([feishuCodes.approvalBusy]);

/** Hints for codes an operator can fix; the vendor's own `msg` is always shown next to them. */
const hints: Partial<Record<number, string>> = {
  [feishuCodes.imBotNotInChat]: 'Add the app’s bot to the group, then try again.',
  [feishuCodes.imBotAbilityOff]:
    'Enable the bot ability (添加应用能力 → 机器人 (Bot)) and publish a new version.',
  [feishuCodes.imUserOutsideAvailability]: `Add the user to the app’s availability (${consolePages.availability}) and publish a new version.`,
  [feishuCodes.imBotStopped]:
    'The user has stopped the bot; they must reopen its chat before it can message them.',
  [feishuCodes.noDepartmentAuthority]: `The department is outside the app’s contact data scope (${consolePages.contactScope}).`,
  [feishuCodes.noUserAuthority]: `The user is outside the app’s contact data scope (${consolePages.contactScope}).`,
};

/** The parts of a Feishu error body we read. */
export interface FeishuErrorBody {
  code?: unknown;
  msg?: unknown;
  error?: {
    permission_violations?: Array<{ type?: unknown; subject?: unknown; description?: unknown }>;
    field_violations?: Array<{ field?: unknown; description?: unknown }>;
    log_id?: unknown;
  };
}

/** Scope names from a `99991672` answer, in the vendor's order, without duplicates. */
export function missingScopes(body: FeishuErrorBody): string[] {
  const scopes: string[] = [];
  for (const violation of body.error?.permission_violations ?? []) {
    if (typeof violation?.subject === 'string' && violation.subject && !scopes.includes(violation.subject)) {
      scopes.push(violation.subject);
    }
  }
  if (scopes.length === 0 && typeof body.msg === 'string') {
    // Older answers carry the scopes only in the message: "... required: [a, b]."
    const listed = /\[([^\]]+)\]/.exec(body.msg)?.[1];
    for (const scope of listed?.split(',') ?? []) {
      const name = scope.trim();
      if (name && !scopes.includes(name)) scopes.push(name);
    }
  }
  return scopes;
}

/** Milliseconds until `x-ogw-ratelimit-reset` (seconds), or undefined when absent. */
export function rateLimitResetMs(headers: Headers | undefined): number | undefined {
  const reset = headers?.get('x-ogw-ratelimit-reset');
  if (!reset) return undefined;
  const seconds = Number(reset);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

export interface FeishuFailure {
  /** e.g. "Feishu" or "Lark". */
  label: string;
  /** What we were doing, e.g. "listing department od-… members". */
  action: string;
  status: number;
  headers?: Headers;
  body: FeishuErrorBody;
}

/** Maps a non-zero Feishu answer into our error table. */
export function feishuError(failure: FeishuFailure): AppError {
  const { label, action, status, body } = failure;
  const code = typeof body.code === 'number' ? body.code : Number(body.code);
  const msg = typeof body.msg === 'string' ? body.msg.slice(0, 300) : '';
  const said = `${label} answered ${msg ? `“${msg}” ` : ''}(code ${code}, HTTP ${status})`;

  if (code === feishuCodes.permissionDenied) {
    const scopes = missingScopes(body);
    const named = scopes.length > 0 ? `one of the scopes ${scopes.join(', ')}` : 'a scope it needs';
    return new AppError(
      'forbidden',
      `${label} app lacks ${named} for ${action}. Enable it in ${consolePages.permissions}, publish a new version of the app, then try again.`,
    );
  }
  if (rateLimitCodes.has(code) || status === 429) {
    const retryAfterMs = rateLimitResetMs(failure.headers);
    return new AppError('rate_limited', `${label} is rate limiting ${action}: ${said}.`, {
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (code === feishuCodes.appSecretInvalid) {
    return new AppError(
      'upstream_rejected',
      `${said} when asked for a tenant_access_token: the App Secret does not match the App ID. Copy the App Secret again from ${consolePages.credentials}.`,
    );
  }
  if (code === feishuCodes.invalidParam && action === tokenAction) {
    return new AppError(
      'upstream_rejected',
      `${said} when asked for a tenant_access_token: the App ID is unknown or a credential is empty. Copy the App ID and App Secret from ${consolePages.credentials}.`,
    );
  }
  if (tokenInvalidCodes.has(code)) {
    return new AppError(
      'upstream_rejected',
      `${label} refused a fresh tenant_access_token for ${action}: ${said}.`,
    );
  }
  if (transientCodes.has(code) || status >= 500) {
    return new AppError('upstream_error', `${label} failed ${action}: ${said}.`);
  }
  const fields = (body.error?.field_violations ?? [])
    .map((violation) => (typeof violation?.field === 'string' ? violation.field : ''))
    .filter(Boolean);
  const hint = hints[code] ?? (fields.length > 0 ? `Fields: ${fields.join(', ')}.` : '');
  return new AppError('upstream_rejected', `${label} refused ${action}: ${said}.${hint ? ` ${hint}` : ''}`);
}
