// Notification channels and approval kinds as the console names them, with the IM platform behind each.
import type { Platform } from '../../components/platform-icon';
import { defineStrings } from '../../i18n';

export const channelStrings = defineStrings({
  en: {
    feishu_app: 'Feishu app bot',
    lark_app: 'Lark app bot',
    feishu_webhook: 'Feishu custom bot',
    lark_webhook: 'Lark custom bot',
    dingtalk_robot: 'DingTalk custom robot',
    dingtalk_app: 'DingTalk work notification',
    wecom_robot: 'WeCom group robot',
    wecom_app: 'WeCom app message',
    mail: 'Mail',
    webhook: 'Webhook',
    native: 'Signoff (native)',
    feishu: 'Feishu',
    lark: 'Lark',
    dingtalk: 'DingTalk',
    wecom: 'WeCom',
  },
  'zh-CN': {
    feishu_app: '飞书应用机器人',
    lark_app: 'Lark 应用机器人',
    feishu_webhook: '飞书自定义机器人',
    lark_webhook: 'Lark 自定义机器人',
    dingtalk_robot: '钉钉自定义机器人',
    dingtalk_app: '钉钉工作通知',
    wecom_robot: '企业微信群机器人',
    wecom_app: '企业微信应用消息',
    mail: '邮件',
    webhook: 'Webhook',
    native: 'Signoff（内置）',
    feishu: '飞书',
    lark: 'Lark',
    dingtalk: '钉钉',
    wecom: '企业微信',
  },
});

export const channels = [
  'feishu_app',
  'lark_app',
  'dingtalk_app',
  'wecom_app',
  'feishu_webhook',
  'lark_webhook',
  'dingtalk_robot',
  'wecom_robot',
  'webhook',
  'mail',
] as const;
export type Channel = (typeof channels)[number];

export const approvalKinds = ['native', 'feishu', 'lark', 'dingtalk', 'wecom'] as const;
export type ApprovalKind = (typeof approvalKinds)[number];

/** The IM platform a channel goes through, if any. */
export const channelPlatform: Record<Channel, Platform | undefined> = {
  feishu_app: 'feishu',
  lark_app: 'lark',
  feishu_webhook: 'feishu',
  lark_webhook: 'lark',
  dingtalk_robot: 'dingtalk',
  dingtalk_app: 'dingtalk',
  wecom_robot: 'wecom',
  wecom_app: 'wecom',
  mail: undefined,
  webhook: undefined,
};

/** Channels sent by a registered IM app (the others need a URL or addresses). */
export const appChannels: Partial<Record<Channel, Platform>> = {
  feishu_app: 'feishu',
  lark_app: 'lark',
  dingtalk_app: 'dingtalk',
  wecom_app: 'wecom',
};

export const isChannel = (value: string | undefined): value is Channel =>
  (channels as readonly string[]).includes(value ?? '');
export const isPlatform = (value: string | undefined): value is Platform =>
  value === 'feishu' || value === 'lark' || value === 'dingtalk' || value === 'wecom';
