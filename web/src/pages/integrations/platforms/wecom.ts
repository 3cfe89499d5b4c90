// WeCom (企业微信): a self-built app (自建应用) in the admin console (管理后台, work.weixin.qq.com/wework_admin).
// WeCom hands out Token and EncodingAESKey only on the page where our callback URL is entered, so they are
// optional at creation and come back here afterwards (docs/integrations/wecom.md, DESIGN.md setup flows).
import { defineStrings } from '../../../i18n';
import type { PlatformSpec } from './platform-spec';

const strings = defineStrings({
  en: {
    vendor: 'WeCom',
    order:
      'WeCom’s order: enter Corp ID, AgentId and Secret here and save. Then paste the callback URL into WeCom (接收消息 → 设置API接收), which only then gives you Token and EncodingAESKey; enter those here, save, and only then save in WeCom.',
    corp_idHelp:
      '管理后台 → 我的企业 (My Company) → 企业信息 (Company Info) → 企业ID (Corp ID), at the bottom of the page.',
    agent_idHelp: '应用管理 (App Management) → 应用 → your self-built app → AgentId.',
    secretHelp: 'On the same app page: Secret (click 查看; WeCom sends it to the admin’s WeCom client).',
    tokenHelp:
      '应用管理 → your app → 接收消息 (Receive Messages) → 设置API接收 (Set API Receive) → Token (随机获取). WeCom shows it only after the callback URL is entered there: leave it empty now and add it after saving.',
    encoding_aes_keyHelp:
      'On the same page, 设置API接收: EncodingAESKey (43 characters). Like the Token, it comes after saving.',
    api_baseHelp:
      'WeCom API host. Leave empty for the public platform (https://qyapi.weixin.qq.com); set it for a private deployment or an egress proxy.',
    permissionsWhere:
      'WeCom names no permission scopes: these settings, on the app’s page (应用管理 → your app) and in the Approval app, do that job.',
    settings: 'Settings',
    visibleRange:
      '可见范围 (Visible range): the people the app can see and message. It limits who can be an approver.',
    trustedIp:
      '企业可信IP (Trusted IPs): the Signoff server’s public outbound IP. Without it WeCom refuses every call but the token (errcode 60020).',
    trustedDomain:
      '网页授权及JS-SDK → 设置可信域名 (Trusted domain): the domain of Signoff’s public URL; WeCom may ask for it before trusted IPs.',
    approvalApi:
      '应用管理 → 审批 (Approval) → API → 可调用接口的应用 (Apps that may call the API): add this app (otherwise errcode 48002).',
    webhook1:
      'In 管理后台 → 应用管理 (App Management) → your app → 接收消息 (Receive Messages) → 设置API接收 (Set API Receive), paste the callback URL as URL.',
    webhook2:
      'Click 随机获取 (Random) next to Token and next to EncodingAESKey, and copy both. Do not save there yet.',
    webhook3:
      'Enter that Token and EncodingAESKey in “Change the app” below and save here. WeCom gives them out only on its page, so they come back here before WeCom checks the URL.',
    webhook4:
      'Now click 保存 (Save) in WeCom. It checks the URL at once; the callback status here turns to “verified”.',
    webhook5:
      '应用管理 → 审批 (Approval) → API → 可调用接口的应用: make sure your app is listed, and turn on sending approval status changes to its callback URL.',
  },
  'zh-CN': {
    vendor: '企业微信',
    order:
      '企业微信的顺序：先在这里填入企业ID、AgentId 和 Secret 并保存；再把回调地址填到企业微信（接收消息 → 设置API接收），企业微信这时才给出 Token 和 EncodingAESKey；把它们填回这里并保存，最后才在企业微信中保存。',
    corp_idHelp: '管理后台 → 我的企业 → 企业信息 → 企业ID，在页面底部。',
    agent_idHelp: '应用管理 → 应用 → 你的自建应用 → AgentId。',
    secretHelp: '同一应用页面：Secret（点击 查看，企业微信会把它发到管理员的企业微信客户端）。',
    tokenHelp:
      '应用管理 → 你的应用 → 接收消息 → 设置API接收 → Token（随机获取）。只有在那里填入回调地址后企业微信才会给出：现在留空，保存后再填。',
    encoding_aes_keyHelp: '同一页面（设置API接收）：EncodingAESKey（43 位）。与 Token 一样，保存后再填。',
    api_baseHelp:
      '企业微信 API 地址。使用公有云（https://qyapi.weixin.qq.com）时留空；私有化部署或出口代理时填写。',
    permissionsWhere: '企业微信没有权限代码：由应用页面（应用管理 → 你的应用）和审批应用中的以下设置决定。',
    settings: '所需设置',
    visibleRange: '可见范围：应用能看到并发消息的人，也决定谁可以当审批人。',
    trustedIp:
      '企业可信IP：Signoff 服务器的出口公网 IP。否则除获取 token 外的所有调用都会被拒绝（errcode 60020）。',
    trustedDomain:
      '网页授权及JS-SDK → 设置可信域名：Signoff 公网地址的域名；企业微信可能要求先设置它才能设置可信 IP。',
    approvalApi: '应用管理 → 审批 → API → 可调用接口的应用：添加本应用（否则 errcode 48002）。',
    webhook1: '在 管理后台 → 应用管理 → 你的应用 → 接收消息 → 设置API接收 中，把回调地址粘贴到 URL。',
    webhook2: '点击 Token 和 EncodingAESKey 旁的 随机获取，复制这两个值。先不要在那里保存。',
    webhook3:
      '把该 Token 和 EncodingAESKey 填到下方“修改应用”中并在这里保存。企业微信只在它的页面给出这两个值，所以要先填回这里，企业微信才能校验地址。',
    webhook4: '现在在企业微信中点击 保存。它会立即校验该地址，这里的回调状态随之变为“已验证”。',
    webhook5:
      '应用管理 → 审批 → API → 可调用接口的应用：确认你的应用在列，并开启把审批状态变化发送到其回调地址。',
  },
});

export const wecom: PlatformSpec = {
  type: 'wecom',
  strings,
  credentials: [
    {
      name: 'corp_id',
      label: 'Corp ID (企业ID)',
      secret: false,
      required: true,
      help: 'corp_idHelp',
      placeholder: 'ww1234567890abcdef',
    },
    {
      name: 'agent_id',
      label: 'AgentId',
      secret: false,
      required: true,
      help: 'agent_idHelp',
      numeric: true,
    },
    { name: 'secret', label: 'Secret', secret: true, required: true, help: 'secretHelp' },
  ],
  callbackKeys: [
    {
      name: 'token',
      label: 'Token',
      secret: true,
      required: false,
      requiredForWebhook: false,
      help: 'tokenHelp',
    },
    {
      name: 'encoding_aes_key',
      label: 'EncodingAESKey',
      secret: true,
      required: false,
      requiredForWebhook: false,
      help: 'encoding_aes_keyHelp',
    },
  ],
  eventModes: ['webhook', 'poll'],
  defaultEventMode: 'webhook',
  minimumCredentials: 'Corp ID + AgentId + Secret',
  hosts: [{ name: 'api_base', defaultValue: 'https://qyapi.weixin.qq.com', help: 'api_baseHelp' }],
  permissionsWhere: 'permissionsWhere',
  permissions: [{ title: 'settings', items: ['visibleRange', 'trustedIp', 'trustedDomain', 'approvalApi'] }],
  setupSteps: { webhook: ['webhook1', 'webhook2', 'webhook3', 'webhook4', 'webhook5'] },
};
