// WeCom (企业微信) 审批 behind the engine's `VendorApprovals` (../approvals.ts), over the REST client
// (reference/platforms.md §5.3, §5.5, §6.6; zadig-behaviour.md §2.7).
//
// - A definition is an approval template with one required Textarea; the flow (nodes, AND/OR, CC) is given
//   with every request (`use_template_approver: 0`, `process.node_list`), so one template serves any flow.
// - WeCom has no idempotency field: the form text carries `Signoff key: <key>`, and `findInstance` lists the
//   template's approvals by this initiator (`oa/getapprovalinfo`) and reads each until one carries it.
// - WeCom has no API to withdraw an approval: `revoke` answers 'unsupported' without calling anything.
// - State is always read whole (`oa/getapprovaldetail`), whatever told us to look.
import { AppError } from '../../errors.js';
import type {
  ApproverState,
  InstanceState,
  InstanceStatus,
  NewInstance,
  NodeType,
  VendorApprovals,
} from '../approvals.js';
import { retryRead } from '../read-retry.js';
import type { ImEvent, ImUser } from '../types.js';
import type { WeComApprovalEvent } from './callback.js';
import type {
  WeComApplyEvent,
  WeComApprovalInfo,
  WeComClient,
  WeComConfig,
  WeComTemplate,
} from './client.js';
import { APPROVAL_ACCESS_FIX, isWeComApiError, noSuchUserCodes } from './codes.js';

/** The one control of Signoff's templates; applyevent fills it by this id. */
export const CONTENT_CONTROL_ID = 'Textarea-1';
/** The line of the form text that lets `findInstance` recognise an approval created before a crash. */
export const KEY_LABEL = 'Signoff key: ';

/** getapprovalinfo: at most 31 days between starttime and endtime (a minute less, to stay clear of the edge). */
const MAX_WINDOW_SECONDS = 31 * 86_400 - 60;
/** Our clock and WeCom's may differ a little: the search window starts this much before the first attempt. */
const CLOCK_SLACK_SECONDS = 300;
/** applyevent: a summary line should not be longer than 20 characters. */
const SUMMARY_MAX_CHARS = 20;
/** message/send: a text message holds at most 2048 bytes. */
const TEXT_MAX_BYTES = 2048;
/** message/send: at most 1000 members per message. */
const RECIPIENTS_PER_MESSAGE = 1000;
const NAME_TTL_MS = 10 * 60_000;
const KEY = /^[A-Za-z0-9-]{1,64}$/;

/**
 * gettemplatedetail and applyevent answer 301025 (参数错误，请求template_id非法) for a template that does not
 * exist; 40037 (invalid template_id) is kept in case WeCom ever answers with the global code.
 */
const templateGoneCodes: ReadonlySet<number> = new Set([301025, 40037]);
/** user/get: 60111 no such member, 46004 from the lookups; 60011 outside the app's visible range. */
const unknownUserCodes: ReadonlySet<number> = new Set([...noSuchUserCodes, 60011]);
/** applyevent refusals that may be about a member: 301025 (a userid in the flow), 301055 (the applicant). */
const maybeUserCodes: ReadonlySet<number> = new Set([301025, 301055, 40003, 301021, 60111, 60011]);

