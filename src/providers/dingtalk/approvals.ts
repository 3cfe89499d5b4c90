// DingTalk's official OA approval (官方 OA 审批, workflow 1.0) behind the engine's VendorApprovals
// (reference/platforms.md §4.3–§4.5; zadig-behaviour.md §2.6, whose weak points W7/W12/W15 we avoid).
//
// - A definition is a form with one TextareaField, found by name before it is created (Zadig's order).
// - The flow is set per instance with `approvers` (AND/OR per node, NONE for one person), so one form
//   serves every instance of a shape. DingTalk's instance detail does not say which task belongs to
//   which of those nodes, nor whether a node was AND or OR, so the form text ends with two lines we
//   read back: `Signoff key: <key>` (how findInstance recognises an instance after a crash; DingTalk
//   has no idempotency field) and `Signoff flow: AND(u1,u2) OR(u3)`.
// - Instance status, per-approver decisions, comments and redirects come from the instance detail
//   (tasks + operationRecords), which every caller asks for whatever told it to look.
import { AppError } from '../../errors.js';
import type {
  ApprovalShape,
  ApproverState,
  InstanceState,
  NewInstance,
  NodeType,
  VendorApprovals,
} from '../approvals.js';
import { retryRead } from '../read-retry.js';
import type { ImAppConfig, ImClient, ImEvent, ImUser } from '../types.js';
import { approvalEventTypes } from './callback.js';
import {
  type DingTalkClient,
  type DingTalkConfig,
  dingTalkErrorCode,
  type ProcessInstance,
  type ProcessInstanceTask,
  type StartProcessInstanceRequest,
} from './client.js';
import { CONSOLE_CREDENTIALS } from './codes.js';

/** The one field of our forms, as `formComponentValues[].name` must repeat it. */
export const DINGTALK_FORM_FIELD = '详情';
const FORM_COMPONENT_ID = 'TextareaField-1';
export const KEY_LINE_PREFIX = 'Signoff key: ';
export const FLOW_LINE_PREFIX = 'Signoff flow: ';
const FORM_DESCRIPTION = 'Created by Signoff for workflow approvals; the approvers are set per request.';

/** Vendor limits (发起审批实例, 创建或更新审批表单模板). */
const MAX_FORM_NAME = 200;
const MAX_NODES = 20;
const MAX_CC = 50;
const MAX_FORM_VALUE = 65_535;
/** asyncsend_v2 takes at most 100 userids per call. */
const NOTIFICATION_BATCH = 100;
/** The instance-id query wants its start within 120 days when no end is given. */
const QUERY_WINDOW_MS = 119 * 24 * 60 * 60_000;
/** Our clock and DingTalk's may differ; search a little before the first attempt. */
const SEARCH_SKEW_MS = 5 * 60_000;
const MAX_ID_PAGES = 500;
/** DingTalk refuses to terminate an instance in its first 15 s. */
const TERMINATE_MIN_AGE_MS = 15_000;
const KEY_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
/** Userids go into the flow line between parentheses and commas. */
const USER_ID_PATTERN = /^[^\s(),]+$/;
const OA_CONSOLE = 'DingTalk admin console (管理后台) → 工作台 → OA审批 → OA审批管理后台';
const SCOPE_HINT =
  'DingTalk developer console (开发者后台) → 应用开发 → your app → 权限管理 → 通讯录权限范围 (address-book scope)';

export interface DingTalkApprovalsOptions {
  /** Milliseconds since the epoch (the search window of findInstance, cache lifetimes). */
  now?: () => number;
  /** How long a user's name and avatar are reused (default 1 hour). */
  userCacheMs?: number;
}

type PlanNode = { type: NodeType; approvers: string[] };

/** The ImProvider entry: narrows the generic client and config to DingTalk's. */
export function dingTalkApprovals(client: ImClient, config: ImAppConfig): VendorApprovals {
  if (config.type !== 'dingtalk') {
    throw new AppError('internal', `A ${config.type} app was given to the DingTalk approvals.`);
  }
  if (!('startProcessInstance' in client)) {
    throw new AppError('internal', 'The DingTalk approvals need a client from the DingTalk provider.');
  }
  return createDingTalkApprovals(client as DingTalkClient, config);
}

