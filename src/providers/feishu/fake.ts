// A Feishu / Lark Open Platform fake on the vendor's real paths (reference/platforms.md §3): the same
// envelopes, error codes, token lifetime, permission answers, rate-limit replies and callback crypto, for
// tests, the sandbox and benchmarks. Strict like the vendor: a missing or expired token, a scope the app
// lacks, a field it does not know, a page size over the limit are all refused the way Feishu refuses them.
//
// Reach it in-process through `fake.fetch` (Hono's app.request) or over a loopback socket (`fake.app.fetch`
// behind @hono/node-server); the official SDK works against it with `domain: 'http://127.0.0.1:<port>'`.
//
// Codes marked [UNVERIFIED] below are our best reading of the vendor's tables; nothing in our client
// depends on their exact values.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type FakeClock, FaultInjector, fakeClock, hang } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import { constantTimeEqual } from '../shared/msg-crypt.js';
import type { CallbackRequest } from '../types.js';
import { feishuApprovalCodes, feishuApprovalLink } from './approvals.js';
import { feishuTokenPath } from './client.js';
import { feishuCodes } from './codes.js';
import { encryptFeishuEvent, feishuBotSign, feishuSignature } from './crypto.js';
import { type FeishuSeed, feishuSeed, type SeedHook, type SeedUser } from './seed.js';

/** The API scopes each route accepts ("one of the following scopes is required"). */
export const feishuScopes = {
  contactRead: [
    'contact:contact.base:readonly',
    'contact:contact:readonly_as_app',
    'contact:contact:readonly',
    'contact:contact:access_as_app',
  ],
  userRead: [
    'contact:user.base:readonly',
    'contact:contact:readonly_as_app',
    'contact:contact:readonly',
    'contact:contact:access_as_app',
  ],
  userIdRead: ['contact:user.id:readonly'],
  groupRead: ['contact:group:readonly', 'contact:contact:readonly_as_app', 'contact:contact:readonly'],
  approvalRead: ['approval:approval:readonly', 'approval:approval'],
  approvalWrite: ['approval:approval'],
  chatRead: ['im:chat:readonly', 'im:chat'],
  messageSend: ['im:message:send_as_bot', 'im:message', 'im:message:send'],
  /** PATCH /im/v1/messages/:message_id (updating a card), in the order of its doc page. */
  messageUpdate: ['im:message', 'im:message:send_as_bot', 'im:message:update'],
} as const;

/** Every scope Signoff asks the operator to enable (the fake grants these unless told otherwise). */
export const signoffFeishuScopes: string[] = [
  'contact:contact.base:readonly',
  'contact:user.base:readonly',
  'contact:user.id:readonly',
  'contact:group:readonly',
  'approval:approval',
  'im:chat:readonly',
  'im:message:send_as_bot',
];

export interface FakeFeishuAppInput {
  app_id: string;
  app_secret: string;
  encrypt_key?: string;
  verification_token?: string;
  /** API scopes enabled in the console; default `signoffFeishuScopes`. */
  scopes?: string[];
  /** The contact data scope (通讯录权限范围): department open ids (`"0"` = everyone) and single users. */
  contact_scope?: { department_ids: string[]; user_ids: string[] };
}

export interface FeishuFakeOptions {
  apps?: FakeFeishuAppInput[];
  seed?: FeishuSeed;
  clock?: FakeClock;
  faults?: FaultInjector;
  /** Token lifetime; Feishu issues 7200 s. */
  tokenTtlSeconds?: number;
  /** Where instance links point (Feishu `applink.feishu.cn`, Lark `applink.larksuite.com`). */
  applinkBase?: string;
}

interface AppState extends Required<Omit<FakeFeishuAppInput, 'encrypt_key' | 'verification_token'>> {
  encrypt_key?: string | undefined;
  verification_token?: string | undefined;
}

export interface FakeDefinition {
  approval_code: string;
  approval_id: string;
  app_id: string;
  approval_name: string;
  /** The definition as created (form_content string, node_list, i18n_resources, …). */
  body: Record<string, unknown>;
  /** ACTIVE; INACTIVE once deactivated; DELETED once an admin deleted it (then unknown to every API). */
  status: 'ACTIVE' | 'INACTIVE' | 'DELETED';
  subscribed: boolean;
}

/** A node of a definition's node_list, as created. */
interface DefinitionNode {
  id: string;
  name?: string;
  node_type?: string;
  approver?: Array<{ type?: string }>;
  ccer?: Array<{ type?: string }>;
}

/** One approval node of an instance: its approvers get tasks when the flow reaches it. */
export interface FakeNodePlan {
  custom_node_id: string;
  node_id: string;
  node_name: string;
  type: 'AND' | 'OR' | 'SEQUENTIAL';
  approvers: string[];
}

export interface FakeTask {
  id: string;
  open_id: string;
  user_id: string;
  node_id: string;
  custom_node_id: string;
  node_name: string;
  type: 'AND' | 'OR' | 'SEQUENTIAL';
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'TRANSFERRED' | 'DONE';
  start_time: string;
  /** Unset while PENDING (answered as "0"). */
  end_time?: string;
}

export interface FakeInstance {
  instance_code: string;
  approval_code: string;
  app_id: string;
  uuid: string;
  open_id: string;
  form: string;
  title?: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELED' | 'DELETED';
  /** Set when the initiator revoked it after approval (the event says REVERTED; the status stays APPROVED). */
  reverted: boolean;
  start_time: string;
  end_time: string;
  serial_number: string;
  /** The approval nodes in order, with the approvers chosen at creation. */
  plan: FakeNodePlan[];
  /** Index in `plan` of the node being decided (plan.length once ended approved). */
  current: number;
  /** CC users chosen at creation, per START/END node. */
  cc: { START: string[]; END: string[] };
  /** Only the tasks of nodes the flow has reached. */
  tasks: FakeTask[];
  timeline: Array<Record<string, unknown>>;
  comments: Array<Record<string, unknown>>;
}

export interface FakeMessage {
  message_id: string;
  app_id: string;
  receive_id_type: string;
  receive_id: string;
  chat_id: string;
  msg_type: string;
  /** The current content (a card's latest version once it was updated). */
  content: string;
  uuid?: string;
  create_time: string;
  /** Set once the message was updated (PATCH). */
  update_time?: string;
  /** Earlier contents, oldest first: one entry per accepted update. */
  updates: string[];
}

/** A message a custom bot accepted on its webhook. */
export interface FakeHookMessage {
  hook_id: string;
  msg_type: string;
  /** The request body as sent (timestamp and sign included). */
  body: Record<string, unknown>;
  /** Fake-clock milliseconds. */
  at: number;
}

export type ApprovalDecision = 'APPROVED' | 'REJECTED';

export interface FeishuFake {
  app: Hono;
  /** In-process `fetch` for clients (no socket). */
  fetch: Fetch;
  clock: FakeClock;
  faults: FaultInjector;
  seed: FeishuSeed;
  definitions: Map<string, FakeDefinition>;
  instances: Map<string, FakeInstance>;
  messages: FakeMessage[];
  /** Messages custom bots accepted on their webhooks, in order. */
  hookMessages: FakeHookMessage[];
  /** Every request the fake answered, in order (tests count token requests with it). */
  requests: Array<{ method: string; path: string }>;
  /**
   * How a `rate_limit` fault or the per-app send limit (50/s, 1000/min) is answered: 99991400 with HTTP
   * 400, or HTTP 429. Both carry x-ogw-ratelimit-*.
   */
  rateLimitStyle: 'code' | 'http';
  addApp(app: FakeFeishuAppInput): void;
  /** Adds a custom bot (自定义机器人) to a group; its webhook is `/open-apis/bot/v2/hook/<hook_id>`. */
  addHook(hook: SeedHook): void;
  /** Changes the scopes enabled for an app (the console's 权限管理); takes effect at once. */
  setScopes(appId: string, scopes: string[]): void;
  setContactScope(appId: string, scope: { department_ids: string[]; user_ids: string[] }): void;
  /** Invalidates every issued token (or one app's): the next call gets 99991663. */
  revokeTokens(appId?: string): void;
  /**
   * An approver decides; returns the status-change callback when the instance status changed and its
   * definition is subscribed, as Feishu would push it (encrypted and signed when the app has a key).
   */
  decide(
    instanceCode: string,
    decision: ApprovalDecision,
    options?: { by?: string; comment?: string; schema?: '2.0' | '1.0' },
  ): CallbackRequest | undefined;
  /** An approver hands their pending task to someone else (转交): TRANSFERRED, and a new task for `to`. */
  transfer(instanceCode: string, from: string, to: string, options?: { comment?: string }): void;
  /** Someone comments on an instance (评论, in comment_list; not a decision). */
  comment(instanceCode: string, by: string, text: string): void;
  /** The initiator withdraws (撤回) a pending instance in the approval app: CANCELED, with its push. */
  cancelAtVendor(instanceCode: string, options?: { schema?: '2.0' | '1.0' }): CallbackRequest | undefined;
  /** The initiator revokes (撤销) an approved instance: `reverted`, and the REVERTED push. */
  revert(instanceCode: string, options?: { schema?: '2.0' | '1.0' }): CallbackRequest | undefined;
  /** An admin deletes a definition: it is unknown from then on, its pending instances become DELETED. */
  deleteDefinition(code: string, options?: { schema?: '2.0' | '1.0' }): CallbackRequest[];
  /** An admin deactivates (停用) a definition: new instances are refused with 1390015. */
  deactivateDefinition(code: string): void;
  /** A callback push for any event, built exactly as Feishu builds it for this app. */
  eventRequest(
    appId: string,
    eventType: string,
    event: Record<string, unknown>,
    options?: { schema?: '2.0' | '1.0'; event_id?: string },
  ): CallbackRequest;
  /** The url_verification handshake Feishu sends when the operator saves the request URL. */
  urlVerificationRequest(appId: string, challenge?: string): CallbackRequest;
  /** POSTs a callback request to `url` with the given fetch (default: global fetch). */
  deliver(url: string, request: CallbackRequest, fetchImpl?: Fetch): Promise<Response>;
}

class FakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly error?: Record<string, unknown>,
  ) {
    super(msg);
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const pageTokenOf = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');

function fieldError(field: string, description: string): FakeError {
  return new FakeError(400, feishuCodes.fieldValidation, 'field validation failed', {
    field_violations: [{ field, description }],
  });
}

export function createFeishuFake(options: FeishuFakeOptions = {}): FeishuFake {
  const clock = options.clock ?? fakeClock(Date.now);
  const faults = options.faults ?? new FaultInjector();
  const seed = options.seed ?? feishuSeed();
  const tokenTtlMs = (options.tokenTtlSeconds ?? 7200) * 1000;
  const applinkBase = options.applinkBase ?? 'https://applink.feishu.cn';
  const apps = new Map<string, AppState>();
  const tokens = new Map<string, { app_id: string; expiresAt: number }>();
  const definitions = new Map<string, FakeDefinition>();
  const instances = new Map<string, FakeInstance>();
  const instancesByUuid = new Map<string, string>();
  const messages: FakeMessage[] = [];
  const requests: FeishuFake['requests'] = [];
  let serial = 0;

  const usersById = new Map(seed.users.map((user) => [user.open_id, user]));
  const departmentsById = new Map(
    seed.departments.map((department) => [department.open_department_id, department]),
  );
  const departmentKey = (id: string) =>
    departmentsById.get(id)?.open_department_id ?? (id === '0' ? '0' : undefined);
  const resolveDepartment = (id: string) =>
    id === '0'
      ? '0'
      : (departmentsById.get(id)?.open_department_id ??
        seed.departments.find((d) => d.department_id === id)?.open_department_id);

  function addApp(input: FakeFeishuAppInput): void {
    apps.set(input.app_id, {
      app_id: input.app_id,
      app_secret: input.app_secret,
      encrypt_key: input.encrypt_key,
      verification_token: input.verification_token,
      scopes: input.scopes ?? [...signoffFeishuScopes],
      contact_scope: input.contact_scope ?? { department_ids: ['0'], user_ids: [] },
    });
  }
  for (const app of options.apps ?? []) addApp(app);

  function appOf(appId: string): AppState {
    const app = apps.get(appId);
    if (!app) throw new Error(`The Feishu fake has no app ${appId}.`);
    return app;
  }

  // ---- contact data scope -------------------------------------------------------------------------

  function descendants(id: string): string[] {
    const out: string[] = [];
    const walk = (parent: string) => {
      for (const department of seed.departments) {
        if (department.parent_department_id === parent) {
          out.push(department.open_department_id);
          walk(department.open_department_id);
        }
      }
    };
    walk(id);
    return out;
  }

  function visibleDepartments(app: AppState): Set<string> {
    const visible = new Set<string>();
    for (const root of app.contact_scope.department_ids) {
      visible.add(root);
      for (const id of descendants(root)) visible.add(id);
    }
    return visible;
  }

  function userVisible(app: AppState, user: SeedUser): boolean {
    if (app.contact_scope.user_ids.includes(user.open_id)) return true;
    const visible = visibleDepartments(app);
    return user.department_ids.some((id) => visible.has(id));
  }

  // ---- request plumbing -----------------------------------------------------------------------------

  const app = new Hono();

  function reply(c: Context, data: unknown, status = 200): Response {
    return c.json({ code: 0, msg: 'success', data }, status as 200);
  }

  function failure(c: Context, error: FakeError): Response {
    return c.json(
      {
        code: error.code,
        msg: error.msg,
        ...(error.error ? { error: { ...error.error, log_id: hex(16) } } : { error: { log_id: hex(16) } }),
      },
      error.status as 400,
    );
  }

  /** A frequency limit as the Open Platform answers it: 99991400 (HTTP 400, or 429) with x-ogw-ratelimit-*. */
  function rateLimitAnswer(c: Context, limit: number, resetSeconds: number): Response {
    const headers = { 'x-ogw-ratelimit-limit': String(limit), 'x-ogw-ratelimit-reset': String(resetSeconds) };
    if (fake.rateLimitStyle === 'http') {
      return c.json({ code: feishuCodes.rateLimited, msg: 'too many request' }, 429, headers);
    }
    return c.json({ code: feishuCodes.rateLimited, msg: 'request trigger frequency limit' }, 400, headers);
  }

  /**
   * The injected fault for this call: the answer to give instead of the real one, `'lost'` when the call
   * is to be processed in full and its answer then withheld (`answer_lost`), or undefined.
   */
  async function applyFault(
    c: Context,
    route: 'api' | 'token' | 'hook',
  ): Promise<Response | 'lost' | undefined> {
    const fault = faults.take();
    if (!fault) return undefined;
    if (fault === 'revoke_token') {
      tokens.clear();
      return undefined;
    }
    if (fault === 'answer_lost') return 'lost';
    if (fault === 'timeout') return hang(c.req.raw.signal);
    if (fault === 'server_error') return c.json({ code: 1500, msg: 'internal error' }, 500);
    // A custom bot is limited with 11232 in an HTTP 200 envelope, not with the Open Platform's 99991400.
    if (route === 'hook') return hookRateLimited(c);
    return rateLimitAnswer(c, route === 'token' ? 1000 : 50, 1);
  }

  /** `answer_lost`: the work is done, but the client never hears back (until it gives up). */
  function deliverOrLose(
    c: Context,
    faulted: 'lost' | undefined,
    response: Response,
  ): Response | Promise<Response> {
    return faulted === 'lost' ? hang(c.req.raw.signal) : response;
  }

  // ---- frequency limits: sliding windows on the fake clock; only accepted calls count ------------------

  interface Limit {
    limit: number;
    windowMs: number;
  }
  /** im/v1 send (and card update) per app: 50/s and 1000/min → 99991400. */
  const appMessageLimits: Limit[] = [
    { limit: 50, windowMs: 1000 },
    { limit: 1000, windowMs: 60_000 },
  ];
  /** To one user, or into one group (shared by every bot in it): 5/s → 230020. Also per card update. */
  const perTargetLimits: Limit[] = [{ limit: 5, windowMs: 1000 }];
  /** A custom bot: 5/s and 100/min → 11232. */
  const hookLimits: Limit[] = [
    { limit: 5, windowMs: 1000 },
    { limit: 100, windowMs: 60_000 },
  ];
  const acceptedAt = new Map<string, number[]>();

  /** The first limit `key` has reached at `now`, with the seconds until a slot frees; undefined if none. */
  function overLimit(key: string, limits: readonly Limit[], now: number) {
    const longest = Math.max(...limits.map((rule) => rule.windowMs));
    const times = (acceptedAt.get(key) ?? []).filter((at) => at > now - longest);
    acceptedAt.set(key, times);
    for (const rule of limits) {
      const inWindow = times.filter((at) => at > now - rule.windowMs);
      if (inWindow.length < rule.limit) continue;
      const freesAt = inWindow[inWindow.length - rule.limit]! + rule.windowMs;
      return { limit: rule.limit, resetSeconds: Math.max(1, Math.ceil((freesAt - now) / 1000)) };
    }
    return undefined;
  }

  function countAccepted(now: number, ...keys: string[]): void {
    for (const key of keys) acceptedAt.set(key, [...(acceptedAt.get(key) ?? []), now]);
  }

  const frequencyLimit = () =>
    new FakeError(400, feishuCodes.imFrequencyLimit, 'This operation triggers the frequency limit.');

  function authenticate(c: Context): AppState {
    const authorization = c.req.header('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(authorization);
    if (!match) {
      throw new FakeError(
        400,
        feishuCodes.tokenMissing,
        'Missing access token for authorization. Please make a request with token attached.',
      );
    }
    const issued = tokens.get(match[1]!);
    if (!issued || issued.expiresAt <= clock.now()) {
      throw new FakeError(
        400,
        feishuCodes.tokenInvalid,
        'Invalid access token for authorization. Please make a request with token attached.',
      );
    }
    return appOf(issued.app_id);
  }

  function requireScope(app: AppState, accepted: readonly string[]): void {
    if (accepted.some((scope) => app.scopes.includes(scope))) return;
    const list = accepted.join(', ');
    throw new FakeError(
      400,
      feishuCodes.permissionDenied,
      `Access denied. One of the following scopes is required: [${list}].应用尚未开通所需的应用身份权限：[${list}]，点击链接申请并开通任一权限即可：https://open.feishu.cn/app/${app.app_id}/auth?q=${encodeURIComponent(accepted.join(','))}&op_from=openapi&token_type=tenant`,
      { permission_violations: accepted.map((subject) => ({ type: 'action_scope_required', subject })) },
    );
  }

  async function jsonBody(c: Context, allowed: readonly string[]): Promise<Record<string, unknown>> {
    const text = await c.req.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new FakeError(400, feishuCodes.fieldValidation, 'invalid request body: not JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw fieldError('body', 'must be a JSON object');
    for (const key of Object.keys(body)) {
      if (!allowed.includes(key)) throw fieldError(key, 'unknown field');
    }
    return body as Record<string, unknown>;
  }

  function pageParams(c: Context, max: number, fallback: number): { offset: number; size: number } {
    const sizeText = c.req.query('page_size');
    const size = sizeText === undefined ? fallback : Number(sizeText);
    if (!Number.isInteger(size) || size < 1 || size > max)
      throw fieldError('page_size', `must be between 1 and ${max}`);
    const token = c.req.query('page_token');
    if (!token) return { offset: 0, size };
    const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
    if (!match) throw fieldError('page_token', 'invalid page token');
    return { offset: Number(match[1]), size };
  }

  function page<T>(items: T[], { offset, size }: { offset: number; size: number }) {
    const slice = items.slice(offset, offset + size);
    const hasMore = offset + size < items.length;
    return {
      items: slice,
      has_more: hasMore,
      ...(hasMore ? { page_token: pageTokenOf(offset + size) } : { page_token: '' }),
    };
  }

  function oneOf(c: Context, name: string, values: readonly string[], fallback?: string): string {
    const value = c.req.query(name) ?? fallback;
    if (value === undefined || !values.includes(value))
      throw fieldError(name, `must be one of ${values.join(', ')}`);
    return value;
  }

  /** Wraps an authenticated route: faults, token, scope, then the handler; FakeErrors become envelopes. */
  function api(
    scopes: readonly string[],
    handler: (c: Context, app: AppState) => Promise<Response> | Response,
  ) {
    return async (c: Context) => {
      requests.push({ method: c.req.method, path: new URL(c.req.url).pathname });
      const faulted = await applyFault(c, 'api');
      if (faulted instanceof Response) return faulted;
      let response: Response;
      try {
        const state = authenticate(c);
        requireScope(state, scopes);
        response = await handler(c, state);
      } catch (error) {
        if (!(error instanceof FakeError)) throw error;
        response = failure(c, error);
      }
      return deliverOrLose(c, faulted, response);
    };
  }

  // ---- token ---------------------------------------------------------------------------------------

  app.post(feishuTokenPath, async (c) => {
    requests.push({ method: 'POST', path: feishuTokenPath });
    const faulted = await applyFault(c, 'token');
    if (faulted instanceof Response) return faulted;
    return deliverOrLose(c, faulted, await issueToken(c));
  });

  async function issueToken(c: Context): Promise<Response> {
    try {
      const body = await jsonBody(c, ['app_id', 'app_secret']);
      const state = typeof body.app_id === 'string' ? apps.get(body.app_id) : undefined;
      if (!state || typeof body.app_secret !== 'string' || body.app_secret === '') {
        return c.json({ code: feishuCodes.invalidParam, msg: 'invalid param' }, 400);
      }
      if (body.app_secret !== state.app_secret) {
        return c.json({ code: feishuCodes.appSecretInvalid, msg: 'app secret invalid' }, 400);
      }
      // The same token comes back until less than 30 minutes remain; then a new one, the old still valid.
      const now = clock.now();
      let current: [string, { app_id: string; expiresAt: number }] | undefined;
      for (const entry of tokens) {
        if (entry[1].app_id === state.app_id && entry[1].expiresAt - now >= 30 * 60_000) current = entry;
      }
      if (!current) {
        current = [`t-g${hex(20)}`, { app_id: state.app_id, expiresAt: now + tokenTtlMs }];
        tokens.set(current[0], current[1]);
      }
      return c.json({
        code: 0,
        msg: 'ok',
        tenant_access_token: current[0],
        expire: Math.floor((current[1].expiresAt - now) / 1000),
      });
    } catch (error) {
      if (error instanceof FakeError) return failure(c, error);
      throw error;
    }
  }

  // ---- contact v3 ----------------------------------------------------------------------------------

  const userView = (user: SeedUser) => ({
    union_id: user.union_id,
    user_id: user.user_id,
    open_id: user.open_id,
    name: user.name,
    en_name: user.en_name,
    email: user.email,
    mobile: user.mobile,
    mobile_visible: true,
    avatar: {
      avatar_72: user.avatar_240.replace('240x240', '72x72'),
      avatar_240: user.avatar_240,
      avatar_640: user.avatar_240.replace('240x240', '640x640'),
      avatar_origin: user.avatar_240.replace('?image_size=240x240', ''),
    },
    status: {
      is_frozen: false,
      is_resigned: Boolean(user.is_resigned),
      is_activated: !user.is_resigned,
      is_exited: false,
      is_unjoin: false,
    },
    department_ids: user.department_ids,
  });

  const departmentView = (id: string) => {
    if (id === '0') {
      return {
        name: seed.tenant_name,
        department_id: '0',
        open_department_id: '0',
        member_count: seed.users.filter((u) => !u.is_resigned).length,
        status: { is_deleted: false },
      };
    }
    const department = departmentsById.get(id)!;
    const members = seed.users.filter((user) => !user.is_resigned && user.department_ids.includes(id)).length;
    return {
      name: department.name,
      i18n_name: { zh_cn: department.name, en_us: department.name },
      parent_department_id: department.parent_department_id,
      department_id: department.department_id,
      open_department_id: department.open_department_id,
      member_count: members,
      primary_member_count: members,
      status: { is_deleted: false },
    };
  };

  function visibleDepartment(state: AppState, raw: string | undefined): string {
    const id = raw === undefined ? undefined : resolveDepartment(raw);
    if (!id || (id !== '0' && !departmentKey(id)))
      throw new FakeError(400, feishuCodes.noDepartmentAuthority, 'no dept authority error');
    if (!visibleDepartments(state).has(id))
      throw new FakeError(400, feishuCodes.noDepartmentAuthority, 'no dept authority error');
    return id;
  }

  app.get(
    '/open-apis/contact/v3/users/find_by_department',
    api(feishuScopes.contactRead, (c, state) => {
      oneOf(c, 'user_id_type', ['open_id', 'union_id', 'user_id'], 'open_id');
      oneOf(c, 'department_id_type', ['open_department_id', 'department_id'], 'open_department_id');
      const id = visibleDepartment(state, c.req.query('department_id'));
      const members = seed.users.filter((user) => !user.is_resigned && user.department_ids.includes(id));
      return reply(c, page(members.map(userView), pageParams(c, 50, 10)));
    }),
  );

  app.get(
    '/open-apis/contact/v3/departments/:id/children',
    api(feishuScopes.contactRead, (c, state) => {
      oneOf(c, 'department_id_type', ['open_department_id', 'department_id'], 'open_department_id');
      const id = visibleDepartment(state, c.req.param('id'));
      const recursive = c.req.query('fetch_child') === 'true';
      const ids = recursive
        ? descendants(id)
        : seed.departments.filter((d) => d.parent_department_id === id).map((d) => d.open_department_id);
      return reply(c, page(ids.map(departmentView), pageParams(c, 50, 10)));
    }),
  );

  app.get(
    '/open-apis/contact/v3/departments/:id',
    api(feishuScopes.contactRead, (c, state) => {
      const id = visibleDepartment(state, c.req.param('id'));
      return reply(c, { department: departmentView(id) });
    }),
  );

  app.get(
    '/open-apis/contact/v3/users/:id',
    api(feishuScopes.userRead, (c, state) => {
      oneOf(c, 'user_id_type', ['open_id', 'union_id', 'user_id'], 'open_id');
      const user = usersById.get(c.req.param('id') ?? '');
      // [UNVERIFIED] an unknown id and one outside the data scope both answer "no user authority".
      if (!user || !userVisible(state, user))
        throw new FakeError(400, feishuCodes.noUserAuthority, 'no user authority error');
      return reply(c, { user: userView(user) });
    }),
  );

  app.post(
    '/open-apis/contact/v3/users/batch_get_id',
    api(feishuScopes.userIdRead, async (c, state) => {
      oneOf(c, 'user_id_type', ['open_id', 'union_id', 'user_id'], 'open_id');
      const body = await jsonBody(c, ['emails', 'mobiles', 'include_resigned']);
      const emails = (body.emails ?? []) as unknown[];
      const mobiles = (body.mobiles ?? []) as unknown[];
      if (!Array.isArray(emails) || emails.length > 50 || emails.some((e) => typeof e !== 'string'))
        throw fieldError('emails', 'at most 50 strings');
      if (!Array.isArray(mobiles) || mobiles.length > 50 || mobiles.some((m) => typeof m !== 'string'))
        throw fieldError('mobiles', 'at most 50 strings');
      const candidates = seed.users.filter(
        (user) => (body.include_resigned === true || !user.is_resigned) && userVisible(state, user),
      );
      const plain = (mobile: string) => mobile.replace(/^\+86/, '');
      const user_list = [
        ...(emails as string[]).map((email) => {
          const user = candidates.find((u) => u.email.toLowerCase() === email.toLowerCase());
          return { email, ...(user ? { user_id: user.open_id, status: userView(user).status } : {}) };
        }),
        ...(mobiles as string[]).map((mobile) => {
          const user = candidates.find((u) => plain(u.mobile) === plain(mobile));
          return { mobile, ...(user ? { user_id: user.open_id, status: userView(user).status } : {}) };
        }),
      ];
      return reply(c, { user_list });
    }),
  );

  app.get(
    '/open-apis/contact/v3/scopes',
    api(feishuScopes.contactRead, (c, state) => {
      const entries = [
        ...state.contact_scope.department_ids.map((id) => ({ department: id })),
        ...state.contact_scope.user_ids.map((id) => ({ user: id })),
      ];
      const { items, has_more, page_token } = page(entries, pageParams(c, 100, 50));
      return reply(c, {
        department_ids: items.flatMap((entry) => ('department' in entry ? [entry.department] : [])),
        user_ids: items.flatMap((entry) => ('user' in entry ? [entry.user] : [])),
        group_ids: [],
        has_more,
        page_token,
      });
    }),
  );

  app.get(
    '/open-apis/contact/v3/group/simplelist',
    api(feishuScopes.groupRead, (c) => {
      const type = Number(c.req.query('type') ?? 1);
      if (type !== 1 && type !== 2) throw fieldError('type', 'must be 1 or 2');
      const groups = seed.user_groups
        .filter((group) => group.type === type)
        .map((group) => ({
          id: group.id,
          name: group.name,
          description: '',
          member_user_count: group.member_open_ids.length,
          member_department_count: 0,
          type,
        }));
      const { items, has_more, page_token } = page(groups, pageParams(c, 100, 50));
      return reply(c, { grouplist: items, has_more, page_token });
    }),
  );

  // ---- im v1 ---------------------------------------------------------------------------------------

  const chatView = (chat: FeishuSeed['chats'][number]) => ({
    chat_id: chat.chat_id,
    avatar: chat.avatar,
    name: chat.name,
    description: '',
    owner_id: chat.owner_open_id,
    owner_id_type: 'open_id',
    external: false,
    tenant_key: seed.tenant_key,
    chat_status: 'normal',
  });
  const botChats = () => seed.chats.filter((chat) => chat.bot_member);

  app.get(
    '/open-apis/im/v1/chats',
    api(feishuScopes.chatRead, (c) => reply(c, page(botChats().map(chatView), pageParams(c, 100, 20)))),
  );

  app.get(
    '/open-apis/im/v1/chats/search',
    api(feishuScopes.chatRead, (c) => {
      const query = (c.req.query('query') ?? '').toLowerCase();
      const chats = botChats().filter((chat) => chat.name.toLowerCase().includes(query));
      return reply(c, page(chats.map(chatView), pageParams(c, 100, 20)));
    }),
  );

  const messageTypes = [
    'text',
    'post',
    'image',
    'file',
    'audio',
    'media',
    'sticker',
    'interactive',
    'share_chat',
    'share_user',
  ];

  app.post(
    '/open-apis/im/v1/messages',
    api(feishuScopes.messageSend, async (c, state) => {
      const receiveIdType = oneOf(c, 'receive_id_type', [
        'open_id',
        'user_id',
        'union_id',
        'email',
        'chat_id',
      ]);
      const body = await jsonBody(c, ['receive_id', 'msg_type', 'content', 'uuid']);
      if (typeof body.receive_id !== 'string' || !body.receive_id) throw fieldError('receive_id', 'required');
      if (typeof body.msg_type !== 'string' || !messageTypes.includes(body.msg_type))
        throw fieldError('msg_type', 'unknown message type');
      if (typeof body.content !== 'string') throw fieldError('content', 'must be a JSON string');
      if (body.uuid !== undefined && (typeof body.uuid !== 'string' || body.uuid.length > 50))
        throw fieldError('uuid', 'at most 50 characters');
      try {
        JSON.parse(body.content);
      } catch {
        throw new FakeError(400, feishuCodes.imBadParam, 'invalid message content: not JSON');
      }
      const limit = body.msg_type === 'text' ? 150 * 1024 : 30 * 1024;
      if (Buffer.byteLength(body.content) > limit)
        throw new FakeError(400, feishuCodes.imContentTooLong, 'The message is too long.');

      const now = clock.now();
      if (body.uuid) {
        // A repeated uuid within an hour is the same message, not a second one.
        const earlier = messages.find(
          (m) => m.app_id === state.app_id && m.uuid === body.uuid && now - Number(m.create_time) < 3_600_000,
        );
        if (earlier) return reply(c, messageView(earlier));
      }
      let chatId: string;
      /** Whose 5/s this send counts against: the group's (shared by all its bots), or the user's. */
      let target: string;
      if (receiveIdType === 'chat_id') {
        const chat = seed.chats.find((item) => item.chat_id === body.receive_id);
        if (!chat) throw new FakeError(400, feishuCodes.imBadReceiveId, 'Invalid receive_id.');
        if (!chat.bot_member)
          throw new FakeError(400, feishuCodes.imBotNotInChat, 'Bot/User can NOT be out of the chat.');
        chatId = chat.chat_id;
        target = `send:chat:${chat.chat_id}`;
      } else {
        const field = { open_id: 'open_id', user_id: 'user_id', union_id: 'union_id', email: 'email' }[
          receiveIdType
        ] as keyof SeedUser;
        const user = seed.users.find((item) => item[field] === body.receive_id);
        if (!user) throw new FakeError(400, feishuCodes.imBadReceiveId, 'Invalid receive_id.');
        if (!userVisible(state, user) || user.is_resigned)
          throw new FakeError(
            400,
            feishuCodes.imUserOutsideAvailability,
            'Bot has NO availability to this user.',
          );
        chatId = `oc_${hex(16)}`;
        target = `send:user:${state.app_id}:${user.open_id}`;
      }
      const appKey = `send:app:${state.app_id}`;
      const appOver = overLimit(appKey, appMessageLimits, now);
      if (appOver) return rateLimitAnswer(c, appOver.limit, appOver.resetSeconds);
      if (overLimit(target, perTargetLimits, now)) throw frequencyLimit();
      countAccepted(now, appKey, target);
      const message: FakeMessage = {
        message_id: `om_${hex(16)}`,
        app_id: state.app_id,
        receive_id_type: receiveIdType,
        receive_id: body.receive_id,
        chat_id: chatId,
        msg_type: body.msg_type,
        content: body.content,
        ...(body.uuid ? { uuid: body.uuid as string } : {}),
        create_time: String(now),
        updates: [],
      };
      messages.push(message);
      return reply(c, messageView(message));
    }),
  );

  function messageView(message: FakeMessage) {
    return {
      message_id: message.message_id,
      msg_type: message.msg_type,
      create_time: message.create_time,
      update_time: message.update_time ?? message.create_time,
      deleted: false,
      updated: message.updates.length > 0,
      chat_id: message.chat_id,
      sender: { id: message.app_id, id_type: 'app_id', sender_type: 'app', tenant_key: seed.tenant_key },
      body: { content: message.content },
    };
  }

  // Update a card in place (消息卡片/更新应用发送的消息卡片). Only the app's own interactive messages.
  app.patch(
    '/open-apis/im/v1/messages/:message_id',
    api(feishuScopes.messageUpdate, async (c, state) => {
      const body = await jsonBody(c, ['content']);
      if (typeof body.content !== 'string' || body.content === '') throw fieldError('content', 'required');
      const message = messages.find((item) => item.message_id === c.req.param('message_id'));
      // unverified: the doc lists no code for an unknown message_id; 99992354 is what third parties report
      // for message_id path parameters that do not exist.
      if (!message)
        throw new FakeError(
          400,
          feishuCodes.invalidId,
          'The request you send is not a valid {open_message_id} or not exists',
        );
      // unverified: 230012 is documented for other message APIs (read users, urgent), not for this one.
      if (message.app_id !== state.app_id)
        throw new FakeError(400, feishuCodes.imNotMessageSender, 'Bot is NOT the sender of the message.');
      // Observed (go-lark/lark#48): a message that is not a card is refused with 230001 and this ext.
      if (message.msg_type !== 'interactive')
        throw new FakeError(
          400,
          feishuCodes.imBadParam,
          'Your request contains an invalid request parameter, ext=This message is NOT a card',
        );
      const now = clock.now();
      if (now - Number(message.create_time) > 14 * 86_400_000)
        throw new FakeError(
          400,
          feishuCodes.imUpdateExpired,
          'Message has expired when updating message, ext=Message can only be updated within fourteen days.',
        );
      try {
        JSON.parse(body.content);
      } catch {
        // unverified: the code for card content that is not JSON (send answers 230001 too).
        throw new FakeError(400, feishuCodes.imBadParam, 'invalid message content: not JSON');
      }
      if (Buffer.byteLength(body.content) > 30 * 1024)
        throw new FakeError(400, feishuCodes.imContentTooLong, 'The message is too long.');
      const appKey = `update:app:${state.app_id}`;
      const appOver = overLimit(appKey, appMessageLimits, now);
      if (appOver) return rateLimitAnswer(c, appOver.limit, appOver.resetSeconds);
      // One message takes at most 5 updates a second.
      const target = `update:message:${message.message_id}`;
      if (overLimit(target, perTargetLimits, now)) throw frequencyLimit();
      countAccepted(now, appKey, target);
      message.updates.push(message.content);
      message.content = body.content;
      message.update_time = String(now);
      return reply(c, {});
    }),
  );

  // ---- custom bot webhooks (自定义机器人, platforms.md §3.9) ------------------------------------------
  //
  // No token and no scope: the hook id in the path is the credential. Every answer is HTTP 200 with a
  // `code`; only success carries the legacy StatusCode/StatusMessage pair.

  const hooks = new Map<string, SeedHook>();
  const hookMessages: FakeHookMessage[] = [];

  function addHook(hook: SeedHook): void {
    hooks.set(hook.hook_id, { ...hook, ...(hook.keywords ? { keywords: [...hook.keywords] } : {}) });
  }
  for (const hook of seed.hooks) addHook(hook);

  const hookRefusal = (c: Context, code: number, msg: string) => c.json({ code, msg, data: {} });
  // The code is documented; the msg is as observed by third parties.
  const hookRateLimited = (c: Context) =>
    hookRefusal(
      c,
      feishuCodes.hookRateLimited,
      'frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]',
    );

  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const filled = (value: unknown) => typeof value === 'string' && value !== '';

  /** Whether the body has the shape its msg_type needs (a card travels in `card`, not in `content`). */
  function hookBodyValid(body: Record<string, unknown>): boolean {
    const content = body.content;
    switch (body.msg_type) {
      case 'text':
        return isObject(content) && filled(content.text);
      case 'post':
        return (
          isObject(content) &&
          isObject(content.post) &&
          Object.values(content.post).some((locale) => isObject(locale) && Array.isArray(locale.content))
        );
      case 'image':
        return isObject(content) && filled(content.image_key);
      case 'share_chat':
        return isObject(content) && filled(content.share_chat_id);
      case 'interactive':
        return isObject(body.card);
      default:
        return false;
    }
  }

  /** The text values keywords are matched against (`text`, `title`, a card's `content`; never `href`). */
  function hookTexts(value: unknown, key = ''): string[] {
    if (typeof value === 'string') return ['text', 'title', 'content'].includes(key) ? [value] : [];
    if (Array.isArray(value)) return value.flatMap((item) => hookTexts(item));
    if (isObject(value)) return Object.entries(value).flatMap(([name, item]) => hookTexts(item, name));
    return [];
  }

  async function hookAnswer(c: Context): Promise<Response> {
    const hook = hooks.get(c.req.param('hook_id') ?? '');
    // unverified: the answer for an unknown or deleted hook is observed (many third-party reports), not
    // documented. It comes first, whatever the body.
    if (!hook)
      return hookRefusal(
        c,
        feishuCodes.hookTokenInvalid,
        'param invalid: incoming webhook access token invalid',
      );
    const text = await c.req.text();
    if (Buffer.byteLength(text) > 20 * 1024) return hookRefusal(c, feishuCodes.hookBadRequest, 'Bad Request');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return hookRefusal(c, feishuCodes.hookBadRequest, 'Bad Request');
    }
    if (!isObject(body)) return hookRefusal(c, feishuCodes.hookBadRequest, 'Bad Request');
    const now = clock.now();
    if (hook.secret) {
      const timestamp = typeof body.timestamp === 'number' ? String(body.timestamp) : body.timestamp;
      const fresh =
        typeof timestamp === 'string' &&
        /^\d+$/.test(timestamp) &&
        Math.abs(now / 1000 - Number(timestamp)) <= 3600;
      if (
        !fresh ||
        typeof body.sign !== 'string' ||
        !constantTimeEqual(feishuBotSign(hook.secret, timestamp), body.sign)
      ) {
        return hookRefusal(
          c,
          feishuCodes.hookSignInvalid,
          'sign match fail or timestamp is not within one hour from current time',
        );
      }
    }
    if (!hookBodyValid(body)) return hookRefusal(c, feishuCodes.hookBadRequest, 'Bad Request');
    if (hook.keywords?.length) {
      const texts = hookTexts({ content: body.content, card: body.card });
      if (!hook.keywords.some((word) => texts.some((value) => value.includes(word))))
        return hookRefusal(c, feishuCodes.hookKeywordMissing, 'Key Words Not Found');
    }
    const key = `hook:${hook.hook_id}`;
    if (overLimit(key, hookLimits, now)) return hookRateLimited(c);
    countAccepted(now, key);
    hookMessages.push({ hook_id: hook.hook_id, msg_type: body.msg_type as string, body, at: now });
    return c.json({ code: 0, msg: 'success', data: {}, StatusCode: 0, StatusMessage: 'success' });
  }

  app.post('/open-apis/bot/v2/hook/:hook_id', async (c) => {
    requests.push({ method: 'POST', path: new URL(c.req.url).pathname });
    const faulted = await applyFault(c, 'hook');
    if (faulted instanceof Response) return faulted;
    return deliverOrLose(c, faulted, await hookAnswer(c));
  });

  // ---- approval v4 ---------------------------------------------------------------------------------
  //
  // As the approval v4 pages describe it (see approvals.ts for the list): a node's tasks exist only once the
  // flow reaches it; a uuid is used once per tenant (60012 on reuse) and instance/get accepts it in place of
  // the instance code; the reason given with a decision is timeline[].comment, comment_list holds comments;
  // an instance of a deleted definition becomes DELETED; a revoked approved one stays APPROVED with
  // `reverted: true` (the event says REVERTED).

  const approvalError = (msg: string) => new FakeError(400, feishuCodes.approvalParamError, msg);
  const unknownDefinition = () =>
    new FakeError(400, feishuApprovalCodes.approvalNotFound, 'approval code not found');
  const inactiveDefinition = () =>
    new FakeError(400, feishuApprovalCodes.approvalNotActive, 'approval is not active');
  const unknownInstance = () =>
    new FakeError(400, feishuApprovalCodes.instanceNotFound, 'instance code not found');
  const uuidKey = (uuid: string) => uuid.toLowerCase();
  let taskSerial = 0;

  function i18nText(body: Record<string, unknown>, key: unknown): string {
    if (typeof key !== 'string') return '';
    if (!key.startsWith('@i18n@')) return key;
    const resources =
      (body.i18n_resources as Array<{
        is_default?: boolean;
        texts?: Array<{ key: string; value: string }>;
      }>) ?? [];
    for (const resource of [...resources].sort((a, b) => Number(b.is_default) - Number(a.is_default))) {
      const found = resource.texts?.find((text) => text.key === key);
      if (found) return found.value;
    }
    return key;
  }

  function definitionOf(state: AppState, code: string, active = false): FakeDefinition {
    const definition = definitions.get(code);
    if (!definition || definition.app_id !== state.app_id || definition.status === 'DELETED')
      throw unknownDefinition();
    if (active && definition.status !== 'ACTIVE') throw inactiveDefinition();
    return definition;
  }

  function definitionNodes(definition: FakeDefinition): DefinitionNode[] {
    return definition.body.node_list as DefinitionNode[];
  }

  const isFree = (node: DefinitionNode) => (node.approver ?? []).some((approver) => approver.type === 'Free');

  app.post(
    '/open-apis/approval/v4/approvals',
    api(feishuScopes.approvalWrite, async (c, state) => {
      oneOf(c, 'user_id_type', ['open_id', 'user_id', 'union_id'], 'open_id');
      const body = await jsonBody(c, [
        'approval_name',
        'approval_code',
        'description',
        'viewers',
        'form',
        'node_list',
        'settings',
        'config',
        'icon',
        'i18n_resources',
        'process_manager_ids',
      ]);
      for (const field of ['approval_name', 'viewers', 'form', 'node_list', 'i18n_resources']) {
        if (body[field] === undefined) throw fieldError(field, 'required');
      }
      if (
        typeof body.approval_name !== 'string' ||
        !body.approval_name.startsWith('@i18n@') ||
        body.approval_name.length < 9
      )
        throw approvalError('approval_name must be an @i18n@ key of at least 9 characters');
      const form = body.form as { form_content?: unknown };
      if (typeof form?.form_content !== 'string')
        throw fieldError('form.form_content', 'must be a JSON string');
      let widgets: unknown;
      try {
        widgets = JSON.parse(form.form_content);
      } catch {
        throw approvalError('form content is not valid JSON');
      }
      if (!Array.isArray(widgets)) throw approvalError('form content must be an array of widgets');
      const nodes = body.node_list as DefinitionNode[];
      if (
        !Array.isArray(nodes) ||
        nodes.length < 3 ||
        nodes[0]?.id !== 'START' ||
        nodes[nodes.length - 1]?.id !== 'END'
      ) {
        throw approvalError('node amount not enough');
      }
      const texts = new Set(
        ((body.i18n_resources as Array<{ texts?: Array<{ key: string }> }>) ?? []).flatMap((r) =>
          (r.texts ?? []).map((t) => t.key),
        ),
      );
      const keys = JSON.stringify(body).match(/@i18n@[A-Za-z0-9_.-]+/g) ?? [];
      for (const key of keys) if (!texts.has(key)) throw approvalError(`i18n key ${key} has no text`);

      // Without approval_code Feishu creates a definition and names it; with one it replaces that one.
      const requested =
        typeof body.approval_code === 'string' && body.approval_code ? body.approval_code : undefined;
      const existing = requested ? definitions.get(requested) : undefined;
      if (existing && existing.app_id !== state.app_id)
        throw approvalError('approval code belongs to another app');
      const approval_code = requested ?? randomUUID().toUpperCase();
      const definition: FakeDefinition = {
        approval_code,
        approval_id: String(7_000_000_000_000_000_000n + BigInt(definitions.size + 1)),
        app_id: state.app_id,
        approval_name: i18nText(body, body.approval_name),
        body,
        status: 'ACTIVE',
        subscribed: existing?.subscribed ?? false,
      };
      definitions.set(approval_code, definition);
      return reply(c, { approval_code, approval_id: definition.approval_id });
    }),
  );

  app.get(
    '/open-apis/approval/v4/approvals/:code',
    api(feishuScopes.approvalRead, (c, state) => {
      const definition = definitionOf(state, c.req.param('code') ?? '');
      return reply(c, {
        approval_name: definition.approval_name,
        status: definition.status,
        form: (definition.body.form as { form_content: string }).form_content,
        node_list: definitionNodes(definition).map((node) => ({
          name:
            node.id === 'START' ? '提交' : node.id === 'END' ? '结束' : i18nText(definition.body, node.name),
          need_approver: isFree(node),
          node_id: hex(16),
          custom_node_id: node.id,
          node_type: node.node_type ?? (node.id === 'START' || node.id === 'END' ? 'AND' : 'OR'),
          approver_chosen_multi: true,
        })),
        viewers: definition.body.viewers,
        approval_admin_ids: [],
      });
    }),
  );

  app.post(
    '/open-apis/approval/v4/approvals/:code/subscribe',
    api(feishuScopes.approvalWrite, (c, state) => {
      const definition = definitionOf(state, c.req.param('code') ?? '');
      // approval/subscribe: 1390007 "subscription existed" for a second call.
      if (definition.subscribed)
        throw new FakeError(400, feishuApprovalCodes.subscriptionExisted, 'subscription existed');
      definition.subscribed = true;
      return reply(c, {});
    }),
  );

  /** `[{key, value: [ids]}]` as the node_*_list fields carry it. */
  function nodeLists(value: unknown, field: string): Array<{ key: string; value: string[] }> {
    if (value === undefined) return [];
    if (
      !Array.isArray(value) ||
      value.some(
        (entry) =>
          !entry ||
          typeof entry.key !== 'string' ||
          !Array.isArray(entry.value) ||
          entry.value.some((id: unknown) => typeof id !== 'string'),
      )
    )
      throw fieldError(field, 'must be a list of {key, value: [ids]}');
    return value as Array<{ key: string; value: string[] }>;
  }

  function userByAnyId(id: string, kind: 'open_id' | 'user_id'): SeedUser | undefined {
    return kind === 'open_id' ? usersById.get(id) : seed.users.find((user) => user.user_id === id);
  }

  app.post(
    '/open-apis/approval/v4/instances',
    api(feishuScopes.approvalWrite, async (c, state) => {
      const body = await jsonBody(c, [
        'approval_code',
        'user_id',
        'open_id',
        'department_id',
        'form',
        'node_approver_user_id_list',
        'node_approver_open_id_list',
        'node_cc_user_id_list',
        'node_cc_open_id_list',
        'uuid',
        'allow_resubmit',
        'allow_submit_again',
        'cancel_bot_notification',
        'forbid_revoke',
        'i18n_resources',
        'title',
        'title_display_method',
        'node_auto_approval_list',
      ]);
      if (typeof body.approval_code !== 'string') throw fieldError('approval_code', 'required');
      if (
        body.uuid !== undefined &&
        (typeof body.uuid !== 'string' || body.uuid === '' || body.uuid.length > 64)
      )
        throw fieldError('uuid', 'length must be 1 to 64 characters');
      const definition = definitionOf(state, body.approval_code, true);
      if (typeof body.uuid === 'string' && instancesByUuid.has(uuidKey(body.uuid))) {
        // One uuid, one instance per tenant: a reuse fails, it does not answer the first instance.
        // [UNVERIFIED] the msg text.
        throw new FakeError(400, feishuApprovalCodes.uuidConflict, 'instance uuid already exists');
      }
      const initiator =
        typeof body.user_id === 'string'
          ? userByAnyId(body.user_id, 'user_id')
          : typeof body.open_id === 'string'
            ? userByAnyId(body.open_id, 'open_id')
            : undefined;
      if (!initiator || initiator.is_resigned)
        throw approvalError('user_id or open_id of the initiator is required and must exist');
      if (typeof body.form !== 'string') throw fieldError('form', 'must be a JSON string');
      let values: unknown;
      try {
        values = JSON.parse(body.form);
      } catch {
        throw approvalError('form is not valid JSON');
      }
      const widgets = JSON.parse((definition.body.form as { form_content: string }).form_content) as Array<{
        id: string;
        required?: boolean;
      }>;
      if (!Array.isArray(values)) throw approvalError('form must be an array');
      for (const value of values as Array<{ id?: string }>) {
        if (!widgets.some((widget) => widget.id === value.id))
          throw approvalError(`form widget ${value.id} is not in the definition`);
      }
      for (const widget of widgets) {
        if (widget.required && !(values as Array<{ id?: string }>).some((value) => value.id === widget.id)) {
          throw approvalError(`form widget ${widget.id} is required`);
        }
      }

      const nodes = definitionNodes(definition);
      // The user-id and open-id lists are merged (instance/create).
      const chosen = (openField: string, userField: string) => {
        const merged = new Map<string, Set<string>>();
        for (const [field, kind] of [
          [openField, 'open_id'],
          [userField, 'user_id'],
        ] as const) {
          for (const entry of nodeLists(body[field], field)) {
            const ids = merged.get(entry.key) ?? new Set<string>();
            for (const id of entry.value) {
              const user = userByAnyId(id, kind);
              if (!user || user.is_resigned) throw approvalError(`user ${id} does not exist`);
              ids.add(user.open_id);
            }
            merged.set(entry.key, ids);
          }
        }
        return merged;
      };
      const approvers = chosen('node_approver_open_id_list', 'node_approver_user_id_list');
      const ccs = chosen('node_cc_open_id_list', 'node_cc_user_id_list');
      for (const key of approvers.keys()) {
        const node = nodes.find((candidate) => candidate.id === key);
        if (!node || !isFree(node))
          throw approvalError(`node ${key} has no approvers chosen by the submitter`);
      }
      for (const [key, ids] of ccs) {
        const node = nodes.find((candidate) => candidate.id === key);
        if (!node || (node.ccer ?? []).length === 0)
          throw approvalError(`node ${key} has no CC chosen by the submitter`);
        if (ids.size > 20) throw fieldError('node_cc_open_id_list', 'at most 20 CC users per node');
      }
      const plan: FakeNodePlan[] = [];
      for (const node of nodes) {
        if (node.id === 'START' || node.id === 'END') continue;
        const ids = [...(approvers.get(node.id) ?? [])];
        if (isFree(node) && ids.length === 0)
          throw approvalError(`node ${node.id} needs approvers (node_approver_open_id_list)`);
        plan.push({
          custom_node_id: node.id,
          node_id: hex(16),
          node_name: i18nText(definition.body, node.name),
          type: (node.node_type as FakeNodePlan['type']) ?? 'OR',
          approvers: ids,
        });
      }
      let title: string | undefined;
      if (typeof body.title === 'string') {
        // The title is an @i18n@ key resolved in i18n_resources; anything else is shown as given.
        title = i18nText({ i18n_resources: body.i18n_resources }, body.title);
      }

      const now = String(clock.now());
      const instance_code = randomUUID().toUpperCase();
      serial += 1;
      const instance: FakeInstance = {
        instance_code,
        approval_code: definition.approval_code,
        app_id: state.app_id,
        uuid: typeof body.uuid === 'string' ? body.uuid : '',
        open_id: initiator.open_id,
        form: body.form,
        ...(title !== undefined ? { title } : {}),
        status: 'PENDING',
        reverted: false,
        start_time: now,
        end_time: '0',
        serial_number: String(202600000000 + serial),
        plan,
        current: -1,
        cc: { START: [...(ccs.get('START') ?? [])], END: [...(ccs.get('END') ?? [])] },
        tasks: [],
        timeline: [
          {
            type: 'START',
            create_time: now,
            user_id: initiator.user_id,
            open_id: initiator.open_id,
            ext: '{}',
          },
        ],
        comments: [],
      };
      instances.set(instance_code, instance);
      if (instance.uuid) instancesByUuid.set(uuidKey(instance.uuid), instance_code);
      ccTimeline(instance, 'START', now);
      advance(instance, now);
      return reply(c, { instance_code, instance_link: instanceLink(instance_code) });
    }),
  );

  function instanceLink(code: string): string {
    return feishuApprovalLink(applinkBase.includes('larksuite') ? 'lark' : 'feishu', code, applinkBase);
  }

  /** By instance code, or by the uuid it was created with (instance/get accepts both). */
  function instanceOf(state: AppState, codeOrUuid: string): FakeInstance {
    const code = instances.has(codeOrUuid) ? codeOrUuid : instancesByUuid.get(uuidKey(codeOrUuid));
    const instance = code === undefined ? undefined : instances.get(code);
    if (!instance || instance.app_id !== state.app_id) throw unknownInstance();
    return instance;
  }

  const taskView = (task: FakeTask) => ({
    id: task.id,
    user_id: task.user_id,
    open_id: task.open_id,
    status: task.status,
    node_id: task.node_id,
    node_name: task.node_name,
    custom_node_id: task.custom_node_id,
    type: task.type,
    start_time: task.start_time,
    end_time: task.end_time ?? '0',
  });

  app.get(
    '/open-apis/approval/v4/instances/:code',
    api(feishuScopes.approvalRead, (c, state) => {
      oneOf(c, 'user_id_type', ['open_id', 'user_id', 'union_id'], 'open_id');
      const instance = instanceOf(state, c.req.param('code') ?? '');
      const definition = definitions.get(instance.approval_code)!;
      const initiator = usersById.get(instance.open_id)!;
      return reply(c, {
        approval_name: definition.approval_name,
        start_time: instance.start_time,
        end_time: instance.end_time,
        user_id: initiator.user_id,
        open_id: initiator.open_id,
        serial_number: instance.serial_number,
        department_id: initiator.department_ids[0] ?? '0',
        status: instance.status,
        uuid: instance.uuid,
        form: instance.form,
        task_list: instance.tasks.map(taskView),
        comment_list: instance.comments.map((comment) => ({ ...comment })),
        timeline: instance.timeline.map((entry) => ({ ...entry })),
        approval_code: instance.approval_code,
        reverted: instance.reverted,
        instance_code: instance.instance_code,
      });
    }),
  );

  app.post(
    '/open-apis/approval/v4/instances/cancel',
    api(feishuScopes.approvalWrite, async (c, state) => {
      const idType = oneOf(c, 'user_id_type', ['open_id', 'user_id', 'union_id'], 'open_id');
      const body = await jsonBody(c, ['approval_code', 'instance_code', 'user_id', 'notify_starter']);
      for (const field of ['approval_code', 'instance_code', 'user_id']) {
        if (typeof body[field] !== 'string' || body[field] === '') throw fieldError(field, 'required');
      }
      definitionOf(state, body.approval_code as string);
      const instance = instances.get(body.instance_code as string);
      if (!instance || instance.app_id !== state.app_id) throw unknownInstance();
      if (instance.approval_code !== body.approval_code)
        throw approvalError('instance does not belong to this approval code');
      const initiator = usersById.get(instance.open_id)!;
      const who =
        idType === 'open_id'
          ? initiator.open_id
          : idType === 'user_id'
            ? initiator.user_id
            : initiator.union_id;
      if (body.user_id !== who) throw approvalError('only the initiator can withdraw the instance');
      if (instance.status !== 'PENDING') throw approvalError(`instance is ${instance.status}, not PENDING`);
      withdraw(instance, String(clock.now()));
      return reply(c, {});
    }),
  );

  // ---- approval flow (what happens inside Feishu) ----------------------------------------------------

  function newTask(instance: FakeInstance, node: FakeNodePlan, user: SeedUser, now: string): FakeTask {
    taskSerial += 1;
    const task: FakeTask = {
      id: String(7_100_000_000_000_000_000n + BigInt(taskSerial)),
      open_id: user.open_id,
      user_id: user.user_id,
      node_id: node.node_id,
      custom_node_id: node.custom_node_id,
      node_name: node.node_name,
      type: node.type,
      status: 'PENDING',
      start_time: now,
    };
    instance.tasks.push(task);
    return task;
  }

  function ccTimeline(instance: FakeInstance, node: 'START' | 'END', now: string): void {
    const users = instance.cc[node].map((id) => usersById.get(id)!);
    if (users.length === 0) return;
    const initiator = usersById.get(instance.open_id)!;
    instance.timeline.push({
      type: 'CC',
      create_time: now,
      user_id: initiator.user_id,
      open_id: initiator.open_id,
      user_id_list: users.map((user) => user.user_id),
      open_id_list: users.map((user) => user.open_id),
      cc_user_list: users.map((user) => ({ user_id: user.user_id, open_id: user.open_id, cc_id: hex(8) })),
      node_key: node,
      ext: JSON.stringify({ user_id_list: users.map((user) => user.user_id) }),
    });
  }

  /** Moves the flow to the next node with approvers, or ends it approved. */
  function advance(instance: FakeInstance, now: string): void {
    instance.current += 1;
    while (instance.current < instance.plan.length && instance.plan[instance.current]!.approvers.length === 0)
      instance.current += 1;
    const node = instance.plan[instance.current];
    if (!node) {
      instance.status = 'APPROVED';
      instance.end_time = now;
      ccTimeline(instance, 'END', now);
      return;
    }
    for (const id of node.approvers) newTask(instance, node, usersById.get(id)!, now);
  }

  function closeOpenTasks(tasks: FakeTask[], now: string): void {
    for (const task of tasks)
      if (task.status === 'PENDING') Object.assign(task, { status: 'DONE', end_time: now });
  }

  function withdraw(instance: FakeInstance, now: string): void {
    const initiator = usersById.get(instance.open_id)!;
    instance.status = 'CANCELED';
    instance.end_time = now;
    closeOpenTasks(instance.tasks, now);
    instance.timeline.push({
      type: 'CANCEL',
      create_time: now,
      user_id: initiator.user_id,
      open_id: initiator.open_id,
      ext: '{}',
    });
  }

  function pendingInstance(instanceCode: string): FakeInstance {
    const instance = instances.get(instanceCode);
    if (!instance) throw new Error(`The Feishu fake has no instance ${instanceCode}.`);
    if (instance.status !== 'PENDING')
      throw new Error(`Instance ${instanceCode} is ${instance.status}, not PENDING.`);
    return instance;
  }

  function pendingTask(instance: FakeInstance, by: string | undefined): FakeTask {
    const task = instance.tasks.find((item) => item.status === 'PENDING' && (!by || item.open_id === by));
    if (!task)
      throw new Error(
        `Instance ${instance.instance_code} has no pending task${by ? ` for ${by}` : ''} (later nodes get their tasks once reached).`,
      );
    return task;
  }

  /** The status-change push Feishu sends for a subscribed definition, in the schema asked for. */
  function statusEvent(
    instance: FakeInstance,
    now: string,
    schema: '2.0' | '1.0' | undefined,
    status: string = instance.status,
  ): CallbackRequest | undefined {
    const definition = definitions.get(instance.approval_code);
    if (!definition?.subscribed) return undefined;
    if (schema === '1.0') {
      return eventRequest(
        instance.app_id,
        'approval_instance',
        {
          approval_code: instance.approval_code,
          instance_code: instance.instance_code,
          status,
          // approval_instance: for REVERTED, operate_time is an int64, not a string.
          operate_time: status === 'REVERTED' ? Number(now) : now,
          instance_operate_time: now,
          uuid: instance.uuid,
        },
        { schema: '1.0' },
      );
    }
    const initiator = usersById.get(instance.open_id)!;
    return eventRequest(instance.app_id, 'approval.instance.status_changed_v4', {
      approval_code: instance.approval_code,
      instance_code: instance.instance_code,
      status,
      operate_time: now,
      start_user: { open_id: initiator.open_id, user_id: initiator.user_id, union_id: initiator.union_id },
    });
  }

  function decide(
    instanceCode: string,
    decision: ApprovalDecision,
    decideOptions: { by?: string; comment?: string; schema?: '2.0' | '1.0' } = {},
  ): CallbackRequest | undefined {
    const instance = pendingInstance(instanceCode);
    const task = pendingTask(instance, decideOptions.by);
    const now = String(clock.now());
    Object.assign(task, { status: decision, end_time: now });
    // The reason given with a decision lives in the timeline, not in comment_list.
    instance.timeline.push({
      type: decision === 'APPROVED' ? 'PASS' : 'REJECT',
      create_time: now,
      user_id: task.user_id,
      open_id: task.open_id,
      task_id: task.id,
      node_key: task.custom_node_id,
      ...(decideOptions.comment ? { comment: decideOptions.comment } : {}),
      ext: '{}',
    });
    const nodeTasks = instance.tasks.filter((item) => item.custom_node_id === task.custom_node_id);
    if (decision === 'REJECTED') {
      closeOpenTasks(nodeTasks, now);
      instance.status = 'REJECTED';
      instance.end_time = now;
    } else if (
      task.type === 'OR' ||
      nodeTasks.every((item) => item.status === 'APPROVED' || item.status === 'TRANSFERRED')
    ) {
      closeOpenTasks(nodeTasks, now);
      advance(instance, now);
    }
    if (instance.status === 'PENDING') return undefined;
    return statusEvent(instance, now, decideOptions.schema);
  }

  function transfer(
    instanceCode: string,
    from: string,
    to: string,
    options: { comment?: string } = {},
  ): void {
    const instance = pendingInstance(instanceCode);
    const task = pendingTask(instance, from);
    const target = usersById.get(to);
    if (!target || target.is_resigned) throw new Error(`The Feishu fake has no user ${to}.`);
    const now = String(clock.now());
    Object.assign(task, { status: 'TRANSFERRED', end_time: now });
    const node = instance.plan.find((item) => item.custom_node_id === task.custom_node_id)!;
    newTask(instance, node, target, now);
    instance.timeline.push({
      type: 'TRANSFER',
      create_time: now,
      user_id: task.user_id,
      open_id: task.open_id,
      task_id: task.id,
      user_id_list: [target.user_id],
      open_id_list: [target.open_id],
      node_key: task.custom_node_id,
      ...(options.comment ? { comment: options.comment } : {}),
      ext: JSON.stringify({ user_id_list: [target.user_id], open_id_list: [target.open_id] }),
    });
  }

  function comment(instanceCode: string, by: string, text: string): void {
    const instance = instances.get(instanceCode);
    const user = usersById.get(by);
    if (!instance || !user) throw new Error(`The Feishu fake has no instance ${instanceCode} or user ${by}.`);
    instance.comments.push({
      id: String(7_200_000_000_000_000_000n + BigInt(instance.comments.length + 1)),
      user_id: user.user_id,
      open_id: user.open_id,
      comment: text,
      create_time: String(clock.now()),
      files: [],
    });
  }

  function cancelAtVendor(instanceCode: string, options: { schema?: '2.0' | '1.0' } = {}) {
    const instance = pendingInstance(instanceCode);
    const now = String(clock.now());
    withdraw(instance, now);
    return statusEvent(instance, now, options.schema);
  }

  function revert(instanceCode: string, options: { schema?: '2.0' | '1.0' } = {}) {
    const instance = instances.get(instanceCode);
    if (instance?.status !== 'APPROVED' || instance.reverted)
      throw new Error(`Instance ${instanceCode} is not an approved instance that can be revoked.`);
    instance.reverted = true;
    return statusEvent(instance, String(clock.now()), options.schema, 'REVERTED');
  }

  function deleteDefinition(code: string, options: { schema?: '2.0' | '1.0' } = {}): CallbackRequest[] {
    const definition = definitions.get(code);
    if (!definition) throw new Error(`The Feishu fake has no approval definition ${code}.`);
    const now = String(clock.now());
    const pushes: CallbackRequest[] = [];
    // Pushes are built while the definition is still subscribed; then it is gone.
    for (const instance of instances.values()) {
      if (instance.approval_code !== code || instance.status !== 'PENDING') continue;
      instance.status = 'DELETED';
      instance.end_time = now;
      closeOpenTasks(instance.tasks, now);
      instance.timeline.push({ type: 'DELETE', create_time: now, ext: '{}' });
      const push = statusEvent(instance, now, options.schema);
      if (push) pushes.push(push);
    }
    definition.status = 'DELETED';
    return pushes;
  }

  function deactivateDefinition(code: string): void {
    const definition = definitions.get(code);
    if (!definition) throw new Error(`The Feishu fake has no approval definition ${code}.`);
    definition.status = 'INACTIVE';
  }

  // ---- callbacks (platform → us) -------------------------------------------------------------------

  function eventRequest(
    appId: string,
    eventType: string,
    event: Record<string, unknown>,
    eventOptions: { schema?: '2.0' | '1.0'; event_id?: string } = {},
  ): CallbackRequest {
    const state = appOf(appId);
    const now = clock.now();
    const payload =
      eventOptions.schema === '1.0'
        ? {
            uuid: eventOptions.event_id ?? hex(16),
            token: state.verification_token ?? '',
            ts: (now / 1000).toFixed(6),
            type: 'event_callback',
            event: { app_id: appId, tenant_key: seed.tenant_key, type: eventType, ...event },
          }
        : {
            schema: '2.0',
            header: {
              event_id: eventOptions.event_id ?? hex(16),
              token: state.verification_token ?? '',
              create_time: String(now),
              event_type: eventType,
              tenant_key: seed.tenant_key,
              app_id: appId,
            },
            event,
          };
    return push(state, JSON.stringify(payload), true);
  }

  function urlVerificationRequest(appId: string, challenge = randomUUID()): CallbackRequest {
    const state = appOf(appId);
    const payload = { challenge, token: state.verification_token ?? '', type: 'url_verification' };
    // Feishu sends the handshake without X-Lark-Signature headers, even when it encrypts it.
    return push(state, JSON.stringify(payload), false);
  }

  function push(state: AppState, plaintext: string, sign: boolean): CallbackRequest {
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Go-http-client/1.1',
    };
    if (!state.encrypt_key) return { method: 'POST', query: {}, headers, body: plaintext };
    const body = JSON.stringify({ encrypt: encryptFeishuEvent(state.encrypt_key, plaintext) });
    if (sign) {
      const timestamp = String(Math.floor(clock.now() / 1000));
      const nonce = hex(8);
      headers['x-lark-request-timestamp'] = timestamp;
      headers['x-lark-request-nonce'] = nonce;
      headers['x-lark-signature'] = feishuSignature(state.encrypt_key, { timestamp, nonce, body });
    }
    return { method: 'POST', query: {}, headers, body };
  }

  async function deliver(url: string, request: CallbackRequest, fetchImpl: Fetch = fetch): Promise<Response> {
    return fetchImpl(url, { method: request.method, headers: request.headers, body: request.body });
  }

  app.onError((error, c) => {
    // A request the client gave up on (an injected timeout) needs no answer and no log line.
    if (c.req.raw.signal.aborted) return new Response(null, { status: 499 });
    console.error('Feishu fake: handler failed', error);
    return c.json({ code: 1500, msg: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ code: 404, msg: '404 page not found' }, 404));

  const fake: FeishuFake = {
    app,
    fetch: (input, init) => {
      // Like a real fetch, an aborted request rejects (Hono alone would turn the abort into a 500).
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      const answer = Promise.resolve(app.request(input instanceof Request ? input : String(input), init));
      if (!signal) return answer;
      return new Promise<Response>((resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        answer.then(resolve, reject);
      });
    },
    clock,
    faults,
    seed,
    definitions,
    instances,
    messages,
    hookMessages,
    requests,
    rateLimitStyle: 'code',
    addApp,
    addHook,
    setScopes: (appId, scopes) => {
      appOf(appId).scopes = [...scopes];
    },
    setContactScope: (appId, scope) => {
      appOf(appId).contact_scope = {
        department_ids: [...scope.department_ids],
        user_ids: [...scope.user_ids],
      };
    },
    revokeTokens: (appId) => {
      for (const [token, issued] of tokens) if (!appId || issued.app_id === appId) tokens.delete(token);
    },
    decide,
    transfer,
    comment,
    cancelAtVendor,
    revert,
    deleteDefinition,
    deactivateDefinition,
    eventRequest,
    urlVerificationRequest,
    deliver,
  };
  return fake;
}