export function createWeComApprovals(client: WeComClient, config: WeComConfig): VendorApprovals {
  const names = new Map<string, { at: number; user: ImUser | undefined }>();

  /** A member by userid, cached; undefined when WeCom says there is none (or it is not visible). */
  const person = async (userid: string): Promise<ImUser | undefined> => {
    const cached = names.get(userid);
    if (cached && client.now() - cached.at < NAME_TTL_MS) return cached.user;
    try {
      const user = await client.user(userid);
      names.set(userid, { at: client.now(), user });
      return user;
    } catch (error) {
      if (!isWeComApiError(error, unknownUserCodes)) throw error;
      names.set(userid, { at: client.now(), user: undefined });
      return undefined;
    }
  };

  /** Names are decoration: a failed lookup leaves the name out rather than failing the read. */
  const people = async (userids: string[]): Promise<Map<string, ImUser | undefined>> => {
    const found = new Map<string, ImUser | undefined>();
    await Promise.all(
      [...new Set(userids)].map(async (userid) => {
        found.set(userid, await person(userid).catch(() => undefined));
      }),
    );
    return found;
  };

  const definitionExists = async (code: string): Promise<boolean> => {
    try {
      const detail = await client.templateDetail(code);
      // A template whose control was removed or retyped in WeCom's console can no longer carry our form:
      // for the engine it is as gone as a deleted one, and recreating it is the fix.
      return detail.template_content.controls.some(
        (control) => control.property.id === CONTENT_CONTROL_ID && control.property.control === 'Textarea',
      );
    } catch (error) {
      if (isWeComApiError(error, templateGoneCodes)) return false;
      throw error;
    }
  };

  /** Turns a refusal of applyevent into what the operator must do, naming the members at fault. */
  const explainRefusal = async (error: unknown, instance: NewInstance): Promise<unknown> => {
    if (!isWeComApiError(error)) return error;
    if (templateGoneCodes.has(error.errcode) && !(await definitionExists(instance.definition))) {
      return new AppError(
        'definition_gone',
        `The WeCom approval template ${instance.definition} no longer exists (deleted in 应用管理 → 审批?); ` +
          'Signoff creates it again.',
        { cause: error },
      );
    }
    if (!maybeUserCodes.has(error.errcode)) return error;
    const roles = new Map<string, string[]>();
    const note = (userid: string, role: string) => roles.set(userid, [...(roles.get(userid) ?? []), role]);
    note(instance.initiator, 'initiator');
    instance.nodes.forEach((node, index) => {
      for (const userid of node.approvers) note(userid, `approver in node ${index + 1}`);
    });
    for (const userid of instance.cc) note(userid, 'cc');
    const unknown: string[] = [];
    for (const [userid, what] of roles) {
      try {
        await client.user(userid);
      } catch (lookup) {
        if (!isWeComApiError(lookup, unknownUserCodes)) throw lookup;
        const why = lookup.errcode === 60011 ? "outside the app's visible range" : 'no such member';
        unknown.push(`${userid} (${what.join(', ')}: ${why})`);
      }
    }
    if (unknown.length > 0) {
      return new AppError(
        'upstream_rejected',
        `WeCom refused the approval (errcode ${error.errcode}) because it does not know ${unknown.join('; ')}. ` +
          'Use WeCom userids of members inside the visible range of app ' +
          `${config.agent_id} (应用管理 → <app> → 可见范围).`,
        { cause: error },
      );
    }
    if (error.errcode === 301055) {
      return new AppError(
        'upstream_rejected',
        `WeCom refused the approval (errcode 301055, ${error.errmsg.split(',')[0]}): app ${config.agent_id} ` +
          `may not submit approvals. ${APPROVAL_ACCESS_FIX}`,
        { cause: error },
      );
    }
    return error;
  };

  return {
    async createDefinition(shape) {
      const template: WeComTemplate = {
        template_name: [{ text: shape.name, lang: 'zh_CN' }],
        template_content: {
          controls: [
            {
              property: {
                control: 'Textarea',
                id: CONTENT_CONTROL_ID,
                title: [{ text: '审批内容', lang: 'zh_CN' }],
                placeholder: [{ text: 'Filled in by Signoff', lang: 'zh_CN' }],
                require: 1,
                un_print: 0,
              },
              config: {},
            },
          ],
        },
      };
      return client.createTemplate(template);
    },

    definitionExists,

    async createInstance(instance) {
      if (!KEY.test(instance.key))
        throw new AppError(
          'internal',
          `Approval key ${JSON.stringify(instance.key)} is not [A-Za-z0-9-]{1,64}.`,
        );
      if (instance.nodes.length === 0 || instance.nodes.some((node) => node.approvers.length === 0))
        throw new AppError(
          'validation_failed',
          'A WeCom approval needs at least one approver in every node.',
        );
      const cc = [...new Set(instance.cc)];
      const event: WeComApplyEvent = {
        creator_userid: instance.initiator,
        template_id: instance.definition,
        use_template_approver: 0,
        process: {
          node_list: [
            // node_list numbering (not approver[].attr's): apv_rel 1 = AND (会签), 2 = OR (或签).
            ...instance.nodes.map((node) => ({
              type: 1 as const,
              apv_rel: node.type === 'AND' ? (1 as const) : (2 as const),
              userid: [...new Set(node.approvers)],
            })),
            // node_list type 2 is a CC (抄送) node.
            ...(cc.length > 0 ? [{ type: 2 as const, userid: cc }] : []),
          ],
        },
        apply_data: {
          contents: [{ control: 'Textarea', id: CONTENT_CONTROL_ID, value: { text: formText(instance) } }],
        },
        summary_list: [{ summary_info: [{ text: summaryLine(instance.title), lang: 'zh_CN' }] }],
      };
      try {
        return { id: await client.applyEvent(event) };
      } catch (error) {
        throw await explainRefusal(error, instance);
      }
    },

    async findInstance(instance, since) {
      const start = Math.floor(since.getTime() / 1000) - CLOCK_SLACK_SECONDS;
      const now = Math.floor(client.now() / 1000);
      const end = Math.max(start + 1, Math.min(now, start + MAX_WINDOW_SECONDS));
      const numbers = await retryRead(() =>
        client.approvalNumbers({
          starttime: start,
          endtime: end,
          // Filters of different keys must all hold (getapprovalinfo).
          filters: [
            { key: 'template_id', value: instance.definition },
            { key: 'creator', value: instance.initiator },
          ],
        }),
      );
      for (const spNo of numbers) {
        // One read per approval of the window: a transient fault in one must not fail the whole search.
        const info = await retryRead(() => client.approvalDetail(spNo));
        if (info.template_id === instance.definition && carriesKey(info, instance.key)) return info.sp_no;
      }
      return undefined;
    },

    async instance(id) {
      const info = await client.approvalDetail(id);
      const userids = [
        ...(info.sp_record ?? []).flatMap((record) => record.details.map((detail) => detail.approver.userid)),
        ...(info.process_list?.node_list ?? []).flatMap((node) =>
          node.sub_node_list.map((sub) => sub.userid),
        ),
      ].filter((userid) => userid !== '');
      return readWeComInstance(info, await people(userids));
    },

    async revoke() {
      // WeCom documents no API to withdraw (撤销) an approval; only the applicant can, in the app.
      return 'unsupported';
    },

    async remind(userIds, text, link) {
      const recipients = [...new Set(userIds.filter((userid) => userid !== ''))];
      if (recipients.length === 0) return;
      const anchor = link ? `\n<a href="${link.replaceAll('"', '%22')}">${escapeHtml(link)}</a>` : '';
      const content = `${truncateBytes(text, TEXT_MAX_BYTES - Buffer.byteLength(anchor))}${anchor}`;
      for (let at = 0; at < recipients.length; at += RECIPIENTS_PER_MESSAGE) {
        // Members WeCom does not know come back in `invaliduser` without failing the call; when none is
        // valid WeCom refuses with 81013, which the client maps to an error naming the visible range.
        await client.sendMessage({
          touser: recipients.slice(at, at + RECIPIENTS_PER_MESSAGE).join('|'),
          msgtype: 'text',
          text: { content },
        });
      }
    },

    instanceOfEvent(event: ImEvent) {
      if (event.type !== 'sys_approval_change') return undefined;
      const spNo = (event.payload as Partial<WeComApprovalEvent> | null)?.info?.sp_no;
      return typeof spNo === 'string' && spNo !== '' ? spNo : undefined;
    },

    async findUser(by) {
      if (by.id !== undefined && by.id !== '') {
        // Not visible (60011) is an error that names the visible range; only "no such member" is no one.
        try {
          return await client.user(by.id);
        } catch (error) {
          if (isWeComApiError(error, noSuchUserCodes)) return undefined;
          throw error;
        }
      }
      if (by.email !== undefined && by.email.trim() !== '') {
        const [found] = await client.findUsers({ email: by.email });
        if (found) return found;
      }
      if (by.mobile !== undefined && by.mobile.trim() !== '') {
        const [found] = await client.findUsers({ mobile: by.mobile });
        if (found) return found;
      }
      return undefined;
    },
  };
}

