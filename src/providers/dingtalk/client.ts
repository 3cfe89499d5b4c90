// DingTalk REST client (reference/platforms.md §4): one enterprise-internal app token for both hosts, the
// new API (api.dingtalk.com, header `x-acs-dingtalk-access-token`) and the old one (oapi.dingtalk.com,
// `?access_token=`), §4.1. Token-invalid answers refresh the token and retry once; rate-limit answers
// wait a second and retry twice; everything else becomes an AppError from ./codes.ts.
import { AppError } from '../../errors.js';
import { type AccessToken, accessToken } from '../access-token.js';
import { request } from '../http.js';
import { allPages } from '../paginate.js';
import { memoryRateLimiter, type RateLimit } from '../rate-limiter.js';
import type {
  ClientDeps,
  DepartmentListing,
  ImAppConfig,
  ImClient,
  ImDepartment,
  ImUser,
  PermissionReport,
  UserQuery,
} from '../types.js';
import {
  type ClassifiedError,
  classifyNewApiError,
  classifyOldApiError,
  DEPARTMENT_NOT_FOUND_ERRCODE,
  type OldApiEnvelope,
  parseJson,
  permissionsOf,
  USER_NOT_FOUND_ERRCODE,
} from './codes.js';

export type DingTalkConfig = Extract<ImAppConfig, { type: 'dingtalk' }>;

export interface DingTalkClientDeps extends ClientDeps {
  /** How the client waits before retrying a rate-limited call (tests inject a no-op). */
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
}

export const DINGTALK_ROOT_DEPARTMENT_ID = '1';
/**
 * 20 calls/s per app per API, standard edition (platforms.md §4.2). The window is 5% longer than a second
 * so that millisecond rounding and clock differences never put a 21st call inside DingTalk's second.
 */
export const DINGTALK_API_LIMITS: readonly RateLimit[] = [{ limit: 20, windowMs: 1050 }];
const USER_PAGE_SIZE = 100;
const RATE_LIMIT_RETRIES = 2;
/** A visible address book larger than this is refused rather than searched partially. */
const MAX_DEPARTMENTS_WALKED = 10_000;
/** DingTalk issues 7200 s tokens; cache ~7000 s (platforms.md §6.1). */
const TOKEN_REFRESH_BEFORE_MS = 200_000;

/** The permission each probe or call needs, as the DingTalk console names it. */
export const dingTalkPermissions = {
  departmentList: 'qyapi_get_department_list',
  departmentMembers: 'qyapi_get_department_member',
  member: 'qyapi_get_member',
  memberByMobile: 'qyapi_get_member_by_mobile',
  instanceRead: 'Workflow.Instance.Read',
  instanceWrite: 'Workflow.Instance.Write',
  formRead: 'Workflow.Form.Read',
  formWrite: 'Workflow.Form.Write',
} as const;

/** DingTalk's limits on the instance-id query (获取审批实例ID列表): 20 per page, 10,000 ids per walk. */
export const INSTANCE_ID_PAGE_SIZE = 20;
const INSTANCE_ID_MAX_PAGES = 500;

/**
 * The new API's own error code (e.g. `processCodeError`, `processInstanceNotExist`) behind an AppError
 * this client threw, so callers can tell answers apart without parsing messages.
 */
const vendorCodes = new WeakMap<AppError, string>();

export function dingTalkErrorCode(error: unknown): string | undefined {
  return error instanceof AppError ? vendorCodes.get(error) : undefined;
}

// ---- wire shapes (old API snake_case, new API camelCase) ----

export interface DingTalkRawUser {
  userid: string;
  unionid?: string;
  name: string;
  avatar?: string;
  mobile?: string;
  email?: string;
  org_email?: string;
  title?: string;
  dept_id_list?: number[];
  active?: boolean;
}

export interface DingTalkRawDepartment {
  dept_id: number;
  name: string;
  parent_id?: number;
}

export interface FormComponent {
  componentType: string;
  props: {
    componentId: string;
    label: string;
    required?: boolean;
    placeholder?: string;
    [key: string]: unknown;
  };
  children?: FormComponent[];
}

export interface SaveFormRequest {
  /** Only to update an existing form. */
  processCode?: string;
  name: string;
  description?: string;
  formComponents: FormComponent[];
  templateConfig?: Record<string, unknown>;
}

