// Genuine vendor callbacks for the sandbox IM apps, built with our own crypto modules (one builder per
// platform), plus the tampering the security and fuzz tests need: every tampered ciphertext is signed
// again, so what is tested is decryption, not the signature that would catch it first.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createDingTalkCrypto } from '../src/providers/dingtalk/crypto.js';
import { encryptFeishuEvent, feishuSignature } from '../src/providers/feishu/crypto.js';
import {
  decodeBase64Strict,
  decodeEncodingAesKey,
  msgSignature,
  randomNonce,
} from '../src/providers/shared/msg-crypt.js';
import { createWeComCrypto } from '../src/providers/wecom/crypto.js';
import { sandboxAppId } from '../src/sandbox/sandbox.js';
import { createSandboxVendors } from '../src/sandbox/vendors.js';

export type CallbackType = 'feishu' | 'lark' | 'dingtalk' | 'wecom';
export const callbackTypes: CallbackType[] = ['feishu', 'lark', 'dingtalk', 'wecom'];

/** A callback as it goes on the wire; query and headers are ordered pairs so tests can swap and repeat them. */
export interface RawCallback {
  method: string;
  path: string;
  query: Array<[string, string]>;
  /** Sent instead of `query` when set (malformed percent-encoding and the like). */
  rawQuery?: string;
  headers: Array<[string, string]>;
  /** Bytes (the fuzz test sends any) or text, sent as UTF-8. */
  body: string | Uint8Array;
}

// The sandbox registers these very credentials (src/sandbox/vendors.ts): read them there, never copy them.
const vendors = createSandboxVendors({
  callbackFetch: () => Promise.reject(new Error('the credential source never calls back')),
});

export interface SandboxCredentials {
  /** Our IM app id: the last segment of the callback URL. */
  id: string;
  settings: Record<string, string>;
  secrets: Record<string, string>;
}

export function sandboxCredentials(type: CallbackType): SandboxCredentials {
  const vendor = vendors.find((candidate) => candidate.type === type);
  if (!vendor) throw new Error(`the sandbox has no ${type} vendor`);
  return { id: sandboxAppId(type), settings: vendor.imApp.settings, secrets: vendor.imApp.secrets };
}

/** Every secret of every sandbox app: none may ever appear in an answer. */
export function allSandboxSecrets(): string[] {
  return callbackTypes.flatMap((type) => Object.values(sandboxCredentials(type).secrets));
}

export function callbackPath(type: CallbackType, appId = sandboxAppId(type)): string {
  return `/callbacks/${type}/${appId}`;
}

export function callbackUrl(callback: RawCallback): string {
  const query = callback.rawQuery ?? new URLSearchParams(callback.query).toString();
  return query ? `${callback.path}?${query}` : callback.path;
}