/**
 * `SpStatus`/`sp_status` of a whole approval (getapprovaldetail's page, platforms.md §5.5): 1 审批中,
 * 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付. There is no 5, 8 or 9.
 */
export function weComStatusOf(spStatus: number): { status: InstanceStatus; reason?: string } {
  switch (spStatus) {
    case 1:
      return { status: 'pending' };
    case 2:
      return { status: 'approved' };
    // WeCom lists 10 已支付 without saying more. It belongs to approvals that carry a payment, which is made
    // only once the request is approved, so the approvers had agreed (our reading, as platforms.md §6.6
    // suggests). Signoff's templates carry no payment; this is for completeness, not a path we expect.
    case 10:
      return { status: 'approved' };
    case 3:
      return { status: 'rejected' };
    case 4:
      return { status: 'cancelled', reason: 'withdrawn by the initiator in WeCom (SpStatus 4, 已撤销)' };
    case 6:
      return {
        status: 'cancelled',
        reason: 'revoked in WeCom after it had been approved (SpStatus 6, 通过后撤销)',
      };
    case 7:
      return { status: 'cancelled', reason: 'deleted in WeCom (SpStatus 7, 已删除)' };
    default:
      // Guessing could decide a deployment: keep asking (retryable) and say what WeCom said.
      throw new AppError(
        'upstream_error',
        `WeCom reported approval status ${spStatus}, which Signoff does not know (1, 2, 3, 4, 6, 7, 10).`,
      );
  }
}

