// Feishu / Lark 审批 (approval v4) behind the engine's VendorApprovals (../approvals.ts). The engine only ever
// asks for an instance's whole state; this file turns Feishu's instance into ours.
//
// Vendor facts this file relies on (open.feishu.cn server-docs/approval-v4, mirrored in the SDK's typings):
// - approval/create: no approval_code → Feishu generates one; node_list runs START … END; `Free` approvers are
//   filled per instance; i18n keys start with `@i18n@` and are at least 9 characters; settings.revert_interval
//   0 means an approved instance can never be revoked afterwards.
// - approval/subscribe: needed once per definition for `approval_instance` events; 1390007 "subscription
//   existed" when it already is.
// - approval/get: `status` ACTIVE | INACTIVE | DELETED | UNKNOWN; 1390002 "approval code not found".
// - instance/create: `uuid` is idempotent per tenant: a second create with the same uuid FAILS with 60012 (it
//   does not return the first instance); instance/get accepts that uuid in place of the instance code.
//   1390015 "approval is not active" for a deactivated definition.
// - instance/get: `status` PENDING | APPROVED | REJECTED | CANCELED (one L) | DELETED, `reverted` true after the
//   initiator revoked an approved instance (the event says REVERTED); task_list[].status PENDING | APPROVED |
//   REJECTED | TRANSFERRED | DONE; a later node's tasks only exist once the node is reached; the reason given
//   with an approval or rejection is `timeline[].comment` (with `task_id`), `comment_list` holds comments.
// - instance/cancel: only the initiator's id, only while PENDING (cancelling an APPROVED one would revert it).
// - Events: v1 `approval_instance` / `approval_task` / `approval_cc` carry `event.instance_code`; v2
//   `approval.instance.status_changed_v4` / `approval.task.status_changed_v4` carry `event.instance_code` too.
// - AppLink "open an approval page": approval mini program cli_9cb844403dbb9108 (Feishu) / cli_9c7cc8a9a9edd105
//   (Lark), path `pages/detail/index?instanceId=…`, PC path `pc/pages/in-process/index?instanceId=…`.
import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';
import type {
  ApprovalShape,
  ApproverState,
  InstanceState,
  InstanceStatus,
  NewInstance,
  NodeType,
  VendorApprovals,
} from '../approvals.js';
import { retryRead } from '../read-retry.js';
import type { ImEvent, ImUser } from '../types.js';
import type { FeishuCallOptions, FeishuClient, FeishuConfig } from './client.js';
import { consolePages, feishuCodes, feishuError } from './codes.js';

/** Approval v4 codes from the error tables of the approval pages (see the header). */
export const feishuApprovalCodes = {
  paramInvalid: feishuCodes.approvalParamError,
  approvalNotFound: 1390002,
  instanceNotFound: 1390003,
  userNotFound: 1390004,
  subscriptionExisted: 1390007,
  approvalNotActive: 1390015,
  /** instance/create: the uuid was already used for another instance in this tenant. */
  uuidConflict: 60012,
} as const;

/** The custom id of the i-th approval node (0-based), as in the definition and task_list[].custom_node_id. */
export const feishuNodeId = (index: number) => `APPROVAL_NODE_${index}`;
/** The textarea widget every Signoff definition has. */
export const feishuContentWidgetId = 'signoff_content';

const approvalEventTypes = new Set([
  'approval_instance',
  'approval_task',
  'approval_cc',
  'approval.instance.status_changed_v4',
  'approval.task.status_changed_v4',
]);

const approvalMiniProgram = { feishu: 'cli_9cb844403dbb9108', lark: 'cli_9c7cc8a9a9edd105' } as const;
const applinkHost = { feishu: 'https://applink.feishu.cn', lark: 'https://applink.larksuite.com' } as const;

