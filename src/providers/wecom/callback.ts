// WeCom callbacks on `/callbacks/wecom/<app id>` (reference/platforms.md §5.4, §5.5):
//   GET  ?msg_signature&timestamp&nonce&echostr  → URL verification: answer the decrypted echostr, nothing else.
//   POST ?msg_signature&timestamp&nonce + <xml><ToUserName/><Encrypt/><AgentID/></xml> → an encrypted event.
// Signature, timestamp window and receiver id (the corp id) are checked before anything is read.
import { createHash } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { CallbackOptions, CallbackRequest, CallbackResult, ImAppConfig, ImEvent } from '../types.js';
import type { WeComApprovalInfo } from './client.js';
import { createWeComCrypto } from './crypto.js';
import { child, childrenNamed, parseXml, textOf, type XmlElement } from './xml.js';

/** Timestamps (seconds) further than this from our clock are refused: a stale or replayed request. */
export const TIMESTAMP_WINDOW_SECONDS = 5 * 60;

export const CALLBACK_NOT_CONFIGURED =
  'WeCom callback not configured yet: enter the Token and EncodingAESKey from 应用管理 → 接收消息 → 设置API接收 ' +
  '(Receive Messages → Set API Receive) in this IM app, save it, and then save the settings in WeCom.';

const DIGITS = /^\d{1,13}$/;
const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

/** A `sys_approval_change` event, normalised to the shape of `oa/getapprovaldetail`'s `info`. */
export interface WeComApprovalEvent {
  create_time: number;
  /** The agent that sent it (the approval app's, e.g. 3010040, not necessarily ours). */
  agent_id: string;
  /** What just happened: 1 submitted, 2 agreed, 3 rejected, 4 forwarded, 6 withdrawn, 8 revoked after approval… */
  statu_change_event: number;
  info: WeComApprovalInfo;
  /** Newer payloads carry the flow as ProcessList/NodeList; kept as given (snake_case). */
  process_list?: WeComProcessNode[];
}

export interface WeComProcessNode {
  node_type: number;
  sp_status: number;
  apv_rel: number;
  sub_nodes: { userid: string; speech: string; sp_yj: number; sptime: number }[];
}

/** Any other event or message: its type and every field as read (flat element text, nested as objects). */
export interface WeComOtherEvent {
  msg_type: string;
  event?: string;
  create_time: number | null;
  fields: Record<string, unknown>;
}

type WeComAppConfig = Extract<ImAppConfig, { type: 'wecom' }>;

export function handleWeComCallback(
  config: ImAppConfig,
  request: CallbackRequest,
  options: CallbackOptions,
): CallbackResult {
  if (config.type !== 'wecom')
    throw new AppError('internal', 'handleWeComCallback was given a non-WeCom app.');
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST')
    throw new AppError('bad_request', 'WeCom callbacks are GET (verification) or POST (events).');
  if (!config.token || !config.encoding_aes_key) throw new AppError('conflict', CALLBACK_NOT_CONFIGURED);

  const { msg_signature: signature, timestamp, nonce } = request.query;
  if (!signature) throw new AppError('bad_request', 'msg_signature is missing from the query.');
  if (!timestamp || !DIGITS.test(timestamp))
    throw new AppError('bad_request', 'timestamp is missing or not a number of seconds.');
  if (!nonce || !NONCE.test(nonce)) throw new AppError('bad_request', 'nonce is missing or malformed.');
  const skew = Math.abs(options.now() / 1000 - Number(timestamp));
  if (skew > TIMESTAMP_WINDOW_SECONDS) {
    throw new AppError(
      'bad_request',
      `timestamp is ${Math.round(skew)} s away from our clock (at most ${TIMESTAMP_WINDOW_SECONDS} s).`,
    );
  }

  const crypto = createWeComCrypto({
    token: config.token,
    encodingAesKey: config.encoding_aes_key,
    corpId: config.corp_id,
    now: options.now,
  });
  const replay_key = `${timestamp}:${nonce}`;

  if (method === 'GET') {
    const echostr = request.query.echostr;
    if (!echostr) throw new AppError('bad_request', 'echostr is missing from the query.');
    const plaintext = crypto.verifyUrl({ msgSignature: signature, timestamp, nonce, echostr });
    // WeCom wants the bare plaintext within 1 s: no quotes, no BOM, no newline.
    return { status: 200, content_type: 'text/plain', body: plaintext, verification: true, replay_key };
  }

  const envelope = parseXml(request.body);
  if (envelope.name !== 'xml') throw new AppError('bad_request', 'XML body: the root element is not <xml>.');
  const encrypt = textOf(envelope, 'Encrypt');
  if (!encrypt) throw new AppError('bad_request', 'request body has no <Encrypt> element');
  const { message } = crypto.open({ signature, timestamp, nonce, encrypt });
  const event = readEvent(config, parseXml(message), message);
  return { status: 200, content_type: 'text/plain', body: 'success', event, replay_key };
}

