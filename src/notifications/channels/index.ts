// Every channel's sender, by the name rules use.
import type { ChannelDeps, ChannelSender } from './channel.js';
import { dingtalkAppSender, dingtalkRobotSender } from './dingtalk.js';
import { mailSender } from './email.js';
import { feishuAppSender, feishuWebhookSender } from './feishu.js';
import { webhookSender } from './webhook.js';
import { wecomAppSender, wecomRobotSender } from './wecom.js';

export type { ChannelDeps, ChannelSender } from './channel.js';

export function channelSenders(deps: ChannelDeps): Record<string, ChannelSender> {
  return {
    feishu_app: feishuAppSender(deps, 'feishu'),
    lark_app: feishuAppSender(deps, 'lark'),
    feishu_webhook: feishuWebhookSender(deps, 'Feishu'),
    lark_webhook: feishuWebhookSender(deps, 'Lark'),
    dingtalk_robot: dingtalkRobotSender(deps),
    dingtalk_app: dingtalkAppSender(deps),
    wecom_robot: wecomRobotSender(deps),
    wecom_app: wecomAppSender(deps),
    webhook: webhookSender(deps),
    mail: mailSender(deps),
  };
}