/** The AppLink that opens an instance in the vendor's approval app (mobile and desktop). */
export function feishuApprovalLink(brand: 'feishu' | 'lark', instanceCode: string, host?: string): string {
  const query = new URLSearchParams({
    appId: approvalMiniProgram[brand],
    mode: 'appCenter',
    path: `pages/detail/index?instanceId=${instanceCode}`,
    path_pc: `pc/pages/in-process/index?instanceId=${instanceCode}`,
  });
  return `${host ?? applinkHost[brand]}/client/mini_program/open?${query.toString()}`;
}

interface RawTask {
  id?: string;
  open_id?: string;
  status?: string;
  custom_node_id?: string;
  type?: string;
  end_time?: string;
}

interface RawInstance {
  approval_code?: string;
  instance_code?: string;
  status?: string;
  reverted?: boolean;
  uuid?: string;
  open_id?: string;
  task_list?: RawTask[];
  comment_list?: Array<{ open_id?: string; comment?: string; create_time?: string }>;
  timeline?: Array<{ type?: string; task_id?: string; comment?: string; create_time?: string }>;
}

interface RawDefinition {
  status?: string;
  node_list?: Array<{ custom_node_id?: string; node_type?: string }>;
}

/** How many people and plans the adapter remembers (names change rarely; plans only matter while waiting). */
const cacheLimit = 2000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > cacheLimit) map.delete(map.keys().next().value as K);
}

const iso = (millis: string | undefined): string | undefined => {
  const value = Number(millis);
  return Number.isFinite(value) && value > 0 ? new Date(value).toISOString() : undefined;
};

const nodeTypeLabel: Record<NodeType, { zh: string; en: string }> = {
  AND: { zh: '会签，全部同意', en: 'all must approve' },
  OR: { zh: '或签，一人同意即可', en: 'any one approves' },
};

/** The definition Signoff provisions for a shape: free approvers per node, CC chosen by the submitter. */
export function feishuDefinitionBody(shape: ApprovalShape): Record<string, unknown> {
  const cc = shape.cc ? { ccer: [{ type: 'Free' }] } : {};
  const zh: Array<{ key: string; value: string }> = [
    { key: '@i18n@approval_name', value: shape.name },
    { key: '@i18n@description', value: `Signoff 工作流审批（${shape.key}）` },
    { key: '@i18n@content_label', value: '审批内容' },
  ];
  const en: Array<{ key: string; value: string }> = [
    { key: '@i18n@approval_name', value: shape.name },
    { key: '@i18n@description', value: `Signoff workflow approval (${shape.key})` },
    { key: '@i18n@content_label', value: 'Details' },
  ];
  shape.nodes.forEach((type, index) => {
    zh.push({ key: `@i18n@node_${index}`, value: `第 ${index + 1} 级审批（${nodeTypeLabel[type].zh}）` });
    en.push({ key: `@i18n@node_${index}`, value: `Level ${index + 1} (${nodeTypeLabel[type].en})` });
  });
  return {
    approval_name: '@i18n@approval_name',
    description: '@i18n@description',
    // Nobody starts a Signoff approval from the approval app itself: only our API does.
    viewers: [{ viewer_type: 'NONE' }],
    form: {
      form_content: JSON.stringify([
        { id: feishuContentWidgetId, type: 'textarea', name: '@i18n@content_label', required: true },
      ]),
    },
    node_list: [
      { id: 'START', ...cc },
      ...shape.nodes.map((type, index) => ({
        id: feishuNodeId(index),
        name: `@i18n@node_${index}`,
        node_type: type,
        approver: [{ type: 'Free' }],
      })),
      { id: 'END', ...cc },
    ],
    // An approved deploy stays approved: no revoking afterwards (a revoke would not undo the deploy).
    settings: { revert_interval: 0 },
    i18n_resources: [
      { locale: 'zh-CN', is_default: true, texts: zh },
      { locale: 'en-US', is_default: false, texts: en },
    ],
  };
}

