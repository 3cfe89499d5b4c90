// WeCom REST client (reference/platforms.md §5): `?access_token=` on every call, HTTP 200 + {errcode, errmsg}
// on every answer. Tokens are cached per (api base, corp id, secret) — never one key for all apps (Zadig's
// W3) — refreshed 5 minutes early, and dropped and fetched once more on 40014/42001/41001.
import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';
import { accessToken } from '../access-token.js';
import { type Fetch, request, statusError } from '../http.js';
import { allPages } from '../paginate.js';
import { memoryRateLimiter, type RateLimit, type RateLimiter } from '../rate-limiter.js';
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
  AGENT_ID_FIX,
  APPROVAL_ACCESS_FIX,
  apiForbiddenCodes,
  ipNotTrustedCode,
  isWeComApiError,
  noSuchUserCodes,
  TRUSTED_IP_FIX,
  tokenInvalidCodes,
  WeComApiError,
} from './codes.js';

export type WeComConfig = Extract<ImAppConfig, { type: 'wecom' }>;

export interface WeComClientDeps extends ClientDeps {
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

// ---- wire shapes (the fields we read or send) ----

export interface WeComText {
  text: string;
  lang: string;
}

export interface WeComTemplateControl {
  property: {
    control: string;
    id: string;
    title: WeComText[];
    placeholder?: WeComText[];
    require?: 0 | 1;
    un_print?: 0 | 1;
  };
  config?: Record<string, unknown>;
}

export interface WeComTemplate {
  template_name: WeComText[];
  template_content: { controls: WeComTemplateControl[] };
}

export interface WeComTemplateDetail {
  template_names: WeComText[];
  template_content: { controls: WeComTemplateControl[] };
}

export interface WeComApplyContent {
  control: string;
  id: string;
  value: Record<string, unknown>;
}

/** `oa/applyevent`. Mind the numbering trap: approver[].attr 1 = OR, 2 = AND; node_list[].apv_rel 1 = AND, 2 = OR. */
export interface WeComApplyEvent {
  creator_userid: string;
  template_id: string;
  use_template_approver: 0 | 1;
  choose_department?: number;
  approver?: { attr: 1 | 2; userid: string[] }[];
  notifyer?: string[];
  notify_type?: 1 | 2;
  process?: { node_list: { type: 1 | 2 | 3; apv_rel?: 1 | 2 | 3; userid: string[] }[] };
  apply_data: { contents: WeComApplyContent[] };
  summary_list?: { summary_info: WeComText[] }[];
}

export interface WeComApprovalDetails {
  approver: { userid: string };
  speech: string;
  /** 1 pending, 2 agreed, 3 rejected, 4 forwarded (转审). */
  sp_status: number;
  /** Epoch seconds; 0 = not acted yet. */
  sptime: number;
  media_id?: string[];
}

/** `info.comments[]`: remarks (备注) anyone involved added. */
export interface WeComApprovalComment {
  commentUserInfo: { userid: string };
  commenttime: number;
  commentcontent: string;
  commentid: string;
  media_id?: string[];
}

/** `info.process_list.node_list[]`, the newer flow view beside sp_record. */
export interface WeComProcessListNode {
  /** 1 approver, 2 CC, 3 handler (办理人). */
  node_type: number;
  sp_status: number;
  /** node_list numbering: 1 = AND (会签), 2 = OR (或签), 3 = in turn (依次). */
  apv_rel: number;
  sub_node_list: {
    userid: string;
    speech: string;
    /** 1 pending, 2 agreed, 3 rejected, 4 forwarded, 11 returned, 12 co-sign added, 13 agreed and co-sign added, 14 handled, 15 handed over. */
    sp_yj: number;
    sptime: number;
    media_ids?: string[];
  }[];
}

/** `oa/getapprovaldetail` → `info` (the callback payload is normalised to the same shape). */
export interface WeComApprovalInfo {
  sp_no: string;
  sp_name: string;
  /** 1 pending, 2 approved, 3 rejected, 4 withdrawn, 6 revoked after approval, 7 deleted, 10 paid. */
  sp_status: number;
  template_id: string;
  apply_time: number;
  applyer: { userid: string; partyid?: string };
  sp_record: { sp_status: number; approverattr: number; details: WeComApprovalDetails[] }[];
  notifyer: { userid: string }[];
  apply_data?: { contents: unknown[] };
  comments?: WeComApprovalComment[];
  process_list?: { node_list: WeComProcessListNode[] };
}

export interface WeComApprovalQuery {
  /** Epoch seconds; WeCom allows at most 31 days between start and end. */
  starttime: number;
  endtime: number;
  filters?: { key: 'template_id' | 'creator' | 'department' | 'sp_status'; value: string }[];
}

export interface WeComMessage {
  touser?: string;
  toparty?: string;
  totag?: string;
  msgtype: string;
  safe?: 0 | 1;
  enable_id_trans?: 0 | 1;
  enable_duplicate_check?: 0 | 1;
  duplicate_check_interval?: number;
  [content: string]: unknown;
}

export interface WeComSendResult {
  msgid: string;
  invaliduser: string[];
  invalidparty: string[];
  invalidtag: string[];
  unlicenseduser: string[];
  response_code?: string;
}

export interface WeComClient extends ImClient {
  rootDepartmentId: '1';
  /** The injected clock (milliseconds): adapters over this client bound their time windows with it. */
  now(): number;
  user(userid: string): Promise<ImUser>;
  createTemplate(template: WeComTemplate): Promise<string>;
  templateDetail(templateId: string): Promise<WeComTemplateDetail>;
  /** Submits an approval; returns its `sp_no`. WeCom has no idempotency key and no withdraw API. */
  applyEvent(event: WeComApplyEvent): Promise<string>;
  approvalDetail(spNo: string): Promise<WeComApprovalInfo>;
  /** Every `sp_no` in the window (all pages), for reconciling after a crash. */
  approvalNumbers(query: WeComApprovalQuery): Promise<string[]>;
  /** App message as this app (`agentid` is filled in). Unknown recipients do not fail: see `invaliduser`. */
  sendMessage(message: WeComMessage): Promise<WeComSendResult>;
}

interface Envelope {
  errcode: number;
  errmsg: string;
  [field: string]: unknown;
}

// platforms.md §5.2 / §6.3: 10,000/min and 150,000/h per API per corp; approval APIs 600/min [UNVERIFIED];
// app messages at most 30/min and 1000/h to one member, and WeCom drops the excess *silently*.
const apiLimits: RateLimit[] = [
  { limit: 10_000, windowMs: 60_000 },
  { limit: 150_000, windowMs: 3_600_000 },
];
const approvalLimits: RateLimit[] = [...apiLimits, { limit: 600, windowMs: 60_000 }];
const memberMessageLimits: RateLimit[] = [
  { limit: 30, windowMs: 60_000 },
  { limit: 1000, windowMs: 3_600_000 },
];

const DEPARTMENT_ID = /^\d{1,12}$/;
// WeCom hands back the same token to any ask while it is valid (有效期内重复获取返回相同结果), so asking
// early gains nothing: the token is used to its end, and a 42001 at the edge costs one retry, not a request
// per lifetime.
const REFRESH_BEFORE_MS = 0;

export function createWeComClient(config: WeComConfig, deps: WeComClientDeps): WeComClient {
  const base = config.api_base.replace(/\/+$/, '');
  // Client-side limits (platforms.md §6.3); one per client by default, i.e. per app.
  const limiter = deps.limiter ?? memoryRateLimiter(deps.now);
  const fingerprint = createHash('sha256')
    .update(`${base}\n${config.corp_id}\n${config.secret}`)
    .digest('hex')
    .slice(0, 20);
  /** Names this app's credentials in the token store and the limiter, never the secret itself. */
  const appKey = `wecom:${config.corp_id}:${fingerprint}`;

  const send = async (api: string, url: string, body?: unknown): Promise<Envelope> => {
    const response = await request(deps.fetch, {
      vendor: 'wecom',
      url,
      method: body === undefined ? 'GET' : 'POST',
      target: `WeCom ${api}`,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    });
    if (response.status !== 200)
      throw statusError(`WeCom ${api}`, response.status, response.text, response.headers.get('retry-after'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.text);
    } catch {
      throw new AppError('upstream_error', `WeCom ${api} answered with something that is not JSON.`);
    }
    const envelope = parsed as Partial<Envelope> | null;
    if (typeof envelope !== 'object' || envelope === null || typeof envelope.errcode !== 'number') {
      throw new AppError('upstream_error', `WeCom ${api} answered without an errcode.`);
    }
    return { ...envelope, errmsg: String(envelope.errmsg ?? '') } as Envelope;
  };

  const token = accessToken({
    key: appKey,
    store: deps.tokens,
    now: deps.now,
    refreshBeforeMs: REFRESH_BEFORE_MS,
    fetchToken: async () => {
      const query = new URLSearchParams({ corpid: config.corp_id, corpsecret: config.secret });
      const answer = await send('gettoken', `${base}/cgi-bin/gettoken?${query}`);
      if (answer.errcode !== 0) throw new WeComApiError('gettoken', answer.errcode, answer.errmsg);
      const { access_token: value, expires_in: expiresIn } = answer;
      if (typeof value !== 'string' || value === '' || typeof expiresIn !== 'number' || expiresIn <= 0) {
        throw new AppError('upstream_error', 'WeCom gettoken answered without access_token or expires_in.');
      }
      // WeCom answers with the same token until it expires (有效期内重复获取返回相同结果), so an ask 5 minutes
      // early brings back the old token with a short expires_in: use it to its end rather than asking again
      // on every call (a call that races the expiry gets 42001 and is retried once with a new token).
      const lifetimeMs = expiresIn * 1000;
      return {
        token: value,
        expiresInMs: lifetimeMs > REFRESH_BEFORE_MS ? lifetimeMs : lifetimeMs + REFRESH_BEFORE_MS - 1000,
      };
    },
  });

  const call = async (
    api: string,
    options: { query?: Record<string, string>; body?: unknown; limits?: RateLimit[] } = {},
  ): Promise<Envelope> => {
    await limiter.take(`${appKey}:${api}`, options.limits ?? apiLimits);
    for (let attempt = 0; ; attempt++) {
      const current = await token.get();
      const query = new URLSearchParams({ access_token: current, ...options.query });
      const answer = await send(api, `${base}/cgi-bin/${api}?${query}`, options.body);
      if (answer.errcode === 0) return answer;
      if (attempt === 0 && tokenInvalidCodes.has(answer.errcode)) {
        // WeCom may end a token early; one fresh token, one retry.
        await token.invalidate(current);
        continue;
      }
      throw new WeComApiError(api, answer.errcode, answer.errmsg);
    }
  };

  const toUser = (raw: Record<string, unknown>): ImUser => {
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
    return {
      id: String(raw.userid),
      id_type: 'userid',
      name: text(raw.name) ?? String(raw.userid),
      // Apps created after 2022-06-20 no longer receive avatar, mobile or email from user/get.
      avatar: text(raw.avatar) ?? text(raw.thumb_avatar),
      email: text(raw.email) ?? text(raw.biz_mail),
      mobile: text(raw.mobile),
      department_ids: Array.isArray(raw.department) ? raw.department.map(String) : [],
    };
  };

  const toDepartment = (raw: Record<string, unknown>): ImDepartment => ({
    id: String(raw.id),
    name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : String(raw.id),
    parent_id:
      raw.parentid === undefined || raw.parentid === 0 || raw.parentid === '0' ? null : String(raw.parentid),
    member_count: null,
  });

  /** department/list: the department and its whole subtree, no paging (platforms.md §5.6). */
  const departments = async (id?: string): Promise<ImDepartment[]> => {
    const answer = await call('department/list', id === undefined ? {} : { query: { id } });
    return arrayOf(answer.department, 'department/list', 'department').map(toDepartment);
  };

  /** user/simplelist: direct members (fetch_child=1: the whole subtree), no paging. */
  const members = async (departmentId: string, fetchChild = false): Promise<ImUser[]> => {
    const query: Record<string, string> = { department_id: departmentId };
    if (fetchChild) query.fetch_child = '1';
    const answer = await call('user/simplelist', { query });
    return arrayOf(answer.userlist, 'user/simplelist', 'userlist').map(toUser);
  };

  const user = async (userid: string): Promise<ImUser> =>
    toUser(await call('user/get', { query: { userid } }));

  /** A lookup that answers "no such member" gives no user rather than an error. */
  const lookup = async (api: string, body: Record<string, unknown>): Promise<string | undefined> => {
    try {
      const answer = await call(api, { body });
      return typeof answer.userid === 'string' ? answer.userid : undefined;
    } catch (error) {
      if (isWeComApiError(error, noSuchUserCodes)) return undefined;
      throw error;
    }
  };

  /**
   * WeCom has no search API for members: a name query walks the address book this app can see (its
   * visible range) and filters it here. The API layer caches listings, so this runs once per 5 minutes.
   */
  const searchVisible = async (query: string): Promise<ImUser[]> => {
    const visible = await departments();
    const ids = new Set(visible.map((department) => department.id));
    const tops = visible.filter(
      (department) => department.parent_id === null || !ids.has(department.parent_id),
    );
    const found = new Map<string, ImUser>();
    for (const top of tops) {
      for (const member of await members(top.id, true)) found.set(member.id, member);
    }
    const needle = query.trim().toLowerCase();
    return [...found.values()].filter(
      (member) => member.name.toLowerCase().includes(needle) || member.id.toLowerCase().includes(needle),
    );
  };

  const client: WeComClient = {
    rootDepartmentId: '1',
    now: deps.now,

    async checkCredentials() {
      // Always a fresh token: a cached one (perhaps another app's, Zadig's W3) proves nothing.
      await token.fresh();
    },

    async checkPermissions(): Promise<PermissionReport> {
      const missing = new Set<string>();
      const checked: string[] = [];
      /** `verdict` reads a probe's own refusals: 'ok', the sentence for what is missing, or undefined. */
      const probe = async (
        name: string,
        run: () => Promise<unknown>,
        verdict: (error: WeComApiError) => string | undefined = () => undefined,
      ) => {
        try {
          await run();
          checked.push(name);
        } catch (error) {
          if (!isWeComApiError(error)) throw error;
          const said =
            error.errcode === ipNotTrustedCode
              ? `企业可信IP (Trusted IPs): ${TRUSTED_IP_FIX}`
              : verdict(error);
          if (said === 'ok') checked.push(name);
          else if (said !== undefined) missing.add(said);
          else if (error.code === 'upstream_rejected' || error.code === 'not_found')
            missing.add(`${name}: ${error.message}`);
          else throw error;
        }
      };
      await token.fresh();
      await probe('contacts: departments in the visible range (department/list)', () => departments());
      await probe(
        'app: AgentId belongs to this Secret (agent/get)',
        () => call('agent/get', { query: { agentid: config.agent_id } }),
        (error) =>
          [40056, 60011, 301002].includes(error.errcode)
            ? `AgentId ${config.agent_id} is not the app of this Secret (agent/get, errcode ${error.errcode}): ${AGENT_ID_FIX}`
            : undefined,
      );
      // A template id that cannot exist: "no such template" proves the approval API is open to this app.
      await probe(
        'approval: OA approval API (oa/gettemplatedetail)',
        () =>
          call('oa/gettemplatedetail', {
            body: { template_id: 'signoff-permission-probe' },
            limits: approvalLimits,
          }),
        (error) =>
          // gettemplatedetail documents 301025 (参数错误，请求template_id非法) for an unknown id.
          error.errcode === 40037 || error.errcode === 301025
            ? 'ok'
            : apiForbiddenCodes.has(error.errcode)
              ? `审批 → 可调用接口的应用 (Approval → apps that may call the API): ${APPROVAL_ACCESS_FIX}`
              : undefined,
      );
      return { missing: [...missing], checked };
    },

    async department(id: string): Promise<DepartmentListing> {
      if (!DEPARTMENT_ID.test(id))
        throw new AppError('bad_request', 'A WeCom department id is a number (the root is 1).');
      try {
        const [subtree, users] = await Promise.all([departments(id), members(id)]);
        const self = subtree.find((department) => department.id === id);
        if (!self)
          throw new AppError('not_found', `WeCom department ${id} is not in this app's visible range.`);
        return {
          department: self,
          departments: subtree.filter((department) => department.parent_id === id),
          users,
        };
      } catch (error) {
        // An app whose visible range does not include the root still has a root for the picker: the top
        // departments it can see.
        if (id !== '1' || !isWeComApiError(error, 60011)) throw error;
        const visible = await departments();
        const ids = new Set(visible.map((department) => department.id));
        return {
          department: { id: '1', name: 'Visible range', parent_id: null, member_count: null },
          departments: visible.filter(
            (department) => department.parent_id === null || !ids.has(department.parent_id),
          ),
          users: [],
        };
      }
    },

    async findUsers(query: UserQuery): Promise<ImUser[]> {
      const results = new Map<string, ImUser>();
      if (query.email !== undefined) {
        const email = query.email.trim();
        // email_type 1 = company mailbox (default), 2 = personal mailbox.
        const userid =
          (await lookup('user/get_userid_by_email', { email, email_type: 1 })) ??
          (await lookup('user/get_userid_by_email', { email, email_type: 2 }));
        if (userid) {
          const found = await user(userid);
          results.set(userid, { ...found, email: found.email ?? email });
        }
      }
      if (query.mobile !== undefined) {
        // Mobiles stay strings as entered ("+86 138…" is not a number).
        const mobile = query.mobile.trim();
        const userid = await lookup('user/getuserid', { mobile });
        if (userid) {
          const found = results.get(userid) ?? (await user(userid));
          results.set(userid, { ...found, mobile: found.mobile ?? mobile });
        }
      }
      if (query.query !== undefined) {
        if (query.email !== undefined || query.mobile !== undefined) {
          const needle = query.query.trim().toLowerCase();
          return [...results.values()].filter((found) => found.name.toLowerCase().includes(needle));
        }
        return searchVisible(query.query);
      }
      if (query.email === undefined && query.mobile === undefined) {
        throw new AppError('bad_request', 'Give an email, a mobile or a name to look up.');
      }
      return [...results.values()];
    },

    user,

    async createTemplate(template) {
      const answer = await call('oa/approval/create_template', { body: template, limits: approvalLimits });
      return stringField(answer, 'oa/approval/create_template', 'template_id');
    },

    async templateDetail(templateId) {
      const answer = await call('oa/gettemplatedetail', {
        body: { template_id: templateId },
        limits: approvalLimits,
      });
      return {
        template_names: arrayOf(
          answer.template_names,
          'oa/gettemplatedetail',
          'template_names',
        ) as unknown as WeComText[],
        template_content: answer.template_content as WeComTemplateDetail['template_content'],
      };
    },

    async applyEvent(event) {
      const answer = await call('oa/applyevent', { body: event, limits: approvalLimits });
      return stringField(answer, 'oa/applyevent', 'sp_no');
    },

    async approvalDetail(spNo) {
      const answer = await call('oa/getapprovaldetail', { body: { sp_no: spNo }, limits: approvalLimits });
      if (typeof answer.info !== 'object' || answer.info === null) {
        throw new AppError('upstream_error', 'WeCom oa/getapprovaldetail answered without info.');
      }
      return answer.info as WeComApprovalInfo;
    },

    async approvalNumbers(query) {
      return allPages<string, string>('WeCom oa/getapprovalinfo', async (cursor) => {
        const answer = await call('oa/getapprovalinfo', {
          body: {
            starttime: String(query.starttime),
            endtime: String(query.endtime),
            new_cursor: cursor ?? '',
            size: 100,
            ...(query.filters ? { filters: query.filters } : {}),
          },
          limits: approvalLimits,
        });
        const next = typeof answer.new_next_cursor === 'string' ? answer.new_next_cursor : undefined;
        return { items: arrayOf(answer.sp_no_list, 'oa/getapprovalinfo', 'sp_no_list').map(String), next };
      });
    },

    async sendMessage(message) {
      // Over 30/min (1000/h) to one member WeCom drops messages without an error: wait instead.
      for (const member of (message.touser ?? '').split('|').filter((id) => id !== '' && id !== '@all')) {
        await limiter.take(`${appKey}:member:${member}`, memberMessageLimits);
      }
      const answer = await call('message/send', { body: { ...message, agentid: Number(config.agent_id) } });
      const list = (value: unknown) => (typeof value === 'string' && value !== '' ? value.split('|') : []);
      return {
        msgid: String(answer.msgid ?? ''),
        invaliduser: list(answer.invaliduser),
        invalidparty: list(answer.invalidparty),
        invalidtag: list(answer.invalidtag),
        unlicenseduser: list(answer.unlicenseduser),
        ...(typeof answer.response_code === 'string' ? { response_code: answer.response_code } : {}),
      };
    },
  };
  return client;
}

function arrayOf(value: unknown, api: string, field: string): Record<string, unknown>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new AppError('upstream_error', `WeCom ${api} answered with a ${field} that is not a list.`);
  return value as Record<string, unknown>[];
}