/**
 * One approver's state from `sp_yj` (process_list) or `sp_status` (sp_record details): 1 审批中, 2 同意,
 * 3 驳回, 4 转审, 11 退回 (returned to an earlier approver), 12 加签 (co-signer added, own decision still
 * open), 13 同意并加签, 14 办理 (handled), 15 转交 (handed over).
 */
function decisionOf(code: number, nodeState: 'current' | 'waiting' | 'settled'): ApproverState['decision'] {
  switch (code) {
    case 2:
    case 13:
    case 14:
      return 'approved';
    case 3:
      return 'rejected';
    case 4:
    case 11:
    case 15:
      return 'transferred';
    default:
      return nodeState === 'waiting' ? 'waiting' : 'pending';
  }
}

/** The whole state of one approval from getapprovaldetail's `info`, with names from `people`. */
export function readWeComInstance(
  info: WeComApprovalInfo,
  people: ReadonlyMap<string, ImUser | undefined> = new Map(),
): InstanceState {
  const { status, reason } = weComStatusOf(info.sp_status);
  const remarks = new Map<string, string[]>();
  for (const comment of info.comments ?? []) {
    const userid = comment.commentUserInfo?.userid;
    if (!userid || !comment.commentcontent) continue;
    remarks.set(userid, [...(remarks.get(userid) ?? []), comment.commentcontent]);
  }

  // The newer process_list says more (CC nodes apart, sp_yj 11–15); sp_record is the documented fallback.
  const processNodes = (info.process_list?.node_list ?? []).filter(
    (node) => node.node_type === 1 || node.node_type === 3,
  );
  const raw: {
    type: NodeType;
    status: number;
    approvers: { id: string; code: number; speech: string; at: number }[];
  }[] =
    processNodes.length > 0
      ? processNodes.map((node) => ({
          // node_list numbering: 1 = AND, 2 = OR, 3 = in turn (everyone acts, so AND).
          type: node.apv_rel === 2 ? 'OR' : 'AND',
          status: node.sp_status,
          approvers: node.sub_node_list.map((sub) => ({
            id: sub.userid,
            code: sub.sp_yj,
            speech: sub.speech ?? '',
            at: sub.sptime,
          })),
        }))
      : (info.sp_record ?? []).map((record) => ({
          // sp_record numbering: approverattr 1 = OR (或签), 2 = AND (会签).
          type: record.approverattr === 1 ? 'OR' : 'AND',
          status: record.sp_status,
          approvers: record.details.map((detail) => ({
            id: detail.approver.userid,
            code: detail.sp_status,
            speech: detail.speech ?? '',
            at: detail.sptime,
          })),
        }));

  let reachedOpen = false;
  const nodes = raw.map((node): InstanceState['nodes'][number] => {
    // Node sp_status: 2 agreed, 3 rejected; anything else (1, 4 forwarded, 11/12…) is still open. The first
    // open node is where the approval stands; later ones are not reached yet.
    const settled =
      node.status === 2 || node.status === 13
        ? ('approved' as const)
        : node.status === 3
          ? ('rejected' as const)
          : undefined;
    const state: 'current' | 'waiting' | 'settled' = settled
      ? 'settled'
      : reachedOpen
        ? 'waiting'
        : 'current';
    if (!settled) reachedOpen = true;
    return {
      type: node.type,
      status: settled ?? (state === 'current' ? 'pending' : 'waiting'),
      approvers: node.approvers.map((approver): ApproverState => {
        const user = people.get(approver.id);
        const comment = [approver.speech, ...(remarks.get(approver.id) ?? [])].filter((text) => text !== '');
        return {
          id: approver.id,
          ...(user ? { name: user.name, avatar: user.avatar } : {}),
          decision: decisionOf(approver.code, state),
          ...(comment.length > 0 ? { comment: comment.join('\n') } : {}),
          ...(approver.at > 0 ? { decided_at: new Date(approver.at * 1000).toISOString() } : {}),
        };
      }),
    };
  });

  return {
    status,
    vendor_status: String(info.sp_status),
    ...(reason ? { reason } : {}),
    nodes,
  };
}

