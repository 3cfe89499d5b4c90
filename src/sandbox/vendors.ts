// The sandbox: the four vendor fakes behind one small interface, so the server can mount them, register
// an IM app for each, and let a newcomer play every fake person (approve, reject) with no vendor account.
import type { Hono } from 'hono';
import { createDingTalkFake, type DingTalkFake } from '../providers/dingtalk/fake.js';
import { dingTalkDemoSeed } from '../providers/dingtalk/seed.js';
import type { FakeClock } from '../providers/fake-kit.js';
import { createFeishuFake, type FeishuFake } from '../providers/feishu/fake.js';
import { feishuSeed, seedAppId } from '../providers/feishu/seed.js';
import type { Fetch } from '../providers/http.js';
import type { ImType } from '../providers/types.js';
import { createWeComFake, type WeComFake } from '../providers/wecom/fake.js';
import { wecomSandboxSeed } from '../providers/wecom/seed.js';

export interface SandboxPerson {
  id: string;
  name: string;
  email?: string | undefined;
  mobile?: string | undefined;
  avatar?: string | undefined;
}

export interface SandboxApproval {
  id: string;
  title: string;
  /** The form's text, as the approvers read it in the vendor's approval app (it says which run asks). */
  form: string;
  status: string;
  /** People who may act now. */
  waiting_for: SandboxPerson[];
  created_at: string;
}

export interface SandboxMessage {
  /** Stable within the fake's life (the console keys its message views by it). */
  id: string;
  /** Who it went to: a group chat, people (direct / work notification / app message), or a group robot. */
  via: 'chat' | 'people' | 'robot';
  to: string;
  kind: string;
  content: string;
  at: string;
  /** When a card was last updated in place (Feishu/Lark), if it was. */
  updated_at?: string;
}

/** A group chat the fake's bot is in (Feishu/Lark), so the console can name a message's chat. */
export interface SandboxChat {
  id: string;
  name: string;
}

/** A group robot the fake knows: what an operator copies from the group's robot settings. */
export interface SandboxRobot {
  /** The webhook path under the fake's API base. */
  path: string;
  /** The signing secret (DingTalk 加签, Feishu 签名校验), when the robot has one. */
  secret?: string;
  /** The group it posts into, when the fake knows it. */
  chat?: string;
}

export type SandboxFake =
  | { type: 'feishu' | 'lark'; fake: FeishuFake }
  | { type: 'dingtalk'; fake: DingTalkFake }
  | { type: 'wecom'; fake: WeComFake };

export interface SandboxVendor {
  type: ImType;
  label: string;
  /** The fake itself, for tests that play the vendor beyond approve and reject. */
  raw: SandboxFake;
  /** The fake's HTTP app, mounted at /sandbox/<type>. */
  app: Hono;
  /** The IM app the sandbox registers for this fake (its credentials are the fake's). */
  imApp: {
    name: string;
    event_mode: string;
    settings: Record<string, string>;
    secrets: Record<string, string>;
  };
  people(): SandboxPerson[];
  /** Group chats the app's bot is in (Feishu/Lark only; the other fakes' groups are reached by robots). */
  chats(): SandboxChat[];
  /** The fake's demo group robots (custom bots). */
  robots(): SandboxRobot[];
  pendingApprovals(): SandboxApproval[];
  messages(): SandboxMessage[];
  /** A fake person decides in the vendor's approval app; the vendor's callback follows. */
  decide(
    approvalId: string,
    personId: string,
    decision: 'approve' | 'reject',
    comment?: string,
  ): Promise<void>;
  /** Points the fake's callbacks at our callback URL (the console step an operator would do); false if the URL failed verification. */
  connect(callbackUrl: string): Promise<boolean>;
}

export interface SandboxOptions {
  /** How fakes reach our callback URLs (in-process in the server). */
  callbackFetch: Fetch;
  clock?: FakeClock;
}

export function createSandboxVendors(options: SandboxOptions): SandboxVendor[] {
  return [
    feishuLike('feishu', 'Feishu 飞书', options),
    feishuLike('lark', 'Lark', options),
    dingtalk(options),
    wecom(options),
  ];
}

const iso = (value: number | string) =>
  new Date(typeof value === 'string' ? Number(value) : value).toISOString();

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The text values of a form's fields, one after the other: Feishu widgets `{value}`, DingTalk
 * `formComponentValues` `{value}`, WeCom `apply_data.contents` `{value: {text}}`.
 */
function formText(fields: unknown): string {
  if (!Array.isArray(fields)) return '';
  return fields
    .map((field: { value?: unknown }) => {
      const value = field?.value;
      if (typeof value === 'string') return value;
      const text = (value as { text?: unknown } | undefined)?.text;
      return typeof text === 'string' ? text : '';
    })
    .filter(Boolean)
    .join('\n\n');
}

