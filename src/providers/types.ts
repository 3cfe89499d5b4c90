// What the engine and the API may ask of an IM platform. A provider never touches the store or the engine:
// it gets a typed config plus injected edges (fetch, clock, logger, caches) and returns plain values or
// throws an AppError whose code says whether a retry can help.
import type { VendorApprovals } from './approvals.js';
import type { Fetch } from './http.js';
import type { RateLimiter } from './rate-limiter.js';

export const imTypes = ['feishu', 'lark', 'dingtalk', 'wecom'] as const;
export type ImType = (typeof imTypes)[number];

/** Credentials and settings of one registered IM app, decrypted, as a provider needs them. */
export type ImAppConfig =
  | {
      type: 'feishu' | 'lark';
      app_id: string;
      app_secret: string;
      encrypt_key?: string | undefined;
      verification_token?: string | undefined;
      api_base: string;
    }
  | {
      type: 'dingtalk';
      app_key: string;
      /** For work notifications (工作通知); not needed for approvals. */
      agent_id?: string | undefined;
      app_secret: string;
      aes_key: string;
      token: string;
      api_base: string;
      oapi_base: string;
    }
  | {
      type: 'wecom';
      corp_id: string;
      agent_id: string;
      secret: string;
      /** Token and EncodingAESKey arrive after the callback URL is set in WeCom's console. */
      token?: string | undefined;
      encoding_aes_key?: string | undefined;
      api_base: string;
    };

/** A person in the vendor's address book. `id` is what the vendor's approval and message APIs take. */
export interface ImUser {
  id: string;
  /** Feishu/Lark `open_id`; DingTalk and WeCom `userid`. */
  id_type: 'open_id' | 'userid';
  name: string;
  avatar: string | null;
  email?: string | null;
  mobile?: string | null;
  department_ids?: string[];
}

export interface ImDepartment {
  id: string;
  name: string;
  parent_id: string | null;
  member_count?: number | null;
}

export interface ImChat {
  id: string;
  name: string;
  avatar?: string | null;
}

export interface ImUserGroup {
  id: string;
  name: string;
  member_count?: number | null;
}

export interface DepartmentListing {
  department: ImDepartment;
  departments: ImDepartment[];
  users: ImUser[];
}

export interface UserQuery {
  email?: string;
  mobile?: string;
  /** A name (or part of one); providers without a search API filter the visible address book. */
  query?: string;
}

export interface PermissionReport {
  /** Scopes or permission names the vendor says are missing, as its console names them. */
  missing: string[];
  /** Checks that passed, for the "test connection" answer. */
  checked: string[];
}

/** The address book and credential check every platform offers. */
export interface ImClient {
  /** Requests a fresh token now (never from cache): proves the credentials. */
  checkCredentials(): Promise<void>;
  /** Probes the APIs Signoff needs and reports the permissions the vendor says are missing. */
  checkPermissions(): Promise<PermissionReport>;
  /** A department with its direct sub-departments and members, all pages. The root is `"0"` (Feishu) or `"1"`. */
  department(id: string): Promise<DepartmentListing>;
  rootDepartmentId: string;
  findUsers(query: UserQuery): Promise<ImUser[]>;
  /** Feishu/Lark only: group chats the bot is in, all pages. */
  chats?(query?: string): Promise<ImChat[]>;
  /** Feishu/Lark only: user groups. */
  userGroups?(): Promise<ImUserGroup[]>;
}

export interface ClientDeps {
  fetch: Fetch;
  /** Milliseconds since the epoch; injected so fakes and tests control token expiry. */
  now: () => number;
  tokens: TokenStore;
  /** Client-side rate limiting at the platform's documented limits, shared by every client of an app. */
  limiter?: RateLimiter;
}

/** An access token and when it expires (ms since the epoch). */
export interface StoredToken {
  token: string;
  expiresAt: number;
}

/**
 * Where access tokens live between calls: shared by every client of one app, and (the database store) by
 * every instance on one database.
 */
export interface TokenStore {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, value: StoredToken): Promise<void>;
  /** Drops the key's token; given `token`, only while the store still holds that one (not a newer one). */
  delete(key: string, token?: string): Promise<void>;
  /**
   * Stores shared by several processes: holding a lock that every process takes for the same key, returns
   * the token stored now (read past any cache in this process) if it is `usable`, else `fetch`es a new one
   * and stores it. So one process asks the vendor and the others then find its token. Without this,
   * asking is single-flight per process only.
   */
  refill?(
    key: string,
    usable: (stored: StoredToken) => boolean,
    fetch: () => Promise<StoredToken>,
  ): Promise<StoredToken>;
}

/** A callback request exactly as received: signatures are checked over these raw bytes. */
export interface CallbackRequest {
  method: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** A verified, decrypted vendor event, normalised enough to dedupe and route. */
export interface ImEvent {
  /** The vendor's dedup key (Feishu event_id/uuid, DingTalk composite, WeCom SpNo+status+time). */
  dedup_key: string;
  /** The vendor's event type, e.g. `approval_instance`, `bpms_instance_change`, `sys_approval_change`. */
  type: string;
  payload: unknown;
}

export interface CallbackResult {
  status: number;
  content_type: 'application/json' | 'text/plain' | 'application/xml';
  body: string;
  /** Present when the callback carried an event to record (absent for URL verification). */
  event?: ImEvent;
  /** Set for a URL-verification handshake, so the app can show "callback verified". */
  verification?: boolean;
  /**
   * The request's signed `timestamp:nonce`; the route refuses a second request with the same one inside
   * the timestamp window (a replay). Absent where the vendor signs no nonce (unencrypted Feishu).
   */
  replay_key?: string;
}

export interface CallbackOptions {
  now: () => number;
}

/** Verifies, decrypts and answers one callback; throws AppError (4xx) for anything forged or malformed. */
export type CallbackHandler = (
  config: ImAppConfig,
  request: CallbackRequest,
  options: CallbackOptions,
) => CallbackResult;

export interface ImProvider {
  type: ImType;
  /** Shown in errors and the console. */
  label: string;
  defaultApiBase: string;
  /** DingTalk's old API host. */
  defaultOapiBase?: string;
  createClient(config: ImAppConfig, deps: ClientDeps): ImClient;
  /** The platform's approval app, over a client from `createClient` (same config). */
  approvals(client: ImClient, config: ImAppConfig): VendorApprovals;
  handleCallback: CallbackHandler;
}