function readEvent(config: WeComAppConfig, root: XmlElement, plaintext: string): ImEvent {
  if (root.name !== 'xml')
    throw new AppError('bad_request', 'decrypted message: the root element is not <xml>.');
  const to = textOf(root, 'ToUserName');
  if (to !== undefined && to !== config.corp_id) {
    throw new AppError(
      'bad_request',
      'decrypted message is addressed to a different corp id than the one configured',
    );
  }
  const msgType = textOf(root, 'MsgType') ?? '';
  const eventName = textOf(root, 'Event');
  if (msgType === 'event' && eventName === 'sys_approval_change') {
    const payload = readApprovalChange(root);
    return {
      // platforms.md §6.5: (SpNo, StatuChangeEvent, CreateTime).
      dedup_key: `wecom:sys_approval_change:${payload.info.sp_no}:${payload.statu_change_event}:${payload.create_time}`,
      type: 'sys_approval_change',
      payload,
    };
  }
  const msgId = textOf(root, 'MsgId');
  const payload: WeComOtherEvent = {
    msg_type: msgType,
    ...(eventName !== undefined ? { event: eventName } : {}),
    create_time: numberOrNull(textOf(root, 'CreateTime')),
    fields: elementObject(root) as Record<string, unknown>,
  };
  return {
    // A redelivery carries the same plaintext (only the random prefix of the ciphertext changes).
    dedup_key: msgId
      ? `wecom:msg:${msgId}`
      : `wecom:${eventName ?? msgType}:${createHash('sha256').update(plaintext).digest('hex')}`,
    type: eventName ?? (msgType || 'unknown'),
    payload,
  };
}

function readApprovalChange(root: XmlElement): WeComApprovalEvent {
  const info = child(root, 'ApprovalInfo');
  if (!info) throw new AppError('bad_request', 'sys_approval_change without <ApprovalInfo>.');
  const spNo = textOf(info, 'SpNo');
  const spStatus = numberOrNull(textOf(info, 'SpStatus'));
  const change = numberOrNull(textOf(info, 'StatuChangeEvent'));
  const createTime = numberOrNull(textOf(root, 'CreateTime'));
  if (!spNo || spStatus === null || change === null || createTime === null) {
    throw new AppError(
      'bad_request',
      'sys_approval_change lacks SpNo, SpStatus, StatuChangeEvent or CreateTime.',
    );
  }
  const applyer = child(info, 'Applyer');
  const processList = child(info, 'ProcessList');
  return {
    create_time: createTime,
    agent_id: textOf(root, 'AgentID') ?? '',
    statu_change_event: change,
    info: {
      sp_no: spNo,
      sp_name: textOf(info, 'SpName') ?? '',
      sp_status: spStatus,
      template_id: textOf(info, 'TemplateId') ?? '',
      apply_time: numberOrNull(textOf(info, 'ApplyTime')) ?? 0,
      applyer: { userid: textOf(applyer, 'UserId') ?? '', partyid: textOf(applyer, 'Party') ?? '' },
      // SpRecord, Details and Notifyer repeat as siblings: always arrays.
      sp_record: childrenNamed(info, 'SpRecord').map((record) => ({
        sp_status: numberOrNull(textOf(record, 'SpStatus')) ?? 0,
        approverattr: numberOrNull(textOf(record, 'ApproverAttr')) ?? 0,
        details: childrenNamed(record, 'Details').map((details) => ({
          approver: { userid: textOf(child(details, 'Approver'), 'UserId') ?? '' },
          speech: textOf(details, 'Speech') ?? '',
          sp_status: numberOrNull(textOf(details, 'SpStatus')) ?? 0,
          sptime: numberOrNull(textOf(details, 'SpTime')) ?? 0,
        })),
      })),
      notifyer: childrenNamed(info, 'Notifyer').map((notifyer) => ({
        userid: textOf(notifyer, 'UserId') ?? '',
      })),
    },
    ...(processList
      ? {
          process_list: childrenNamed(processList, 'NodeList').map((node) => ({
            node_type: numberOrNull(textOf(node, 'NodeType')) ?? 0,
            sp_status: numberOrNull(textOf(node, 'SpStatus')) ?? 0,
            apv_rel: numberOrNull(textOf(node, 'ApvRel')) ?? 0,
            sub_nodes: childrenNamed(node, 'SubNodeList').map((sub) => ({
              userid: textOf(child(sub, 'UserInfo'), 'UserId') ?? '',
              speech: textOf(sub, 'Speech') ?? '',
              sp_yj: numberOrNull(textOf(sub, 'SpYj')) ?? 0,
              sptime: numberOrNull(textOf(sub, 'Sptime')) ?? 0,
            })),
          })),
        }
      : {}),
  };
}

function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d{1,20}$/.test(value)) return null;
  return Number(value);
}

/** An element as a plain object: leaves are their text, repeated names become arrays. */
function elementObject(element: XmlElement): unknown {
  if (element.children.length === 0) return element.text;
  // No prototype: an element called __proto__ stays a plain key.
  const out: Record<string, unknown> = Object.create(null);
  for (const item of element.children) {
    const value = elementObject(item);
    const existing = out[item.name];
    if (existing === undefined) out[item.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[item.name] = [existing, value];
  }
  return out;
}
