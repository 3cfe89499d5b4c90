// DingTalk (钉钉): an internal app (企业内部应用) in the developer console (开发者后台, open-dev.dingtalk.com).
// Its order (docs/integrations/dingtalk.md): copy four values into Signoff, save, then paste our URL back,
// which DingTalk checks at once, so aes_key and token are asked for up front in webhook mode.
import { defineStrings } from '../../../i18n';
import type { PlatformSpec } from './platform-spec';

const strings = defineStrings({
  en: {
    vendor: 'DingTalk',
    order:
      'DingTalk’s order: copy AppKey and AppSecret (凭证与基础信息) and aes_key and token (事件与回调) here and save first. Only then paste the callback URL into DingTalk: it checks the URL the moment you save it there.',
    app_keyHelp:
      '开发者后台 → 应用开发 → your app → 凭证与基础信息 (Credentials & Basic Info) → Client ID (原 AppKey).',
    app_secretHelp: 'On the same page: Client Secret (原 AppSecret).',
    agent_idHelp:
      'On the same page: AgentId (digits). Optional; approval reminders and work notifications (工作通知) need it.',
    aes_keyHelp:
      '事件与回调 (Events and Callbacks), push mode HTTP 推送 → 加密 aes_key: exactly 43 characters. Keep that page open: the callback URL goes there once the app is saved.',
    tokenHelp: 'On the same page, 事件与回调: 签名 token.',
    api_baseHelp:
      'New-API host. Leave empty for the public platform (https://api.dingtalk.com); set it for a private deployment or an egress proxy.',
    oapi_baseHelp: 'Old-API host (contacts, work notifications). Leave empty for https://oapi.dingtalk.com.',
    permissionsWhere:
      '开发者后台 → your app → 权限管理 (Permission Management): search each permission by its code and apply for it (申请权限). On the same page, the address-book scope (通讯录权限范围) limits who can be an approver.',
    permissions: 'Permissions',
    webhook1:
      'Go back to the 事件与回调 (Events and Callbacks) page you copied aes_key and token from (push mode HTTP 推送).',
    webhook2:
      'Paste the callback URL into 请求网址 (Request URL) and save. DingTalk checks it at once (check_url) with the aes_key and token saved here; the callback status here turns to “verified”.',
    webhook3:
      'Under 事件订阅 → 审批事件 (Approval events), enable 审批任务开始、结束、转交 (approval task: bpms_task_change) and 审批实例开始、结束 (approval instance: bpms_instance_change).',
    webhook4: 'Publish the app (版本管理与发布) and set its visible range (可见范围).',
    stream1:
      'Signoff connects to DingTalk in Stream mode as soon as the app is saved here (and at every start).',
    stream2:
      'In 事件与回调 (Events and Callbacks) → 推送方式, choose Stream 模式推送, confirm the connection (验证连接通道) and save.',
    stream3:
      'Under 事件订阅 → 审批事件, enable 审批任务开始、结束、转交 (bpms_task_change) and 审批实例开始、结束 (bpms_instance_change).',
    stream4: 'Publish the app (版本管理与发布) and set its visible range (可见范围).',
  },
  'zh-CN': {
    vendor: '钉钉',
    order:
      '钉钉的顺序：先把 AppKey、AppSecret（凭证与基础信息）和 aes_key、token（事件与回调）填到这里并保存，然后才把回调地址填入钉钉：钉钉在你保存的那一刻就会校验该地址。',
    app_keyHelp: '开发者后台 → 应用开发 → 你的应用 → 凭证与基础信息 → Client ID（原 AppKey）。',
    app_secretHelp: '同一页面：Client Secret（原 AppSecret）。',
    agent_idHelp: '同一页面：AgentId（数字）。可选；审批提醒和工作通知需要它。',
    aes_keyHelp:
      '事件与回调，推送方式 HTTP 推送 → 加密 aes_key：43 个字符。请保持该页面打开：应用保存后，要把回调地址填到那里。',
    tokenHelp: '同一页面（事件与回调）：签名 token。',
    api_baseHelp: '新版 API 地址。使用公有云（https://api.dingtalk.com）时留空；私有化部署或出口代理时填写。',
    oapi_baseHelp: '旧版 API 地址（通讯录、工作通知）。使用 https://oapi.dingtalk.com 时留空。',
    permissionsWhere:
      '开发者后台 → 你的应用 → 权限管理：按权限代码逐个搜索并申请权限。同一页面的 通讯录权限范围 决定谁可以当审批人。',
    permissions: '所需权限',
    webhook1: '回到刚才复制 aes_key 和 token 的 事件与回调 页面（推送方式：HTTP 推送）。',
    webhook2:
      '把回调地址粘贴到 请求网址 并保存。钉钉会立即用这里保存的 aes_key 和 token 校验该地址（check_url），这里的回调状态随之变为“已验证”。',
    webhook3:
      '在 事件订阅 → 审批事件 中，开启 审批任务开始、结束、转交（bpms_task_change）和 审批实例开始、结束（bpms_instance_change）。',
    webhook4: '发布应用（版本管理与发布）并设置 可见范围。',
    stream1: '应用在这里保存后，Signoff 会立即以 Stream 模式连接钉钉（每次启动时也会连接）。',
    stream2: '在 事件与回调 → 推送方式 中选择 Stream 模式推送，点击 验证连接通道 后保存。',
    stream3:
      '在 事件订阅 → 审批事件 中，开启 审批任务开始、结束、转交（bpms_task_change）和 审批实例开始、结束（bpms_instance_change）。',
    stream4: '发布应用（版本管理与发布）并设置 可见范围。',
  },
});