/** The form text: what the approver reads, the run link, and the key `findInstance` looks for. */
export function formText(instance: Pick<NewInstance, 'content' | 'link' | 'key'>): string {
  const parts = [instance.content.trim()];
  if (instance.link && !instance.content.includes(instance.link)) parts.push(instance.link);
  parts.push(`${KEY_LABEL}${instance.key}`);
  return parts.filter((part) => part !== '').join('\n\n');
}

function carriesKey(info: WeComApprovalInfo, key: string): boolean {
  const line = `${KEY_LABEL}${key}`;
  for (const item of info.apply_data?.contents ?? []) {
    const text = (item as { value?: { text?: unknown } } | null)?.value?.text;
    // A whole line, so that key `a-1` is not found inside `a-10`.
    if (typeof text === 'string' && text.split(/\r?\n/).some((candidate) => candidate.trim() === line))
      return true;
  }
  return false;
}

function summaryLine(title: string): string {
  const chars = [...title.replace(/\s+/g, ' ').trim()];
  const text =
    chars.length > SUMMARY_MAX_CHARS ? `${chars.slice(0, SUMMARY_MAX_CHARS - 1).join('')}…` : chars.join('');
  return text === '' ? 'Signoff' : text;
}

function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength('…');
  let out = '';
  let used = 0;
  for (const char of text) {
    used += Buffer.byteLength(char);
    if (used > budget) break;
    out += char;
  }
  return `${out}…`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
