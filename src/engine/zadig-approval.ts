// Zadig users paste their approval jobs as they are: this turns Zadig's field names into ours before the
// workflow is checked, so the rest of Signoff knows one spelling. Only approval specs that use a Zadig
// field are touched; anything we do not translate is left in place for the checker to name.
//
//   type: lark | lark_intl | dingtalk | workwx | native   →  feishu | lark | dingtalk | wecom | native
//   native_approval: { approve_users, needed_approvers, timeout }
//   lark_approval / dingtalk_approval: { approval_id, default_approval_initiator, approval_nodes }
//   workwx_approval: { approval_id, creator_user, approval_nodes: [{ type: 1|2, apv_rel: 1|2, users }] }
//   approval_title, timeout (minutes)

type Json = Record<string, unknown>;

const zadigTypes: Record<string, string> = {
  lark: 'feishu',
  lark_intl: 'lark',
  workwx: 'wecom',
  dingtalk: 'dingtalk',
  native: 'native',
};
const zadigKeys = [
  'native_approval',
  'lark_approval',
  'dingtalk_approval',
  'workwx_approval',
  'approval_title',
  'approval_message',
] as const;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Returns the document with every Zadig-style approval spec rewritten; other values are returned as given. */
export function translateZadigApprovals(document: unknown): unknown {
  if (!isRecord(document) || !Array.isArray(document.stages)) return document;
  for (const stage of document.stages) {
    if (!isRecord(stage) || !Array.isArray(stage.jobs)) continue;
    for (const job of stage.jobs) {
      if (isRecord(job) && job.type === 'approval' && isRecord(job.spec) && isZadigSpec(job.spec))
        job.spec = translateSpec(job.spec);
    }
  }
  return document;
}

function isZadigSpec(spec: Json): boolean {
  return zadigKeys.some((key) => key in spec) || spec.type === 'workwx' || spec.type === 'lark_intl';
}

function translateSpec(spec: Json): Json {
  const {
    native_approval,
    lark_approval,
    dingtalk_approval,
    workwx_approval,
    approval_title,
    approval_message,
    source: _source,
    job_name: _jobName,
    origin_job_name: _originJobName,
    approval_message_source: _messageSource,
    ...rest
  } = spec;
  const type = typeof spec.type === 'string' ? (zadigTypes[spec.type] ?? spec.type) : spec.type;
  const out: Json = { ...rest, type };
  if (approval_title !== undefined) out.title = approval_title;
  // Zadig's approval_message replaces the generated form text: that is our description.
  if (approval_message !== undefined && approval_message !== '') out.description = approval_message;

  if (type === 'native' && isRecord(native_approval)) {
    const { approve_users, needed_approvers, timeout } = native_approval;
    if (Array.isArray(approve_users))
      out.approvers = approve_users.map((user) =>
        isRecord(user) ? (user.user_name ?? user.user_id ?? user) : user,
      );
    if (needed_approvers !== undefined) out.needed_approvers = needed_approvers;
    if (timeout !== undefined && out.timeout === undefined) out.timeout = timeout;
  }
  const vendor = type === 'wecom' ? workwx_approval : (lark_approval ?? dingtalk_approval);
  if (type !== 'native' && isRecord(vendor)) {
    if (vendor.approval_id !== undefined) out.app = vendor.approval_id;
    const initiator = vendor.default_approval_initiator ?? vendor.creator_user;
    if (isRecord(initiator) && typeof initiator.id === 'string' && initiator.id !== '')
      out.initiator = { id: initiator.id };
    if (Array.isArray(vendor.approval_nodes)) {
      const { nodes, cc } =
        type === 'wecom' ? weComNodes(vendor.approval_nodes) : larkNodes(vendor.approval_nodes);
      out.nodes = nodes;
      if (cc.length > 0) out.cc = cc;
    }
  }
  return out;
}

const people = (users: unknown): unknown[] =>
  Array.isArray(users) ? users.map((user) => (isRecord(user) && 'id' in user ? { id: user.id } : user)) : [];

// Lark/DingTalk: AND/OR nodes in order; START and END are only carriers of CC users.
function larkNodes(list: unknown[]): { nodes: unknown[]; cc: unknown[] } {
  const nodes: unknown[] = [];
  const cc: unknown[] = [];
  for (const node of list) {
    if (!isRecord(node)) {
      nodes.push(node);
      continue;
    }
    cc.push(...people(node.cc_users));
    if (node.type === 'START' || node.type === 'END') continue;
    nodes.push({ type: node.type, approvers: people(node.approve_users) });
  }
  return { nodes, cc };
}

// WeCom: type 1 = approvers, 2 = CC; apv_rel 1 = all (会签, AND), 2 = any (或签, OR).
function weComNodes(list: unknown[]): { nodes: unknown[]; cc: unknown[] } {
  const nodes: unknown[] = [];
  const cc: unknown[] = [];
  for (const node of list) {
    if (!isRecord(node)) {
      nodes.push(node);
      continue;
    }
    const users = people(node.users ?? (Array.isArray(node.userid) ? node.userid.map((id) => ({ id })) : []));
    if (node.type === 2) cc.push(...users);
    else nodes.push({ type: node.apv_rel === 2 ? 'OR' : 'AND', approvers: users });
  }
  return { nodes, cc };
}