/** What the approvers read in the form: the description, the run link and our key (for humans and support). */
export function feishuFormText(instance: Pick<NewInstance, 'content' | 'link' | 'key'>): string {
  const parts = [instance.content.trim()];
  if (instance.link && !instance.content.includes(instance.link)) parts.push(`运行 Run: ${instance.link}`);
  parts.push(`Signoff: ${instance.key}`);
  return parts.filter(Boolean).join('\n\n');
}

/** Feishu's instance status (and the `reverted` flag) in our words; throws on a status we do not know. */
export function feishuInstanceStatus(
  label: string,
  raw: Pick<RawInstance, 'status' | 'reverted'>,
): { status: InstanceStatus; vendor_status: string; reason?: string } {
  const vendor = String(raw.status ?? '');
  if (raw.reverted === true || vendor === 'REVERTED') {
    return {
      status: 'cancelled',
      vendor_status: 'REVERTED',
      reason: `approved, then revoked (撤销) by its initiator in ${label} (REVERTED)`,
    };
  }
  switch (vendor) {
    case 'PENDING':
      return { status: 'pending', vendor_status: vendor };
    case 'APPROVED':
      return { status: 'approved', vendor_status: vendor };
    case 'REJECTED':
      return { status: 'rejected', vendor_status: vendor };
    // One L: Feishu's spelling. Comparing with "CANCELLED" left withdrawn instances waiting (Zadig W6).
    case 'CANCELED':
      return {
        status: 'cancelled',
        vendor_status: vendor,
        reason: `withdrawn (撤回) in ${label} by its initiator, or by Signoff on their behalf (CANCELED)`,
      };
    case 'DELETED':
      return {
        status: 'cancelled',
        vendor_status: vendor,
        reason: `deleted in ${label}: an administrator deleted the approval definition (DELETED)`,
      };
    case 'OVERTIME_CLOSE':
      return {
        status: 'cancelled',
        vendor_status: vendor,
        reason: `closed by ${label} because it was not handled in time (OVERTIME_CLOSE)`,
      };
    default:
      throw new AppError(
        'upstream_error',
        `${label} reported approval status “${vendor.slice(0, 40)}”, which Signoff does not know; the instance is left as it was.`,
      );
  }
}

function taskDecision(status: string | undefined): ApproverState['decision'] {
  switch (status) {
    case 'APPROVED':
      return 'approved';
    case 'REJECTED':
      return 'rejected';
    case 'TRANSFERRED':
      return 'transferred';
    // PENDING waits for them; DONE means the node or the instance ended without their decision (another
    // approver of an OR node decided, or the instance was withdrawn): they never decided either way.
    default:
      return 'pending';
  }
}

