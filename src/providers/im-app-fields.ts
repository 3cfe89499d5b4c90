// Which fields each platform issues, which of them are secrets, and how its events can reach us.
import type { ImType } from './types.js';

export interface ImAppFields {
  /** Identifiers, shown in responses. */
  settings: readonly string[];
  /** Write-only: encrypted at rest, shown as "********" with has_<field>. */
  secrets: readonly string[];
  /** Needed to talk to the platform at all. */
  required: readonly string[];
  /** Needed only for HTTP callbacks (event_mode webhook). */
  requiredForWebhook: readonly string[];
  eventModes: readonly string[];
  defaultEventMode: string;
  defaultApiBase: string;
  defaultOapiBase?: string;
}

const feishuLike = (defaultApiBase: string): ImAppFields => ({
  settings: ['app_id'],
  secrets: ['app_secret', 'encrypt_key', 'verification_token'],
  required: ['app_id', 'app_secret'],
  // Feishu works with App ID and Secret alone (poll mode); Encrypt Key and Verification Token only
  // authenticate HTTP callbacks.
  requiredForWebhook: ['encrypt_key'],
  eventModes: ['webhook', 'long_connection', 'poll'],
  defaultEventMode: 'poll',
  defaultApiBase,
});

export const imAppFields: Record<ImType, ImAppFields> = {
  feishu: feishuLike('https://open.feishu.cn'),
  lark: feishuLike('https://open.larksuite.com'),
  dingtalk: {
    // agent_id is only needed for work notifications (工作通知) to people.
    settings: ['app_key', 'agent_id'],
    secrets: ['app_secret', 'aes_key', 'token'],
    required: ['app_key', 'app_secret'],
    requiredForWebhook: ['aes_key', 'token'],
    eventModes: ['webhook', 'stream', 'poll'],
    defaultEventMode: 'webhook',
    defaultApiBase: 'https://api.dingtalk.com',
    defaultOapiBase: 'https://oapi.dingtalk.com',
  },
  wecom: {
    settings: ['corp_id', 'agent_id'],
    secrets: ['secret', 'token', 'encoding_aes_key'],
    required: ['corp_id', 'agent_id', 'secret'],
    // WeCom hands out Token and EncodingAESKey only after it has our callback URL, so they may come later.
    requiredForWebhook: [],
    eventModes: ['webhook', 'poll'],
    defaultEventMode: 'webhook',
    defaultApiBase: 'https://qyapi.weixin.qq.com',
  },
};

/** The API hosts a platform uses unless the app names its own (private deployment, proxy, sandbox). */
export function withDefaultHosts(type: ImType, settings: Record<string, string>): Record<string, string> {
  const fields = imAppFields[type];
  return {
    api_base: fields.defaultApiBase,
    ...(fields.defaultOapiBase ? { oapi_base: fields.defaultOapiBase } : {}),
    ...settings,
  };
}
