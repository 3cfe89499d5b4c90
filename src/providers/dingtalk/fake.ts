// A fake DingTalk that speaks the real wire (reference/platforms.md §4): the new API (/v1.0/…, token in
// the `x-acs-dingtalk-access-token` header, HTTP 4xx + {code, message, requestid}) and the old one
// (/topapi/…, `?access_token=`, HTTP 200 + {errcode, errmsg}) on one Hono app, so `api_base` and
// `oapi_base` may both point at it. It issues tokens, keeps an address book, forms (list, schema,
// delete), approval instances (start, read, list ids, terminate, decide, redirect, withdraw, delete),
// work notifications and custom-robot messages, refuses what DingTalk refuses (wrong secret, missing or
// expired token, missing permission, unknown field, QPS over 20/s, robot over 20/min), and pushes
// bpms_* events to the subscribed callback URL encrypted with DingCallbackCrypto (owner key = AppKey).
//
// Codes marked "unverified" below are plausible but not confirmed against a real tenant.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type FakeClock, type Fault, FaultInjector, fakeClock, hang } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import { constantTimeEqual, randomNonce } from '../shared/msg-crypt.js';
import { createDingTalkCrypto, dingTalkRobotSign } from './crypto.js';
import {
  type DingTalkSeed,
  type DingTalkSeedDepartment,
  type DingTalkSeedRobot,
  type DingTalkSeedUser,
  dingTalkDemoSeed,
} from './seed.js';

export interface DingTalkFakeOptions {
  seed?: DingTalkSeed;
  clock?: FakeClock;
  faults?: FaultInjector;
  /** Sends callbacks to the subscribed URL (default: the global fetch). */
  callbackFetch?: Fetch;
  /** Calls per second per app per API before `QpsLimitForAppkeyAndApi` / 90018 (default 20; 0 = off). */
  qpsLimit?: number;
  /** Token lifetime in seconds (default 7200). */
  tokenTtlSeconds?: number;
  /**
   * DingTalk refuses to terminate an instance in its first 15 s (撤销审批实例: "审批发起15秒内不能撤销审批流程").
   * Off (0) by default so quick scripted flows keep working; set 15_000 to have the rule.
   */
  terminateMinAgeMs?: number;
}

export type TaskStatus = 'NEW' | 'RUNNING' | 'PAUSED' | 'CANCELED' | 'COMPLETED' | 'TERMINATED';
export type TaskResult = 'AGREE' | 'REFUSE' | 'REDIRECTED' | 'NONE';

export interface FakeTask {
  taskId: number;
  userId: string;
  status: TaskStatus;
  result: TaskResult;
  activityId: string;
  node: number;
  createTime: number;
  finishTime?: number;
}

export interface FakeInstance {
  processInstanceId: string;
  processCode: string;
  title: string;
  status: 'RUNNING' | 'TERMINATED' | 'COMPLETED';
  result: '' | 'agree' | 'refuse';
  businessId: string;
  originatorUserId: string;
  originatorDeptId: number;
  nodes: { actionType: 'AND' | 'OR' | 'NONE'; userIds: string[] }[];
  currentNode: number;
  ccList: string[];
  formComponentValues: { name: string; value: string; id?: string; componentType?: string }[];
  tasks: FakeTask[];
  operationRecords: { userId: string; date: number; type: string; result: string; remark?: string }[];
  createTime: number;
  finishTime?: number;
}

export interface FakeForm {
  processCode: string;
  name: string;
  description: string;
  formComponents: {
    componentType: string;
    props: { componentId?: string; label?: string; required?: boolean };
  }[];
}

export interface FakeWorkNotification {
  taskId: number;
  agentId: number;
  userIds: string[];
  msg: Record<string, unknown>;
  at: number;
}