export interface StartProcessInstanceRequest {
  processCode: string;
  originatorUserId: string;
  deptId?: number;
  formComponentValues: { name: string; value: string; componentType?: string; id?: string }[];
  approvers?: { actionType: 'AND' | 'OR' | 'NONE'; userIds: string[] }[];
  ccList?: string[];
  ccPosition?: 'START' | 'FINISH' | 'START_FINISH';
  microappAgentId?: number;
}

export interface ProcessInstanceTask {
  taskId: number;
  userId: string;
  status: 'NEW' | 'RUNNING' | 'PAUSED' | 'CANCELED' | 'COMPLETED' | 'TERMINATED';
  result: 'AGREE' | 'REFUSE' | 'REDIRECTED' | 'NONE' | '';
  createTime?: string;
  finishTime?: string;
  activityId?: string;
  pcUrl?: string;
  mobileUrl?: string;
}

export interface ProcessInstance {
  title: string;
  status: 'NEW' | 'RUNNING' | 'TERMINATED' | 'COMPLETED' | 'CANCELED';
  result: 'agree' | 'refuse' | '';
  businessId: string;
  originatorUserId: string;
  originatorDeptId?: string;
  approverUserIds: string[];
  ccUserIds: string[];
  formComponentValues: { name: string; value: string; id?: string; componentType?: string }[];
  tasks: ProcessInstanceTask[];
  operationRecords: { userId: string; date: string; type: string; result: string; remark?: string }[];
  createTime: string;
  finishTime?: string;
}

export type ProcessInstanceStatusFilter = 'RUNNING' | 'TERMINATED' | 'COMPLETED';

export interface ProcessInstanceIdQuery {
  processCode: string;
  /** Creation time from, ms. Without `endTime` DingTalk wants it within 120 days of now. */
  startTime: number;
  /** Creation time to, ms; at most 120 days after `startTime`. */
  endTime?: number;
  /** Originators, at most 10. */
  userIds?: string[];
  statuses?: ProcessInstanceStatusFilter[];
}

export interface FormSchema {
  name: string;
  /** PUBLISHED (启用), INVALID (停用) or SAVED (草稿). */
  status?: string;
}

export interface WorkNotificationMessage {
  msgtype: 'text' | 'markdown' | 'link' | 'action_card' | 'oa';
  [key: string]: unknown;
}

export interface DingTalkClient extends ImClient {
  rootDepartmentId: string;
  /** One user's details (`topapi/v2/user/get`). */
  user(userId: string): Promise<ImUser | undefined>;
  /** Creates a form (no processCode) or updates one; returns its processCode. */
  saveForm(form: SaveFormRequest): Promise<string>;
  /** Every form template the app (or `userId`) can see, all pages. */
  listTemplates(userId?: string): Promise<{ name: string; processCode: string }[]>;
  startProcessInstance(request: StartProcessInstanceRequest): Promise<string>;
  getProcessInstance(processInstanceId: string): Promise<ProcessInstance>;
  /** One page (≤ 20) of instance ids of a form (`POST /v1.0/workflow/processes/instanceIds/query`). */
  queryProcessInstanceIds(
    query: ProcessInstanceIdQuery,
    nextToken?: number,
  ): Promise<{ ids: string[]; nextToken: number | undefined }>;
  /** Every instance id the query matches (DingTalk serves at most 10,000). */
  listProcessInstanceIds(query: ProcessInstanceIdQuery): Promise<string[]>;
  /** The form behind a processCode, or undefined when DingTalk says there is none (deleted). */
  formSchema(processCode: string): Promise<FormSchema | undefined>;
  terminateProcessInstance(input: {
    processInstanceId: string;
    remark?: string;
    isSystem?: boolean;
    operatingUserId?: string;
  }): Promise<void>;
  /** Work notification (工作通知) from the app to users; returns DingTalk's task id. */
  sendWorkNotification(
    agentId: string | number,
    userIds: string[],
    msg: WorkNotificationMessage,
  ): Promise<string>;
  /** A raw new-API call for operations without a helper. */
  callNew<T>(call: NewApiCall): Promise<T>;
  /** A raw old-API call; resolves to the envelope (errcode 0, or one listed in `accept`). */
  callOld<T extends OldApiEnvelope>(call: OldApiCall): Promise<T>;
}

export interface NewApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** How the call is named in errors, e.g. "reading approval instance X". */
  what: string;
  /** Named in a permission error when DingTalk names none. */
  permission?: string;
}

