// Feishu (飞书): the developer console (开发者后台, open.feishu.cn/app) is in Chinese, so its labels lead.
import { defineStrings } from '../../../i18n';
import { feishuLike } from './feishu-like';

const strings = defineStrings({
  en: {
    vendor: 'Feishu',
    order:
      'Feishu’s order: create a self-built app (创建企业自建应用), grant the permissions below, add the bot, publish a version, then enter App ID and App Secret here. That is a complete setup (poll mode); webhook or long connection can come later and only make decisions arrive sooner.',
    app_idHelp:
      '开发者后台 → your app → 凭证与基础信息 (Credentials & Basic Info) → App ID. It looks like cli_ and 16 letters and digits.',
    app_secretHelp: 'On the same page, 凭证与基础信息: App Secret.',
    encrypt_keyHelp:
      '事件与回调 (Events & Callbacks) → 加密策略 (Encryption Strategy) → Encrypt Key. Required in webhook mode: without it anyone who knows the URL could forge an event. If the field is empty there, set one first.',
    verification_tokenHelp: 'On the same page, 加密策略: Verification Token. Recommended in webhook mode.',
    api_baseHelp:
      'Feishu API host. Leave empty for the public platform (https://open.feishu.cn); set it for a private deployment or an egress proxy.',
    permissionsWhere:
      '开发者后台 → 权限管理 (Permissions & Scopes) → API 权限 → 开通权限: search each scope and enable it. Add the bot too (添加应用能力 → 机器人), then publish a version (版本管理与发布); the contact data scope (通讯录权限范围) limits who can be an approver.',
    approvals: 'For approvals',
    notifications: 'For notifications (the bot must also be in each group that gets them)',
    webhook1:
      'In 开发者后台 → 事件与回调 (Events & Callbacks) → 事件配置 (Event Configuration), set 订阅方式 (Subscription mode) to 将事件发送至开发者服务器 (Send events to developer’s server).',
    webhook2:
      'Paste the callback URL as 请求地址 (Request URL) and save. Feishu checks it at once with the Encrypt Key saved here; the callback status here turns to “verified”.',
    webhook3:
      'Under 添加事件 (Add events) → 审批 (Approval), add 审批实例状态变更 (approval_instance) and 审批任务状态变更 (approval_task).',
    webhook4: 'Publish a new version (版本管理与发布): Feishu applies event changes only then.',
    long1: 'Signoff connects to Feishu as soon as the app is saved here (and at every start).',
    long2:
      'In 开发者后台 → 事件与回调 → 事件配置, set 订阅方式 to 使用长连接接收事件 (Receive events through persistent connection) and save. Feishu allows it only while Signoff is connected.',
    long3:
      'Under 添加事件 (Add events) → 审批 (Approval), add 审批实例状态变更 (approval_instance) and 审批任务状态变更 (approval_task).',
    long4: 'Publish a new version (版本管理与发布).',
  },
  'zh-CN': {
    vendor: '飞书',
    order:
      '飞书的顺序：创建企业自建应用，开通下列权限，添加机器人，发布版本，然后在这里填入 App ID 和 App Secret。这样就已完整可用（轮询模式）；Webhook 或长连接可以以后再配，只是让审批结果更快到达。',
    app_idHelp: '开发者后台 → 你的应用 → 凭证与基础信息 → App ID，形如 cli_ 加 16 位字母和数字。',
    app_secretHelp: '同一页面（凭证与基础信息）：App Secret。',
    encrypt_keyHelp:
      '事件与回调 → 加密策略 → Encrypt Key。Webhook 模式必填：没有它，知道地址的人就能伪造事件。若那里为空，请先设置一个。',
    verification_tokenHelp: '同一页面（加密策略）：Verification Token。Webhook 模式下建议填写。',
    api_baseHelp: '飞书 API 地址。使用公有云（https://open.feishu.cn）时留空；私有化部署或出口代理时填写。',
    permissionsWhere:
      '开发者后台 → 权限管理 → API 权限 → 开通权限：逐个搜索并开通以下权限。还需添加机器人（添加应用能力 → 机器人），再到 版本管理与发布 发布版本；通讯录权限范围 决定谁可以当审批人。',
    approvals: '审批所需',
    notifications: '通知所需（机器人还须加入每个接收通知的群）',
    webhook1: '在 开发者后台 → 事件与回调 → 事件配置 中，将 订阅方式 设为 将事件发送至开发者服务器。',
    webhook2:
      '把回调地址粘贴到 请求地址 并保存。飞书会立即用这里保存的 Encrypt Key 校验该地址，这里的回调状态随之变为“已验证”。',
    webhook3:
      '在 添加事件 → 审批 中，添加 审批实例状态变更（approval_instance）和 审批任务状态变更（approval_task）。',
    webhook4: '发布新版本（版本管理与发布）：飞书在发布后才应用事件配置。',
    long1: '应用在这里保存后，Signoff 会立即连接飞书（每次启动时也会连接）。',
    long2:
      '在 开发者后台 → 事件与回调 → 事件配置 中，将 订阅方式 设为 使用长连接接收事件 并保存。只有 Signoff 已连接时飞书才允许保存。',
    long3:
      '在 添加事件 → 审批 中，添加 审批实例状态变更（approval_instance）和 审批任务状态变更（approval_task）。',
    long4: '发布新版本（版本管理与发布）。',
  },
});

export const feishu = feishuLike({
  type: 'feishu',
  defaultApiBase: 'https://open.feishu.cn',
  strings,
});