export interface FakeRobotMessage {
  robot: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeDelivery {
  payload: Record<string, unknown>;
  ok: boolean;
  status?: number;
  error?: string;
  at: number;
}

/** The permission each route needs, as the DingTalk console names it. */
const routePermissions: Record<string, string> = {
  '/topapi/v2/department/listsub': 'qyapi_get_department_list',
  '/topapi/v2/department/get': 'qyapi_get_department_list',
  '/topapi/v2/department/listsubid': 'qyapi_get_department_list',
  '/topapi/v2/user/list': 'qyapi_get_department_member',
  '/topapi/user/listid': 'qyapi_get_department_member',
  '/topapi/v2/user/get': 'qyapi_get_member',
  '/topapi/v2/user/getbymobile': 'qyapi_get_member_by_mobile',
  'POST /v1.0/workflow/forms': 'Workflow.Form.Write',
  'GET /v1.0/workflow/processes/userVisibilities/templates': 'Workflow.Form.Read',
  'GET /v1.0/workflow/forms/schemas/processCodes': 'Workflow.Form.Read',
  'POST /v1.0/workflow/processInstances': 'Workflow.Instance.Write',
  'POST /v1.0/workflow/processes/instanceIds/query': 'Workflow.Instance.Read',
  'GET /v1.0/workflow/processInstances': 'Workflow.Instance.Read',
  'POST /v1.0/workflow/processInstances/terminate': 'Workflow.Instance.Write',
  'POST /v1.0/workflow/processInstances/execute': 'Workflow.Instance.Write',
};

export const allFakePermissions = [...new Set(Object.values(routePermissions))];

const componentTypes = new Set([
  'TextField',
  'TextareaField',
  'NumberField',
  'DDSelectField',
  'DDMultiSelectField',
  'DDDateField',
  'DDDateRangeField',
  'TextNote',
  'PhoneField',
  'DDPhotoField',
  'MoneyField',
  'TableField',
  'DDAttachment',
  'InnerContactField',
  'DepartmentField',
  'RelateField',
  'AddressField',
  'StarRatingField',
]);

const ROBOT_LIMIT_PER_MINUTE = 20;
/** Work notifications: at most 100 userids per call (asyncsend_v2 userid_list). */
const MAX_NOTIFICATION_USERS = 100;
/** startProcessInstance: at most 20 approver nodes and 50 CC users. */
const MAX_APPROVER_NODES = 20;
const MAX_CC_USERS = 50;
/** 获取审批实例ID列表: pages of at most 20, windows of at most 120 days, start at most 365 days back, ≤ 10 originators. */
const MAX_INSTANCE_ID_PAGE = 20;
const DAY_MS = 24 * 60 * 60_000;
const MAX_INSTANCE_QUERY_SPAN_MS = 120 * DAY_MS;
const MAX_INSTANCE_QUERY_AGE_MS = 365 * DAY_MS;
const MAX_INSTANCE_QUERY_USERS = 10;
const ROBOT_THROTTLE_MS = 10 * 60_000;
/** processInstanceInvalidParameter's text: it names no user, so neither do we. */
const INVALID_PEOPLE =
  '审批实例参数错误，具体可能为:发起人、审批人、抄送人的userid错误，发起部门id错误，发起人不在发起部门中';
const ROBOT_TIMESTAMP_WINDOW_MS = 60 * 60_000;
const MAX_USER_PAGE = 100;

type Json = Record<string, unknown>;

export class DingTalkFake {
  readonly app = new Hono();
  readonly clock: FakeClock;
  readonly faults: FaultInjector;
  readonly seed: DingTalkSeed;
  /**
   * Routes any URL (either host) into the fake, in-process. Like a real fetch, it rejects with the
   * signal's reason when the caller gives up (Hono would turn the hung handler's rejection into a 500).
   */
  readonly fetch: Fetch = (input, init) => {
    const request = new Request(input, init);
    // The caller's own signal: the Request's copy follows it only while its internal controller is
    // alive (undici holds it weakly), so after a GC a hung call could outlive the caller's timeout.
    const signal = init?.signal ?? request.signal;
    return new Promise<Response>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      Promise.resolve(this.app.fetch(request)).then(resolve, reject);
    });
  };

  readonly departments = new Map<number, DingTalkSeedDepartment>();
  readonly users = new Map<string, DingTalkSeedUser>();
  readonly forms = new Map<string, FakeForm>();
  readonly instances = new Map<string, FakeInstance>();
  readonly workNotifications: FakeWorkNotification[] = [];
  readonly robotMessages: FakeRobotMessage[] = [];
  readonly deliveries: FakeDelivery[] = [];
  /** Granted permissions; revoke some to see DingTalk's permission errors. */
  readonly permissions = new Set(allFakePermissions);
  /** Requests served, by "METHOD path" (tests count token requests, pages, …). */
  readonly calls = new Map<string, number>();

  callbackUrl: string | undefined;
  private readonly robots = new Map<string, DingTalkSeedRobot & { sent: number[]; throttledUntil: number }>();
  private readonly tokens = new Map<string, number>();
  private currentToken: string | undefined;
  private readonly qps = new Map<string, number[]>();
  private readonly qpsLimit: number;
  private readonly tokenTtlMs: number;
  private readonly terminateMinAgeMs: number;
  private readonly callbackFetch: Fetch;
  private deliveryChain: Promise<void> = Promise.resolve();
  private sequence = 0;
  /** Requests drawn an `answer_lost` fault: processed in full, then never answered. */
  private readonly lostAnswers = new WeakSet<Request>();

  constructor(options: DingTalkFakeOptions = {}) {
    this.seed = structuredClone(options.seed ?? dingTalkDemoSeed);
    this.clock = options.clock ?? fakeClock();
    this.faults = options.faults ?? new FaultInjector();
    this.qpsLimit = options.qpsLimit ?? 20;
    this.tokenTtlMs = (options.tokenTtlSeconds ?? 7200) * 1000;
    this.terminateMinAgeMs = options.terminateMinAgeMs ?? 0;
    this.callbackFetch = options.callbackFetch ?? ((input, init) => fetch(input, init));
    for (const department of this.seed.departments) this.departments.set(department.dept_id, department);
    for (const user of this.seed.users) this.users.set(user.userid, user);
    for (const robot of this.seed.robots) this.addRobot(robot);
    this.routes();
  }

  // ---- controls for tests and the sandbox ----

  get appKey(): string {
    return this.seed.app.appKey;
  }

  grant(...names: string[]): void {
    for (const name of names) this.permissions.add(name);
  }

  revoke(...names: string[]): void {
    for (const name of names) this.permissions.delete(name);
  }

  addRobot(robot: DingTalkSeedRobot): void {
    this.robots.set(robot.accessToken, { ...robot, sent: [], throttledUntil: 0 });
  }

  addUser(user: DingTalkSeedUser): void {
    this.users.set(user.userid, user);
  }

  addDepartment(department: DingTalkSeedDepartment): void {
    this.departments.set(department.dept_id, department);
  }

  /** Every issued token stops working now (the next call gets InvalidAuthentication / 42001). */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, this.clock.now() - 1);
  }

  /** Every issued token is forgotten (the next call gets InvalidAuthentication / 40014). */
  revokeTokens(): void {
    this.tokens.clear();
    this.currentToken = undefined;
  }

  /**
   * Saves the callback URL as the console's "Events and Callbacks" page does: DingTalk first posts
   * check_url and keeps the URL only if the answer is the encrypted "success".
   */
  async subscribe(url: string): Promise<boolean> {
    const previous = this.callbackUrl;
    this.callbackUrl = url;
    const ok = await this.deliver({ EventType: 'check_url' });
    if (!ok) this.callbackUrl = previous;
    return ok;
  }

  /** Resolves once every event raised so far has been delivered (or has failed). */
  async flush(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.deliveryChain;
      await chain;
    } while (chain !== this.deliveryChain);
  }

  /** Sends the events whose delivery failed once more, in order. */
  async redeliverFailed(): Promise<number> {
    const failed = this.deliveries.filter(
      (delivery) => !delivery.ok && delivery.payload.EventType !== 'check_url',
    );
    const again = failed.map((delivery) => delivery.payload);
    for (const delivery of failed) this.deliveries.splice(this.deliveries.indexOf(delivery), 1);
    for (const payload of again) this.enqueue(payload);
    await this.flush();
    return again.length;
  }

  /** An approver acts in the DingTalk app (agree or refuse their running task). */
  decide(processInstanceId: string, userId: string, result: 'agree' | 'refuse', remark = ''): void {
    const instance = this.instances.get(processInstanceId);
    if (!instance) throw new Error(`no instance ${processInstanceId}`);
    const task = instance.tasks.find((t) => t.userId === userId && t.status === 'RUNNING');
    if (!task) throw new Error(`${userId} has no running task in ${processInstanceId}`);
    this.executeTask(instance, task, result, remark);
  }

  /** An approver hands their task to someone else (转交). */
  redirect(processInstanceId: string, fromUserId: string, toUserId: string, remark = ''): void {
    const instance = this.instances.get(processInstanceId);
    const task = instance?.tasks.find((t) => t.userId === fromUserId && t.status === 'RUNNING');
    if (!instance || !task) throw new Error(`${fromUserId} has no running task in ${processInstanceId}`);
    if (!this.users.has(toUserId)) throw new Error(`no user ${toUserId}`);
    const now = this.clock.now();
    Object.assign(task, { status: 'COMPLETED', result: 'REDIRECTED', finishTime: now });
    instance.operationRecords.push({
      userId: fromUserId,
      date: now,
      type: 'REDIRECT_TASK',
      result: 'NONE',
      remark,
    });
    this.taskEvent(instance, 'finish', fromUserId, { result: 'redirect', remark, finishTime: now });
    this.startTask(instance, toUserId, task.node);
  }

  /** The originator revokes (撤销) their own request in the DingTalk app. */
  revokeInstance(processInstanceId: string, userId: string, remark = ''): void {
    const instance = this.instances.get(processInstanceId);
    if (!instance) throw new Error(`no instance ${processInstanceId}`);
    if (instance.status !== 'RUNNING') throw new Error(`${processInstanceId} is not running`);
    this.terminate(instance, userId, remark);
  }

  /** Someone comments on an instance (评论): an ADD_REMARK record that decides nothing. */
  addRemark(processInstanceId: string, userId: string, remark: string): void {
    const instance = this.instances.get(processInstanceId);
    if (!instance) throw new Error(`no instance ${processInstanceId}`);
    instance.operationRecords.push({
      userId,
      date: this.clock.now(),
      type: 'ADD_REMARK',
      result: 'NONE',
      remark,
    });
  }

  /** An admin deletes the form in OA审批管理后台: its processCode stops working, its instances stay. */
  deleteForm(processCode: string): void {
    if (!this.forms.delete(processCode)) throw new Error(`no form ${processCode}`);
  }

  /** An admin deletes an instance: it is gone from every API, and bpms_instance_change type=delete is pushed. */
  deleteInstance(processInstanceId: string): void {
    const instance = this.instances.get(processInstanceId);
    if (!instance) throw new Error(`no instance ${processInstanceId}`);
    this.instances.delete(processInstanceId);
    this.instanceEvent(instance, 'delete', instance.originatorUserId, {});
  }

  // ---- routes ----

  private routes(): void {
    const app = this.app;
    app.use('*', async (c, next) => {
      const key = `${c.req.method} ${apiPath(c)}`;
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
      await next();
    });

    // New API token (platforms.md §4.1).
    app.post('/v1.0/oauth2/accessToken', async (c) => {
      const body = await this.newBody(c, ['appKey', 'appSecret']);
      if (body instanceof Response) return body;
      if (!this.credentialsMatch(body.appKey, body.appSecret)) {
        return this.newError(c, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
      }
      return c.json({ accessToken: this.issueToken(), expireIn: this.tokenTtlMs / 1000 });
    });

    // Old API token (used by dingtalk-stream).
    app.get('/gettoken', (c) => {
      const appkey = c.req.query('appkey');
      const appsecret = c.req.query('appsecret');
      if (!appkey || !appsecret) return this.oldError(c, 40035, '缺少参数 corpid or appkey');
      if (!this.credentialsMatch(appkey, appsecret))
        return this.oldError(c, 40096, '不合法的appKey或appSecret');
      return c.json({
        errcode: 0,
        errmsg: 'ok',
        access_token: this.issueToken(),
        expires_in: this.tokenTtlMs / 1000,
      });
    });

    app.use('/v1.0/*', async (c, next) => {
      if (apiPath(c) === '/v1.0/oauth2/accessToken') return next();
      const refused = await this.guardNew(c);
      if (!refused) await next();
      return this.lostAnswers.has(c.req.raw) ? hang(c.req.raw.signal) : refused;
    });
    app.use('/topapi/*', async (c, next) => {
      const refused = await this.guardOld(c);
      if (!refused) await next();
      return this.lostAnswers.has(c.req.raw) ? hang(c.req.raw.signal) : refused;
    });

    this.contactRoutes();
    this.workflowRoutes();
    this.messageRoutes();

    app.notFound((c) => {
      const path = apiPath(c);
      if (path.startsWith('/v1.0/'))
        return this.newError(c, 404, 'InvalidAction.NotFound', '请求的接口不存在');
      return c.json({ errcode: 404, errmsg: '请求的URI地址不存在' });
    });
  }

  private contactRoutes(): void {
    const app = this.app;
    app.post('/topapi/v2/department/get', async (c) => {
      const body = await this.oldBody(c, ['dept_id', 'language'], ['dept_id']);
      if (body instanceof Response) return body;
      const department = this.departments.get(Number(body.dept_id));
      if (!department) return this.oldError(c, 60003, '部门不存在');
      return this.oldOk(c, { result: this.departmentView(department) });
    });

    app.post('/topapi/v2/department/listsub', async (c) => {
      const body = await this.oldBody(c, ['dept_id', 'language'], ['dept_id']);
      if (body instanceof Response) return body;
      const id = Number(body.dept_id);
      if (!this.departments.has(id)) return this.oldError(c, 60003, '部门不存在');
      const children = [...this.departments.values()].filter((d) => d.parent_id === id && d.dept_id !== id);
      return this.oldOk(c, { result: children.map((d) => this.departmentView(d)) });
    });

    app.post('/topapi/v2/department/listsubid', async (c) => {
      const body = await this.oldBody(c, ['dept_id'], ['dept_id']);
      if (body instanceof Response) return body;
      const id = Number(body.dept_id);
      if (!this.departments.has(id)) return this.oldError(c, 60003, '部门不存在');
      const ids = [...this.departments.values()].filter((d) => d.parent_id === id && d.dept_id !== id);
      return this.oldOk(c, { result: { dept_id_list: ids.map((d) => d.dept_id) } });
    });

    app.post('/topapi/v2/user/list', async (c) => {
      const body = await this.oldBody(
        c,
        ['dept_id', 'cursor', 'size', 'order_field', 'contain_access_limit', 'language'],
        ['dept_id', 'cursor', 'size'],
      );
      if (body instanceof Response) return body;
      const id = Number(body.dept_id);
      const cursor = Number(body.cursor);
      const size = Number(body.size);
      if (!Number.isInteger(size) || size < 1 || size > MAX_USER_PAGE) {
        return this.oldError(c, 400002, '无效的参数 size');
      }
      if (!Number.isInteger(cursor) || cursor < 0) return this.oldError(c, 400002, '无效的参数 cursor');
      if (!this.departments.has(id)) return this.oldError(c, 60003, '部门不存在');
      const members = [...this.users.values()].filter((user) => user.dept_id_list.includes(id));
      const page = members.slice(cursor, cursor + size);
      const hasMore = cursor + size < members.length;
      return this.oldOk(c, {
        result: {
          has_more: hasMore,
          ...(hasMore ? { next_cursor: cursor + size } : {}),
          list: page.map((user) => this.userView(user)),
        },
      });
    });

    app.post('/topapi/user/listid', async (c) => {
      const body = await this.oldBody(c, ['dept_id'], ['dept_id']);
      if (body instanceof Response) return body;
      const id = Number(body.dept_id);
      if (!this.departments.has(id)) return this.oldError(c, 60003, '部门不存在');
      const members = [...this.users.values()].filter((user) => user.dept_id_list.includes(id));
      return this.oldOk(c, { result: { userid_list: members.map((user) => user.userid) } });
    });

    app.post('/topapi/v2/user/get', async (c) => {
      const body = await this.oldBody(c, ['userid', 'language'], ['userid']);
      if (body instanceof Response) return body;
      const user = this.users.get(String(body.userid));
      if (!user) return this.oldError(c, 60121, '找不到该用户');
      return this.oldOk(c, { result: this.userView(user) });
    });

    app.post('/topapi/v2/user/getbymobile', async (c) => {
      const body = await this.oldBody(c, ['mobile', 'support_exclusive_account_search'], ['mobile']);
      if (body instanceof Response) return body;
      if (typeof body.mobile !== 'string') return this.oldError(c, 400002, '无效的参数 mobile');
      const user = [...this.users.values()].find((u) => u.mobile === body.mobile);
      if (!user) return this.oldError(c, 60121, '找不到该用户');
      return this.oldOk(c, { result: { userid: user.userid } });
    });
  }

  private workflowRoutes(): void {
    const app = this.app;
    app.post('/v1.0/workflow/forms', async (c) => {
      const body = await this.newBody(c, [
        'processCode',
        'name',
        'description',
        'formComponents',
        'templateConfig',
      ]);
      if (body instanceof Response) return body;
      const name = body.name;
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        return this.newError(c, 400, 'formName.error', '表单名称不合法');
      }
      const components = body.formComponents;
      if (!Array.isArray(components) || components.length === 0 || components.length > 200) {
        return this.newError(c, 400, 'formschema.error', '表单控件不合法');
      }
      for (const component of components as FakeForm['formComponents']) {
        if (
          !componentTypes.has(component?.componentType) ||
          !component.props?.componentId ||
          !component.props?.label
        ) {
          return this.newError(
            c,
            400,
            'formschema.error',
            `表单控件不合法：${component?.componentType ?? '?'}`,
          );
        }
      }
      const existing = typeof body.processCode === 'string' ? this.forms.get(body.processCode) : undefined;
      if (body.processCode !== undefined && !existing) {
        return this.newError(c, 400, 'processcode.error', '审批模板不存在');
      }
      const clash = [...this.forms.values()].find((f) => f.name === name && f !== existing);
      if (clash) return this.newError(c, 400, 'formName.error', `已有相同名称表单：${name}`);
      const form: FakeForm = {
        processCode: existing?.processCode ?? `PROC-${randomUUID().toUpperCase()}`,
        name,
        description: typeof body.description === 'string' ? body.description : '',
        formComponents: components as FakeForm['formComponents'],
      };
      this.forms.set(form.processCode, form);
      return c.json({ result: { processCode: form.processCode } });
    });

    app.get('/v1.0/workflow/processes/userVisibilities/templates', (c) => {
      const maxResults = Number(c.req.query('maxResults') ?? 100);
      const nextToken = Number(c.req.query('nextToken') ?? 0);
      if (
        !Number.isInteger(maxResults) ||
        maxResults < 1 ||
        maxResults > 100 ||
        !Number.isInteger(nextToken)
      ) {
        return this.newError(c, 400, 'invalidParameter', '分页参数不合法');
      }
      const all = [...this.forms.values()];
      const page = all.slice(nextToken, nextToken + maxResults);
      const more = nextToken + maxResults < all.length;
      return c.json({
        result: {
          nextToken: more ? nextToken + maxResults : 0,
          processList: page.map((form) => ({
            name: form.name,
            processCode: form.processCode,
            iconUrl: '',
            url: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/custom?processCode=${form.processCode}`,
          })),
        },
      });
    });

    // 获取表单 schema (GET /v1.0/workflow/forms/schemas/processCodes): the fields we read, DingTalk's codes.
    app.get('/v1.0/workflow/forms/schemas/processCodes', (c) => {
      const processCode = c.req.query('processCode');
      if (!processCode)
        return this.newError(
          c,
          400,
          'invalidParameter',
          '参数错误，具体可能为：企业ID、审批模板code等参数错误',
        );
      const form = this.forms.get(processCode);
      if (!form) return this.newError(c, 400, 'formNotExist', '审批表单模板不存在');
      return c.json({
        result: {
          creatorUserId: '',
          appUuid: this.seed.corpId,
          formCode: form.processCode,
          name: form.name,
          memo: form.description,
          ownerIdType: 'orgId',
          schemaContent: {
            title: form.name,
            items: form.formComponents.map((component) => ({
              componentName: component.componentType,
              props: {
                id: component.props.componentId,
                label: component.props.label,
                required: component.props.required ?? false,
              },
            })),
          },
          engineType: 0,
          status: 'PUBLISHED',
          procType: 'inner',
        },
      });
    });

    // 获取审批实例ID列表 (platforms.md §4.3): by creation time, oldest first (the order is unverified).
    app.post('/v1.0/workflow/processes/instanceIds/query', async (c) => {
      const body = await this.newBody(c, [
        'processCode',
        'startTime',
        'endTime',
        'nextToken',
        'maxResults',
        'userIds',
        'statuses',
      ]);
      if (body instanceof Response) return body;
      return this.queryInstanceIds(c, body);
    });

    app.post('/v1.0/workflow/processInstances', async (c) => {
      const body = await this.newBody(c, [
        'approvers',
        'bizDetailPageUrl',
        'ccList',
        'ccPosition',
        'deptId',
        'formComponentValues',
        'microappAgentId',
        'originatorUserId',
        'processCode',
        'targetSelectActioners',
      ]);
      if (body instanceof Response) return body;
      return this.startInstance(c, body);
    });

    app.get('/v1.0/workflow/processInstances', (c) => {
      const id = c.req.query('processInstanceId');
      if (!id)
        return this.newError(
          c,
          400,
          'MissingprocessInstanceId',
          'processInstanceId is mandatory for this action.',
        );
      const instance = this.instances.get(id);
      if (!instance) return this.newError(c, 400, 'processInstanceNotExist', '审批实例不存在');
      return c.json({ success: 'true', result: this.instanceView(instance) });
    });

    app.post('/v1.0/workflow/processInstances/terminate', async (c) => {
      const body = await this.newBody(c, ['processInstanceId', 'isSystem', 'remark', 'operatingUserId']);
      if (body instanceof Response) return body;
      // Error codes as listed on 撤销审批实例 (revoke-an-approval-instance).
      if (typeof body.processInstanceId !== 'string' || body.processInstanceId === '')
        return this.newError(c, 400, 'invalidInstanceId', '审批实例ID不能为空');
      if (typeof body.isSystem !== 'boolean')
        return this.newError(
          c,
          400,
          'invalidInstanceTerminateIsSystem',
          '撤销审批实例，是否通过系统操作参数不能为空',
        );
      if (body.remark !== undefined && (typeof body.remark !== 'string' || body.remark.length > 1024))
        return this.newError(c, 400, 'invalidParameter', '撤销审批实例参数错误');
      const instance = this.instances.get(body.processInstanceId);
      if (!instance) return this.newError(c, 400, 'aflowProcessInstNotExist', '审批实例不存在');
      const operatorGiven = typeof body.operatingUserId === 'string' && body.operatingUserId !== '';
      if (body.isSystem === false && !operatorGiven) {
        return this.newError(
          c,
          400,
          'invalidInstanceTerminateOperatingUserId',
          '撤销审批实例，当isSystem为false时，操作人的userId不能为空',
        );
      }
      const operator = operatorGiven ? String(body.operatingUserId) : instance.originatorUserId;
      if (operatorGiven && !this.users.has(operator))
        return this.newError(c, 400, 'userNotExist', '用户不存在');
      // unverified: the code for "not the originator" (the docs only say the originator must be passed).
      if (body.isSystem === false && operator !== instance.originatorUserId)
        return this.newError(c, 400, 'invalidParameter', '撤销审批实例参数错误');
      if (instance.status !== 'RUNNING')
        return this.newError(c, 400, 'aflowProcessInstStatusException', '审批单已结束，不能撤销');
      if (this.clock.now() - instance.createTime < this.terminateMinAgeMs)
        return this.newError(c, 400, 'aflowProcessInstStatusException', '提交审批单后15秒内不能进行撤回');
      this.terminate(instance, operator, typeof body.remark === 'string' ? body.remark : '');
      return c.json({ success: true, result: true });
    });

    app.post('/v1.0/workflow/processInstances/execute', async (c) => {
      const body = await this.newBody(c, [
        'processInstanceId',
        'taskId',
        'result',
        'actionerUserId',
        'remark',
        'file',
      ]);
      if (body instanceof Response) return body;
      const instance = this.instances.get(String(body.processInstanceId));
      if (!instance) return this.newError(c, 400, 'invalidParameter', '审批实例不存在');
      const task = instance.tasks.find((t) => t.taskId === Number(body.taskId));
      if (!task || task.userId !== body.actionerUserId || task.status !== 'RUNNING') {
        return this.newError(c, 400, 'invalidParameter', '任务不存在或不能由该用户处理');
      }
      if (body.result !== 'agree' && body.result !== 'refuse') {
        return this.newError(c, 400, 'invalidParameter', 'result 只能是 agree 或 refuse');
      }
      this.executeTask(instance, task, body.result, typeof body.remark === 'string' ? body.remark : '');
      return c.json({ success: true, result: true });
    });
  }

  private messageRoutes(): void {
    const app = this.app;
    app.post('/topapi/message/corpconversation/asyncsend_v2', async (c) => {
      const body = await this.oldBody(
        c,
        ['agent_id', 'userid_list', 'dept_id_list', 'to_all_user', 'msg'],
        ['agent_id', 'msg'],
      );
      if (body instanceof Response) return body;
      if (Number(body.agent_id) !== this.seed.app.agentId)
        return this.oldError(c, 400002, '无效的参数 agent_id');
      const userIds =
        typeof body.userid_list === 'string' && body.userid_list !== '' ? body.userid_list.split(',') : [];
      if (userIds.length === 0 && !body.dept_id_list && body.to_all_user !== true) {
        return this.oldError(c, 40035, '缺少参数 userid_list');
      }
      if (userIds.length > MAX_NOTIFICATION_USERS) return this.oldError(c, 400002, '无效的参数 userid_list');
      const msg = body.msg as Json | undefined;
      const problem = messageProblem(msg, [
        'text',
        'markdown',
        'link',
        'action_card',
        'oa',
        'image',
        'file',
        'voice',
      ]);
      if (problem) return this.oldError(c, 400002, `无效的参数 msg: ${problem}`);
      const taskId = 100000 + this.workNotifications.length + 1;
      this.workNotifications.push({
        taskId,
        agentId: this.seed.app.agentId,
        userIds,
        msg: msg as Json,
        at: this.clock.now(),
      });
      return this.oldOk(c, { task_id: taskId });
    });

    // Custom group robot webhook (platforms.md §4.8).
    app.post('/robot/send', async (c) => {
      const robot = this.robots.get(c.req.query('access_token') ?? '');
      // unverified: DingTalk's code for an unknown robot token.
      if (!robot) return c.json({ errcode: 300001, errmsg: 'token is not exist' });
      const now = this.clock.now();
      if (robot.secret) {
        const timestamp = c.req.query('timestamp') ?? '';
        const sign = c.req.query('sign') ?? '';
        if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > ROBOT_TIMESTAMP_WINDOW_MS) {
          return c.json({ errcode: 310000, errmsg: 'invalid timestamp' });
        }
        // `sign` arrives URL-decoded here; the expected value is URL-encoded, so decode it to compare.
        const expected = decodeURIComponent(dingTalkRobotSign(robot.secret, timestamp));
        if (!constantTimeEqual(expected, sign)) return c.json({ errcode: 310000, errmsg: 'sign not match' });
      }
      const body = await this.rawJson(c);
      if (!body) return c.json({ errcode: 400002, errmsg: '无效的参数' });
      const unknown = Object.keys(body).filter(
        (key) => !['msgtype', 'text', 'markdown', 'link', 'actionCard', 'feedCard', 'at'].includes(key),
      );
      if (unknown.length > 0) return c.json({ errcode: 400002, errmsg: `无效的参数 ${unknown.join(',')}` });
      const problem = messageProblem(body, ['text', 'markdown', 'link', 'actionCard', 'feedCard']);
      if (problem) return c.json({ errcode: 400002, errmsg: `无效的参数 ${problem}` });
      if (robot.keywords?.length && !robot.keywords.some((word) => JSON.stringify(body).includes(word))) {
        return c.json({ errcode: 310000, errmsg: 'keywords not in content' });
      }
      // 20 messages a minute; over that the robot is throttled for 10 minutes (unverified code 130101).
      robot.sent = robot.sent.filter((at) => at > now - 60_000);
      if (now < robot.throttledUntil || robot.sent.length >= ROBOT_LIMIT_PER_MINUTE) {
        if (now >= robot.throttledUntil) robot.throttledUntil = now + ROBOT_THROTTLE_MS;
        return c.json({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
      }
      robot.sent.push(now);
      this.robotMessages.push({ robot: robot.accessToken, body, at: now });
      return c.json({ errcode: 0, errmsg: 'ok' });
    });
  }

  // ---- guards ----

  private async guardNew(c: Context): Promise<Response | undefined> {
    const fault = this.faults.take();
    if (fault) {
      const answer = await this.faultAnswer(c, fault, 'new');
      if (answer) return answer;
    }
    const token = c.req.header('x-acs-dingtalk-access-token');
    if (!token) {
      return this.newError(
        c,
        400,
        'AuthenticationFailed.MissingParameter',
        '缺少参数：x-acs-dingtalk-access-token',
      );
    }
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined || expiresAt <= this.clock.now()) {
      return this.newError(c, 400, 'InvalidAuthentication', '不合法的access_token');
    }
    const path = apiPath(c);
    if (this.overQps(path)) {
      return this.newError(
        c,
        403,
        'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
        '当前应用调用该接口的频率超过限制',
      );
    }
    const permission = routePermissions[`${c.req.method} ${path}`];
    if (permission && !this.permissions.has(permission)) {
      return this.newError(
        c,
        403,
        'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        `应用尚未开通所需的权限：[${permission}]`,
      );
    }
    return undefined;
  }

  private async guardOld(c: Context): Promise<Response | undefined> {
    const fault = this.faults.take();
    if (fault) {
      const answer = await this.faultAnswer(c, fault, 'old');
      if (answer) return answer;
    }
    const token = c.req.query('access_token');
    if (!token) return this.oldError(c, 88, 'access_token is blank', 40000);
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return this.oldError(c, 88, '不合法的access_token', 40014);
    if (expiresAt <= this.clock.now()) return this.oldError(c, 88, 'access_token已过期', 42001);
    const path = apiPath(c);
    if (this.overQps(path)) return this.oldError(c, 90018, '当前应用调用该接口的并发量已经超过上限');
    const permission = routePermissions[path];
    if (permission && !this.permissions.has(permission)) {
      return this.oldError(c, 88, `应用尚未开通所需的权限：[${permission}]`, 60011);
    }
    return undefined;
  }

  private async faultAnswer(c: Context, fault: Fault, api: 'new' | 'old'): Promise<Response | undefined> {
    switch (fault) {
      case 'timeout':
        return hang(c.req.raw.signal);
      case 'server_error':
        return api === 'new'
          ? this.newError(c, 503, 'ServiceUnavailable', '服务暂不可用，请稍后重试')
          : this.oldError(c, -1, '系统繁忙');
      case 'rate_limit':
        return api === 'new'
          ? this.newError(
              c,
              403,
              'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
              '当前应用调用该接口的频率超过限制',
            )
          : this.oldError(c, 90018, '当前应用调用该接口的并发量已经超过上限');
      case 'revoke_token':
        this.revokeTokens();
        return undefined;
      case 'answer_lost':
        // The call goes through (guards, then the route); the middleware withholds its answer.
        this.lostAnswers.add(c.req.raw);
        return undefined;
    }
  }

  /** Per app per API, over the last real second (wall time, so a frozen fake clock cannot jam it). */
  private overQps(path: string): boolean {
    if (this.qpsLimit <= 0) return false;
    const now = performance.now();
    const recent = (this.qps.get(path) ?? []).filter((at) => at > now - 1000);
    recent.push(now);
    this.qps.set(path, recent);
    return recent.length > this.qpsLimit;
  }

  // ---- approval logic ----

  private startInstance(c: Context, body: Json): Response {
    const form = typeof body.processCode === 'string' ? this.forms.get(body.processCode) : undefined;
    if (!form) return this.newError(c, 400, 'processCodeError', '获取审批模板失败或者模板已被删除');
    const originator =
      typeof body.originatorUserId === 'string' ? this.users.get(body.originatorUserId) : undefined;
    // Like DingTalk, neither refusal names the user (发起审批实例 error table).
    if (!originator)
      return this.newError(
        c,
        400,
        'invalidParameter',
        '发起审批参数错误。具体可能为：企业ID、审批模板code等参数错误，或发起人已离职',
      );
    const values = body.formComponentValues;
    if (!Array.isArray(values)) return this.newError(c, 400, 'processInstanceInvalidParameter', '缺少表单值');
    const labels = new Set(form.formComponents.map((component) => component.props.label));
    for (const value of values as Json[]) {
      if (typeof value?.name !== 'string' || typeof value.value !== 'string' || !labels.has(value.name)) {
        return this.newError(c, 400, 'formConverterError', `表单值不合法：${String(value?.name)}`);
      }
    }
    for (const component of form.formComponents) {
      if (
        component.props.required &&
        !(values as Json[]).some((v) => v.name === component.props.label && v.value !== '')
      ) {
        return this.newError(c, 400, 'formConverterError', `必填项为空：${component.props.label}`);
      }
    }
    let nodes: FakeInstance['nodes'];
    if (body.approvers === undefined) {
      if (body.deptId === undefined)
        return this.newError(c, 400, 'processInstanceInvalidParameter', '缺少参数 deptId');
      nodes = [{ actionType: 'NONE', userIds: [...this.seed.defaultApprovers] }];
    } else {
      if (
        !Array.isArray(body.approvers) ||
        body.approvers.length === 0 ||
        body.approvers.length > MAX_APPROVER_NODES
      ) {
        return this.newError(c, 400, 'processInstanceInvalidParameter', 'approvers 不合法');
      }
      nodes = [];
      for (const node of body.approvers as Json[]) {
        const userIds = node?.userIds;
        const actionType = node?.actionType ?? 'NONE';
        if (
          !Array.isArray(userIds) ||
          userIds.length === 0 ||
          !['AND', 'OR', 'NONE'].includes(actionType as string) ||
          (actionType === 'NONE' && userIds.length > 1)
        ) {
          return this.newError(c, 400, 'processInstanceInvalidParameter', 'approvers 不合法');
        }
        const unknown = (userIds as unknown[]).find((id) => typeof id !== 'string' || !this.users.has(id));
        if (unknown !== undefined)
          return this.newError(c, 400, 'processInstanceInvalidParameter', INVALID_PEOPLE);
        nodes.push({ actionType: actionType as 'AND' | 'OR' | 'NONE', userIds: userIds as string[] });
      }
    }
    if (body.ccList !== undefined) {
      const cc = body.ccList;
      if (!Array.isArray(cc) || cc.length > MAX_CC_USERS)
        return this.newError(c, 400, 'processInstanceInvalidParameter', '审批实例参数错误');
      if ((cc as unknown[]).some((id) => typeof id !== 'string' || !this.users.has(id)))
        return this.newError(c, 400, 'processInstanceInvalidParameter', INVALID_PEOPLE);
    }
    if (
      body.ccPosition !== undefined &&
      !['START', 'FINISH', 'START_FINISH'].includes(body.ccPosition as string)
    )
      return this.newError(c, 400, 'processInstanceInvalidParameter', '审批实例参数错误');
    // Without `approvers` the console's flow applies and ccList/ccPosition are ignored (发起审批实例).
    const ccList =
      body.approvers !== undefined && Array.isArray(body.ccList) ? (body.ccList as string[]) : [];
    const now = this.clock.now();
    const instance: FakeInstance = {
      processInstanceId: randomUUID(),
      processCode: form.processCode,
      title: `${originator.name}提交的${form.name}`,
      status: 'RUNNING',
      result: '',
      businessId: businessId(now, ++this.sequence),
      originatorUserId: originator.userid,
      originatorDeptId:
        typeof body.deptId === 'number' && body.deptId > 0 ? body.deptId : (originator.dept_id_list[0] ?? 1),
      nodes,
      currentNode: 0,
      ccList,
      formComponentValues: (values as Json[]).map((value, index) => ({
        name: value.name as string,
        value: value.value as string,
        id:
          form.formComponents.find((f) => f.props.label === value.name)?.props.componentId ??
          `field-${index}`,
        componentType:
          form.formComponents.find((f) => f.props.label === value.name)?.componentType ?? 'TextField',
      })),
      tasks: [],
      operationRecords: [
        { userId: originator.userid, date: now, type: 'START_PROCESS_INSTANCE', result: 'NONE' },
      ],
      createTime: now,
    };
    this.instances.set(instance.processInstanceId, instance);
    this.instanceEvent(instance, 'start', originator.userid, {});
    this.startNode(instance, 0);
    return c.json({ instanceId: instance.processInstanceId });
  }

  private queryInstanceIds(c: Context, body: Json): Response {
    if (typeof body.processCode !== 'string' || body.processCode === '')
      return this.newError(c, 400, 'invalidProcessCode', '审批模板processCode不能为空');
    if (typeof body.startTime !== 'number' || !Number.isSafeInteger(body.startTime))
      return this.newError(
        c,
        400,
        'invalidInstanceListIdsStartTime',
        '获取审批实例ID列表，审批实例开始时间不能为空',
      );
    if (typeof body.nextToken !== 'number' || !Number.isSafeInteger(body.nextToken) || body.nextToken < 0)
      return this.newError(c, 400, 'invalidNextToken', '获取审批实例ID列表，分页查询的游标不能为空');
    if (
      typeof body.maxResults !== 'number' ||
      !Number.isInteger(body.maxResults) ||
      body.maxResults < 1 ||
      body.maxResults > MAX_INSTANCE_ID_PAGE
    ) {
      return this.newError(
        c,
        400,
        'invalidMaxResults',
        '获取审批实例ID列表，分页参数非法，每页大小，最多传20。',
      );
    }
    const now = this.clock.now();
    const start = body.startTime;
    const end = body.endTime === undefined ? now : body.endTime;
    const badWindow =
      typeof end !== 'number' ||
      end < start ||
      end - start > MAX_INSTANCE_QUERY_SPAN_MS ||
      now - start > (body.endTime === undefined ? MAX_INSTANCE_QUERY_SPAN_MS : MAX_INSTANCE_QUERY_AGE_MS);
    if (badWindow) {
      return this.newError(
        c,
        400,
        'invalidEndTime',
        '获取审批实例ID列表，审批实例结束时间不能小于开始时间；且查询时间范围不能超过120天。',
      );
    }
    const userIds = body.userIds;
    if (
      userIds !== undefined &&
      (!Array.isArray(userIds) ||
        userIds.length > MAX_INSTANCE_QUERY_USERS ||
        userIds.some((id) => typeof id !== 'string'))
    ) {
      return this.newError(
        c,
        400,
        'invalidUserIds',
        '获取审批实例ID列表，发起userid列表参数非法，最大列表长度为10。',
      );
    }
    const statuses = body.statuses;
    if (
      statuses !== undefined &&
      (!Array.isArray(statuses) ||
        statuses.some((status) => !['RUNNING', 'TERMINATED', 'COMPLETED'].includes(status as string)))
    ) {
      return this.newError(c, 400, 'invalidParameter', '获取审批实例ID列表参数错误'); // unverified code
    }
    const matching = [...this.instances.values()]
      .filter(
        (instance) =>
          instance.processCode === body.processCode &&
          instance.createTime >= start &&
          instance.createTime <= (end as number) &&
          (!Array.isArray(userIds) || userIds.length === 0 || userIds.includes(instance.originatorUserId)) &&
          (!Array.isArray(statuses) || statuses.length === 0 || statuses.includes(instance.status)),
      )
      .sort((a, b) => a.createTime - b.createTime);
    const page = matching.slice(body.nextToken, body.nextToken + body.maxResults);
    const more = body.nextToken + body.maxResults < matching.length;
    return c.json({
      result: {
        list: page.map((instance) => instance.processInstanceId),
        // A string, present only when more follow (获取审批实例ID列表 response).
        ...(more ? { nextToken: String(body.nextToken + body.maxResults) } : {}),
      },
      success: true,
    });
  }

  private startNode(instance: FakeInstance, index: number): void {
    instance.currentNode = index;
    for (const userId of instance.nodes[index]?.userIds ?? []) this.startTask(instance, userId, index);
  }

  private startTask(instance: FakeInstance, userId: string, node: number): void {
    const now = this.clock.now();
    instance.tasks.push({
      taskId: 60000000000 + ++this.sequence,
      userId,
      status: 'RUNNING',
      result: 'NONE',
      activityId: `node-${node + 1}`,
      node,
      createTime: now,
    });
    this.taskEvent(instance, 'start', userId, {});
  }

  private executeTask(
    instance: FakeInstance,
    task: FakeTask,
    result: 'agree' | 'refuse',
    remark: string,
  ): void {
    const now = this.clock.now();
    Object.assign(task, {
      status: 'COMPLETED',
      result: result === 'agree' ? 'AGREE' : 'REFUSE',
      finishTime: now,
    });
    instance.operationRecords.push({
      userId: task.userId,
      date: now,
      type: 'EXECUTE_TASK_NORMAL',
      result: result === 'agree' ? 'AGREE' : 'REFUSE',
      remark,
    });
    this.taskEvent(instance, 'finish', task.userId, { result, remark, finishTime: now });
    const node = instance.nodes[task.node];
    const running = instance.tasks.filter((t) => t.node === task.node && t.status === 'RUNNING');
    const nodeDone = result === 'refuse' || node?.actionType !== 'AND' || running.length === 0;
    if (!nodeDone) return;
    for (const other of running) {
      Object.assign(other, { status: 'CANCELED', finishTime: now });
      this.taskEvent(instance, 'cancel', other.userId, { finishTime: now });
    }
    if (result === 'refuse') this.finish(instance, 'refuse');
    else if (task.node + 1 < instance.nodes.length) this.startNode(instance, task.node + 1);
    else this.finish(instance, 'agree');
  }

  private finish(instance: FakeInstance, result: 'agree' | 'refuse'): void {
    const now = this.clock.now();
    Object.assign(instance, { status: 'COMPLETED', result, finishTime: now });
    this.instanceEvent(instance, 'finish', instance.originatorUserId, { result, finishTime: now });
  }

  private terminate(instance: FakeInstance, userId: string, remark: string): void {
    const now = this.clock.now();
    for (const task of instance.tasks) {
      if (task.status === 'RUNNING') Object.assign(task, { status: 'CANCELED', finishTime: now });
    }
    Object.assign(instance, { status: 'TERMINATED', finishTime: now });
    instance.operationRecords.push({
      userId,
      date: now,
      type: 'TERMINATE_PROCESS_INSTANCE',
      result: 'NONE',
      remark,
    });
    this.instanceEvent(instance, 'terminate', instance.originatorUserId, { finishTime: now });
  }

  private instanceEvent(instance: FakeInstance, type: string, staffId: string, extra: Json): void {
    this.enqueue({
      EventType: 'bpms_instance_change',
      processInstanceId: instance.processInstanceId,
      corpId: this.seed.corpId,
      createTime: instance.createTime,
      title: instance.title,
      type,
      staffId,
      url: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=${instance.processInstanceId}`,
      processCode: instance.processCode,
      businessId: instance.businessId,
      ...extra,
    });
  }

  private taskEvent(instance: FakeInstance, type: string, staffId: string, extra: Json): void {
    this.enqueue({
      EventType: 'bpms_task_change',
      processInstanceId: instance.processInstanceId,
      corpId: this.seed.corpId,
      createTime: instance.createTime,
      title: instance.title,
      type,
      staffId,
      processCode: instance.processCode,
      businessId: instance.businessId,
      ...extra,
    });
  }

  // ---- callbacks ----

  private enqueue(payload: Json): void {
    this.deliveryChain = this.deliveryChain.then(async () => {
      await this.deliver(payload);
    });
  }

  private async deliver(payload: Json): Promise<boolean> {
    const at = this.clock.now();
    if (!this.callbackUrl) {
      this.deliveries.push({ payload, ok: false, error: 'no callback URL subscribed', at });
      return false;
    }
    const crypto = createDingTalkCrypto({
      token: this.seed.app.token,
      aesKey: this.seed.app.aesKey,
      ownerKey: this.seed.app.appKey,
      now: this.clock.now,
    });
    const sealed = crypto.encrypt(JSON.stringify(payload), { nonce: randomNonce(8) });
    const url = new URL(this.callbackUrl);
    url.searchParams.set('msg_signature', sealed.signature);
    url.searchParams.set('timestamp', sealed.timestamp);
    url.searchParams.set('nonce', sealed.nonce);
    try {
      const response = await this.callbackFetch(url.toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt: sealed.encrypt }),
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      if (response.status !== 200) {
        this.deliveries.push({ payload, ok: false, status: response.status, error: text.slice(0, 200), at });
        return false;
      }
      // DingTalk accepts the answer only if it is the encrypted "success" with a valid signature.
      const reply = JSON.parse(text) as {
        msg_signature?: string;
        timeStamp?: string;
        nonce?: string;
        encrypt?: string;
      };
      const { message } = crypto.open({
        signature: reply.msg_signature,
        timestamp: String(reply.timeStamp ?? ''),
        nonce: String(reply.nonce ?? ''),
        encrypt: String(reply.encrypt ?? ''),
      });
      const ok = message === 'success';
      this.deliveries.push({
        payload,
        ok,
        status: 200,
        ...(ok ? {} : { error: 'reply is not "success"' }),
        at,
      });
      return ok;
    } catch (error) {
      this.deliveries.push({ payload, ok: false, error: (error as Error).message, at });
      return false;
    }
  }

  // ---- wire helpers ----

  private issueToken(): string {
    const now = this.clock.now();
    // Asking again within the lifetime returns the same token and renews it (platforms.md §4.1).
    if (this.currentToken && (this.tokens.get(this.currentToken) ?? 0) > now) {
      this.tokens.set(this.currentToken, now + this.tokenTtlMs);
      return this.currentToken;
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, now + this.tokenTtlMs);
    this.currentToken = token;
    return token;
  }

  private credentialsMatch(appKey: unknown, appSecret: unknown): boolean {
    return (
      typeof appKey === 'string' &&
      typeof appSecret === 'string' &&
      appKey === this.seed.app.appKey &&
      constantTimeEqual(this.seed.app.appSecret, appSecret)
    );
  }

  private requestId(): string {
    return randomBytes(8).toString('hex').toUpperCase();
  }

  private newError(c: Context, status: number, code: string, message: string): Response {
    return c.json({ requestid: this.requestId(), code, message }, status as 400);
  }

  private oldError(c: Context, errcode: number, message: string, subCode?: number): Response {
    if (subCode !== undefined) {
      return c.json({
        errcode,
        sub_code: String(subCode),
        sub_msg: message,
        errmsg: `ding talk error[subcode=${subCode},submsg=${message}]`,
        request_id: this.requestId(),
      });
    }
    return c.json({ errcode, errmsg: message, request_id: this.requestId() });
  }

  private oldOk(c: Context, extra: Json): Response {
    return c.json({ errcode: 0, errmsg: 'ok', ...extra, request_id: this.requestId() });
  }

  private async rawJson(c: Context): Promise<Json | undefined> {
    try {
      const parsed: unknown = JSON.parse(await c.req.text());
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Json)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** A new-API JSON body with only the known fields (the fake is strict about typos). */
  private async newBody(c: Context, allowed: string[]): Promise<Json | Response> {
    const body = await this.rawJson(c);
    if (!body) return this.newError(c, 400, 'MissingBody', 'body is mandatory for this action.');
    const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
    if (unknown.length > 0)
      return this.newError(c, 400, 'invalidParameter', `不支持的参数：${unknown.join(', ')}`);
    return body;
  }

  private async oldBody(c: Context, allowed: string[], required: string[]): Promise<Json | Response> {
    const body = await this.rawJson(c);
    if (!body) return this.oldError(c, 400002, '无效的参数');
    const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) return this.oldError(c, 400002, `无效的参数 ${unknown.join(',')}`);
    const missing = required.filter((key) => body[key] === undefined || body[key] === null);
    if (missing.length > 0) return this.oldError(c, 40035, `缺少参数 ${missing.join(',')}`);
    return body;
  }

  private departmentView(department: DingTalkSeedDepartment): Json {
    return {
      dept_id: department.dept_id,
      name: department.name,
      ...(department.parent_id ? { parent_id: department.parent_id } : {}),
    };
  }

  private userView(user: DingTalkSeedUser): Json {
    return {
      userid: user.userid,
      unionid: user.unionid,
      name: user.name,
      avatar: user.avatar ?? '',
      ...(user.mobile ? { mobile: user.mobile, state_code: '86' } : {}),
      ...(user.email ? { email: user.email } : {}),
      ...(user.org_email ? { org_email: user.org_email } : {}),
      ...(user.title ? { title: user.title } : {}),
      dept_id_list: user.dept_id_list,
      active: true,
    };
  }

  private instanceView(instance: FakeInstance): Json {
    const approvers = [...new Set(instance.nodes.flatMap((node) => node.userIds))];
    return {
      title: instance.title,
      status: instance.status,
      result: instance.result,
      businessId: instance.businessId,
      originatorUserId: instance.originatorUserId,
      originatorDeptId: String(instance.originatorDeptId),
      originatorDeptName: this.departments.get(instance.originatorDeptId)?.name ?? '',
      approverUserIds: approvers,
      ccUserIds: instance.ccList,
      formComponentValues: instance.formComponentValues,
      tasks: instance.tasks.map((task) => ({
        taskId: task.taskId,
        processInstanceId: instance.processInstanceId,
        userId: task.userId,
        status: task.status,
        result: task.result,
        activityId: task.activityId,
        createTime: minuteTime(task.createTime),
        ...(task.finishTime !== undefined ? { finishTime: minuteTime(task.finishTime) } : {}),
        pcUrl: `https://aflow.dingtalk.com/dingtalk/pc/query/pchomepage.htm#/approval?procInstId=${instance.processInstanceId}&taskId=${task.taskId}`,
        mobileUrl: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=${instance.processInstanceId}&taskId=${task.taskId}`,
      })),
      operationRecords: instance.operationRecords.map((record) => ({
        userId: record.userId,
        date: minuteTime(record.date),
        type: record.type,
        result: record.result,
        ...(record.remark ? { remark: record.remark } : {}),
      })),
      createTime: minuteTime(instance.createTime),
      ...(instance.finishTime !== undefined ? { finishTime: minuteTime(instance.finishTime) } : {}),
    };
  }
}

export function createDingTalkFake(options: DingTalkFakeOptions = {}): DingTalkFake {
  return new DingTalkFake(options);
}

/**
 * The request's path as DingTalk names it, without any prefix the fake is mounted under (the sandbox
 * serves it at /sandbox/dingtalk/…).
 */
function apiPath(c: Context): string {
  const pathname = new URL(c.req.url).pathname;
  const start = pathname.search(/\/(?:v1\.0|topapi|robot|gettoken)(?:\/|$)/);
  return start > 0 ? pathname.slice(start) : pathname;
}

/** DingTalk's minute-precision ISO time, e.g. 2024-01-02T15:04Z (platforms.md §4.3). */
export function minuteTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

function businessId(ms: number, sequence: number): string {
  const stamp = new Date(ms).toISOString().replace(/\D/g, '').slice(0, 12);
  return `${stamp}${String(sequence % 1_000_000).padStart(6, '0')}`;
}

/** What is wrong with a message body (msgtype and its content), or undefined. */
function messageProblem(msg: Json | undefined, types: string[]): string | undefined {
  if (!msg || typeof msg.msgtype !== 'string' || !types.includes(msg.msgtype)) return 'msgtype';
  const content = msg[msg.msgtype] as Json | undefined;
  if (!content || typeof content !== 'object') return msg.msgtype;
  switch (msg.msgtype) {
    case 'text':
      return typeof content.content === 'string' && content.content !== '' ? undefined : 'text.content';
    case 'markdown':
      return typeof content.title === 'string' && typeof content.text === 'string' ? undefined : 'markdown';
    case 'link':
      return typeof content.title === 'string' && typeof content.messageUrl === 'string' ? undefined : 'link';
    case 'actionCard': // robot: {title, text, singleTitle/singleURL or btns}
      return typeof content.title === 'string' && typeof content.text === 'string' ? undefined : 'actionCard';
    case 'action_card': // work notification: {title, markdown, single_title/single_url or btn_json_list}
      return typeof content.title === 'string' && typeof content.markdown === 'string'
        ? undefined
        : 'action_card';
    default:
      return undefined;
  }
}
