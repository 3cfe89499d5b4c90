// A thin typed client for the Feishu / Lark Open API (reference/platforms.md §3): tenant token with
// single-flight caching and one retry on a token-invalid answer, every listing followed to its last page,
// every vendor code mapped into our error table (codes.ts). Lark is the same client on another host.
import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';
import { accessToken } from '../access-token.js';
import { request, statusError } from '../http.js';
import { allPages } from '../paginate.js';
import { memoryRateLimiter, type RateLimit } from '../rate-limiter.js';
import type {
  ClientDeps,
  DepartmentListing,
  ImAppConfig,
  ImChat,
  ImClient,
  ImDepartment,
  ImUser,
  ImUserGroup,
  PermissionReport,
  UserQuery,
} from '../types.js';
import {
  type FeishuErrorBody,
  feishuCodes,
  feishuError,
  missingScopes,
  rateLimitResetMs,
  tokenAction,
  tokenInvalidCodes,
} from './codes.js';

export type FeishuConfig = Extract<ImAppConfig, { type: 'feishu' | 'lark' }>;

export const feishuRootDepartmentId = '0';
export const feishuTokenPath = '/open-apis/auth/v3/tenant_access_token/internal';

const appLimits: RateLimit[] = [
  { limit: 50, windowMs: 1000 },
  { limit: 1000, windowMs: 60_000 },
];

/** Largest page sizes the APIs accept (contact 50, chats and user groups 100). */
const contactPageSize = 50;
const imPageSize = 100;
/** Parallel requests while walking the address book: well inside Feishu's per-app limits. */
const walkConcurrency = 4;

