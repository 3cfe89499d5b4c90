// Renderers: a NotificationMessage in, one channel's payload out. Pure functions, no I/O.
//
// Which format each part of `message.custom` must be in (the notifier renders the author's Liquid
// templates with every printed value escaped by `escapeText(formatOfChannel(channel), value)`):
//
// | channel                                        | custom.title | custom.content | where the content goes        |
// |------------------------------------------------|--------------|----------------|-------------------------------|
// | feishu_app, lark_app, feishu_webhook, lark_webhook | plain    | feishu_md      | card Markdown, above the facts |
// | dingtalk_robot, dingtalk_app                   | plain        | dingtalk_md    | replaces the facts            |
// | wecom_robot, wecom_app                         | plain        | wecom_md       | replaces the facts            |
// | mail                                           | plain        | html           | replaces the facts            |
// | webhook                                        | plain        | plain          | `content` of the event        |
//
// The title is always one line of plain text: each renderer escapes it where it lands (a Markdown heading)
// and uses it as it is in plain places (a Feishu card header, a DingTalk `title`, a mail subject). Content
// whose `custom.format` is not the channel's format is escaped and shown literally. In every format the
// link to the run stays.
import type { TextFormat } from '../message.js';

export {
  DINGTALK_NOTICE_MAX_BYTES,
  DINGTALK_ROBOT_MAX_BYTES,
  type DingTalkRobotActionCard,
  type DingTalkRobotMarkdown,
  type DingTalkWorkNotice,
  dingtalkLink,
  dingtalkRobotBody,
  dingtalkWorkNotice,
} from './dingtalk.js';
export { byteLength, escapeLines, escapeText, oneLine, truncate } from './escape.js';
export type { RenderOptions } from './facts.js';
export {
  FEISHU_CARD_MAX_BYTES,
  FEISHU_WEBHOOK_MAX_BYTES,
  type FeishuCard,
  type FeishuElement,
  type FeishuOptions,
  feishuCard,
  feishuWebhookBody,
} from './feishu.js';
export {
  type AnyStatus,
  approvalStatusText,
  decisionText,
  defaultTitle,
  formatDuration,
  formatTime,
  labels,
  openInText,
  platformName,
  reasonText,
  statusIcon,
  statusText,
} from './i18n.js';
export { type MailMessage, mailMessage } from './mail.js';
export { summary, type WebhookPayload, webhookPayload } from './webhook.js';
export {
  WECOM_MARKDOWN_MAX_BYTES,
  WECOM_TEXT_MAX_BYTES,
  type WeComMarkdown,
  type WeComText,
  wecomAppMessage,
  wecomRobotBodies,
} from './wecom.js';

const CHANNEL_FORMATS: Record<string, TextFormat> = {
  feishu_app: 'feishu_md',
  lark_app: 'feishu_md',
  feishu_webhook: 'feishu_md',
  lark_webhook: 'feishu_md',
  dingtalk_robot: 'dingtalk_md',
  dingtalk_app: 'dingtalk_md',
  wecom_robot: 'wecom_md',
  wecom_app: 'wecom_md',
  mail: 'html',
  webhook: 'plain',
};

/** The format of a channel's custom content (and of the values printed into it); `plain` when unknown. */
export function formatOfChannel(channel: string): TextFormat {
  return CHANNEL_FORMATS[channel] ?? 'plain';
}
