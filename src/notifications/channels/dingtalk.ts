// DingTalk: custom group robots (加签 signing, 20 a minute) and work notifications (工作通知) from the app.
import { AppError } from '../../errors.js';
import type { DingTalkClient } from '../../providers/dingtalk/client.js';
import { ROBOT_LIMITS, sendDingTalkRobot } from '../../providers/dingtalk/robot.js';
import { dingtalkRobotBody, dingtalkWorkNotice } from '../render/index.js';
import type { ChannelDeps, ChannelSender } from './channel.js';
import { digest } from './feishu.js';
import { appFor, vendorIds, webhookUrl } from './people.js';

/** DingTalk APIs: 20 calls a second per app and API (platforms.md §4.2). */
const apiLimits = [{ limit: 20, windowMs: 1_000 }];

export function dingtalkRobotSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const url = webhookUrl(input.destination.url, 'dingtalk_robot').toString();
    const token = safeParam(url, 'access_token');
    const mention = input.recipient.mention ?? [];
    const body = dingtalkRobotBody(input.message, {
      ids: mention.map((person) => person.id ?? '').filter(Boolean),
      mobiles: mention.map((person) => person.mobile ?? '').filter(Boolean),
      all: input.recipient.mention_all === true,
    });
    return {
      limits: [{ key: `dingtalk-robot:${digest(token ?? url)}`, limits: ROBOT_LIMITS }],
      async send() {
        await sendDingTalkRobot(deps.fetch, { webhookUrl: url, secret: input.destination.secret }, body, {
          now: deps.now,
        });
        return { messageId: null };
      },
    };
  };
}

export function dingtalkAppSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const app = await appFor(deps.apps, input.recipient.app, 'dingtalk');
    const config = app.config as Extract<typeof app.config, { type: 'dingtalk' }>;
    if (!config.agent_id)
      throw new AppError(
        'upstream_rejected',
        `DingTalk app “${app.app.name}” has no AgentId: work notifications need it. Copy it from the app's 基础信息 (basic information) page into the app's settings in Signoff.`,
      );
    const userIds = await vendorIds(app, input.recipient.people ?? []);
    const msg = dingtalkWorkNotice(input.message);
    return {
      limits: [{ key: `dingtalk-api:${config.app_key}:asyncsend`, limits: apiLimits }],
      async send() {
        const taskId = await (app.client as DingTalkClient).sendWorkNotification(
          config.agent_id!,
          userIds,
          msg as never,
        );
        return { messageId: taskId || null };
      },
    };
  };
}

export function safeParam(url: string, name: string): string | undefined {
  try {
    return new URL(url).searchParams.get(name) ?? undefined;
  } catch {
    return undefined;
  }
}