export function createFeishuApprovals(client: FeishuClient, config: FeishuConfig): VendorApprovals {
  const label = client.label;
  const brand = config.type === 'lark' ? 'lark' : 'feishu';
  const people = new Map<string, { name?: string; avatar?: string | null } | null>();
  const definitionNodes = new Map<string, NodeType[]>();
  /** Approvers of the nodes an instance has not reached yet: Feishu lists a node's tasks only once reached. */
  const plans = new Map<string, NewInstance['nodes']>();

  const fail = (action: string, answer: Awaited<ReturnType<FeishuClient['callRaw']>>) =>
    feishuError({ label, action, status: answer.status, headers: answer.headers, body: answer.body });

  /** A call whose listed non-zero codes are answers, not errors. */
  async function attempt<T>(
    method: string,
    path: string,
    options: FeishuCallOptions,
    tolerated: readonly number[],
  ): Promise<{ code: number; data: T; msg: string }> {
    const answer = await client.callRaw(method, path, options);
    const code = Number(answer.body.code);
    if (code === 0 || tolerated.includes(code)) {
      return {
        code,
        data: (answer.body.data ?? {}) as T,
        msg: typeof answer.body.msg === 'string' ? answer.body.msg : '',
      };
    }
    throw fail(options.action, answer);
  }

  const instancePath = (id: string) => `/open-apis/approval/v4/instances/${encodeURIComponent(id)}`;

  async function readInstance(id: string, action: string): Promise<RawInstance | undefined> {
    const { code, data } = await attempt<RawInstance>(
      'GET',
      instancePath(id),
      { action, query: { user_id_type: 'open_id' } },
      [feishuApprovalCodes.instanceNotFound],
    );
    return code === 0 ? data : undefined;
  }

  async function person(openId: string): Promise<{ name?: string; avatar?: string | null }> {
    const known = people.get(openId);
    if (known !== undefined) return known ?? {};
    try {
      const user = await client.user(openId);
      const entry = { ...(user.name ? { name: user.name } : {}), avatar: user.avatar };
      remember(people, openId, entry);
      return entry;
    } catch (error) {
      // Names are decoration: a person outside the contact scope keeps their id, a hiccup is retried next look.
      if (error instanceof AppError && !error.retryable) remember(people, openId, null);
      return {};
    }
  }

  async function nodeTypesOf(approvalCode: string | undefined): Promise<NodeType[] | undefined> {
    if (!approvalCode) return undefined;
    const cached = definitionNodes.get(approvalCode);
    if (cached) return cached;
    try {
      const { code, data } = await attempt<RawDefinition>(
        'GET',
        `/open-apis/approval/v4/approvals/${encodeURIComponent(approvalCode)}`,
        { action: `reading approval definition ${approvalCode}` },
        [feishuApprovalCodes.approvalNotFound],
      );
      if (code !== 0) return undefined;
      const types: NodeType[] = [];
      for (const node of data.node_list ?? []) {
        const index = /^APPROVAL_NODE_(\d+)$/.exec(node.custom_node_id ?? '')?.[1];
        if (index !== undefined) types[Number(index)] = node.node_type === 'AND' ? 'AND' : 'OR';
      }
      if (types.some((type) => type === undefined)) return undefined;
      remember(definitionNodes, approvalCode, types);
      return types;
    } catch {
      return undefined;
    }
  }

  /** Why Feishu refused the people of an instance: the ones it cannot use, named. */
  async function unusablePeople(instance: NewInstance): Promise<string[]> {
    const roles = new Map<string, string[]>();
    const add = (id: string, role: string) => roles.set(id, [...(roles.get(id) ?? []), role]);
    add(instance.initiator, 'initiator');
    instance.nodes.forEach((node, index) => {
      for (const id of node.approvers) add(id, `approver at level ${index + 1}`);
    });
    for (const id of instance.cc) add(id, 'CC');
    const found: string[] = [];
    for (const [id, what] of roles) {
      const answer = await client.callRaw('GET', `/open-apis/contact/v3/users/${encodeURIComponent(id)}`, {
        action: `checking user ${id}`,
        query: { user_id_type: 'open_id' },
      });
      const code = Number(answer.body.code);
      const user = (answer.body.data as { user?: { status?: Record<string, unknown> } } | undefined)?.user;
      if (code === 0 && !user?.status?.is_resigned && !user?.status?.is_exited) continue;
      if (code !== 0 && (answer.status >= 500 || answer.status === 429 || code === feishuCodes.rateLimited))
        continue;
      found.push(`${id} (${what}${code === 0 ? ', has left the company' : ''})`);
    }
    return found;
  }

  function toApprover(
    task: RawTask,
    raw: RawInstance,
    names: Map<string, { name?: string; avatar?: string | null }>,
  ): ApproverState {
    const id = task.open_id ?? '';
    const decision = taskDecision(task.status);
    const reason = raw.timeline?.find((entry) => entry.task_id && entry.task_id === task.id && entry.comment);
    const comments = (raw.comment_list ?? []).filter((entry) => entry.open_id === id && entry.comment);
    const comment = reason?.comment ?? comments[comments.length - 1]?.comment;
    const decidedAt = decision === 'pending' ? undefined : iso(task.end_time);
    const who = names.get(id) ?? {};
    return {
      id,
      ...(who.name ? { name: who.name } : {}),
      ...(who.avatar !== undefined ? { avatar: who.avatar } : {}),
      decision,
      ...(comment ? { comment } : {}),
      ...(decidedAt ? { decided_at: decidedAt } : {}),
    };
  }

  async function stateOf(id: string, raw: RawInstance): Promise<InstanceState> {
    const status = feishuInstanceStatus(label, raw);
    const tasks = (raw.task_list ?? []).filter((task) =>
      /^APPROVAL_NODE_\d+$/.test(task.custom_node_id ?? ''),
    );
    const plan = plans.get(id);
    let types = await nodeTypesOf(raw.approval_code);
    if (!types) {
      // The definition cannot be read (deleted): what the tasks and our own plan say about the nodes.
      types = [];
      for (const task of tasks) {
        const index = Number(task.custom_node_id!.slice('APPROVAL_NODE_'.length));
        types[index] = task.type === 'AND' ? 'AND' : 'OR';
      }
      plan?.forEach((node, index) => {
        types![index] ??= node.type;
      });
      types = Array.from(types, (type) => type ?? 'OR');
    }
    const ids = new Set(tasks.map((task) => task.open_id).filter((open): open is string => Boolean(open)));
    const names = new Map(
      await Promise.all([...ids].map(async (open) => [open, await person(open)] as const)),
    );

    const nodes: InstanceState['nodes'] = [];
    for (const [index, type] of types.entries()) {
      const nodeTasks = tasks.filter((task) => task.custom_node_id === feishuNodeId(index));
      if (nodeTasks.length === 0) {
        // Not reached yet: Feishu creates a node's tasks when the flow arrives there.
        nodes.push({
          type,
          status: 'waiting',
          approvers: (plan?.[index]?.approvers ?? []).map((approver) => ({
            id: approver,
            decision: 'waiting',
          })),
        });
        continue;
      }
      // One line per person: after a transfer back and forth, their latest task is what counts.
      const latest = new Map<string, RawTask>();
      for (const task of nodeTasks) {
        latest.delete(task.open_id ?? '');
        latest.set(task.open_id ?? '', task);
      }
      const approvers = [...latest.values()].map((task) => toApprover(task, raw, names));
      const active = nodeTasks.filter((task) => task.status !== 'TRANSFERRED');
      const nodeStatus = nodeTasks.some((task) => task.status === 'REJECTED')
        ? 'rejected'
        : (
              type === 'AND'
                ? active.length > 0 && active.every((task) => task.status === 'APPROVED')
                : nodeTasks.some((task) => task.status === 'APPROVED')
            )
          ? 'approved'
          : 'pending';
      nodes.push({ type, status: nodeStatus, approvers });
    }
    return {
      status: status.status,
      vendor_status: status.vendor_status,
      ...(status.reason ? { reason: status.reason } : {}),
      nodes,
      link: feishuApprovalLink(brand, raw.instance_code ?? id),
    };
  }

  async function sendReminder(userId: string, text: string): Promise<void> {
    // The same reminder to the same person within the hour is one message (im/v1 message uuid, ≤ 50 chars),
    // so a retried batch never nags anyone twice.
    const uuid = createHash('sha256').update(`${userId}\n${text}`).digest('hex').slice(0, 40);
    await client.call('POST', '/open-apis/im/v1/messages', {
      action: `sending a reminder to ${userId}`,
      query: { receive_id_type: 'open_id' },
      body: { receive_id: userId, msg_type: 'text', content: JSON.stringify({ text }), uuid },
    });
  }

  return {
    async createDefinition(shape: ApprovalShape): Promise<string> {
      const { approval_code: code } = await client.call<{ approval_code?: string }>(
        'POST',
        '/open-apis/approval/v4/approvals',
        {
          action: `creating the approval definition “${shape.name}”`,
          query: { user_id_type: 'open_id' },
          body: feishuDefinitionBody(shape),
        },
      );
      if (!code)
        throw new AppError('upstream_error', `${label} created an approval definition without a code.`);
      // v1 approval events of a definition flow only after this call; the console subscription is not enough.
      await attempt(
        'POST',
        `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}/subscribe`,
        { action: `subscribing to the events of approval definition ${code}` },
        [feishuApprovalCodes.subscriptionExisted],
      );
      remember(definitionNodes, code, [...shape.nodes]);
      return code;
    },

    async definitionExists(code: string): Promise<boolean> {
      const { code: answer, data } = await attempt<RawDefinition>(
        'GET',
        `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}`,
        { action: `reading approval definition ${code}` },
        [feishuApprovalCodes.approvalNotFound],
      );
      return answer === 0 && (data.status === undefined || data.status === 'ACTIVE');
    },

    async createInstance(instance: NewInstance): Promise<{ id: string; link?: string | undefined }> {
      const action = `creating the approval “${instance.title}”`;
      const titleTexts = [{ key: '@i18n@signoff_title', value: instance.title }];
      const answer = await client.callRaw('POST', '/open-apis/approval/v4/instances', {
        action,
        body: {
          approval_code: instance.definition,
          open_id: instance.initiator,
          form: JSON.stringify([
            { id: feishuContentWidgetId, type: 'textarea', value: feishuFormText(instance) },
          ]),
          node_approver_open_id_list: instance.nodes.map((node, index) => ({
            key: feishuNodeId(index),
            value: node.approvers,
          })),
          ...(instance.cc.length > 0 ? { node_cc_open_id_list: [{ key: 'START', value: instance.cc }] } : {}),
          uuid: instance.key,
          title: '@i18n@signoff_title',
          title_display_method: 1,
          i18n_resources: [
            { locale: 'zh-CN', is_default: true, texts: titleTexts },
            { locale: 'en-US', is_default: false, texts: titleTexts },
          ],
        },
      });
      const code = Number(answer.body.code);
      if (code === 0) {
        const data = (answer.body.data ?? {}) as { instance_code?: string; instance_link?: string };
        if (!data.instance_code)
          throw new AppError('upstream_error', `${label} created an approval instance without a code.`);
        remember(plans, data.instance_code, instance.nodes);
        return {
          id: data.instance_code,
          link: data.instance_link || feishuApprovalLink(brand, data.instance_code),
        };
      }
      if (code === feishuApprovalCodes.uuidConflict) {
        // Created before (a retry after a lost answer): the uuid finds it.
        const existing = await readInstance(
          instance.key,
          `finding the approval created with key ${instance.key}`,
        );
        if (existing?.instance_code) {
          remember(plans, existing.instance_code, instance.nodes);
          return { id: existing.instance_code, link: feishuApprovalLink(brand, existing.instance_code) };
        }
        throw fail(action, answer);
      }
      if (code === feishuApprovalCodes.approvalNotFound || code === feishuApprovalCodes.approvalNotActive) {
        throw new AppError(
          'definition_gone',
          `${label} no longer has approval definition ${instance.definition} (code ${code}: ${String(answer.body.msg ?? '')}); it will be created again.`,
        );
      }
      if (code === feishuApprovalCodes.paramInvalid || code === feishuApprovalCodes.userNotFound) {
        const unusable = await unusablePeople(instance);
        if (unusable.length > 0) {
          throw new AppError(
            'upstream_rejected',
            `${label} cannot create the approval: it does not know ${unusable.join(', ')}. They must be in the app’s contact data scope (${consolePages.contactScope}) and still work in the company.`,
          );
        }
      }
      throw fail(action, answer);
    },

    async findInstance(instance: NewInstance): Promise<string | undefined> {
      // instance/get takes the uuid given at creation in place of the instance code. A read: a transient
      // fault is asked again at once (see read-retry.ts).
      const found = await retryRead(() =>
        readInstance(instance.key, `looking for the approval created with key ${instance.key}`),
      );
      if (!found?.instance_code) return undefined;
      remember(plans, found.instance_code, instance.nodes);
      return found.instance_code;
    },

    async instance(id: string): Promise<InstanceState> {
      const raw = await readInstance(id, `reading approval instance ${id}`);
      if (!raw) throw new AppError('not_found', `${label} has no approval instance ${id}.`);
      return stateOf(id, raw);
    },

    async revoke(id, instance): Promise<'revoked' | 'unsupported'> {
      const action = `withdrawing approval instance ${id}`;
      const before = await readInstance(id, action);
      // Gone or already ended: nothing to withdraw. Never cancel an APPROVED one: Feishu would revert it.
      if (before?.status !== 'PENDING' || before.reverted) return 'revoked';
      const answer = await client.callRaw('POST', '/open-apis/approval/v4/instances/cancel', {
        action,
        query: { user_id_type: 'open_id' },
        body: {
          approval_code: before.approval_code ?? instance.definition,
          instance_code: before.instance_code ?? id,
          user_id: before.open_id ?? instance.initiator,
        },
      });
      const code = Number(answer.body.code);
      if (code === 0 || code === feishuApprovalCodes.instanceNotFound) return 'revoked';
      if (code === feishuApprovalCodes.paramInvalid) {
        // Refused: perhaps it ended in between (then it is done), perhaps the definition forbids withdrawing.
        const after = await readInstance(id, action);
        if (after?.status !== 'PENDING') return 'revoked';
        const error = fail(action, answer);
        throw new AppError(
          'upstream_rejected',
          `${error.message} Withdrawing needs “允许撤销审批中的申请” (allow withdrawing pending requests) on the definition in ${label}’s approval admin.`,
        );
      }
      throw fail(action, answer);
    },

    async remind(userIds: string[], text: string, link: string): Promise<void> {
      const message = link && !text.includes(link) ? `${text}\n${link}` : text;
      const failures: Array<{ id: string; error: unknown }> = [];
      for (const id of [...new Set(userIds)]) {
        try {
          await sendReminder(id, message);
        } catch (error) {
          failures.push({ id, error });
        }
      }
      if (failures.length === 0) return;
      // A retry can help: throw that one (the message uuid keeps the ones that went out from repeating).
      const retryable = failures.find(
        (failure) => failure.error instanceof AppError && failure.error.retryable,
      );
      if (retryable) throw retryable.error;
      const first = failures[0]!.error;
      throw new AppError(
        'upstream_rejected',
        `${label} did not deliver the reminder to ${failures.map((failure) => failure.id).join(', ')}: ${first instanceof Error ? first.message : String(first)}`,
        { cause: first },
      );
    },

    instanceOfEvent(event: ImEvent): string | undefined {
      if (!approvalEventTypes.has(event.type)) return undefined;
      const payload = event.payload as
        | { event?: { instance_code?: unknown }; instance_code?: unknown }
        | null
        | undefined;
      // HTTP callbacks keep the envelope ({event: {…}}); the SDK's long connection hands over flat fields.
      const code = payload?.event?.instance_code ?? payload?.instance_code;
      return typeof code === 'string' && code !== '' ? code : undefined;
    },

    async findUser(by): Promise<ImUser | undefined> {
      if (by.id) {
        try {
          return await client.user(by.id);
        } catch (error) {
          if (error instanceof AppError && !error.retryable) return undefined;
          throw error;
        }
      }
      if (by.email) return (await client.findUsers({ email: by.email }))[0];
      if (by.mobile) return (await client.findUsers({ mobile: by.mobile }))[0];
      return undefined;
    },
  };
}