export const dingtalk: PlatformSpec = {
  type: 'dingtalk',
  strings,
  credentials: [
    { name: 'app_key', label: 'AppKey (Client ID)', secret: false, required: true, help: 'app_keyHelp' },
    {
      name: 'app_secret',
      label: 'AppSecret (Client Secret)',
      secret: true,
      required: true,
      help: 'app_secretHelp',
    },
    {
      name: 'agent_id',
      label: 'AgentId',
      secret: false,
      required: false,
      help: 'agent_idHelp',
      numeric: true,
    },
  ],
  callbackKeys: [
    {
      name: 'aes_key',
      label: 'aes_key',
      secret: true,
      required: false,
      requiredForWebhook: true,
      help: 'aes_keyHelp',
    },
    {
      name: 'token',
      label: 'token',
      secret: true,
      required: false,
      requiredForWebhook: true,
      help: 'tokenHelp',
    },
  ],
  eventModes: ['webhook', 'stream', 'poll'],
  defaultEventMode: 'webhook',
  minimumCredentials: 'AppKey + AppSecret',
  hosts: [
    { name: 'api_base', defaultValue: 'https://api.dingtalk.com', help: 'api_baseHelp' },
    { name: 'oapi_base', defaultValue: 'https://oapi.dingtalk.com', help: 'oapi_baseHelp' },
  ],
  permissionsWhere: 'permissionsWhere',
  // Zadig's list plus qyapi_get_department_member, which the department picker needs (dingtalk.md step 2).
  permissions: [
    {
      title: 'permissions',
      scopes: [
        'snsapi_base',
        'qyapi_base',
        'Contact.User.Read',
        'qyapi_get_department_list',
        'qyapi_get_department_member',
        'qyapi_get_member',
        'qyapi_get_member_by_mobile',
        'Workflow.Form.Write',
        'Workflow.Form.Read',
        'Workflow.Instance.Read',
        'Workflow.Instance.Write',
      ],
    },
  ],
  setupSteps: {
    webhook: ['webhook1', 'webhook2', 'webhook3', 'webhook4'],
    stream: ['stream1', 'stream2', 'stream3', 'stream4'],
  },
};