function stringField(answer: Envelope, api: string, field: string): string {
  const value = answer[field];
  if (typeof value !== 'string' || value === '')
    throw new AppError('upstream_error', `WeCom ${api} answered without ${field}.`);
  return value;
}

/** Group robot (`/cgi-bin/webhook/send?key=`): no signing, the key in the URL is the secret (§5.7). */
export async function sendWeComRobot(
  fetchImpl: Fetch,
  webhookUrl: string,
  message: { msgtype: string; [content: string]: unknown },
  options: { rateLimiter?: RateLimiter; timeoutMs?: number } = {},
): Promise<void> {
  const key = new URL(webhookUrl).searchParams.get('key') ?? webhookUrl;
  // 20 messages a minute per robot; the limiter key is a digest, never the key itself.
  await options.rateLimiter?.take(
    `wecom-robot:${createHash('sha256').update(key).digest('hex').slice(0, 20)}`,
    [{ limit: 20, windowMs: 60_000 }],
  );
  const target = 'The WeCom group robot';
  const response = await request(fetchImpl, {
    vendor: 'wecom',
    url: webhookUrl,
    method: 'POST',
    target,
    body: JSON.stringify(message),
    headers: { 'content-type': 'application/json' },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (response.status !== 200)
    throw statusError(target, response.status, response.text, response.headers.get('retry-after'));
  let answer: Partial<Envelope>;
  try {
    answer = JSON.parse(response.text) as Partial<Envelope>;
  } catch {
    throw new AppError('upstream_error', `${target} answered with something that is not JSON.`);
  }
  if (typeof answer?.errcode !== 'number')
    throw new AppError('upstream_error', `${target} answered without an errcode.`);
  if (answer.errcode !== 0)
    throw new WeComApiError('webhook/send', answer.errcode, String(answer.errmsg ?? ''));
}