export interface FeishuCallOptions {
  /** What we are doing, for error messages: "listing members of department od-…". */
  action: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

/** The raw answer of one call, after token recovery. */
export interface FeishuAnswer {
  status: number;
  headers: Headers;
  body: FeishuErrorBody & { data?: unknown };
}

export interface FeishuClient extends ImClient {
  label: string;
  chats(query?: string): Promise<ImChat[]>;
  userGroups(): Promise<ImUserGroup[]>;
  /** One user by open_id, with name and avatar. */
  user(openId: string): Promise<ImUser>;
  /** Any Open API call with the tenant token; returns `data` or throws the mapped AppError. */
  call<T>(method: string, path: string, options: FeishuCallOptions): Promise<T>;
  /** Like `call`, but hands back non-zero answers instead of throwing (permission probes). */
  callRaw(method: string, path: string, options: FeishuCallOptions): Promise<FeishuAnswer>;
}

export interface FeishuClientOptions {
  /** "Feishu" or "Lark": how the vendor is named in errors. */
  label: string;
  /** Per-request timeout; the default of http.ts applies when absent. */
  timeoutMs?: number;
}

interface RawUser {
  open_id?: string;
  name?: string;
  en_name?: string;
  nickname?: string;
  email?: string;
  enterprise_email?: string;
  mobile?: string;
  department_ids?: string[];
  avatar?: { avatar_240?: string };
  status?: { is_resigned?: boolean; is_exited?: boolean };
}

interface RawDepartment {
  name?: string;
  open_department_id?: string;
  department_id?: string;
  parent_department_id?: string;
  member_count?: number;
  status?: { is_deleted?: boolean };
}

interface Page<T> {
  items?: T[];
  has_more?: boolean;
  page_token?: string;
}

interface ContactScope {
  departmentIds: string[];
  userIds: string[];
}

export function createFeishuClient(
  config: FeishuConfig,
  deps: ClientDeps,
  options: FeishuClientOptions,
): FeishuClient {
  const { label } = options;
  const base = config.api_base.replace(/\/+$/, '');
  const target = (path: string) => `${label} (${path.split('?')[0]})`;

  const token = accessToken({
    // The key names the credentials without holding them: a changed secret gets a token of its own.
    key: `${config.type}:${config.app_id}:${createHash('sha256').update(`${base}\n${config.app_secret}`).digest('hex').slice(0, 16)}`,
    store: deps.tokens,
    now: deps.now,
    fetchToken: async () => {
      const answer = await send('POST', feishuTokenPath, {
        action: tokenAction,
        body: { app_id: config.app_id, app_secret: config.app_secret },
      });
      const body = answer.body as FeishuErrorBody & { tenant_access_token?: unknown; expire?: unknown };
      if (body.code !== 0)
        throw feishuError({
          label,
          action: tokenAction,
          status: answer.status,
          headers: answer.headers,
          body,
        });
      // The token sits at the top level of this answer, not under `data` (platforms.md §3.2).
      if (typeof body.tenant_access_token !== 'string' || typeof body.expire !== 'number') {
        throw new AppError(
          'upstream_error',
          `${label} answered the tenant_access_token request without a token.`,
        );
      }
      return { token: body.tenant_access_token, expiresInMs: body.expire * 1000 };
    },
  });

  // Client-side limit per app: Feishu's per-app ceiling for sending (50/s, 1000/min, platforms.md §3.3)
  // is the tightest documented one, so every call of the app shares it.
  const limiter = deps.limiter ?? memoryRateLimiter(deps.now);
  const limiterKey = `${config.type}:${config.app_id}`;

  async function send(
    method: string,
    path: string,
    call: FeishuCallOptions,
    bearer?: string,
  ): Promise<FeishuAnswer> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) query.set(name, String(value));
    }
    const qs = query.toString();
    const headers: Record<string, string> = {};
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    const response = await request(deps.fetch, {
      vendor: config.type,
      url: `${base}${path}${qs ? `?${qs}` : ''}`,
      method,
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      target: target(path),
    });
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object' || !('code' in body)) {
      // Not a Feishu envelope: a gateway page, an HTML error, an empty 200.
      if (response.status === 429) {
        const retryAfterMs = rateLimitResetMs(response.headers);
        throw new AppError('rate_limited', `${label} is rate limiting ${call.action} (HTTP 429).`, {
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
      }
      if (response.status < 200 || response.status >= 300) {
        throw statusError(target(path), response.status, response.text, response.headers.get('retry-after'));
      }
      throw new AppError(
        'upstream_error',
        `${label} answered ${call.action} with something that is not its JSON envelope.`,
      );
    }
    return { status: response.status, headers: response.headers, body: body as FeishuAnswer['body'] };
  }

  async function callRaw(method: string, path: string, call: FeishuCallOptions): Promise<FeishuAnswer> {
    await limiter.take(limiterKey, appLimits);
    const first = await token.get();
    const answer = await send(method, path, call, first);
    if (!tokenInvalidCodes.has(Number(answer.body.code))) return answer;
    // The cached token was revoked or expired early: drop it, fetch one, try once more.
    await token.invalidate(first);
    return send(method, path, call, await token.get());
  }

  async function call<T>(method: string, path: string, options: FeishuCallOptions): Promise<T> {
    const answer = await callRaw(method, path, options);
    if (answer.body.code !== 0) {
      throw feishuError({
        label,
        action: options.action,
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
      });
    }
    return (answer.body.data ?? {}) as T;
  }

  function listAll<T>(
    path: string,
    action: string,
    query: FeishuCallOptions['query'],
    pageSize: number,
  ): Promise<T[]> {
    return allPages<T, string>(`${label}: ${action}`, async (pageToken) => {
      const page = await call<Page<T>>('GET', path, {
        action,
        query: { ...query, page_size: pageSize, ...(pageToken ? { page_token: pageToken } : {}) },
      });
      return { items: page.items ?? [], next: page.has_more ? page.page_token : undefined };
    });
  }

  function toUser(raw: RawUser): ImUser {
    return {
      id: raw.open_id ?? '',
      id_type: 'open_id',
      name: raw.name ?? '',
      avatar: raw.avatar?.avatar_240 ?? null,
      email: raw.email ?? raw.enterprise_email ?? null,
      mobile: raw.mobile ?? null,
      ...(raw.department_ids ? { department_ids: raw.department_ids } : {}),
    };
  }

  function toDepartment(raw: RawDepartment): ImDepartment {
    return {
      id: raw.open_department_id ?? raw.department_id ?? '',
      name: raw.name ?? '',
      parent_id: raw.parent_department_id ?? null,
      member_count: raw.member_count ?? null,
    };
  }

  const active = (raw: RawUser) => Boolean(raw.open_id) && !raw.status?.is_resigned && !raw.status?.is_exited;

  function rawMembers(departmentId: string): Promise<RawUser[]> {
    return listAll<RawUser>(
      '/open-apis/contact/v3/users/find_by_department',
      `listing the members of department ${departmentId}`,
      { department_id: departmentId, department_id_type: 'open_department_id', user_id_type: 'open_id' },
      contactPageSize,
    );
  }

  function rawChildren(departmentId: string, recursive: boolean): Promise<RawDepartment[]> {
    return listAll<RawDepartment>(
      `/open-apis/contact/v3/departments/${encodeURIComponent(departmentId)}/children`,
      `listing the sub-departments of department ${departmentId}`,
      { department_id_type: 'open_department_id', user_id_type: 'open_id', fetch_child: recursive },
      contactPageSize,
    ).then((items) => items.filter((item) => !item.status?.is_deleted));
  }

  async function departmentInfo(departmentId: string): Promise<ImDepartment> {
    const data = await call<{ department?: RawDepartment }>(
      'GET',
      `/open-apis/contact/v3/departments/${encodeURIComponent(departmentId)}`,
      {
        action: `reading department ${departmentId}`,
        query: { department_id_type: 'open_department_id', user_id_type: 'open_id' },
      },
    );
    return toDepartment({ open_department_id: departmentId, ...data.department });
  }

  async function rawUser(openId: string): Promise<RawUser> {
    const data = await call<{ user?: RawUser }>(
      'GET',
      `/open-apis/contact/v3/users/${encodeURIComponent(openId)}`,
      {
        action: `reading user ${openId}`,
        query: { user_id_type: 'open_id', department_id_type: 'open_department_id' },
      },
    );
    return { open_id: openId, ...data.user };
  }

  /** What the app's contact data scope lets it see (the console's "通讯录权限范围"), all pages. */
  async function contactScope(): Promise<ContactScope> {
    const departmentIds: string[] = [];
    const userIds: string[] = [];
    await allPages<never, string>(`${label}: reading the contact data scope`, async (pageToken) => {
      const page = await call<{
        department_ids?: string[];
        user_ids?: string[];
        has_more?: boolean;
        page_token?: string;
      }>('GET', '/open-apis/contact/v3/scopes', {
        action: 'reading the app’s contact data scope',
        query: {
          department_id_type: 'open_department_id',
          user_id_type: 'open_id',
          page_size: contactPageSize,
          ...(pageToken ? { page_token: pageToken } : {}),
        },
      });
      departmentIds.push(...(page.department_ids ?? []));
      userIds.push(...(page.user_ids ?? []));
      return { items: [], next: page.has_more ? page.page_token : undefined };
    });
    return { departmentIds: [...new Set(departmentIds)], userIds: [...new Set(userIds)] };
  }

  async function rootListing(): Promise<DepartmentListing> {
    const root: ImDepartment = { id: feishuRootDepartmentId, name: `${label} address book`, parent_id: null };
    const scope = await contactScope();
    if (scope.departmentIds.includes(feishuRootDepartmentId)) {
      const [departments, users] = await Promise.all([
        rawChildren(feishuRootDepartmentId, false),
        rawMembers(feishuRootDepartmentId),
      ]);
      return {
        department: root,
        departments: departments.map(toDepartment),
        users: users.filter(active).map(toUser),
      };
    }
    // A partial contact data scope: the app may not read the root, so the picker starts from what the
    // scope grants (the departments and people the admin picked in the console).
    const [departments, users] = await Promise.all([
      mapLimit(scope.departmentIds, walkConcurrency, departmentInfo),
      mapLimit(scope.userIds, walkConcurrency, rawUser),
    ]);
    return { department: root, departments, users: users.filter(active).map(toUser) };
  }

  /**
   * Every user the app can see. Feishu has no name search for tenant tokens (search/v1/user takes a user
   * token), so a name query is answered from the visible address book: the departments of the contact
   * data scope and all their descendants, every page of each, plus the users granted one by one.
   */
  async function visibleUsers(): Promise<RawUser[]> {
    const scope = await contactScope();
    const departmentIds = new Set(scope.departmentIds);
    const descendants = await mapLimit(scope.departmentIds, walkConcurrency, (id) => rawChildren(id, true));
    for (const department of descendants.flat()) {
      const id = department.open_department_id ?? department.department_id;
      if (id) departmentIds.add(id);
    }
    const members = await mapLimit([...departmentIds], walkConcurrency, rawMembers);
    const granted = await mapLimit(scope.userIds, walkConcurrency, rawUser);
    const byId = new Map<string, RawUser>();
    for (const user of [...members.flat(), ...granted]) {
      if (active(user) && !byId.has(user.open_id!)) byId.set(user.open_id!, user);
    }
    return [...byId.values()];
  }

  async function idsByContact(kind: 'emails' | 'mobiles', value: string): Promise<string[]> {
    const data = await call<{ user_list?: Array<{ user_id?: string }> }>(
      'POST',
      '/open-apis/contact/v3/users/batch_get_id',
      {
        action: `looking up a user by ${kind === 'emails' ? 'email' : 'mobile'}`,
        query: { user_id_type: 'open_id' },
        body: { [kind]: [value], include_resigned: false },
      },
    );
    // An entry without user_id means "no such user, or outside the app's contact data scope".
    return (data.user_list ?? []).map((entry) => entry.user_id).filter((id): id is string => Boolean(id));
  }

  const client: FeishuClient = {
    label,
    rootDepartmentId: feishuRootDepartmentId,

    async checkCredentials() {
      await token.fresh();
    },

    async checkPermissions(): Promise<PermissionReport> {
      // Each probe touches one API family Signoff needs. Only 99991672 counts as a missing permission;
      // any other answer (a probe code that does not exist, an empty list) proves the scope is there.
      const probes: Array<{ name: string; method: string; path: string; options: FeishuCallOptions }> = [
        {
          name: 'contact: contact data scope',
          method: 'GET',
          path: '/open-apis/contact/v3/scopes',
          options: { action: 'reading the contact data scope', query: { page_size: 1 } },
        },
        {
          name: 'contact: department members',
          method: 'GET',
          path: '/open-apis/contact/v3/users/find_by_department',
          options: {
            action: 'listing department members',
            query: { department_id: feishuRootDepartmentId, user_id_type: 'open_id', page_size: 1 },
          },
        },
        {
          name: 'contact: user ids by email or mobile',
          method: 'POST',
          path: '/open-apis/contact/v3/users/batch_get_id',
          options: {
            action: 'looking up users by email',
            query: { user_id_type: 'open_id' },
            body: { emails: ['signoff-permission-probe@example.invalid'] },
          },
        },
        {
          name: 'approval: definitions',
          method: 'GET',
          path: '/open-apis/approval/v4/approvals/SIGNOFF-PERMISSION-PROBE',
          options: { action: 'reading an approval definition' },
        },
        {
          name: 'im: chats',
          method: 'GET',
          path: '/open-apis/im/v1/chats',
          options: { action: 'listing chats', query: { page_size: 1 } },
        },
      ];
      const missing: string[] = [];
      const checked: string[] = [];
      for (const probe of probes) {
        const answer = await callRaw(probe.method, probe.path, probe.options);
        const code = Number(answer.body.code);
        if (code === feishuCodes.permissionDenied) {
          for (const scope of missingScopes(answer.body)) if (!missing.includes(scope)) missing.push(scope);
          continue;
        }
        if (
          answer.status === 429 ||
          answer.status >= 500 ||
          tokenInvalidCodes.has(code) ||
          code === feishuCodes.rateLimited
        ) {
          throw feishuError({
            label,
            action: probe.options.action,
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
          });
        }
        checked.push(probe.name);
      }
      return { missing, checked };
    },

    async department(id: string): Promise<DepartmentListing> {
      if (id === feishuRootDepartmentId) return rootListing();
      const [department, departments, users] = await Promise.all([
        departmentInfo(id),
        rawChildren(id, false),
        rawMembers(id),
      ]);
      return {
        department,
        departments: departments.map(toDepartment),
        users: users.filter(active).map(toUser),
      };
    },

    async findUsers(query: UserQuery): Promise<ImUser[]> {
      const email = query.email?.trim();
      const mobile = query.mobile?.trim();
      const text = query.query?.trim().toLowerCase();
      if (!email && !mobile && !text) {
        throw new AppError('bad_request', 'Give an email, a mobile number or a name to look for.');
      }
      const found = new Map<string, ImUser>();
      const ids = [
        ...(email ? await idsByContact('emails', email) : []),
        ...(mobile ? await idsByContact('mobiles', mobile) : []),
      ];
      for (const raw of await mapLimit([...new Set(ids)], walkConcurrency, rawUser)) {
        if (active(raw)) found.set(raw.open_id!, toUser(raw));
      }
      if (text) {
        for (const raw of await visibleUsers()) {
          const haystack = [raw.name, raw.en_name, raw.nickname, raw.email, raw.enterprise_email, raw.mobile];
          if (haystack.some((field) => field?.toLowerCase().includes(text)) && !found.has(raw.open_id!)) {
            found.set(raw.open_id!, toUser(raw));
          }
        }
      }
      return [...found.values()];
    },

    async user(openId: string): Promise<ImUser> {
      return toUser(await rawUser(openId));
    },

    async chats(query?: string): Promise<ImChat[]> {
      const text = query?.trim();
      const items = await listAll<{ chat_id?: string; name?: string; avatar?: string }>(
        text ? '/open-apis/im/v1/chats/search' : '/open-apis/im/v1/chats',
        text ? 'searching the bot’s group chats' : 'listing the bot’s group chats',
        text ? { query: text } : {},
        imPageSize,
      );
      return items
        .filter((item) => item.chat_id)
        .map((item) => ({ id: item.chat_id!, name: item.name ?? '', avatar: item.avatar ?? null }));
    },

    async userGroups(): Promise<ImUserGroup[]> {
      // type 1 = static groups, 2 = dynamic groups; the API lists one type per call.
      const lists = await Promise.all(
        [1, 2].map((type) =>
          allPages<{ id?: string; name?: string; member_user_count?: number }, string>(
            `${label}: listing user groups`,
            async (pageToken) => {
              const page = await call<{
                grouplist?: Array<{ id?: string; name?: string; member_user_count?: number }>;
                has_more?: boolean;
                page_token?: string;
              }>('GET', '/open-apis/contact/v3/group/simplelist', {
                action: 'listing user groups',
                query: { type, page_size: imPageSize, ...(pageToken ? { page_token: pageToken } : {}) },
              });
              return { items: page.grouplist ?? [], next: page.has_more ? page.page_token : undefined };
            },
          ),
        ),
      );
      return lists
        .flat()
        .filter((group) => group.id)
        .map((group) => ({
          id: group.id!,
          name: group.name ?? '',
          member_count: group.member_user_count ?? null,
        }));
    },

    call,
    callRaw,
  };
  return client;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