export function createDingTalkApprovals(
  client: DingTalkClient,
  config: DingTalkConfig,
  options: DingTalkApprovalsOptions = {},
): VendorApprovals {
  const now = options.now ?? Date.now;
  const userCacheMs = options.userCacheMs ?? 60 * 60_000;
  const users = new Map<string, { user: ImUser | undefined; until: number }>();
  const byEmail = new Map<string, { user: ImUser | undefined; until: number }>();

  /** A user by userid, cached (W12: entries expire; unknown users for a shorter time). */
  async function cachedUser(userId: string): Promise<ImUser | undefined> {
    const hit = users.get(userId);
    if (hit && hit.until > now()) return hit.user;
    const user = await client.user(userId);
    users.set(userId, { user, until: now() + (user ? userCacheMs : Math.min(userCacheMs, 5 * 60_000)) });
    return user;
  }

  /** Names and avatars are for display: a failed lookup leaves them out rather than failing the read. */
  async function names(ids: Iterable<string>): Promise<Map<string, ImUser>> {
    const found = new Map<string, ImUser>();
    await Promise.all(
      [...new Set(ids)].map(async (id) => {
        const user = await cachedUser(id).catch(() => undefined);
        if (user) found.set(id, user);
      }),
    );
    return found;
  }

  async function findFormByName(name: string): Promise<string | undefined> {
    const templates = await client.listTemplates();
    return templates.find((template) => template.name === name)?.processCode;
  }

  /** Which of these people DingTalk does not know (after it refused to start an instance). */
  async function unknownPeople(instance: NewInstance): Promise<string[] | undefined> {
    const roles = new Map<string, string>();
    const add = (id: string, role: string) => {
      if (!roles.has(id)) roles.set(id, role);
    };
    add(instance.initiator, 'initiator');
    for (const node of instance.nodes) for (const id of node.approvers) add(id, 'approver');
    for (const id of instance.cc) add(id, 'CC');
    const unknown: string[] = [];
    try {
      for (const [id, role] of roles) {
        users.delete(id);
        if (!(await cachedUser(id))) unknown.push(`${id} (${role})`);
      }
    } catch {
      return undefined; // cannot tell (e.g. no contact permission): keep DingTalk's own answer
    }
    return unknown;
  }

  async function explainStartFailure(error: unknown, instance: NewInstance): Promise<unknown> {
    const code = dingTalkErrorCode(error);
    if (code === 'processCodeError') {
      return new AppError(
        'definition_gone',
        `DingTalk no longer has the approval form ${instance.definition} (processCodeError: 获取审批模板失败或者模板已被删除); it was probably deleted in ${OA_CONSOLE}.`,
        { cause: error },
      );
    }
    if (code === 'processGetFailed') {
      return new AppError(
        'upstream_rejected',
        `DingTalk refused to start an approval of form ${instance.definition} (processGetFailed): the form is probably disabled (停用). Enable it again in ${OA_CONSOLE}.`,
        { cause: error },
      );
    }
    if (code === 'invalidParameter' || code === 'processInstanceInvalidParameter') {
      const unknown = await unknownPeople(instance);
      if (unknown && unknown.length > 0) {
        return new AppError(
          'upstream_rejected',
          `DingTalk does not know ${unknown.join(', ')}: the person may have left, or is outside the address book this app may see (${SCOPE_HINT}). Pick people from the DingTalk picker or correct the userid.`,
          { cause: error },
        );
      }
    }
    return error;
  }

  async function carriesKey(id: string, key: string): Promise<boolean> {
    let raw: ProcessInstance;
    try {
      raw = await client.getProcessInstance(id);
    } catch (error) {
      if (dingTalkErrorCode(error) === 'processInstanceNotExist') return false;
      throw error;
    }
    const line = `${KEY_LINE_PREFIX}${key}`;
    return raw.formComponentValues.some((value) =>
      String(value.value ?? '')
        .split(/\r?\n/)
        .some((text) => text.trim() === line),
    );
  }

  async function toState(raw: ProcessInstance): Promise<InstanceState> {
    const plan = readPlan(raw) ?? planFromTasks(raw.tasks);
    const byNode = assignTasks(plan, raw.tasks);
    const records = decisionRecords(raw);
    const terminatedBy = raw.operationRecords.filter((r) => r.type === 'TERMINATE_PROCESS_INSTANCE').at(-1);
    const people = await names([
      ...plan.flatMap((node) => node.approvers),
      ...raw.tasks.map((task) => task.userId),
      ...(terminatedBy ? [terminatedBy.userId] : []),
    ]);
    const approved = raw.status === 'COMPLETED' && raw.result === 'agree';

    const nodes: InstanceState['nodes'] = plan.map((node, index) => {
      const tasks = byNode[index] ?? [];
      const started = tasks.length > 0;
      const laterStarted = byNode.slice(index + 1).some((later) => later.length > 0);
      const approvers: ApproverState[] = [];
      const shown = new Set<ProcessInstanceTask>();
      for (const userId of node.approvers) {
        const task = tasks.find((t) => t.userId === userId && !shown.has(t));
        if (task) shown.add(task);
        approvers.push(
          task ? approverOf(task, records, people) : withName({ id: userId, decision: 'waiting' }, people),
        );
      }
      for (const task of tasks) if (!shown.has(task)) approvers.push(approverOf(task, records, people));
      return {
        type: node.type,
        status: nodeStatus(node.type, tasks, started, laterStarted, approved),
        approvers,
      };
    });

    const state: InstanceState = {
      status: instanceStatus(raw),
      vendor_status: raw.result ? `${raw.status}/${raw.result}` : raw.status,
      nodes,
    };
    if (raw.status === 'TERMINATED' || raw.status === 'CANCELED') {
      const who = terminatedBy ? (people.get(terminatedBy.userId)?.name ?? terminatedBy.userId) : undefined;
      state.reason = `terminated (撤销) in DingTalk${who ? ` by ${who}` : ''}${terminatedBy?.remark ? `: ${terminatedBy.remark}` : ''}`;
    }
    const link = raw.tasks.find((task) => task.pcUrl)?.pcUrl;
    if (link) state.link = link;
    return state;
  }

  return {
    async createDefinition(shape: ApprovalShape): Promise<string> {
      const name = shape.name.trim();
      if (name === '' || name.length > MAX_FORM_NAME) {
        throw new AppError(
          'validation_failed',
          `A DingTalk approval form name must have 1 to ${MAX_FORM_NAME} characters ("${shape.name}").`,
        );
      }
      const existing = await findFormByName(name);
      if (existing) return existing;
      try {
        return await client.saveForm({
          name,
          description: FORM_DESCRIPTION,
          formComponents: [
            {
              componentType: 'TextareaField',
              props: {
                componentId: FORM_COMPONENT_ID,
                label: DINGTALK_FORM_FIELD,
                required: true,
                placeholder: 'Filled in by Signoff',
              },
            },
          ],
        });
      } catch (error) {
        // Someone (another replica, or an admin) created it meanwhile: read the list again.
        if (!(error instanceof AppError) || !error.message.includes('已有相同名称表单')) throw error;
        const created = await findFormByName(name);
        if (created) return created;
        throw new AppError(
          'upstream_rejected',
          `DingTalk has a form named "${name}" that this app cannot see in its template list; rename or delete it in ${OA_CONSOLE}.`,
          { cause: error },
        );
      }
    },

    async definitionExists(code: string): Promise<boolean> {
      // 获取表单 schema answers formNotExist / aflowProcessCodeIsError for a deleted form; a disabled
      // (停用) form still exists and is reported when an instance is started.
      return (await client.formSchema(code)) !== undefined;
    },

    async createInstance(instance: NewInstance) {
      validateInstance(instance);
      const request: StartProcessInstanceRequest = {
        processCode: instance.definition,
        originatorUserId: instance.initiator,
        formComponentValues: [{ name: DINGTALK_FORM_FIELD, value: formText(instance) }],
        approvers: instance.nodes.map((node) => {
          const userIds = [...new Set(node.approvers)];
          // DingTalk wants NONE (单人审批) for a one-person node (Zadig does the same).
          return { actionType: userIds.length === 1 ? 'NONE' : node.type, userIds };
        }),
        ...(instance.cc.length > 0 ? { ccList: [...new Set(instance.cc)], ccPosition: 'START_FINISH' } : {}),
      };
      try {
        // No link: DingTalk returns only the id; `instance()` offers the task page once there is one.
        return { id: await client.startProcessInstance(request) };
      } catch (error) {
        throw await explainStartFailure(error, instance);
      }
    },

    async findInstance(instance: NewInstance, since: Date): Promise<string | undefined> {
      // DingTalk wants the start within 120 days and not after its own now (it has no end here).
      const startTime = Math.min(
        Math.max(since.getTime() - SEARCH_SKEW_MS, now() - QUERY_WINDOW_MS),
        now() - SEARCH_SKEW_MS,
      );
      let token = 0;
      for (let page = 0; page < MAX_ID_PAGES; page++) {
        const { ids, nextToken } = await retryRead(() =>
          client.queryProcessInstanceIds(
            { processCode: instance.definition, startTime, userIds: [instance.initiator] },
            token,
          ),
        );
        // One read per instance of the window: a transient fault in one must not fail the whole search.
        for (const id of ids) if (await retryRead(() => carriesKey(id, instance.key))) return id;
        if (nextToken === undefined) return undefined;
        token = nextToken;
      }
      throw new AppError(
        'upstream_error',
        `More than ${MAX_ID_PAGES * 20} DingTalk approvals of ${instance.definition} by ${instance.initiator} since ${since.toISOString()}; refusing a partial search.`,
      );
    },

    async instance(id: string): Promise<InstanceState> {
      let raw: ProcessInstance;
      try {
        raw = await client.getProcessInstance(id);
      } catch (error) {
        // An admin can delete instances (bpms_instance_change type=delete); the id came from DingTalk.
        if (dingTalkErrorCode(error) === 'processInstanceNotExist') {
          return {
            status: 'cancelled',
            vendor_status: 'processInstanceNotExist',
            reason: 'deleted in DingTalk (the instance no longer exists)',
            nodes: [],
          };
        }
        throw error;
      }
      return toState(raw);
    },

    async revoke(id, instance) {
      try {
        await client.terminateProcessInstance({
          processInstanceId: id,
          isSystem: true,
          operatingUserId: instance.initiator,
          remark: 'Withdrawn by Signoff: the workflow run was cancelled or the approval timed out.',
        });
        return 'revoked';
      } catch (error) {
        const code = dingTalkErrorCode(error);
        if (code === 'internalError') {
          throw new AppError(
            'upstream_rejected',
            `DingTalk refused to withdraw approval ${id} (${(error as Error).message}). In ${OA_CONSOLE} → the form → 高级设置 → 撤销/修改审批单, allow 提交人撤销审批中的审批单.`,
            { cause: error },
          );
        }
        if (code !== 'aflowProcessInstStatusException' && code !== 'aflowProcessInstNotExist') throw error;
        // Ended already, gone, or too young: look at it to tell which.
        let raw: ProcessInstance;
        try {
          raw = await client.getProcessInstance(id);
        } catch (readError) {
          if (dingTalkErrorCode(readError) === 'processInstanceNotExist') return 'revoked';
          throw readError;
        }
        if (raw.status === 'TERMINATED' || raw.status === 'CANCELED') return 'revoked';
        if (raw.status === 'COMPLETED') {
          throw new AppError(
            'conflict',
            `DingTalk approval ${id} was already ${raw.result === 'agree' ? 'approved' : 'rejected'}; there is nothing to withdraw.`,
            { cause: error },
          );
        }
        throw new AppError(
          'upstream_error',
          `DingTalk did not withdraw approval ${id} yet (${code}; it refuses during the first 15 s of an approval). Try again shortly.`,
          { cause: error, retryAfterMs: TERMINATE_MIN_AGE_MS },
        );
      }
    },

    async remind(userIds: string[], text: string, link: string): Promise<void> {
      const agentId = config.agent_id?.trim();
      if (!agentId) {
        throw new AppError(
          'validation_failed',
          `DingTalk reminders are work notifications (工作通知), which need the app's AgentId: set agent_id on this IM app (AgentId from ${CONSOLE_CREDENTIALS}).`,
        );
      }
      if (!/^\d+$/.test(agentId)) {
        throw new AppError(
          'validation_failed',
          `agent_id "${agentId}" is not a DingTalk AgentId (a number from ${CONSOLE_CREDENTIALS}).`,
        );
      }
      const recipients = [...new Set(userIds.filter((id) => id !== ''))];
      const title = firstLine(text, 'Signoff');
      const body = truncate(text, 1500);
      for (let start = 0; start < recipients.length; start += NOTIFICATION_BATCH) {
        await client.sendWorkNotification(
          agentId,
          recipients.slice(start, start + NOTIFICATION_BATCH),
          link
            ? {
                msgtype: 'action_card',
                action_card: { title, markdown: body, single_title: '查看 Open', single_url: link },
              }
            : { msgtype: 'markdown', markdown: { title, text: body } },
        );
      }
    },

    instanceOfEvent(event: ImEvent): string | undefined {
      if (!(approvalEventTypes as readonly string[]).includes(event.type)) return undefined;
      const payload = event.payload as { processInstanceId?: unknown; data?: unknown } | null | undefined;
      // HTTP callbacks carry the fields at the top; a Stream event may still wrap them in `data`.
      const data = (payload?.data ?? null) as { processInstanceId?: unknown } | null;
      const id = payload?.processInstanceId ?? data?.processInstanceId;
      return typeof id === 'string' && id !== '' ? id : undefined;
    },

    async findUser(by) {
      const id = by.id?.trim();
      if (id) return cachedUser(id);
      const mobile = by.mobile?.trim();
      if (mobile) return (await client.findUsers({ mobile }))[0];
      const email = by.email?.trim().toLowerCase();
      if (email) {
        // DingTalk has no lookup by e-mail (platforms.md §6.8): the client walks the visible address
        // book, which is costly, so the answer is kept for a while.
        const hit = byEmail.get(email);
        if (hit && hit.until > now()) return hit.user;
        const user = (await client.findUsers({ email }))[0];
        byEmail.set(email, { user, until: now() + Math.min(userCacheMs, 10 * 60_000) });
        if (user) users.set(user.id, { user, until: now() + userCacheMs });
        return user;
      }
      throw new AppError(
        'bad_request',
        'Give an email, a mobile number or a DingTalk userid to look someone up.',
      );
    },
  };
}

