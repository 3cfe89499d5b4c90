// A WeCom that runs in-process: `/cgi-bin/…` with WeCom's envelopes (HTTP 200 + {errcode, errmsg}), error
// codes, 7200 s tokens on an injectable clock, frequency limits, contacts with visible ranges, OA approval,
// app messages and group robots — and the callback direction: the GET URL verification WeCom performs when
// the operator saves the receive-message settings, and encrypted `sys_approval_change` POSTs.
//
// Strict where WeCom is lenient: unknown JSON fields and wrong methods are refused, so a client bug shows
// here first. It powers tests, the sandbox (`/sandbox/wecom`) and the benchmarks.
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type FakeClock, FaultInjector, fakeClock, hang } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import { createWeComCrypto } from './crypto.js';
import {
  type WeComSeedApp,
  type WeComSeedCorp,
  type WeComSeedDepartment,
  type WeComSeedUser,
  wecomSandboxSeed,
} from './seed.js';
import { toXml, type XmlValue } from './xml.js';

export interface WeComFakeOptions {
  /** One or more companies (default: the sandbox company of seed.ts). */
  seed?: WeComSeedCorp | WeComSeedCorp[];
  clock?: FakeClock;
  faults?: FaultInjector;
  /** How the fake reaches callback URLs (default: global fetch). */
  fetch?: Fetch;
  /** Token lifetime in seconds (WeCom: 7200). */
  tokenTtlSeconds?: number;
  /** WeCom gives 1 s for the GET verification; the default allows 2 s so a cold test server is not flaky. */
  verifyTimeoutMs?: number;
  /** WeCom drops an event POST after 5 s and retries it up to 3 times. */
  deliveryTimeoutMs?: number;
  /** Wait before each retry of a failed event delivery (default 200, 400, 800 ms). */
  retryDelaysMs?: number[];
}

export interface FakeApprovalNode {
  /** As in sp_record: 1 = OR-sign (或签), 2 = AND-sign (会签). */
  approverattr: 1 | 2;
  /** 1 pending, 2 agreed, 3 rejected (4 forwarded is per approver: the node itself stays pending). */
  sp_status: number;
  /** Per approver: sp_status 1 pending, 2 agreed, 3 rejected, 4 forwarded (转审); sptime 0 = not acted. */
  details: { userid: string; speech: string; sp_status: number; sptime: number }[];
}

/** A remark (备注) added to an approval by anyone involved, at any time; `comments[]` in getapprovaldetail. */
export interface FakeApprovalComment {
  commentid: string;
  userid: string;
  content: string;
  time: number;
}

export interface FakeApproval {
  corp_id: string;
  /** The app that submitted it; its callback URL receives the changes. */
  agent_id: string;
  sp_no: string;
  sp_name: string;
  sp_status: number;
  template_id: string;
  apply_time: number;
  applyer: { userid: string; partyid: string };
  nodes: FakeApprovalNode[];
  notifyer: string[];
  apply_data: { contents: unknown[] };
  summary: string[];
  comments: FakeApprovalComment[];
}

export interface FakeMessage {
  corp_id: string;
  agent_id: string;
  msgid: string;
  msgtype: string;
  touser: string[];
  toparty: string[];
  body: Record<string, unknown>;
  at: number;
}

export interface FakeRobotMessage {
  key: string;
  msgtype: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeDelivery {
  kind: 'verify' | 'event';
  corp_id: string;
  agent_id: string;
  /** Scheme, host and path only. */
  url: string;
  attempts: number;
  ok: boolean;
  status?: number;
  error?: string;
  /** For approval events. */
  sp_no?: string;
  statu_change_event?: number;
}

export interface CallbackSetup {
  url: string;
  token: string;
  encodingAesKey: string;
}

export interface WeComFake {
  app: Hono;
  /** Reaches `app` in-process whatever the host: for clients whose api_base is any URL ending at the fake. */
  fetch: Fetch;
  clock: FakeClock;
  faults: FaultInjector;
  stats: { tokenRequests: number; calls: Record<string, number> };
  messages: FakeMessage[];
  /** Messages over WeCom's per-member limit: accepted with errcode 0 and never delivered, like WeCom does. */
  droppedMessages: FakeMessage[];
  robotMessages: FakeRobotMessage[];
  deliveries: FakeDelivery[];
  users(corpId?: string): WeComSeedUser[];
  departments(corpId?: string): WeComSeedDepartment[];
  approvals(filter?: { corpId?: string; status?: number }): FakeApproval[];
  approval(spNo: string): FakeApproval | undefined;
  /** An approver acts in the WeCom app (同意 / 驳回); the submitting app's callback hears of it. */
  decide(spNo: string, userid: string, decision: 'approve' | 'reject', speech?: string): FakeApproval;
  /** The applicant withdraws it (SpStatus 4, StatuChangeEvent 6). */
  withdraw(spNo: string): FakeApproval;
  /** Revoked after approval (SpStatus 6, StatuChangeEvent 8). */
  revoke(spNo: string): FakeApproval;
  /**
   * 转审: a pending approver hands the decision to another member, who joins the same node. The approver's
   * record shows sp_status 4 (已转审); the callback says StatuChangeEvent 4.
   */
  transfer(spNo: string, from: string, to: string, speech?: string): FakeApproval;
  /** 添加备注: a remark in `comments[]` (StatuChangeEvent 10); the approval's state does not change. */
  comment(spNo: string, userid: string, content: string): FakeApproval;
  /**
   * Deleted in WeCom (SpStatus 7). WeCom documents no StatuChangeEvent for a deletion, so no callback is
   * sent: only getapprovaldetail shows it.
   */
  remove(spNo: string): FakeApproval;
  /** 已支付 (SpStatus 10): a payment approval was paid after it was approved. No StatuChangeEvent exists for it. */
  pay(spNo: string): FakeApproval;
  /** The admin deletes an approval template in WeCom's console; approvals made from it stay readable. */
  deleteTemplate(templateId: string, corpId?: string): void;
  templates(corpId?: string): { template_id: string; name: string }[];
  /**
   * The operator saves 设置API接收 in WeCom's console: WeCom sends the GET verification to `url` and keeps
   * the settings only if the answer is the decrypted echostr.
   */
  configureCallback(
    corpId: string,
    agentId: string,
    setup: CallbackSetup,
  ): Promise<{ ok: boolean; status?: number; error?: string }>;
  /** Pushes an arbitrary decrypted message (inner XML) to an app's callback, e.g. a text message. */
  push(corpId: string, agentId: string, innerXml: string): Promise<FakeDelivery>;
  /** WeCom ends tokens early sometimes: every issued token becomes invalid (40014). */
  revokeTokens(corpId?: string): void;
  /** Change an app's settings (approval access, trusted IP, visible range…). */
  updateApp(corpId: string, agentId: string, changes: Partial<WeComSeedApp>): void;
  addRobot(key: string, corpId?: string): void;
  /** Resolves when no callback delivery is in flight. */
  idle(): Promise<void>;
}

class FakeError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(errmsg);
  }
}