export interface RequestTarget {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

export interface CallbackAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends a callback through the app in-process (no socket) and reads the whole answer. */
export async function sendCallback(app: RequestTarget, callback: RawCallback): Promise<CallbackAnswer> {
  const bodyless = callback.method === 'GET' || callback.method === 'HEAD';
  const response = await app.request(callbackUrl(callback), {
    method: callback.method,
    headers: callback.headers,
    ...(bodyless ? {} : { body: callback.body }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

// ---- ciphertext tampering ----------------------------------------------------------------------------

export type BadPadding = 'zero' | 'inconsistent' | 'too-long';
export const badPaddings: BadPadding[] = ['zero', 'inconsistent', 'too-long'];

function aesRaw(mode: 'encrypt' | 'decrypt', key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher =
    mode === 'encrypt' ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * Decrypts, swaps the (valid) padding for a wrong one, encrypts again with the same key and IV: the
 * ciphertext stays well formed and block aligned, only its padding is wrong. `maxPad` is the largest pad
 * the scheme allows (16 for Feishu's PKCS#7, 32 for WXBizMsgCrypt).
 * - zero: the last byte is 0;
 * - inconsistent: the last byte says 2, the one before it is 3;
 * - too-long: every pad byte is maxPad + 1.
 */
function repad(key: Buffer, iv: Buffer, ciphertext: Buffer, maxPad: number, kind: BadPadding): Buffer {
  const padded = aesRaw('decrypt', key, iv, ciphertext);
  const unpadded = padded.subarray(0, padded.length - (padded[padded.length - 1] ?? 0));
  let length = 16 - (unpadded.length % 16);
  if (length < 2) length += 16;
  const pad = Buffer.alloc(length, kind === 'too-long' ? maxPad + 1 : 0x41);
  if (kind === 'zero') pad[length - 1] = 0;
  if (kind === 'inconsistent') {
    pad[length - 2] = 3;
    pad[length - 1] = 2;
  }
  return aesRaw('encrypt', key, iv, Buffer.concat([unpadded, pad]));
}

/** A Feishu `encrypt` value (base64 of iv || ciphertext) re-encrypted with a wrong padding. */
export function repadFeishu(encryptKey: string, encrypt: string, kind: BadPadding): string {
  const key = createHash('sha256').update(encryptKey, 'utf8').digest();
  const buffer = decodeBase64Strict(encrypt, 'test ciphertext');
  const iv = buffer.subarray(0, 16);
  return Buffer.concat([iv, repad(key, iv, buffer.subarray(16), 16, kind)]).toString('base64');
}

/** A WXBizMsgCrypt `encrypt` value (DingTalk, WeCom) re-encrypted with a wrong padding. */
export function repadMsgCrypt(aesKey: string, encrypt: string, kind: BadPadding): string {
  const key = decodeEncodingAesKey(aesKey);
  const ciphertext = decodeBase64Strict(encrypt, 'test ciphertext');
  return repad(key, key.subarray(0, 16), ciphertext, 32, kind).toString('base64');
}

/** Drops the last `bytes` bytes of a base64 ciphertext (a whole block with 16, a ragged end otherwise). */
export function truncateCiphertext(encrypt: string, bytes: number): string {
  const buffer = Buffer.from(encrypt, 'base64');
  return buffer.subarray(0, Math.max(0, buffer.length - bytes)).toString('base64');
}

// ---- Feishu / Lark -----------------------------------------------------------------------------------

export interface FeishuCallbackOptions {
  type: 'feishu' | 'lark';
  /** The decrypted body (JSON text). */
  plaintext: string;
  /** Our IM app id in the URL (default: the sandbox app). */
  appId?: string;
  /** Default: the sandbox app's. */
  encryptKey?: string;
  /** `false`: the plaintext is the body (what Feishu sends to an app with no Encrypt Key). */
  encrypted?: boolean;
  /** `false`: no X-Lark-* headers (Feishu sends the url_verification handshake unsigned). */
  signed?: boolean;
  /** Seconds since the epoch, as a string (default: now). */
  timestamp?: string;
  nonce?: string;
  /** Replaces the `encrypt` value before signing. */
  tamper?: (encrypt: string) => string;
  /** Replaces the computed signature. */
  signature?: string;
}

export function feishuCallback(options: FeishuCallbackOptions): RawCallback {
  const encryptKey = options.encryptKey ?? sandboxCredentials(options.type).secrets.encrypt_key!;
  const headers: Array<[string, string]> = [['content-type', 'application/json; charset=utf-8']];
  const path = callbackPath(options.type, options.appId);
  if (options.encrypted === false)
    return { method: 'POST', path, query: [], headers, body: options.plaintext };
  let encrypt = encryptFeishuEvent(encryptKey, options.plaintext);
  if (options.tamper) encrypt = options.tamper(encrypt);
  const body = JSON.stringify({ encrypt });
  if (options.signed !== false) {
    const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
    const nonce = options.nonce ?? randomBytes(8).toString('hex');
    headers.push(
      ['x-lark-request-timestamp', timestamp],
      ['x-lark-request-nonce', nonce],
      ['x-lark-signature', options.signature ?? feishuSignature(encryptKey, { timestamp, nonce, body })],
    );
  }
  return { method: 'POST', path, query: [], headers, body };
}

/** A schema 2.0 approval status change, as Feishu pushes it (the fake builds the same shape). */
export function feishuApprovalEvent(
  type: 'feishu' | 'lark',
  options: { eventId: string; instanceCode?: string; vendorAppId?: string; token?: string; comment?: string },
): string {
  const credentials = sandboxCredentials(type);
  return JSON.stringify({
    schema: '2.0',
    header: {
      event_id: options.eventId,
      token: options.token ?? credentials.secrets.verification_token,
      create_time: String(Date.now()),
      event_type: 'approval.instance.status_changed_v4',
      tenant_key: 'sandbox-tenant',
      app_id: options.vendorAppId ?? credentials.settings.app_id,
    },
    event: {
      approval_code: 'APPROVAL-CODE-1',
      instance_code: options.instanceCode ?? `INSTANCE-${options.eventId}`,
      status: 'APPROVED',
      operate_time: String(Date.now()),
      ...(options.comment ? { comment: options.comment } : {}),
    },
  });
}

export function feishuUrlVerification(type: 'feishu' | 'lark', challenge: string, token?: string): string {
  return JSON.stringify({
    challenge,
    token: token ?? sandboxCredentials(type).secrets.verification_token,
    type: 'url_verification',
  });
}

// ---- DingTalk ----------------------------------------------------------------------------------------

export interface DingTalkCallbackOptions {
  /** The decrypted message (JSON text). */
  plaintext: string;
  appId?: string;
  /** Milliseconds since the epoch, as a string (default: now). */
  timestamp?: string;
  nonce?: string;
  /** The receiver id sealed into the plaintext (default: the sandbox AppKey). */
  ownerKey?: string;
  token?: string;
  aesKey?: string;
  tamper?: (encrypt: string) => string;
  signature?: string;
}

function dingTalkKeys(options: { token?: string; aesKey?: string; ownerKey?: string }) {
  const credentials = sandboxCredentials('dingtalk');
  return {
    token: options.token ?? credentials.secrets.token!,
    aesKey: options.aesKey ?? credentials.secrets.aes_key!,
    ownerKey: options.ownerKey ?? credentials.settings.app_key!,
  };
}

export function dingTalkCallback(options: DingTalkCallbackOptions): RawCallback {
  const keys = dingTalkKeys(options);
  const sealed = createDingTalkCrypto(keys).encrypt(options.plaintext, {
    timestamp: options.timestamp ?? String(Date.now()),
    nonce: options.nonce ?? randomNonce(8),
  });
  const encrypt = options.tamper ? options.tamper(sealed.encrypt) : sealed.encrypt;
  return {
    method: 'POST',
    path: callbackPath('dingtalk', options.appId),
    query: [
      [
        'msg_signature',
        options.signature ?? msgSignature(keys.token, sealed.timestamp, sealed.nonce, encrypt),
      ],
      ['timestamp', sealed.timestamp],
      ['nonce', sealed.nonce],
    ],
    headers: [['content-type', 'application/json']],
    body: JSON.stringify({ encrypt }),
  };
}

export const dingTalkCheckUrl = JSON.stringify({ EventType: 'check_url' });

/** A bpms_instance_change "finish", as the DingTalk fake pushes it. */
export function dingTalkApprovalEvent(options: { processInstanceId: string; title?: string }): string {
  return JSON.stringify({
    EventType: 'bpms_instance_change',
    processInstanceId: options.processInstanceId,
    corpId: 'dingsignoffdemo0001',
    createTime: Date.now() - 60_000,
    title: options.title ?? 'Release approval',
    type: 'finish',
    staffId: 'manager001',
    processCode: 'PROC-TEST',
    businessId: '202601010001',
    result: 'agree',
    finishTime: 1767225600000,
  });
}

/** Opens the encrypted reply DingTalk expects (and checks its signature) with the sandbox keys. */
export function openDingTalkReply(text: string): string {
  const reply = JSON.parse(text) as {
    msg_signature: string;
    timeStamp: string;
    nonce: string;
    encrypt: string;
  };
  return createDingTalkCrypto(dingTalkKeys({})).open({
    signature: reply.msg_signature,
    timestamp: reply.timeStamp,
    nonce: reply.nonce,
    encrypt: reply.encrypt,
  }).message;
}

// ---- WeCom -------------------------------------------------------------------------------------------

export interface WeComCallbackOptions {
  /** GET: the URL verification (plaintext = the echo); POST: an event (plaintext = the inner XML). */
  method?: 'GET' | 'POST';
  plaintext: string;
  appId?: string;
  /** Seconds since the epoch, as a string (default: now). */
  timestamp?: string;
  nonce?: string;
  /** The receiver id sealed into the plaintext (default: the sandbox corp id). */
  corpId?: string;
  token?: string;
  encodingAesKey?: string;
  tamper?: (encrypt: string) => string;
  signature?: string;
}

export function weComCallback(options: WeComCallbackOptions): RawCallback {
  const credentials = sandboxCredentials('wecom');
  const token = options.token ?? credentials.secrets.token!;
  const corpId = options.corpId ?? credentials.settings.corp_id!;
  const sealed = createWeComCrypto({
    token,
    encodingAesKey: options.encodingAesKey ?? credentials.secrets.encoding_aes_key!,
    corpId,
  }).encrypt(options.plaintext, {
    timestamp: options.timestamp ?? String(Math.floor(Date.now() / 1000)),
    nonce: options.nonce ?? randomNonce(10),
  });
  const encrypt = options.tamper ? options.tamper(sealed.encrypt) : sealed.encrypt;
  const query: Array<[string, string]> = [
    ['msg_signature', options.signature ?? msgSignature(token, sealed.timestamp, sealed.nonce, encrypt)],
    ['timestamp', sealed.timestamp],
    ['nonce', sealed.nonce],
  ];
  const path = callbackPath('wecom', options.appId);
  if (options.method === 'GET') {
    return { method: 'GET', path, query: [...query, ['echostr', encrypt]], headers: [], body: '' };
  }
  return {
    method: 'POST',
    path,
    query,
    headers: [['content-type', 'text/xml']],
    body:
      `<xml><ToUserName><![CDATA[${credentials.settings.corp_id}]]></ToUserName>` +
      `<Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[${credentials.settings.agent_id}]]></AgentID></xml>`,
  };
}

/** A sys_approval_change, as WeCom pushes it (StatuChangeEvent 2 = agreed). */
export function weComApprovalChange(options: {
  spNo: string;
  change?: number;
  createTime?: number;
  toUser?: string;
  speech?: string;
}): string {
  const corpId = options.toUser ?? sandboxCredentials('wecom').settings.corp_id!;
  const createTime = options.createTime ?? Math.floor(Date.now() / 1000);
  const change = options.change ?? 2;
  return (
    `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
    `<CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
    `<Event><![CDATA[sys_approval_change]]></Event><AgentID>3010040</AgentID><ApprovalInfo>` +
    `<SpNo>${options.spNo}</SpNo><SpName><![CDATA[部署审批]]></SpName><SpStatus>${change === 3 ? 3 : 2}</SpStatus>` +
    `<TemplateId><![CDATA[template-1]]></TemplateId><ApplyTime>${createTime - 60}</ApplyTime>` +
    `<Applyer><UserId><![CDATA[SignoffAdmin]]></UserId><Party><![CDATA[1]]></Party></Applyer>` +
    `<SpRecord><SpStatus>2</SpStatus><ApproverAttr>1</ApproverAttr><Details><Approver><UserId><![CDATA[ZhangWei]]></UserId></Approver>` +
    `<Speech><![CDATA[${options.speech ?? 'ok'}]]></Speech><SpStatus>2</SpStatus><SpTime>${createTime}</SpTime></Details></SpRecord>` +
    `<StatuChangeEvent>${change}</StatuChangeEvent></ApprovalInfo></xml>`
  );
}