function feishuLike(type: 'feishu' | 'lark', label: string, options: SandboxOptions): SandboxVendor {
  const credentials = {
    app_id: seedAppId(`sandbox-${type}`),
    app_secret: `sandbox-${type}-app-secret-not-real-0001`,
    encrypt_key: `sandbox-${type}-encrypt-key`,
    verification_token: `sandbox-${type}-verification-token`,
  };
  const fake: FeishuFake = createFeishuFake({
    apps: [credentials],
    seed: feishuSeed({ extraUsers: 20, extraChats: 3 }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let callbackUrl: string | undefined;
  const person = (openId: string): SandboxPerson => {
    const user = fake.seed.users.find((candidate) => candidate.open_id === openId);
    return user
      ? { id: user.open_id, name: user.name, email: user.email, mobile: user.mobile, avatar: user.avatar_240 }
      : { id: openId, name: openId };
  };
  return {
    type,
    label,
    raw: { type, fake },
    app: fake.app,
    imApp: {
      name: `sandbox-${type}`,
      event_mode: 'webhook',
      settings: { app_id: credentials.app_id },
      secrets: {
        app_secret: credentials.app_secret,
        encrypt_key: credentials.encrypt_key,
        verification_token: credentials.verification_token,
      },
    },
    people: () => fake.seed.users.slice(0, 30).map((user) => person(user.open_id)),
    chats: () =>
      fake.seed.chats
        .filter((chat) => chat.bot_member)
        .map((chat) => ({ id: chat.chat_id, name: chat.name })),
    robots: () =>
      fake.seed.hooks.map((hook) => {
        const chat = fake.seed.chats.find((candidate) => candidate.chat_id === hook.chat_id);
        return {
          path: `/open-apis/bot/v2/hook/${hook.hook_id}`,
          ...(hook.secret ? { secret: hook.secret } : {}),
          ...(chat ? { chat: chat.name } : {}),
        };
      }),
    pendingApprovals: () =>
      [...fake.instances.values()]
        .filter((instance) => instance.status === 'PENDING')
        .map((instance) => ({
          id: instance.instance_code,
          title: instance.title ?? instance.serial_number,
          form: formText(parseJson(instance.form)),
          status: instance.status,
          waiting_for: instance.tasks
            .filter((task) => task.status === 'PENDING')
            .map((task) => person(task.open_id)),
          created_at: iso(instance.start_time),
        })),
    messages: () => [
      ...fake.messages.map((message) => ({
        id: message.message_id,
        via: message.receive_id_type === 'chat_id' ? ('chat' as const) : ('people' as const),
        to: message.receive_id,
        kind: message.msg_type,
        content: message.content,
        at: iso(message.create_time),
        ...(message.update_time ? { updated_at: iso(message.update_time) } : {}),
      })),
      ...fake.hookMessages.map((message, index) => ({
        id: `hook-${index}`,
        via: 'robot' as const,
        to: `custom bot ${message.hook_id}`,
        kind: message.msg_type,
        content: JSON.stringify(message.body.card ?? message.body.content ?? {}),
        at: iso(message.at),
      })),
    ],
    async decide(approvalId, personId, decision, comment) {
      const push = fake.decide(approvalId, decision === 'approve' ? 'APPROVED' : 'REJECTED', {
        by: personId,
        ...(comment ? { comment } : {}),
      });
      if (push && callbackUrl) await fake.deliver(callbackUrl, push, options.callbackFetch);
    },
    async connect(url) {
      // What Feishu does when the operator saves the request URL: the url_verification handshake; the
      // URL is kept only if it answers.
      const response = await fake.deliver(
        url,
        fake.urlVerificationRequest(credentials.app_id),
        options.callbackFetch,
      );
      if (response.ok) callbackUrl = url;
      return response.ok;
    },
  };
}

function dingtalk(options: SandboxOptions): SandboxVendor {
  const fake: DingTalkFake = createDingTalkFake({
    seed: dingTalkDemoSeed,
    callbackFetch: options.callbackFetch,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { app } = dingTalkDemoSeed;
  const person = (userId: string): SandboxPerson => {
    const user = fake.users.get(userId);
    return user
      ? {
          id: user.userid,
          name: user.name,
          email: user.email ?? user.org_email,
          mobile: user.mobile,
          avatar: user.avatar,
        }
      : { id: userId, name: userId };
  };
  return {
    type: 'dingtalk',
    label: 'DingTalk 钉钉',
    raw: { type: 'dingtalk', fake },
    app: fake.app,
    imApp: {
      name: 'sandbox-dingtalk',
      event_mode: 'webhook',
      settings: { app_key: app.appKey, agent_id: String(app.agentId) },
      secrets: { app_secret: app.appSecret, aes_key: app.aesKey, token: app.token },
    },
    people: () => [...fake.users.keys()].map(person),
    chats: () => [],
    robots: () =>
      dingTalkDemoSeed.robots.map((robot) => ({
        path: `/robot/send?access_token=${encodeURIComponent(robot.accessToken)}`,
        ...(robot.secret ? { secret: robot.secret } : {}),
      })),
    pendingApprovals: () =>
      [...fake.instances.values()]
        .filter((instance) => instance.status === 'RUNNING')
        .map((instance) => ({
          id: instance.processInstanceId,
          title: instance.title,
          form: formText(instance.formComponentValues),
          status: instance.status,
          waiting_for: instance.tasks
            .filter((task) => task.status === 'RUNNING')
            .map((task) => person(task.userId)),
          created_at: iso(instance.createTime),
        })),
    messages: () => [
      ...fake.workNotifications.map((message) => ({
        id: `notice-${message.taskId}`,
        via: 'people' as const,
        to: message.userIds.join(', '),
        kind: String(message.msg.msgtype ?? 'work_notification'),
        content: JSON.stringify(message.msg),
        at: iso(message.at),
      })),
      ...fake.robotMessages.map((message, index) => ({
        id: `robot-${index}`,
        via: 'robot' as const,
        to: `robot ${message.robot}`,
        kind: String(message.body.msgtype ?? 'robot'),
        content: JSON.stringify(message.body),
        at: iso(message.at),
      })),
    ],
    async decide(approvalId, personId, decision, comment) {
      fake.decide(approvalId, personId, decision === 'approve' ? 'agree' : 'refuse', comment ?? '');
      await fake.flush();
    },
    connect: (url) => fake.subscribe(url),
  };
}

function wecom(options: SandboxOptions): SandboxVendor {
  const fake: WeComFake = createWeComFake({
    seed: wecomSandboxSeed,
    fetch: options.callbackFetch,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const corp = wecomSandboxSeed;
  const app = corp.apps[0]!;
  const person = (userId: string): SandboxPerson => {
    const user = fake.users().find((candidate) => candidate.userid === userId);
    return user
      ? {
          id: user.userid,
          name: user.name,
          email: user.email ?? user.biz_mail,
          mobile: user.mobile,
          avatar: user.avatar,
        }
      : { id: userId, name: userId };
  };
  return {
    type: 'wecom',
    label: 'WeCom 企业微信',
    raw: { type: 'wecom', fake },
    app: fake.app,
    imApp: {
      name: 'sandbox-wecom',
      event_mode: 'webhook',
      settings: { corp_id: corp.corp_id, agent_id: app.agent_id },
      secrets: {
        secret: app.secret,
        ...(app.callback
          ? { token: app.callback.token, encoding_aes_key: app.callback.encoding_aes_key }
          : {}),
      },
    },
    people: () => fake.users().map((user) => person(user.userid)),
    chats: () => [],
    robots: () =>
      (corp.robots ?? []).map((key) => ({ path: `/cgi-bin/webhook/send?key=${encodeURIComponent(key)}` })),
    pendingApprovals: () =>
      fake.approvals({ status: 1 }).map((approval) => {
        const node = approval.nodes.find((candidate) => candidate.sp_status === 1);
        return {
          id: approval.sp_no,
          title: approval.sp_name,
          form: formText(approval.apply_data.contents),
          status: 'pending',
          waiting_for: (node?.details ?? [])
            .filter((detail) => detail.sp_status === 1)
            .map((detail) => person(detail.userid)),
          created_at: iso(approval.apply_time * 1000),
        };
      }),
    messages: () => [
      ...fake.messages.map((message) => ({
        id: message.msgid,
        via: 'people' as const,
        to: message.touser.join(', '),
        kind: message.msgtype,
        content: JSON.stringify(message.body),
        at: iso(message.at),
      })),
      ...fake.robotMessages.map((message, index) => ({
        id: `robot-${index}`,
        via: 'robot' as const,
        to: `robot ${message.key}`,
        kind: message.msgtype,
        content: JSON.stringify(message.body),
        at: iso(message.at),
      })),
    ],
    async decide(approvalId, personId, decision, comment) {
      fake.decide(approvalId, personId, decision, comment);
      await fake.idle();
    },
    async connect(url) {
      if (!app.callback) return false;
      const result = await fake.configureCallback(corp.corp_id, app.agent_id, {
        url,
        token: app.callback.token,
        encodingAesKey: app.callback.encoding_aes_key,
      });
      return result.ok;
    },
  };
}
