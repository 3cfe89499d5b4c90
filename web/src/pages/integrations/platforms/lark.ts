// Lark: Feishu's international edition. Its Developer Console (open.larksuite.com/app) is in English, so its
// English labels are what the operator looks for, in both languages of this console (docs/integrations/lark.md).
import { defineStrings } from '../../../i18n';
import { feishuLike } from './feishu-like';

const strings = defineStrings({
  en: {
    vendor: 'Lark',
    order:
      'Lark’s order: Create Custom App, grant the permissions below, add the bot, publish a version, then enter App ID and App Secret here. That is a complete setup (poll mode); webhook can come later and only makes decisions arrive sooner.',
    app_idHelp:
      'Developer Console → your app → Credentials & Basic Info → App ID. It looks like cli_ and 16 letters and digits.',
    app_secretHelp: 'On the same page, Credentials & Basic Info: App Secret.',
    encrypt_keyHelp:
      'Events & Callbacks → Encryption Strategy → Encrypt Key. Required in webhook mode: without it anyone who knows the URL could forge an event. If the field is empty there, set one first.',
    verification_tokenHelp:
      'On the same page, Encryption Strategy: Verification Token. Recommended in webhook mode.',
    api_baseHelp:
      'Lark API host. Leave empty for the public platform (https://open.larksuite.com); set it for a private deployment or an egress proxy.',
    permissionsWhere:
      'Developer Console → Permissions & Scopes → API scopes → Add scopes: search each scope and enable it. Add the bot too (Add Features → Bot), then publish a version (Version Management & Release); the Contacts data scope limits who can be an approver.',
    approvals: 'For approvals',
    notifications: 'For notifications (the bot must also be in each group that gets them)',
    webhook1:
      'In the Developer Console → Events & Callbacks → Event Configuration, choose to send events to the developer’s server.',
    webhook2:
      'Paste the callback URL as Request URL and save. Lark checks it at once with the Encrypt Key saved here; the callback status here turns to “verified”.',
    webhook3:
      'Under Add events → Approval, add approval_instance and approval_task (approval status changes).',
    webhook4: 'Publish a new version (Version Management & Release): Lark applies event changes only then.',
    long1: 'Signoff tries to connect to Lark as soon as the app is saved here (and at every start).',
    long2:
      'In Events & Callbacks → Event Configuration, choose to receive events through a persistent connection and save. Lark allows it only while Signoff is connected.',
    long3: 'Under Add events → Approval, add approval_instance and approval_task.',
    long4: 'Publish a new version (Version Management & Release).',
    longNote:
      'Some Lark tenants refuse long connections; then only polls bring decisions. Webhook is the safe choice on Lark.',
  },
  'zh-CN': {
    vendor: 'Lark',
    order:
      'Lark 的顺序：Create Custom App，开通下列权限，添加机器人，发布版本，然后在这里填入 App ID 和 App Secret。这样就已完整可用（轮询模式）；Webhook 可以以后再配，只是让审批结果更快到达。',
    app_idHelp:
      'Developer Console → 你的应用 → Credentials & Basic Info → App ID（Lark 后台为英文界面），形如 cli_ 加 16 位字母和数字。',
    app_secretHelp: '同一页面（Credentials & Basic Info）：App Secret。',
    encrypt_keyHelp:
      'Events & Callbacks → Encryption Strategy → Encrypt Key。Webhook 模式必填：没有它，知道地址的人就能伪造事件。若那里为空，请先设置一个。',
    verification_tokenHelp: '同一页面（Encryption Strategy）：Verification Token。Webhook 模式下建议填写。',
    api_baseHelp:
      'Lark API 地址。使用公有云（https://open.larksuite.com）时留空；私有化部署或出口代理时填写。',
    permissionsWhere:
      'Developer Console → Permissions & Scopes → API scopes → Add scopes：逐个搜索并开通以下权限。还需添加机器人（Add Features → Bot），再发布版本（Version Management & Release）；Contacts data scope 决定谁可以当审批人。',
    approvals: '审批所需',
    notifications: '通知所需（机器人还须加入每个接收通知的群）',
    webhook1:
      '在 Developer Console → Events & Callbacks → Event Configuration 中，选择将事件发送至开发者服务器。',
    webhook2:
      '把回调地址粘贴到 Request URL 并保存。Lark 会立即用这里保存的 Encrypt Key 校验该地址，这里的回调状态随之变为“已验证”。',
    webhook3: '在 Add events → Approval 中，添加 approval_instance 和 approval_task（审批状态变更）。',
    webhook4: '发布新版本（Version Management & Release）：Lark 在发布后才应用事件配置。',
    long1: '应用在这里保存后，Signoff 会立即尝试连接 Lark（每次启动时也会）。',
    long2:
      '在 Events & Callbacks → Event Configuration 中，选择通过长连接接收事件并保存。只有 Signoff 已连接时 Lark 才允许保存。',
    long3: '在 Add events → Approval 中，添加 approval_instance 和 approval_task。',
    long4: '发布新版本（Version Management & Release）。',
    longNote: '部分 Lark 租户不接受长连接，此时只能靠轮询获取审批结果。在 Lark 上，Webhook 更稳妥。',
  },
});

export const lark = feishuLike({
  type: 'lark',
  defaultApiBase: 'https://open.larksuite.com',
  strings,
  eventModeNotes: { long_connection: 'longNote' },
});