// ---- the form text ----

function validateInstance(instance: NewInstance): void {
  const problems: { path: string; message: string }[] = [];
  if (!KEY_PATTERN.test(instance.key))
    problems.push({ path: 'key', message: 'must be 1-64 of [A-Za-z0-9-]' });
  if (instance.nodes.length === 0 || instance.nodes.length > MAX_NODES)
    problems.push({ path: 'nodes', message: `DingTalk takes 1 to ${MAX_NODES} approval nodes` });
  instance.nodes.forEach((node, index) => {
    if (node.approvers.length === 0) problems.push({ path: `nodes[${index}]`, message: 'has no approver' });
  });
  if (new Set(instance.cc).size > MAX_CC)
    problems.push({ path: 'cc', message: `DingTalk takes at most ${MAX_CC} CC people` });
  const ids = [instance.initiator, ...instance.nodes.flatMap((node) => node.approvers), ...instance.cc];
  const bad = ids.filter((id) => !USER_ID_PATTERN.test(id));
  if (bad.length > 0)
    problems.push({
      path: 'users',
      message: `not DingTalk userids: ${bad.map((id) => JSON.stringify(id)).join(', ')}`,
    });
  if (problems.length > 0) {
    throw new AppError(
      'validation_failed',
      `This approval cannot be sent to DingTalk: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`,
      { problems },
    );
  }
}

