// WeCom's `errcode`s mapped into our error table, each with the sentence an operator needs to fix it
// (reference/platforms.md §5.2, §6.2; WeCom's global code list, developer.work.weixin.qq.com path 90313).
// Every answer is HTTP 200 + {errcode, errmsg}: errcode 0 is the only success.
import { AppError, type ErrorCode } from '../../errors.js';

/** The token was refused: refresh it and retry once (40014 invalid, 42001 expired, 41001 missing). */
export const tokenInvalidCodes: ReadonlySet<number> = new Set([40014, 41001, 42001]);
/** "No such member" from the lookups (46004 from getuserid / get_userid_by_email, 60111 from user/get). */
export const noSuchUserCodes: ReadonlySet<number> = new Set([46004, 60111]);
/** The app may not call the API at all (not in the approval app's callable apps; permission revoked). */
export const apiForbiddenCodes: ReadonlySet<number> = new Set([48002, 48006]);
export const ipNotTrustedCode = 60020;

const SECRET_FIX =
  'Check the Secret: 应用管理 → 自建应用 → <app> → Secret (查看) (App Management → Self-built apps → <app> → Secret, View); ' +
  'it is sent to the admin in WeCom, and it must belong to this Corp ID.';
const CORP_ID_FIX = 'Check the Corp ID: 我的企业 → 企业信息 → 企业ID (My Company → Company Info → Corp ID).';
export const AGENT_ID_FIX =
  'Check the AgentId: 应用管理 → 自建应用 → <app> → AgentId; it must be the app whose Secret you entered.';
export const TRUSTED_IP_FIX =
  "Add this server's public IP under 应用管理 → 自建应用 → <app> → 企业可信IP (App Management → <app> → Trusted IPs).";
export const APPROVAL_ACCESS_FIX =
  'Add this app under 应用管理 → 审批 → API → 可调用接口的应用 (App Management → Approval → API → apps that may call the API).';
const VISIBLE_RANGE_FIX =
  "Widen the app's visible range: 应用管理 → 自建应用 → <app> → 可见范围 (App Management → <app> → Visible range); " +
  'the app only sees the members and departments in it.';

interface CodeInfo {
  code: ErrorCode;
  fix?: string;
  retryAfterMs?: number;
}

const codes: Record<number, CodeInfo> = {
  [-1]: { code: 'upstream_error', fix: 'WeCom is busy; try again shortly.' },
  40001: { code: 'upstream_rejected', fix: SECRET_FIX },
  40091: { code: 'upstream_rejected', fix: SECRET_FIX },
  41004: { code: 'upstream_rejected', fix: SECRET_FIX },
  40013: { code: 'upstream_rejected', fix: CORP_ID_FIX },
  41002: { code: 'upstream_rejected', fix: CORP_ID_FIX },
  40056: { code: 'upstream_rejected', fix: AGENT_ID_FIX },
  301002: { code: 'upstream_rejected', fix: AGENT_ID_FIX },
  // Still refused after a fresh token: WeCom's side, worth another try later.
  40014: { code: 'upstream_error' },
  41001: { code: 'upstream_error' },
  42001: { code: 'upstream_error' },
  // WeCom lifts a frequency block after the window it counts in (usually a minute).
  45009: { code: 'rate_limited', retryAfterMs: 60_000 },
  45033: { code: 'rate_limited', retryAfterMs: 1_000 },
  48002: { code: 'upstream_rejected', fix: `This app may not call this API. ${APPROVAL_ACCESS_FIX}` },
  48006: {
    code: 'upstream_rejected',
    fix: 'WeCom withdrew the API permission after a long time unused: re-enable the app under 应用管理 (App Management).',
  },
  50003: {
    code: 'upstream_rejected',
    fix: 'The app is disabled: enable it again under 应用管理 (App Management).',
  },
  60020: { code: 'upstream_rejected', fix: TRUSTED_IP_FIX },
  60011: { code: 'upstream_rejected', fix: VISIBLE_RANGE_FIX },
  60021: { code: 'upstream_rejected', fix: VISIBLE_RANGE_FIX },
  81013: { code: 'upstream_rejected', fix: `No recipient is valid. ${VISIBLE_RANGE_FIX}` },
  60003: { code: 'not_found', fix: "No such department in the app's visible range." },
  46004: { code: 'not_found', fix: 'No such member in the address book the app can see.' },
  60111: { code: 'not_found', fix: 'No such member in the address book the app can see.' },
  40003: { code: 'upstream_rejected', fix: 'A userid is not valid or not in the address book.' },
  301021: { code: 'upstream_rejected', fix: 'A userid is not in the address book.' },
  301025: {
    code: 'upstream_rejected',
    fix: 'WeCom refused the approval request (a parameter or a required control is wrong).',
  },
  40037: {
    code: 'not_found',
    fix: 'The approval template does not exist (it may have been deleted in WeCom).',
  },
  93000: {
    code: 'upstream_rejected',
    fix: 'The group robot webhook URL is not valid (the robot may have been removed from the group).',
  },
};

function describe(
  api: string,
  errcode: number,
  errmsg: string,
): [ErrorCode, string, { retryAfterMs?: number }] {
  // WeCom: only system failures are worth retrying; every other code needs someone to look — so unknown
  // codes are final.
  const info: CodeInfo = codes[errcode] ?? { code: 'upstream_rejected' };
  const said = errmsg.length > 300 ? `${errmsg.slice(0, 300)}…` : errmsg;
  return [
    info.code,
    `WeCom ${api} failed with errcode ${errcode} (${said}).${info.fix ? ` ${info.fix}` : ''}`,
    info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {},
  ];
}

/** A refusal from WeCom, with its own code and message kept for the operator. */
export class WeComApiError extends AppError {
  readonly api: string;
  readonly errcode: number;
  readonly errmsg: string;

  constructor(api: string, errcode: number, errmsg: string) {
    super(...describe(api, errcode, errmsg));
    this.name = 'WeComApiError';
    this.api = api;
    this.errcode = errcode;
    this.errmsg = errmsg;
  }
}

export function isWeComApiError(
  error: unknown,
  codes?: ReadonlySet<number> | number,
): error is WeComApiError {
  if (!(error instanceof WeComApiError)) return false;
  if (codes === undefined) return true;
  return typeof codes === 'number' ? error.errcode === codes : codes.has(error.errcode);
}