export interface OldApiCall {
  path: string;
  body: unknown;
  what: string;
  permission?: string;
  /** Non-zero errcodes that are answers, not errors (e.g. 60121 "no such user"). */
  accept?: number[];
}

export function createDingTalkClient(appConfig: ImAppConfig, deps: DingTalkClientDeps): DingTalkClient {
  if (appConfig.type !== 'dingtalk') {
    throw new AppError('internal', `A ${appConfig.type} app was given to the DingTalk client.`);
  }
  const config: DingTalkConfig = appConfig;
  const apiBase = trimBase(config.api_base);
  const oapiBase = trimBase(config.oapi_base);
  // Client-side throttle; default: in-memory, 20 calls/s per app and API (platforms.md §4.2).
  const limiter = deps.limiter ?? memoryRateLimiter();
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = deps.timeoutMs ?? 10_000;

  const token: AccessToken = accessToken({
    key: `dingtalk:${config.app_key}`,
    store: deps.tokens,
    now: deps.now,
    refreshBeforeMs: TOKEN_REFRESH_BEFORE_MS,
    fetchToken: async () => {
      const response = await request(deps.fetch, {
        vendor: 'dingtalk',
        url: `${apiBase}/v1.0/oauth2/accessToken`,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ appKey: config.app_key, appSecret: config.app_secret }),
        target: 'DingTalk (access token)',
        timeoutMs,
      });
      if (response.status < 200 || response.status >= 300) {
        throw classifyNewApiError('the access token request', response.status, response.text).error;
      }
      const body = parseJson(response.text) as { accessToken?: unknown; expireIn?: unknown } | undefined;
      if (typeof body?.accessToken !== 'string' || body.accessToken === '') {
        throw new AppError('upstream_error', 'DingTalk answered the access token request without a token.');
      }
      const expireIn = typeof body.expireIn === 'number' && body.expireIn > 0 ? body.expireIn : 7200;
      return { token: body.accessToken, expiresInMs: expireIn * 1000 };
    },
  });

  /** Runs one call with the token/rate-limit retry policy; `send` returns the parsed answer or a classified error. */
  async function withRetries<T>(
    path: string,
    send: (
      accessTokenValue: string,
    ) => Promise<{ ok: true; value: T } | { ok: false; failure: ClassifiedError }>,
  ): Promise<T> {
    let tokenRetried = false;
    let rateRetries = 0;
    for (;;) {
      const current = await token.get();
      await limiter.take(`dingtalk:${config.app_key}:${path}`, DINGTALK_API_LIMITS);
      const outcome = await send(current);
      if (outcome.ok) return outcome.value;
      const { kind, error } = outcome.failure;
      if (kind === 'token_invalid' && !tokenRetried) {
        tokenRetried = true;
        await token.invalidate(current);
        continue;
      }
      if (kind === 'rate_limited' && rateRetries < RATE_LIMIT_RETRIES) {
        rateRetries++;
        await sleep(error.retryAfterMs ?? 1000);
        continue;
      }
      throw error;
    }
  }

  async function callNew<T>(call: NewApiCall): Promise<T> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) query.set(key, String(value));
    }
    const url = `${apiBase}${call.path}${query.size > 0 ? `?${query}` : ''}`;
    return withRetries<T>(call.path, async (current) => {
      const response = await request(deps.fetch, {
        vendor: 'dingtalk',
        url,
        method: call.method,
        headers: {
          'x-acs-dingtalk-access-token': current,
          accept: 'application/json',
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        target: `DingTalk (${call.what})`,
        timeoutMs,
      });
      if (response.status >= 200 && response.status < 300) {
        const value = response.text === '' ? {} : parseJson(response.text);
        if (value === undefined) {
          throw new AppError(
            'upstream_error',
            `DingTalk answered ${call.what} with a body that is not JSON.`,
          );
        }
        return { ok: true, value: value as T };
      }
      const failure = classifyNewApiError(call.what, response.status, response.text, call.permission);
      const code = (parseJson(response.text) as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string' && code !== '') vendorCodes.set(failure.error, code);
      return { ok: false, failure };
    });
  }

  async function queryInstanceIds(
    query: ProcessInstanceIdQuery,
    nextToken = 0,
  ): Promise<{ ids: string[]; nextToken: number | undefined }> {
    const answer = await callNew<{ success?: boolean; result?: { list?: unknown[]; nextToken?: unknown } }>({
      method: 'POST',
      path: '/v1.0/workflow/processes/instanceIds/query',
      body: {
        processCode: query.processCode,
        startTime: query.startTime,
        ...(query.endTime !== undefined ? { endTime: query.endTime } : {}),
        nextToken,
        maxResults: INSTANCE_ID_PAGE_SIZE,
        ...(query.userIds?.length ? { userIds: query.userIds } : {}),
        ...(query.statuses?.length ? { statuses: query.statuses } : {}),
      },
      what: `listing the approval instances of ${query.processCode}`,
      permission: dingTalkPermissions.instanceRead,
    });
    const ids = (answer.result?.list ?? []).filter((id): id is string => typeof id === 'string' && id !== '');
    // The answer's nextToken is a string; present and non-empty means more follow.
    const raw = answer.result?.nextToken;
    if (raw === undefined || raw === null || raw === '') return { ids, nextToken: undefined };
    const next = Number(raw);
    if (!Number.isSafeInteger(next)) {
      throw new AppError(
        'upstream_error',
        `DingTalk returned a page token that is not a number (${String(raw)}).`,
      );
    }
    return { ids, nextToken: next };
  }

  async function callOld<T extends OldApiEnvelope>(call: OldApiCall): Promise<T> {
    return withRetries<T>(call.path, async (current) => {
      const response = await request(deps.fetch, {
        vendor: 'dingtalk',
        url: `${oapiBase}${call.path}?access_token=${encodeURIComponent(current)}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(call.body),
        target: `DingTalk (${call.what})`,
        timeoutMs,
      });
      const envelope = parseJson(response.text) as (T & { status?: number; wait?: number }) | undefined;
      if (response.status !== 200 || envelope === undefined || typeof envelope !== 'object') {
        // The old API answers 200 for errors; anything else is the gateway (IP ban page, 5xx).
        return {
          ok: false,
          failure: classifyNewApiError(
            call.what,
            response.status === 200 ? 502 : response.status,
            response.text,
          ),
        };
      }
      if (envelope.status === 1111) {
        return { ok: false, failure: classifyNewApiError(call.what, response.status, response.text) };
      }
      const errcode = Number(envelope.errcode ?? 0);
      if (errcode === 0 || call.accept?.includes(errcode)) return { ok: true, value: envelope };
      return { ok: false, failure: classifyOldApiError(call.what, envelope, call.permission) };
    });
  }

  // ---- address book ----

  async function getDepartment(id: string): Promise<ImDepartment> {
    const deptId = departmentNumber(id);
    const answer = await callOld<OldApiEnvelope & { result?: DingTalkRawDepartment }>({
      path: '/topapi/v2/department/get',
      body: { dept_id: deptId },
      what: `reading department ${id}`,
      permission: dingTalkPermissions.departmentList,
      accept: [DEPARTMENT_NOT_FOUND_ERRCODE],
    });
    if (answer.errcode === DEPARTMENT_NOT_FOUND_ERRCODE || !answer.result) throw departmentNotFound(id);
    return toDepartment(answer.result, deptId);
  }

  async function subDepartments(id: string): Promise<ImDepartment[]> {
    const deptId = departmentNumber(id);
    const answer = await callOld<OldApiEnvelope & { result?: DingTalkRawDepartment[] }>({
      path: '/topapi/v2/department/listsub',
      body: { dept_id: deptId },
      what: `listing the sub-departments of ${id}`,
      permission: dingTalkPermissions.departmentList,
      accept: [DEPARTMENT_NOT_FOUND_ERRCODE],
    });
    if (answer.errcode === DEPARTMENT_NOT_FOUND_ERRCODE) throw departmentNotFound(id);
    return (answer.result ?? []).map((raw) => toDepartment(raw, deptId));
  }

  async function departmentUsers(id: string): Promise<DingTalkRawUser[]> {
    const deptId = departmentNumber(id);
    return allPages<DingTalkRawUser, number>(`DingTalk members of department ${id}`, async (cursor) => {
      const answer = await callOld<
        OldApiEnvelope & { result?: { has_more?: boolean; next_cursor?: number; list?: DingTalkRawUser[] } }
      >({
        path: '/topapi/v2/user/list',
        body: { dept_id: deptId, cursor: cursor ?? 0, size: USER_PAGE_SIZE },
        what: `listing the members of department ${id}`,
        permission: dingTalkPermissions.departmentMembers,
        accept: [DEPARTMENT_NOT_FOUND_ERRCODE],
      });
      if (answer.errcode === DEPARTMENT_NOT_FOUND_ERRCODE) throw departmentNotFound(id);
      const result = answer.result ?? {};
      if (result.has_more && typeof result.next_cursor !== 'number') {
        throw new AppError(
          'upstream_error',
          `DingTalk said more members of department ${id} follow but gave no cursor.`,
        );
      }
      return { items: result.list ?? [], next: result.has_more ? result.next_cursor : undefined };
    });
  }

  async function getUser(userId: string): Promise<UserWithEmails | undefined> {
    const answer = await callOld<OldApiEnvelope & { result?: DingTalkRawUser }>({
      path: '/topapi/v2/user/get',
      body: { userid: userId },
      what: `reading user ${userId}`,
      permission: dingTalkPermissions.member,
      accept: [USER_NOT_FOUND_ERRCODE],
    });
    if (answer.errcode === USER_NOT_FOUND_ERRCODE || !answer.result) return undefined;
    return toUser(answer.result);
  }

  async function userIdByMobile(mobile: string): Promise<string | undefined> {
    const answer = await callOld<OldApiEnvelope & { result?: { userid?: string } }>({
      path: '/topapi/v2/user/getbymobile',
      body: { mobile },
      what: 'looking up a user by mobile number',
      permission: dingTalkPermissions.memberByMobile,
      accept: [USER_NOT_FOUND_ERRCODE],
    });
    if (answer.errcode === USER_NOT_FOUND_ERRCODE) return undefined;
    return answer.result?.userid || undefined;
  }

  /**
   * Every user the app can see: DingTalk has no search by e-mail (platforms.md §4.5, §6.8), so email and
   * name queries walk the visible address book from the root department, every sub-department and every
   * page of members. Costly on big organisations: callers should cache what they resolve.
   */
  async function visibleUsers(): Promise<DingTalkRawUser[]> {
    const users = new Map<string, DingTalkRawUser>();
    const queue = [DINGTALK_ROOT_DEPARTMENT_ID];
    const seen = new Set(queue);
    while (queue.length > 0) {
      const id = queue.shift()!;
      for (const user of await departmentUsers(id)) if (!users.has(user.userid)) users.set(user.userid, user);
      for (const child of await subDepartments(id)) {
        if (seen.has(child.id)) continue;
        if (seen.size >= MAX_DEPARTMENTS_WALKED) {
          throw new AppError(
            'upstream_error',
            `The DingTalk address book has more than ${MAX_DEPARTMENTS_WALKED} visible departments; refusing a partial search. Look people up by mobile number instead.`,
          );
        }
        seen.add(child.id);
        queue.push(child.id);
      }
    }
    return [...users.values()];
  }

  async function probe(
    name: string,
    permission: string,
    run: () => Promise<unknown>,
  ): Promise<{ ok: boolean; missing: string[] }> {
    try {
      await run();
      return { ok: true, missing: [] };
    } catch (error) {
      if (error instanceof AppError && error.code === 'forbidden') {
        const named = permissionsOf(error);
        return { ok: false, missing: named.length > 0 ? named : [permission] };
      }
      // A business error (e.g. no such instance) means the permission check passed.
      if (error instanceof AppError && error.code === 'upstream_rejected' && name === 'workflow') {
        return { ok: true, missing: [] };
      }
      throw error;
    }
  }

  return {
    rootDepartmentId: DINGTALK_ROOT_DEPARTMENT_ID,

    async checkCredentials() {
      await token.fresh();
    },

    async checkPermissions(): Promise<PermissionReport> {
      await token.get();
      const missing: string[] = [];
      const checked: string[] = [];
      const record = (label: string, result: { ok: boolean; missing: string[] }) => {
        if (result.ok) checked.push(label);
        else for (const name of result.missing) if (!missing.includes(name)) missing.push(name);
      };
      record(
        `contacts: department list (${dingTalkPermissions.departmentList})`,
        await probe('departments', dingTalkPermissions.departmentList, () =>
          subDepartments(DINGTALK_ROOT_DEPARTMENT_ID),
        ),
      );
      let firstUser: string | undefined;
      record(
        `contacts: department members (${dingTalkPermissions.departmentMembers})`,
        await probe('members', dingTalkPermissions.departmentMembers, async () => {
          const answer = await callOld<OldApiEnvelope & { result?: { list?: DingTalkRawUser[] } }>({
            path: '/topapi/v2/user/list',
            body: { dept_id: Number(DINGTALK_ROOT_DEPARTMENT_ID), cursor: 0, size: 1 },
            what: 'listing the members of the root department',
            permission: dingTalkPermissions.departmentMembers,
          });
          firstUser = answer.result?.list?.[0]?.userid;
        }),
      );
      if (firstUser !== undefined) {
        const userId = firstUser;
        record(
          `contacts: user details (${dingTalkPermissions.member})`,
          await probe('member', dingTalkPermissions.member, () => getUser(userId)),
        );
      }
      record(
        `workflow: approval instances (${dingTalkPermissions.instanceRead})`,
        await probe('workflow', dingTalkPermissions.instanceRead, () =>
          callNew({
            method: 'GET',
            path: '/v1.0/workflow/processInstances',
            query: { processInstanceId: 'signoff-permission-probe' },
            what: 'probing the approval API',
            permission: dingTalkPermissions.instanceRead,
          }),
        ),
      );
      return { missing, checked };
    },

    async department(id: string): Promise<DepartmentListing> {
      const [department, departments, users] = await Promise.all([
        getDepartment(id),
        subDepartments(id),
        departmentUsers(id),
      ]);
      return { department, departments, users: users.map((raw) => stripEmails(toUser(raw))) };
    },

    async findUsers(query: UserQuery): Promise<ImUser[]> {
      const email = query.email?.trim().toLowerCase();
      const name = query.query?.trim().toLowerCase();
      const mobile = query.mobile?.trim();
      if (!email && !name && !mobile) {
        throw new AppError(
          'bad_request',
          'Give an email, a mobile number or a name to look DingTalk users up.',
        );
      }
      let candidates: UserWithEmails[];
      if (mobile) {
        const userId = await userIdByMobile(mobile);
        const user = userId ? await getUser(userId) : undefined;
        candidates = user ? [user] : [];
      } else {
        candidates = (await visibleUsers()).map(toUser);
      }
      return candidates
        .filter(
          (user) =>
            (!email || user.emails.includes(email)) && (!name || user.name.toLowerCase().includes(name)),
        )
        .map(stripEmails);
    },

    async user(userId) {
      const user = await getUser(userId);
      return user ? stripEmails(user) : undefined;
    },

    async saveForm(form) {
      const answer = await callNew<{ result?: { processCode?: string } }>({
        method: 'POST',
        path: '/v1.0/workflow/forms',
        body: form,
        what: `saving the approval form "${form.name}"`,
        permission: dingTalkPermissions.formWrite,
      });
      const processCode = answer.result?.processCode;
      if (!processCode)
        throw new AppError('upstream_error', 'DingTalk saved the form but returned no processCode.');
      return processCode;
    },

    async listTemplates(userId) {
      return allPages<{ name: string; processCode: string }, number>(
        'DingTalk form templates',
        async (cursor) => {
          const answer = await callNew<{
            result?: { nextToken?: number; processList?: { name: string; processCode: string }[] };
          }>({
            method: 'GET',
            path: '/v1.0/workflow/processes/userVisibilities/templates',
            query: { maxResults: 100, nextToken: cursor ?? 0, userId },
            what: 'listing approval form templates',
          });
          const next = answer.result?.nextToken;
          return {
            items: (answer.result?.processList ?? []).map(({ name, processCode }) => ({ name, processCode })),
            // The list ends when nextToken is 0 (or absent).
            next: next ? next : undefined,
          };
        },
      );
    },

    async startProcessInstance(input) {
      const answer = await callNew<{ instanceId?: string }>({
        method: 'POST',
        path: '/v1.0/workflow/processInstances',
        body: input,
        what: `starting an approval of ${input.processCode}`,
        permission: dingTalkPermissions.instanceWrite,
      });
      if (!answer.instanceId)
        throw new AppError('upstream_error', 'DingTalk started the approval but returned no instanceId.');
      return answer.instanceId;
    },

    async getProcessInstance(processInstanceId) {
      const answer = await callNew<{ result?: ProcessInstance }>({
        method: 'GET',
        path: '/v1.0/workflow/processInstances',
        query: { processInstanceId },
        what: `reading approval instance ${processInstanceId}`,
        permission: dingTalkPermissions.instanceRead,
      });
      if (!answer.result)
        throw new AppError('upstream_error', `DingTalk returned no approval instance ${processInstanceId}.`);
      return answer.result;
    },

    queryProcessInstanceIds: queryInstanceIds,

    async listProcessInstanceIds(query) {
      return allPages<string, number>(
        `DingTalk approval instances of ${query.processCode}`,
        async (cursor) => {
          const page = await queryInstanceIds(query, cursor ?? 0);
          return { items: page.ids, next: page.nextToken };
        },
        INSTANCE_ID_MAX_PAGES,
      );
    },

    async formSchema(processCode) {
      try {
        const answer = await callNew<{ result?: { name?: string; status?: string } }>({
          method: 'GET',
          path: '/v1.0/workflow/forms/schemas/processCodes',
          query: { processCode },
          what: `reading the approval form ${processCode}`,
          permission: dingTalkPermissions.formRead,
        });
        return {
          name: answer.result?.name ?? '',
          ...(answer.result?.status ? { status: answer.result.status } : {}),
        };
      } catch (error) {
        const code = dingTalkErrorCode(error);
        if (code === 'formNotExist' || code === 'aflowProcessCodeIsError') return undefined;
        throw error;
      }
    },

    async terminateProcessInstance(input) {
      const answer = await callNew<{ success?: boolean; result?: boolean }>({
        method: 'POST',
        path: '/v1.0/workflow/processInstances/terminate',
        body: {
          processInstanceId: input.processInstanceId,
          isSystem: input.isSystem ?? true,
          remark: input.remark ?? '',
          ...(input.operatingUserId ? { operatingUserId: input.operatingUserId } : {}),
        },
        what: `terminating approval instance ${input.processInstanceId}`,
        permission: dingTalkPermissions.instanceWrite,
      });
      if (answer.success === false || answer.result === false) {
        throw new AppError(
          'upstream_rejected',
          `DingTalk did not terminate approval instance ${input.processInstanceId}.`,
        );
      }
    },

    async sendWorkNotification(agentId, userIds, msg) {
      if (userIds.length === 0)
        throw new AppError('bad_request', 'A DingTalk work notification needs at least one user.');
      const answer = await callOld<OldApiEnvelope & { task_id?: number | string }>({
        path: '/topapi/message/corpconversation/asyncsend_v2',
        body: { agent_id: Number(agentId), userid_list: userIds.join(','), msg },
        what: 'sending a work notification',
      });
      return String(answer.task_id ?? '');
    },

    callNew,
    callOld,
  };
}

/** An ImUser plus every address DingTalk holds for them (email and org_email), lower-cased, for matching. */
type UserWithEmails = ImUser & { emails: string[] };

function toUser(raw: DingTalkRawUser): UserWithEmails {
  const emails = [raw.email, raw.org_email]
    .filter((value): value is string => !!value)
    .map((e) => e.toLowerCase());
  return {
    id: raw.userid,
    id_type: 'userid',
    name: raw.name,
    avatar: raw.avatar || null,
    email: raw.email || raw.org_email || null,
    mobile: raw.mobile || null,
    department_ids: (raw.dept_id_list ?? []).map(String),
    emails,
  };
}

function stripEmails(user: UserWithEmails): ImUser {
  const { emails: _emails, ...rest } = user;
  return rest;
}

function toDepartment(raw: DingTalkRawDepartment, requested: number): ImDepartment {
  const id = String(raw.dept_id ?? requested);
  const parent = raw.parent_id;
  return {
    id,
    name: raw.name,
    parent_id: id === DINGTALK_ROOT_DEPARTMENT_ID || !parent ? null : String(parent),
  };
}

function departmentNumber(id: string): number {
  const value = Number(id);
  if (!/^\d+$/.test(id) || !Number.isSafeInteger(value)) {
    throw new AppError('bad_request', `"${id}" is not a DingTalk department id (a number; the root is 1).`);
  }
  return value;
}

function departmentNotFound(id: string): AppError {
  return new AppError(
    'not_found',
    `DingTalk has no department ${id} visible to this app. The app sees only the address-book scope granted in 开发者后台 → 应用开发 → your app → 权限管理 (通讯录权限范围).`,
  );
}

function trimBase(base: string): string {
  return base.replace(/\/+$/, '');
}