export function formatFlow(nodes: Array<{ type: NodeType; approvers: string[] }>): string {
  return nodes.map((node) => `${node.type}(${[...new Set(node.approvers)].join(',')})`).join(' ');
}

/** The flow line back into nodes; undefined when it is missing or malformed. */
export function parseFlow(line: string): PlanNode[] | undefined {
  const tokens = line.trim().split(/\s+/);
  const nodes: PlanNode[] = [];
  for (const token of tokens) {
    const match = /^(AND|OR)\(([^\s()]+)\)$/.exec(token);
    if (!match) return undefined;
    nodes.push({ type: match[1] as NodeType, approvers: match[2]!.split(',').filter((id) => id !== '') });
  }
  return nodes.length > 0 ? nodes : undefined;
}

function formText(instance: NewInstance): string {
  const trailer = [`${KEY_LINE_PREFIX}${instance.key}`, `${FLOW_LINE_PREFIX}${formatFlow(instance.nodes)}`];
  const linkLine =
    instance.link && !instance.content.includes(instance.link) ? [`链接 Link: ${instance.link}`] : [];
  const fixed = [instance.title.trim(), ...linkLine, ...trailer].join('\n').length + 8;
  const content = truncate(instance.content.trim(), Math.max(0, MAX_FORM_VALUE - fixed));
  return [instance.title.trim(), '', content, '', ...linkLine, ...trailer]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

function readPlan(raw: ProcessInstance): PlanNode[] | undefined {
  for (const value of raw.formComponentValues) {
    for (const line of String(value.value ?? '').split(/\r?\n/)) {
      const text = line.trim();
      if (text.startsWith(FLOW_LINE_PREFIX)) return parseFlow(text.slice(FLOW_LINE_PREFIX.length));
    }
  }
  return undefined;
}

/** Without our flow line (an instance not started by us): one node per DingTalk activity. */
function planFromTasks(tasks: ProcessInstanceTask[]): PlanNode[] {
  const groups = new Map<string, ProcessInstanceTask[]>();
  for (const task of tasks) {
    const key = task.activityId ?? '';
    groups.set(key, [...(groups.get(key) ?? []), task]);
  }
  return [...groups.values()].map((group) => ({
    // An OR node cancels the others' tasks once one person acts.
    type: group.some((task) => task.status === 'CANCELED') ? 'OR' : 'AND',
    approvers: [...new Set(group.map((task) => task.userId))],
  }));
}

/**
 * Puts each task in a node of the plan. Nodes run in order, so a planned person's task goes to the
 * first node (from the current one on) that lists them; a task that follows a redirect (转交) goes to
 * the redirected task's node; tasks of one DingTalk activity stay together.
 */
export function assignTasks(plan: PlanNode[], tasks: ProcessInstanceTask[]): ProcessInstanceTask[][] {
  const byNode: ProcessInstanceTask[][] = plan.map(() => []);
  if (plan.length === 0) return byNode;
  const taken = plan.map(() => new Set<string>());
  const nodeOfActivity = new Map<string, number>();
  const redirects: number[] = [];
  let floor = 0;
  for (const task of tasks) {
    let node = task.activityId ? nodeOfActivity.get(task.activityId) : undefined;
    if (node === undefined) {
      let planned: number | undefined;
      for (let i = floor; i < plan.length; i++) {
        if (plan[i]!.approvers.includes(task.userId) && !taken[i]!.has(task.userId)) {
          planned = i;
          break;
        }
      }
      const redirect = redirects[0];
      if (redirect !== undefined && (planned === undefined || planned > redirect)) {
        node = redirect;
        redirects.shift();
      } else {
        node = planned ?? floor;
      }
    } else if (!(plan[node]!.approvers.includes(task.userId) && !taken[node]!.has(task.userId))) {
      // Same activity, not a planned slot: the successor of a redirect in this node.
      const pending = redirects.indexOf(node);
      if (pending >= 0) redirects.splice(pending, 1);
    }
    byNode[node]!.push(task);
    taken[node]!.add(task.userId);
    if (task.activityId && !nodeOfActivity.has(task.activityId)) nodeOfActivity.set(task.activityId, node);
    if (task.result === 'REDIRECTED') redirects.push(node);
    floor = Math.max(floor, node);
  }
  return byNode;
}

type DecisionRecord = { userId: string; type: string; result: string; date: string; remark?: string };

/** Decision records (execute, redirect) per user, in order; ADD_REMARK comments decide nothing. */
function decisionRecords(raw: ProcessInstance): Map<string, DecisionRecord[]> {
  const byUser = new Map<string, DecisionRecord[]>();
  for (const record of raw.operationRecords) {
    if (!['EXECUTE_TASK_NORMAL', 'EXECUTE_TASK_AGENT', 'REDIRECT_TASK'].includes(record.type)) continue;
    byUser.set(record.userId, [...(byUser.get(record.userId) ?? []), record]);
  }
  return byUser;
}

function approverOf(
  task: ProcessInstanceTask,
  records: Map<string, DecisionRecord[]>,
  people: Map<string, ImUser>,
): ApproverState {
  const decision = taskDecision(task);
  const state: ApproverState = { id: task.userId, decision };
  if (decision === 'approved' || decision === 'rejected' || decision === 'transferred') {
    const wanted =
      decision === 'transferred' ? 'REDIRECT_TASK' : decision === 'approved' ? 'AGREE' : 'REFUSE';
    const mine = records.get(task.userId) ?? [];
    const index = mine.findIndex((r) =>
      decision === 'transferred' ? r.type === wanted : r.result === wanted,
    );
    const record = index >= 0 ? mine.splice(index, 1)[0] : undefined;
    if (record?.remark) state.comment = record.remark;
    const at = vendorTime(record?.date) ?? vendorTime(task.finishTime);
    if (at) state.decided_at = at;
  }
  return withName(state, people);
}

function withName(state: ApproverState, people: Map<string, ImUser>): ApproverState {
  const user = people.get(state.id);
  if (user) {
    state.name = user.name;
    state.avatar = user.avatar;
  }
  return state;
}

/**
 * Task status/result → decision. CANCELED/TERMINATED tasks (another OR approver acted first, or the
 * instance ended) were never decided: pending. NEW (未启动) has not reached the person: waiting.
 */
function taskDecision(task: ProcessInstanceTask): ApproverState['decision'] {
  if (task.result === 'REDIRECTED') return 'transferred';
  if (task.status === 'COMPLETED' && task.result === 'AGREE') return 'approved';
  if (task.status === 'COMPLETED' && task.result === 'REFUSE') return 'rejected';
  if (task.status === 'NEW') return 'waiting';
  return 'pending';
}

function nodeStatus(
  type: NodeType,
  tasks: ProcessInstanceTask[],
  started: boolean,
  laterStarted: boolean,
  instanceApproved: boolean,
): InstanceState['nodes'][number]['status'] {
  if (tasks.some((task) => task.result === 'REFUSE')) return 'rejected';
  if (laterStarted || instanceApproved) return 'approved';
  const decisions = tasks.map(taskDecision);
  if (type === 'OR' && decisions.includes('approved')) return 'approved';
  const open = decisions.filter((d) => d !== 'transferred');
  if (type === 'AND' && open.length > 0 && open.every((d) => d === 'approved')) return 'approved';
  return started ? 'pending' : 'waiting';
}

function instanceStatus(raw: ProcessInstance): InstanceState['status'] {
  switch (raw.status) {
    case 'COMPLETED':
      if (raw.result === 'agree') return 'approved';
      if (raw.result === 'refuse') return 'rejected';
      return 'pending';
    case 'TERMINATED':
    case 'CANCELED':
      return 'cancelled';
    default:
      return 'pending';
  }
}

/** DingTalk's times: minute-precision ISO (`2024-01-02T15:04Z`) in details, ms elsewhere. */
function vendorTime(value: string | number | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = typeof value === 'number' || /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function firstLine(text: string, fallback: string): string {
  const line =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? fallback;
  return truncate(line, 60);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