interface AppState extends WeComSeedApp {
  corp_id: string;
  callbackSetup?: CallbackSetup;
}

interface CorpState {
  corp_id: string;
  name: string;
  departments: Map<number, WeComSeedDepartment>;
  users: Map<string, WeComSeedUser>;
  apps: Map<string, AppState>;
  templates: Map<string, { template_names: { text: string; lang: string }[]; controls: TemplateControl[] }>;
}

interface TemplateControl {
  property: {
    control: string;
    id: string;
    title: { text: string; lang: string }[];
    require?: number;
    [key: string]: unknown;
  };
  config?: Record<string, unknown>;
}

interface Endpoint {
  method: 'GET' | 'POST';
  /** Top-level JSON fields accepted (POST). */
  fields?: readonly string[];
  handle(call: Call): Record<string, unknown>;
}

interface Call {
  corp: CorpState;
  app: AppState;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

/** The approval app's own agent id, which WeCom puts inside sys_approval_change. */
const APPROVAL_AGENT_ID = '3010040';
const CONTROL_TYPES = new Set([
  'Text',
  'Textarea',
  'Number',
  'Money',
  'Date',
  'DateRange',
  'Selector',
  'Contact',
  'Tips',
  'File',
  'Table',
  'Location',
  'RelatedApproval',
  'Formula',
  'Attendance',
  'Vacation',
  'PunchCorrection',
]);
const MESSAGE_TYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'file',
  'textcard',
  'news',
  'mpnews',
  'markdown',
  'miniprogram_notice',
  'template_card',
]);
const ROBOT_TYPES = new Set([
  'text',
  'markdown',
  'markdown_v2',
  'image',
  'news',
  'file',
  'voice',
  'template_card',
]);

