// Why a picker may not show someone: each platform lets an app see only the part of the address book
// granted in its own console. The pickers say so, with the console's own words.
import { defineStrings } from '../../../i18n';

export const scopeStrings = defineStrings({
  en: {
    feishu:
      "Shows the people in this app's contact data scope (通讯录权限范围), set in the Feishu developer console under 权限管理 (Permissions & Scopes) → 数据权限 → 通讯录权限范围. Changes show here within 5 minutes.",
    lark: "Shows the people in this app's contacts data scope, set in the Lark developer console under Permissions & Scopes → Contacts data scope. Changes show here within 5 minutes.",
    dingtalk:
      "Shows the people in this app's address-book scope (通讯录权限范围), set in the DingTalk developer console under 权限管理. Changes show here within 5 minutes.",
    wecom:
      "Shows the people in this app's visible range (可见范围), set in the WeCom admin console under 应用管理 (App Management) → the app → 可见范围. Changes show here within 5 minutes.",
    empty: 'Nobody here that this app may see.',
    widen: 'If someone is missing, widen the scope in the vendor console.',
  },
  'zh-CN': {
    feishu:
      '这里显示该应用通讯录权限范围内的成员，可在飞书开发者后台的 权限管理 → 数据权限 → 通讯录权限范围 中设置。修改后 5 分钟内生效。',
    lark: '这里显示该应用通讯录权限范围（Contacts data scope）内的成员，可在 Lark 开发者后台的 Permissions & Scopes → Contacts data scope 中设置。修改后 5 分钟内生效。',
    dingtalk:
      '这里显示该应用通讯录权限范围内的成员，可在钉钉开发者后台的 权限管理 中设置。修改后 5 分钟内生效。',
    wecom:
      '这里显示该应用可见范围内的成员，可在企业微信管理后台的 应用管理 → 应用 → 可见范围 中设置。修改后 5 分钟内生效。',
    empty: '这里没有该应用可以看到的成员。',
    widen: '如有成员缺失，请在开放平台后台扩大权限范围。',
  },
});