export function createWeComFake(options: WeComFakeOptions = {}): WeComFake {
  const clock = options.clock ?? fakeClock();
  const faults = options.faults ?? new FaultInjector();
  const ttl = options.tokenTtlSeconds ?? 7200;
  const outbound = options.fetch ?? ((input, init) => fetch(input, init));
  const retryDelays = options.retryDelaysMs ?? [200, 400, 800];
  const seconds = () => Math.floor(clock.now() / 1000);

  const corps = new Map<string, CorpState>();
  for (const seed of [options.seed ?? wecomSandboxSeed].flat()) {
    corps.set(seed.corp_id, {
      corp_id: seed.corp_id,
      name: seed.name,
      departments: new Map(
        seed.departments.map((department) => [department.id, structuredClone(department)]),
      ),
      users: new Map(seed.users.map((user) => [user.userid, structuredClone(user)])),
      apps: new Map(
        seed.apps.map((app) => [app.agent_id, { ...structuredClone(app), corp_id: seed.corp_id }]),
      ),
      templates: new Map(),
    });
  }
  const robots = new Map<string, string>();
  for (const seed of [options.seed ?? wecomSandboxSeed].flat())
    for (const key of seed.robots ?? []) robots.set(key, seed.corp_id);

  const tokens = new Map<string, { corp_id: string; agent_id: string; expiresAt: number }>();
  const approvals = new Map<string, FakeApproval>();
  const stats = { tokenRequests: 0, calls: {} as Record<string, number> };
  const messages: FakeMessage[] = [];
  const droppedMessages: FakeMessage[] = [];
  const robotMessages: FakeRobotMessage[] = [];
  const deliveries: FakeDelivery[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const windows = new Map<string, { times: number[]; head: number }>();
  let sequence = 0;

  /** Sliding-window counter on the fake clock; false when `limit` is already reached. */
  const allow = (key: string, limit: number, windowMs: number): boolean => {
    const at = clock.now();
    const window = windows.get(key) ?? { times: [], head: 0 };
    windows.set(key, window);
    // Times arrive in order, so expired ones are all at the front: O(1) amortised per call.
    while (window.head < window.times.length && window.times[window.head]! <= at - windowMs) window.head++;
    if (window.head > 1024 && window.head * 2 > window.times.length) {
      window.times = window.times.slice(window.head);
      window.head = 0;
    }
    if (window.times.length - window.head >= limit) return false;
    window.times.push(at);
    return true;
  };

  const fail = (errcode: number, message: string): never => {
    throw new FakeError(errcode, message);
  };
  /** WeCom's errmsg carries a hint id, the caller's IP and a link to its error-code tool. */
  const errmsgOf = (errcode: number, message: string) =>
    `${message}, hint: [${seconds()}_${++sequence}_${randomBytes(8).toString('hex')}], from ip: 127.0.0.1, ` +
    `more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;

  // ---- visibility ----

  const corpOf = (corpId?: string): CorpState => {
    const corp = corpId ? corps.get(corpId) : corps.values().next().value;
    if (!corp) throw new Error(`The WeCom fake has no corp ${corpId ?? ''}`);
    return corp;
  };
  const ancestors = (corp: CorpState, id: number): number[] => {
    const chain: number[] = [];
    for (
      let current = corp.departments.get(id);
      current && chain.length < 64;
      current = corp.departments.get(current.parentid)
    ) {
      chain.push(current.id);
    }
    return chain;
  };
  const departmentVisible = (corp: CorpState, app: AppState, id: number): boolean => {
    const roots = app.visible?.departments ?? [1];
    return ancestors(corp, id).some((ancestor) => roots.includes(ancestor));
  };
  const userVisible = (corp: CorpState, app: AppState, user: WeComSeedUser): boolean =>
    (app.visible?.users ?? []).includes(user.userid) ||
    user.department.some((id) => departmentVisible(corp, app, id));
  const subtree = (corp: CorpState, id: number): WeComSeedDepartment[] =>
    [...corp.departments.values()].filter((department) => ancestors(corp, department.id).includes(id));
  const visibleUser = (corp: CorpState, app: AppState, userid: unknown): WeComSeedUser => {
    if (typeof userid !== 'string' || userid === '') return fail(41009, 'missing userid');
    const user = corp.users.get(userid);
    if (!user) return fail(60111, `userid not found`);
    if (!userVisible(corp, app, user))
      return fail(60011, 'no privilege to access/modify contact/party/agent');
    return user;
  };
  const departmentParam = (
    corp: CorpState,
    app: AppState,
    raw: string | null,
    name: string,
  ): WeComSeedDepartment => {
    if (raw === null || raw === '') return fail(40063, `empty parameter: ${name}`);
    if (!/^\d{1,12}$/.test(raw)) return fail(40058, `invalid parameter: ${name}`);
    const department = corp.departments.get(Number(raw));
    if (!department) return fail(60003, 'department not found');
    if (!departmentVisible(corp, app, department.id))
      return fail(60011, 'no privilege to access/modify contact/party/agent');
    return department;
  };
  const userDetail = (app: AppState, user: WeComSeedUser, full: boolean) => ({
    userid: user.userid,
    name: user.name,
    department: user.department,
    ...(full
      ? {
          position: user.position ?? '',
          status: user.status ?? 1,
          main_department: user.department[0],
          ...(app.sensitive_fields
            ? {
                mobile: user.mobile ?? '',
                email: user.email ?? '',
                biz_mail: user.biz_mail ?? '',
                avatar: user.avatar ?? '',
              }
            : {}),
        }
      : {}),
  });
  const departmentDetail = (department: WeComSeedDepartment) => ({
    id: department.id,
    name: department.name,
    name_en: department.name_en ?? '',
    department_leader: department.department_leader ?? [],
    parentid: department.parentid,
    order: department.order,
  });

  const requireApprovalAccess = (app: AppState) => {
    if (app.approval_access === false) fail(48002, 'api forbidden');
  };
  const texts = (value: unknown, what: string): { text: string; lang: string }[] => {
    if (!Array.isArray(value) || value.length === 0) return fail(301025, `invalid ${what}`);
    for (const item of value) {
      if (typeof item?.text !== 'string' || item.text === '' || typeof item?.lang !== 'string')
        fail(301025, `invalid ${what}`);
    }
    return value as { text: string; lang: string }[];
  };
  const userids = (corp: CorpState, value: unknown, what: string): string[] => {
    if (!Array.isArray(value) || value.length === 0) return fail(301025, `invalid ${what}`);
    for (const id of value)
      if (typeof id !== 'string' || !corp.users.has(id))
        fail(301025, `invalid ${what}: userid ${String(id)} not found`);
    return value as string[];
  };

  // ---- approvals and their callbacks ----

  const approvalInfo = (approval: FakeApproval) => ({
    sp_no: approval.sp_no,
    sp_name: approval.sp_name,
    sp_status: approval.sp_status,
    template_id: approval.template_id,
    apply_time: approval.apply_time,
    applyer: approval.applyer,
    sp_record: approval.nodes.map((node) => ({
      sp_status: node.sp_status,
      approverattr: node.approverattr,
      details: node.details.map((detail) => ({
        approver: { userid: detail.userid },
        speech: detail.speech,
        sp_status: detail.sp_status,
        sptime: detail.sptime,
        media_id: [],
      })),
    })),
    notifyer: approval.notifyer.map((userid) => ({ userid })),
    apply_data: approval.apply_data,
    comments: approval.comments.map((comment) => ({
      commentUserInfo: { userid: comment.userid },
      commenttime: comment.time,
      commentcontent: comment.content,
      commentid: comment.commentid,
      media_id: [],
    })),
    // The newer flow view getapprovaldetail returns beside sp_record: apv_rel uses the node_list numbering
    // (1 = AND, 2 = OR), per-approver state is sp_yj, and CC members appear as a node of type 2.
    process_list: {
      node_list: [
        ...approval.nodes.map((node) => ({
          node_type: 1,
          sp_status: node.sp_status,
          apv_rel: node.approverattr === 2 ? 1 : 2,
          sub_node_list: node.details.map((detail) => ({
            userid: detail.userid,
            speech: detail.speech,
            sp_yj: detail.sp_status,
            sptime: detail.sptime,
            media_ids: [],
          })),
        })),
        // [UNVERIFIED] the status fields of a CC node; Signoff reads only approver nodes.
        ...(approval.notifyer.length > 0
          ? [
              {
                node_type: 2,
                sp_status: 1,
                apv_rel: 1,
                sub_node_list: approval.notifyer.map((userid) => ({
                  userid,
                  speech: '',
                  sp_yj: 1,
                  sptime: 0,
                  media_ids: [],
                })),
              },
            ]
          : []),
      ],
    },
  });

  const approvalChangeXml = (approval: FakeApproval, change: number): string => {
    const info: XmlValue = {
      SpNo: approval.sp_no,
      SpName: approval.sp_name,
      SpStatus: approval.sp_status,
      TemplateId: approval.template_id,
      ApplyTime: approval.apply_time,
      Applyer: { UserId: approval.applyer.userid, Party: approval.applyer.partyid },
      SpRecord: approval.nodes.map((node) => ({
        SpStatus: node.sp_status,
        ApproverAttr: node.approverattr,
        Details: node.details.map((detail) => ({
          Approver: { UserId: detail.userid },
          Speech: detail.speech,
          SpStatus: detail.sp_status,
          SpTime: detail.sptime,
        })),
      })),
      Notifyer: approval.notifyer.map((userid) => ({ UserId: userid })),
      StatuChangeEvent: change,
    };
    return toXml('xml', {
      ToUserName: approval.corp_id,
      FromUserName: 'sys',
      CreateTime: seconds(),
      MsgType: 'event',
      Event: 'sys_approval_change',
      AgentID: Number(APPROVAL_AGENT_ID),
      ApprovalInfo: info,
    });
  };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const bareUrl = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    } catch {
      return '(invalid URL)';
    }
  };
  const withQuery = (url: string, query: Record<string, string>) =>
    `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(query)}`;

  const deliver = async (
    app: AppState,
    innerXml: string,
    about: Partial<FakeDelivery> = {},
  ): Promise<FakeDelivery> => {
    const setup = app.callbackSetup;
    const record: FakeDelivery = {
      kind: 'event',
      corp_id: app.corp_id,
      agent_id: app.agent_id,
      url: setup ? bareUrl(setup.url) : '',
      attempts: 0,
      ok: false,
      ...about,
    };
    deliveries.push(record);
    if (!setup) {
      record.error = 'the app has no verified callback URL';
      return record;
    }
    const crypto = createWeComCrypto({
      token: setup.token,
      encodingAesKey: setup.encodingAesKey,
      corpId: app.corp_id,
      now: clock.now,
    });
    const sealed = crypto.encrypt(innerXml);
    const body =
      `<xml><ToUserName><![CDATA[${app.corp_id}]]></ToUserName><Encrypt><![CDATA[${sealed.encrypt}]]></Encrypt>` +
      `<AgentID><![CDATA[${app.agent_id}]]></AgentID></xml>`;
    const url = withQuery(setup.url, {
      msg_signature: sealed.signature,
      timestamp: sealed.timestamp,
      nonce: sealed.nonce,
    });
    // The first try and up to 3 retries of the same signed request.
    for (let attempt = 0; attempt <= retryDelays.length && attempt <= 3; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelays[attempt - 1]));
      record.attempts = attempt + 1;
      try {
        const response = await outbound(url, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body,
          signal: AbortSignal.timeout(options.deliveryTimeoutMs ?? 5000),
        });
        await response.text();
        record.status = response.status;
        if (response.status === 200) {
          record.ok = true;
          delete record.error;
          return record;
        }
        record.error = `HTTP ${response.status}`;
      } catch (error) {
        record.error =
          (error as Error).name === 'TimeoutError'
            ? 'no answer within the deadline'
            : (error as Error).message;
      }
    }
    return record;
  };

  const emitChange = (approval: FakeApproval, change: number) => {
    const app = corpOf(approval.corp_id).apps.get(approval.agent_id);
    if (!app?.callbackSetup) return;
    track(
      deliver(app, approvalChangeXml(approval, change), {
        sp_no: approval.sp_no,
        statu_change_event: change,
      }),
    );
  };

  const findApproval = (spNo: string): FakeApproval => {
    const approval = approvals.get(spNo);
    if (!approval) throw new Error(`No WeCom approval ${spNo}`);
    return approval;
  };

  /** `department/list` and `simplelist`: every visible department, or the subtree of `?id=`. */
  const listedDepartments = (corp: CorpState, app: AppState, id: string | null) =>
    id === null || id === ''
      ? [...corp.departments.values()].filter((department) => departmentVisible(corp, app, department.id))
      : subtree(corp, departmentParam(corp, app, id, 'id').id);

  // ---- endpoints ----

  const endpoints: Record<string, Endpoint> = {
    'department/list': {
      method: 'GET',
      handle: ({ corp, app, query }) => {
        const list = listedDepartments(corp, app, query.get('id'));
        return { department: list.sort((a, b) => a.id - b.id).map(departmentDetail) };
      },
    },
    'department/simplelist': {
      method: 'GET',
      handle: ({ corp, app, query }) => {
        const list = listedDepartments(corp, app, query.get('id'));
        return {
          department_id: list.map(({ id: departmentId, parentid, order }) => ({
            id: departmentId,
            parentid,
            order,
          })),
        };
      },
    },
    'department/get': {
      method: 'GET',
      handle: ({ corp, app, query }) => ({
        department: departmentDetail(departmentParam(corp, app, query.get('id'), 'id')),
      }),
    },
    'user/simplelist': {
      method: 'GET',
      handle: ({ corp, app, query }) => ({
        userlist: membersOf(corp, app, query).map((user) => userDetail(app, user, false)),
      }),
    },
    'user/list': {
      method: 'GET',
      handle: ({ corp, app, query }) => ({
        userlist: membersOf(corp, app, query).map((user) => userDetail(app, user, true)),
      }),
    },
    'user/get': {
      method: 'GET',
      handle: ({ corp, app, query }) => userDetail(app, visibleUser(corp, app, query.get('userid')), true),
    },
    'user/getuserid': {
      method: 'POST',
      fields: ['mobile'],
      handle: ({ corp, app, body }) => {
        if (typeof body.mobile !== 'string' || body.mobile === '')
          return fail(40063, 'empty parameter: mobile');
        const user = [...corp.users.values()].find((candidate) => candidate.mobile === body.mobile);
        if (!user) return fail(46004, 'user no exist');
        return { userid: visibleUser(corp, app, user.userid).userid };
      },
    },
    'user/get_userid_by_email': {
      method: 'POST',
      fields: ['email', 'email_type'],
      handle: ({ corp, app, body }) => {
        if (typeof body.email !== 'string' || body.email === '') return fail(40063, 'empty parameter: email');
        const type = body.email_type ?? 1;
        if (type !== 1 && type !== 2) return fail(40058, 'invalid parameter: email_type');
        const email = body.email.toLowerCase();
        const user = [...corp.users.values()].find(
          (candidate) => (type === 1 ? candidate.biz_mail : candidate.email)?.toLowerCase() === email,
        );
        if (!user) return fail(46004, 'user no exist');
        return { userid: visibleUser(corp, app, user.userid).userid };
      },
    },
    'agent/get': {
      method: 'GET',
      handle: ({ corp, app, query }) => {
        const agentid = query.get('agentid');
        if (!agentid) return fail(41011, 'missing agentid');
        const target = corp.apps.get(agentid);
        if (!target) return fail(40056, 'invalid agentid');
        // A self-built app's token may read only its own app [UNVERIFIED which code WeCom gives otherwise].
        if (target !== app) return fail(60011, 'no privilege to access/modify contact/party/agent');
        const visibleUsers = [...corp.users.values()].filter((user) =>
          (app.visible?.users ?? []).includes(user.userid),
        );
        return {
          agentid: Number(app.agent_id),
          name: app.name,
          square_logo_url: '',
          description: '',
          allow_userinfos: { user: visibleUsers.map((user) => ({ userid: user.userid })) },
          allow_partys: { partyid: app.visible?.departments ?? [1] },
          allow_tags: { tagid: [] },
          close: 0,
          redirect_domain: '',
          report_location_flag: 0,
          isreportenter: 0,
          home_url: '',
        };
      },
    },
    'oa/approval/create_template': {
      method: 'POST',
      fields: ['template_name', 'template_content'],
      handle: ({ corp, app, body }) => {
        requireApprovalAccess(app);
        const names = texts(body.template_name, 'template_name');
        const content = body.template_content as { controls?: unknown } | undefined;
        if (!Array.isArray(content?.controls) || content.controls.length === 0)
          return fail(301025, 'invalid template_content');
        const ids = new Set<string>();
        for (const control of content.controls as TemplateControl[]) {
          const property = control?.property;
          if (!property || !CONTROL_TYPES.has(property.control)) return fail(301025, 'invalid control type');
          if (typeof property.id !== 'string' || property.id === '' || ids.has(property.id))
            return fail(301025, 'invalid control id');
          ids.add(property.id);
          texts(property.title, 'control title');
        }
        const templateId = randomBytes(30).toString('base64url').slice(0, 40);
        corp.templates.set(templateId, {
          template_names: names,
          controls: structuredClone(content.controls as TemplateControl[]),
        });
        return { template_id: templateId };
      },
    },
    'oa/gettemplatedetail': {
      method: 'POST',
      fields: ['template_id'],
      handle: ({ corp, app, body }) => {
        requireApprovalAccess(app);
        const template =
          typeof body.template_id === 'string' ? corp.templates.get(body.template_id) : undefined;
        // WeCom's page for gettemplatedetail: 301025 参数错误，请求template_id非法.
        if (!template) return fail(301025, 'invalid template_id');
        return { template_names: template.template_names, template_content: { controls: template.controls } };
      },
    },
    'oa/applyevent': {
      method: 'POST',
      fields: [
        'creator_userid',
        'template_id',
        'use_template_approver',
        'choose_department',
        'approver',
        'notifyer',
        'notify_type',
        'process',
        'apply_data',
        'summary_list',
      ],
      handle: ({ corp, app, body }) => {
        requireApprovalAccess(app);
        const creator =
          typeof body.creator_userid === 'string' ? corp.users.get(body.creator_userid) : undefined;
        if (!creator) return fail(301025, 'invalid creator_userid');
        // applyevent's page: 301055 when the applicant is outside the app's visible range.
        if (!userVisible(corp, app, creator))
          return fail(301055, 'no approval auth: the creator is not in the visible range of the app');
        const template =
          typeof body.template_id === 'string' ? corp.templates.get(body.template_id) : undefined;
        if (!template) return fail(301025, 'invalid template_id');
        if (body.use_template_approver === 1)
          return fail(301025, 'the template has no approval flow of its own');
        if (body.use_template_approver !== 0) return fail(301025, 'invalid use_template_approver');

        const nodes: FakeApprovalNode[] = [];
        let notifyer: string[] = [];
        const node = (attr: 1 | 2, users: string[]): FakeApprovalNode => ({
          approverattr: attr,
          sp_status: 1,
          details: users.map((userid) => ({ userid, speech: '', sp_status: 1, sptime: 0 })),
        });
        const process = body.process as { node_list?: unknown } | undefined;
        if (process !== undefined) {
          if (body.approver !== undefined) return fail(301025, 'give either approver or process, not both');
          if (!Array.isArray(process?.node_list) || process.node_list.length === 0)
            return fail(301025, 'invalid process.node_list');
          for (const raw of process.node_list as { type?: unknown; apv_rel?: unknown; userid?: unknown }[]) {
            const users = userids(corp, raw?.userid, 'process.node_list.userid');
            if (raw.type === 2) notifyer.push(...users);
            else if (raw.type === 1 || raw.type === 3) {
              // node_list numbering: apv_rel 1 = AND (会签), 2 = OR (或签), 3 = in turn (依次).
              if (raw.apv_rel !== 1 && raw.apv_rel !== 2 && raw.apv_rel !== 3)
                return fail(301025, 'invalid apv_rel');
              if (raw.apv_rel === 3) for (const userid of users) nodes.push(node(2, [userid]));
              else nodes.push(node(raw.apv_rel === 1 ? 2 : 1, users));
            } else return fail(301025, 'invalid node type');
          }
        } else {
          if (!Array.isArray(body.approver) || body.approver.length === 0)
            return fail(301025, 'invalid approver');
          for (const raw of body.approver as { attr?: unknown; userid?: unknown }[]) {
            // approver[] numbering: attr 1 = OR (或签), 2 = AND (会签).
            if (raw?.attr !== 1 && raw?.attr !== 2) return fail(301025, 'invalid approver.attr');
            nodes.push(node(raw.attr, userids(corp, raw.userid, 'approver.userid')));
          }
        }
        if (nodes.length === 0) return fail(301025, 'the flow has no approver');
        if (body.notifyer !== undefined)
          notifyer = [...notifyer, ...userids(corp, body.notifyer, 'notifyer')];
        if (body.notify_type !== undefined && body.notify_type !== 1 && body.notify_type !== 2)
          return fail(301025, 'invalid notify_type');

        const contents = (body.apply_data as { contents?: unknown } | undefined)?.contents;
        if (!Array.isArray(contents)) return fail(301025, 'invalid apply_data');
        const given = new Map<string, { control?: unknown; value?: Record<string, unknown> }>();
        for (const item of contents as {
          control?: unknown;
          id?: unknown;
          value?: Record<string, unknown>;
        }[]) {
          const control = template.controls.find((candidate) => candidate.property.id === item?.id);
          if (!control || control.property.control !== item.control)
            return fail(301025, `invalid control ${String(item?.id)}`);
          if (typeof item.value !== 'object' || item.value === null)
            return fail(301025, `invalid value of ${String(item.id)}`);
          given.set(control.property.id, item);
        }
        for (const control of template.controls) {
          if (control.property.require !== 1) continue;
          const value = given.get(control.property.id)?.value;
          const filled =
            value !== undefined &&
            (['Text', 'Textarea'].includes(control.property.control)
              ? typeof value.text === 'string' && value.text.trim() !== ''
              : control.property.control === 'Number'
                ? typeof value.new_number === 'string' && value.new_number !== ''
                : control.property.control === 'Money'
                  ? typeof value.new_money === 'string' && value.new_money !== ''
                  : Object.keys(value).length > 0);
          if (!filled) return fail(301025, `required control ${control.property.id} has no value`);
        }
        const summaries: string[] = [];
        if (body.summary_list !== undefined) {
          if (!Array.isArray(body.summary_list) || body.summary_list.length > 3)
            return fail(301025, 'invalid summary_list');
          for (const summary of body.summary_list as { summary_info?: unknown }[]) {
            const text = texts(summary?.summary_info, 'summary_info')[0]!.text;
            // applyevent's page: a summary line should not be longer than 20 characters.
            if ([...text].length > 20) return fail(301025, 'summary_info text is longer than 20 characters');
            summaries.push(text);
          }
        }

        const date = new Date(clock.now()).toISOString().slice(0, 10).replaceAll('-', '');
        const spNo = `${date}${String(approvals.size + 1).padStart(4, '0')}`;
        const approval: FakeApproval = {
          corp_id: corp.corp_id,
          agent_id: app.agent_id,
          sp_no: spNo,
          sp_name: template.template_names[0]!.text,
          sp_status: 1,
          template_id: body.template_id as string,
          apply_time: seconds(),
          applyer: { userid: creator.userid, partyid: String(creator.department[0] ?? 1) },
          nodes,
          notifyer,
          // getapprovaldetail gives each control back with its title from the template.
          apply_data: {
            contents: (contents as { id: string; control: string; value: unknown }[]).map((item) => ({
              control: item.control,
              id: item.id,
              title: structuredClone(
                template.controls.find((candidate) => candidate.property.id === item.id)!.property.title,
              ),
              value: structuredClone(item.value),
            })),
          },
          summary: summaries,
          comments: [],
        };
        approvals.set(spNo, approval);
        emitChange(approval, 1);
        return { sp_no: spNo };
      },
    },
    'oa/getapprovaldetail': {
      method: 'POST',
      fields: ['sp_no'],
      handle: ({ corp, app, body }) => {
        requireApprovalAccess(app);
        const approval =
          typeof body.sp_no === 'string' || typeof body.sp_no === 'number'
            ? approvals.get(String(body.sp_no))
            : undefined;
        if (!approval || approval.corp_id !== corp.corp_id) return fail(301025, 'invalid sp_no');
        return { info: approvalInfo(approval) };
      },
    },
    'oa/getapprovalinfo': {
      method: 'POST',
      fields: ['starttime', 'endtime', 'new_cursor', 'cursor', 'size', 'filters'],
      handle: ({ corp, app, body }) => {
        requireApprovalAccess(app);
        const start = Number(body.starttime);
        const end = Number(body.endtime);
        // getapprovalinfo's page: endtime must be greater than starttime, at most 31 days apart.
        if (!Number.isInteger(start) || !Number.isInteger(end) || end <= start)
          return fail(301025, 'invalid starttime or endtime');
        if (end - start > 31 * 86_400) return fail(301025, 'the time span is longer than 31 days');
        const size = body.size === undefined ? 100 : Number(body.size);
        if (!Number.isInteger(size) || size < 1 || size > 100) return fail(301025, 'invalid size');
        const filters = (body.filters ?? []) as { key?: unknown; value?: unknown }[];
        if (!Array.isArray(filters)) return fail(301025, 'invalid filters');
        // Filters of different keys must all hold; only `department` may be given more than once (any of
        // them holds). record_type exists too, for the built-in leave/punch templates.
        const byKey = new Map<string, string[]>();
        for (const filter of filters) {
          const key = filter?.key;
          if (
            typeof key !== 'string' ||
            !['template_id', 'creator', 'department', 'sp_status', 'record_type'].includes(key)
          )
            return fail(301025, 'invalid filter key');
          if (typeof filter.value !== 'string' || filter.value === '')
            return fail(301025, 'invalid filter value');
          const values = byKey.get(key) ?? [];
          if (values.length > 0 && key !== 'department')
            return fail(301025, `only department filters may repeat, not ${key}`);
          byKey.set(key, [...values, filter.value]);
        }
        const matches = [...approvals.values()].filter((approval) => {
          if (approval.corp_id !== corp.corp_id || approval.apply_time < start || approval.apply_time > end)
            return false;
          return [...byKey].every(([key, values]) => {
            if (key === 'template_id') return values.includes(approval.template_id);
            if (key === 'creator') return values.includes(approval.applyer.userid);
            if (key === 'department') return values.includes(approval.applyer.partyid);
            if (key === 'sp_status') return values.includes(String(approval.sp_status));
            // Signoff's approvals carry no record type.
            return false;
          });
        });
        const cursor = body.new_cursor === undefined || body.new_cursor === '' ? 0 : Number(body.new_cursor);
        if (!Number.isInteger(cursor) || cursor < 0) return fail(301025, 'invalid new_cursor');
        const page = matches.slice(cursor, cursor + size);
        const next = cursor + size < matches.length ? String(cursor + size) : '';
        return { sp_no_list: page.map((approval) => approval.sp_no), new_next_cursor: next };
      },
    },
    'message/send': {
      method: 'POST',
      handle: ({ corp, app, body }) => {
        const msgtype = body.msgtype;
        if (typeof msgtype !== 'string' || !MESSAGE_TYPES.has(msgtype))
          return fail(40008, 'invalid message type');
        const allowed = new Set([
          'touser',
          'toparty',
          'totag',
          'msgtype',
          'agentid',
          'safe',
          'enable_id_trans',
          'enable_duplicate_check',
          'duplicate_check_interval',
          msgtype,
        ]);
        for (const key of Object.keys(body))
          if (!allowed.has(key)) fail(40058, `invalid parameter: unknown field ${key}`);
        if (body.agentid === undefined) return fail(41011, 'missing agentid');
        if (String(body.agentid) !== app.agent_id) return fail(301002, 'not allow to operate another agent');
        const content = body[msgtype] as Record<string, unknown> | undefined;
        if (typeof content !== 'object' || content === null)
          return fail(40063, `empty parameter: ${msgtype}`);
        if (msgtype === 'text' || msgtype === 'markdown') {
          if (typeof content.content !== 'string' || content.content === '')
            return fail(44004, 'empty content');
          if (Buffer.byteLength(content.content) > (msgtype === 'text' ? 2048 : 4096))
            return fail(45002, 'content size out of limit');
        }
        const split = (value: unknown) => (typeof value === 'string' && value !== '' ? value.split('|') : []);
        const touser = split(body.touser);
        const toparty = split(body.toparty);
        const totag = split(body.totag);
        if (touser.length + toparty.length + totag.length === 0)
          return fail(82001, 'all touser & toparty & totag invalid');
        const everyone = touser.includes('@all');
        const validUsers = everyone
          ? [...corp.users.values()].filter((user) => userVisible(corp, app, user)).map((user) => user.userid)
          : touser.filter((userid) => {
              const user = corp.users.get(userid);
              return user !== undefined && userVisible(corp, app, user);
            });
        const invaliduser = everyone ? [] : touser.filter((userid) => !validUsers.includes(userid));
        const validParties = toparty.filter(
          (id) =>
            /^\d+$/.test(id) && corp.departments.has(Number(id)) && departmentVisible(corp, app, Number(id)),
        );
        const invalidparty = toparty.filter((id) => !validParties.includes(id));
        if (validUsers.length === 0 && validParties.length === 0)
          return fail(81013, 'user & party & tag all invalid');
        const msgid = randomBytes(24).toString('base64url');
        const message: FakeMessage = {
          corp_id: corp.corp_id,
          agent_id: app.agent_id,
          msgid,
          msgtype,
          touser: validUsers,
          toparty: validParties,
          body: structuredClone(body),
          at: clock.now(),
        };
        // ≤30/min and ≤1000/h to one member; WeCom drops the rest without telling the sender.
        const delivered = validUsers.filter(
          (userid) =>
            allow(`member:${corp.corp_id}:${app.agent_id}:${userid}:min`, 30, 60_000) &&
            allow(`member:${corp.corp_id}:${app.agent_id}:${userid}:hour`, 1000, 3_600_000),
        );
        if (delivered.length > 0 || validParties.length > 0) messages.push({ ...message, touser: delivered });
        if (delivered.length < validUsers.length) {
          droppedMessages.push({
            ...message,
            touser: validUsers.filter((userid) => !delivered.includes(userid)),
          });
        }
        return {
          invaliduser: invaliduser.join('|'),
          invalidparty: invalidparty.join('|'),
          invalidtag: totag.join('|'),
          unlicenseduser: '',
          msgid,
        };
      },
    },
  };

  const membersOf = (corp: CorpState, app: AppState, query: URLSearchParams): WeComSeedUser[] => {
    const department = departmentParam(corp, app, query.get('department_id'), 'department_id');
    const fetchChild = query.get('fetch_child') === '1';
    const scope = new Set(fetchChild ? subtree(corp, department.id).map((item) => item.id) : [department.id]);
    return [...corp.users.values()].filter(
      (user) => user.department.some((id) => scope.has(id)) && userVisible(corp, app, user),
    );
  };

  // ---- the HTTP side ----

  const app = new Hono();
  const reply = (c: Context, body: Record<string, unknown>) => c.json(body, 200);
  const refusal = (c: Context, errcode: number, message: string) =>
    reply(c, { errcode, errmsg: errmsgOf(errcode, message) });

  const readJson = async (c: Context): Promise<Record<string, unknown>> => {
    const text = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FakeError(47001, 'data format error');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new FakeError(47001, 'data format error');
    return body as Record<string, unknown>;
  };

  // `answer_lost`: the route does its work in full, then the answer is withheld until the client gives up.
  const lostAnswers = new WeakSet<Request>();
  app.use('*', async (c, next) => {
    await next();
    return lostAnswers.has(c.req.raw) ? hang(c.req.raw.signal) : undefined;
  });

  app.get('/cgi-bin/gettoken', async (c) => {
    stats.tokenRequests++;
    const fault = faults.take();
    if (fault === 'answer_lost') lostAnswers.add(c.req.raw);
    if (fault === 'timeout') return hang(c.req.raw.signal);
    if (fault === 'server_error') return refusal(c, -1, 'system busy');
    if (fault === 'rate_limit') return refusal(c, 45009, 'api freq out of limit');
    const corpid = c.req.query('corpid');
    const secret = c.req.query('corpsecret');
    if (!corpid) return refusal(c, 41002, 'corpid missing');
    if (!secret) return refusal(c, 41004, 'corpsecret missing');
    const corp = corps.get(corpid);
    if (!corp) return refusal(c, 40013, 'invalid corpid');
    const owner = [...corp.apps.values()].find((candidate) => candidate.secret === secret);
    if (!owner) {
      const elsewhere = [...corps.values()].some((other) =>
        [...other.apps.values()].some((candidate) => candidate.secret === secret),
      );
      return elsewhere ? refusal(c, 40091, 'secret is invalid') : refusal(c, 40001, 'invalid credential');
    }
    if (fault === 'revoke_token') revokeFor(corp.corp_id, owner.agent_id);
    if (!allow(`gettoken:${corp.corp_id}:${owner.agent_id}`, 600, 60_000))
      return refusal(c, 45009, 'api freq out of limit');
    // Asked again while valid, WeCom answers with the same token and its remaining lifetime.
    const now = clock.now();
    const current = [...tokens.entries()].find(
      ([, value]) =>
        value.corp_id === corp.corp_id && value.agent_id === owner.agent_id && value.expiresAt > now,
    );
    if (current) {
      return reply(c, {
        errcode: 0,
        errmsg: 'ok',
        access_token: current[0],
        expires_in: Math.floor((current[1].expiresAt - now) / 1000),
      });
    }
    const token = randomBytes(96).toString('base64url');
    tokens.set(token, { corp_id: corp.corp_id, agent_id: owner.agent_id, expiresAt: now + ttl * 1000 });
    return reply(c, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: ttl });
  });

  app.post('/cgi-bin/webhook/send', async (c) => {
    const fault = faults.take();
    if (fault === 'answer_lost') lostAnswers.add(c.req.raw);
    if (fault === 'timeout') return hang(c.req.raw.signal);
    if (fault === 'server_error') return refusal(c, -1, 'system busy');
    if (fault === 'rate_limit') return refusal(c, 45009, 'api freq out of limit');
    const key = c.req.query('key');
    if (!key || !robots.has(key)) return refusal(c, 93000, 'invalid webhook url');
    let body: Record<string, unknown>;
    try {
      body = await readJson(c);
    } catch (error) {
      return refusal(c, (error as FakeError).errcode, (error as FakeError).errmsg);
    }
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !ROBOT_TYPES.has(msgtype))
      return refusal(c, 40008, 'invalid message type');
    for (const field of Object.keys(body)) {
      if (field !== 'msgtype' && field !== msgtype)
        return refusal(c, 40058, `invalid parameter: unknown field ${field}`);
    }
    const content = body[msgtype] as Record<string, unknown> | undefined;
    if (typeof content !== 'object' || content === null)
      return refusal(c, 40063, `empty parameter: ${msgtype}`);
    if (msgtype === 'text' || msgtype === 'markdown' || msgtype === 'markdown_v2') {
      if (typeof content.content !== 'string' || content.content === '')
        return refusal(c, 44004, 'empty content');
      if (Buffer.byteLength(content.content) > (msgtype === 'text' ? 2048 : 4096))
        return refusal(c, 45002, 'content size out of limit');
    }
    if (!allow(`robot:${key}`, 20, 60_000)) return refusal(c, 45009, 'api freq out of limit');
    robotMessages.push({ key, msgtype, body, at: clock.now() });
    return reply(c, { errcode: 0, errmsg: 'ok' });
  });

  app.all('/cgi-bin/:api{.+}', async (c) => {
    const api = c.req.param('api');
    const endpoint = endpoints[api];
    // Like every other answer: HTTP 200 and an errcode.
    if (!endpoint) return refusal(c, 404, `unknown path /cgi-bin/${api.slice(0, 80)}`);
    stats.calls[api] = (stats.calls[api] ?? 0) + 1;
    const fault = faults.take();
    if (fault === 'answer_lost') lostAnswers.add(c.req.raw);
    if (fault === 'timeout') return hang(c.req.raw.signal);
    if (fault === 'server_error') return refusal(c, -1, 'system busy');
    if (fault === 'rate_limit') return refusal(c, 45009, 'api freq out of limit');
    try {
      if (c.req.method !== endpoint.method) fail(40063, `empty parameter: this API takes ${endpoint.method}`);
      const accessToken = c.req.query('access_token');
      if (!accessToken) return fail(41001, 'access_token missing');
      const session = tokens.get(accessToken);
      if (fault === 'revoke_token' && session) revokeFor(session.corp_id, session.agent_id);
      if (!session || !tokens.has(accessToken)) return fail(40014, 'invalid access_token');
      if (session.expiresAt <= clock.now()) return fail(42001, 'access_token expired');
      const corp = corpOf(session.corp_id);
      const owner = corp.apps.get(session.agent_id)!;
      if (owner.trusted_ip === false) return fail(60020, 'not allow to access from your ip');
      if (
        !allow(`api:${corp.corp_id}:${api}:min`, 10_000, 60_000) ||
        !allow(`api:${corp.corp_id}:${api}:hour`, 150_000, 3_600_000)
      ) {
        return fail(45009, 'api freq out of limit');
      }
      const body = endpoint.method === 'POST' ? await readJson(c) : {};
      if (endpoint.fields) {
        for (const field of Object.keys(body))
          if (!endpoint.fields.includes(field)) fail(40058, `invalid parameter: unknown field ${field}`);
      }
      const query = new URL(c.req.url).searchParams;
      return reply(c, { errcode: 0, errmsg: 'ok', ...endpoint.handle({ corp, app: owner, query, body }) });
    } catch (error) {
      if (error instanceof FakeError) return refusal(c, error.errcode, error.errmsg);
      throw error;
    }
  });

  const revokeFor = (corpId?: string, agentId?: string) => {
    for (const [token, value] of tokens) {
      if (
        (corpId === undefined || value.corp_id === corpId) &&
        (agentId === undefined || value.agent_id === agentId)
      )
        tokens.delete(token);
    }
  };

  const appOf = (corpId: string, agentId: string): AppState => {
    const found = corpOf(corpId).apps.get(agentId);
    if (!found) throw new Error(`The WeCom fake has no app ${agentId} in ${corpId}`);
    return found;
  };

  const act = (approval: FakeApproval, status: number, change: number) => {
    approval.sp_status = status;
    emitChange(approval, change);
    return approval;
  };

  const fake: WeComFake = {
    app,
    fetch: async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const at = url.pathname.indexOf('/cgi-bin/');
      const answer = app.request(`${at < 0 ? url.pathname : url.pathname.slice(at)}${url.search}`, init);
      const signal = init?.signal;
      if (!signal) return answer;
      // In-process there is no socket to close: the caller's abort (its timeout) ends the wait, as fetch would.
      signal.throwIfAborted();
      return Promise.race([answer, hang(signal)]);
    },
    clock,
    faults,
    stats,
    messages,
    droppedMessages,
    robotMessages,
    deliveries,
    users: (corpId) => [...corpOf(corpId).users.values()],
    departments: (corpId) => [...corpOf(corpId).departments.values()],
    approvals: (filter = {}) =>
      [...approvals.values()].filter(
        (approval) =>
          (filter.corpId === undefined || approval.corp_id === filter.corpId) &&
          (filter.status === undefined || approval.sp_status === filter.status),
      ),
    approval: (spNo) => approvals.get(spNo),

    decide(spNo, userid, decision, speech = '') {
      const approval = findApproval(spNo);
      if (approval.sp_status !== 1) throw new Error(`WeCom approval ${spNo} is no longer pending`);
      const node = approval.nodes.find((candidate) => candidate.sp_status === 1);
      const detail = node?.details.find(
        (candidate) => candidate.userid === userid && candidate.sp_status === 1,
      );
      if (!node || !detail) throw new Error(`${userid} has nothing to decide on WeCom approval ${spNo} now`);
      detail.sp_status = decision === 'approve' ? 2 : 3;
      detail.speech = speech;
      detail.sptime = seconds();
      if (decision === 'reject') {
        node.sp_status = 3;
        return act(approval, 3, 3);
      }
      // OR-sign: the first approval settles the node; AND-sign: every approver must agree (one who forwarded
      // the decision, 4, has been replaced by the member they forwarded it to).
      if (
        node.approverattr === 1 ||
        node.details.every((candidate) => candidate.sp_status === 2 || candidate.sp_status === 4)
      )
        node.sp_status = 2;
      const done = approval.nodes.every((candidate) => candidate.sp_status === 2);
      return act(approval, done ? 2 : 1, 2);
    },

    withdraw(spNo) {
      const approval = findApproval(spNo);
      if (approval.sp_status !== 1) throw new Error(`WeCom approval ${spNo} is no longer pending`);
      return act(approval, 4, 6);
    },

    revoke(spNo) {
      const approval = findApproval(spNo);
      if (approval.sp_status !== 2) throw new Error(`WeCom approval ${spNo} is not approved`);
      return act(approval, 6, 8);
    },

    transfer(spNo, from, to, speech = '') {
      const approval = findApproval(spNo);
      if (approval.sp_status !== 1) throw new Error(`WeCom approval ${spNo} is no longer pending`);
      const node = approval.nodes.find((candidate) => candidate.sp_status === 1);
      const detail = node?.details.find(
        (candidate) => candidate.userid === from && candidate.sp_status === 1,
      );
      if (!node || !detail) throw new Error(`${from} has nothing to forward on WeCom approval ${spNo} now`);
      if (!corpOf(approval.corp_id).users.has(to)) throw new Error(`No WeCom member ${to}`);
      if (node.details.some((candidate) => candidate.userid === to && candidate.sp_status === 1))
        throw new Error(`${to} already decides on this node`);
      detail.sp_status = 4;
      detail.speech = speech;
      detail.sptime = seconds();
      node.details.push({ userid: to, speech: '', sp_status: 1, sptime: 0 });
      emitChange(approval, 4);
      return approval;
    },

    comment(spNo, userid, content) {
      const approval = findApproval(spNo);
      if (!corpOf(approval.corp_id).users.has(userid)) throw new Error(`No WeCom member ${userid}`);
      approval.comments.push({
        commentid: String(BigInt(`0x${randomBytes(7).toString('hex')}`)),
        userid,
        content,
        time: seconds(),
      });
      emitChange(approval, 10);
      return approval;
    },

    remove(spNo) {
      const approval = findApproval(spNo);
      if (approval.sp_status === 7) throw new Error(`WeCom approval ${spNo} is already deleted`);
      approval.sp_status = 7;
      return approval;
    },

    pay(spNo) {
      const approval = findApproval(spNo);
      if (approval.sp_status !== 2) throw new Error(`WeCom approval ${spNo} is not approved`);
      approval.sp_status = 10;
      return approval;
    },

    deleteTemplate(templateId, corpId) {
      if (!corpOf(corpId).templates.delete(templateId)) throw new Error(`No WeCom template ${templateId}`);
    },

    templates: (corpId) =>
      [...corpOf(corpId).templates].map(([templateId, template]) => ({
        template_id: templateId,
        name: template.template_names[0]!.text,
      })),

    async configureCallback(corpId, agentId, setup) {
      const target = appOf(corpId, agentId);
      if (!/^[A-Za-z0-9]{1,32}$/.test(setup.token))
        return { ok: false, error: 'Token must be 1–32 letters or digits' };
      if (!/^[A-Za-z0-9]{43}$/.test(setup.encodingAesKey))
        return { ok: false, error: 'EncodingAESKey must be 43 letters or digits' };
      const crypto = createWeComCrypto({
        token: setup.token,
        encodingAesKey: setup.encodingAesKey,
        corpId,
        now: clock.now,
      });
      const echo = String(BigInt(`0x${randomBytes(8).toString('hex')}`));
      const sealed = crypto.encrypt(echo);
      const url = withQuery(setup.url, {
        msg_signature: sealed.signature,
        timestamp: sealed.timestamp,
        nonce: sealed.nonce,
        echostr: sealed.encrypt,
      });
      const record: FakeDelivery = {
        kind: 'verify',
        corp_id: corpId,
        agent_id: agentId,
        url: bareUrl(setup.url),
        attempts: 1,
        ok: false,
      };
      deliveries.push(record);
      try {
        const response = await track(
          outbound(url, { method: 'GET', signal: AbortSignal.timeout(options.verifyTimeoutMs ?? 2000) }),
        );
        const body = await response.text();
        record.status = response.status;
        if (response.status !== 200) record.error = `HTTP ${response.status}`;
        else if (body !== echo) record.error = 'the answer is not the decrypted echostr';
        else record.ok = true;
      } catch (error) {
        record.error =
          (error as Error).name === 'TimeoutError'
            ? 'no answer within the deadline'
            : (error as Error).message;
      }
      if (record.ok) target.callbackSetup = { ...setup };
      return {
        ok: record.ok,
        ...(record.status !== undefined ? { status: record.status } : {}),
        ...(record.error ? { error: record.error } : {}),
      };
    },

    push: (corpId, agentId, innerXml) => track(deliver(appOf(corpId, agentId), innerXml)),

    revokeTokens: (corpId) => revokeFor(corpId),

    updateApp(corpId, agentId, changes) {
      Object.assign(appOf(corpId, agentId), structuredClone(changes));
    },

    addRobot(key, corpId) {
      robots.set(key, corpOf(corpId).corp_id);
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
  return fake;
}
