// WeCom: group robots (the key in the URL is the secret; 20 a minute) and app messages (应用消息) to people.
import { AppError } from '../../errors.js';
import type { WeComClient } from '../../providers/wecom/client.js';
import { sendWeComRobot } from '../../providers/wecom/client.js';
import { wecomAppMessage, wecomRobotBodies } from '../render/index.js';
import type { ChannelDeps, ChannelSender } from './channel.js';
import { safeParam } from './dingtalk.js';
import { digest } from './feishu.js';
import { appFor, vendorIds, webhookUrl } from './people.js';

const robotLimits = [{ limit: 20, windowMs: 60_000 }];
/** To one member: 30 a minute and 1000 an hour; WeCom drops the excess silently (platforms.md §5.2). */
const memberLimits = [
  { limit: 30, windowMs: 60_000 },
  { limit: 1_000, windowMs: 3_600_000 },
];

export function wecomRobotSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const url = webhookUrl(input.destination.url, 'wecom_robot').toString();
    const mention = input.recipient.mention ?? [];
    const bodies = wecomRobotBodies(input.message, {
      ids: mention.map((person) => person.id ?? '').filter(Boolean),
      mobiles: mention.map((person) => person.mobile ?? '').filter(Boolean),
      all: input.recipient.mention_all === true,
    });
    const body = bodies[input.recipient.part ?? 0] ?? bodies[0]!;
    return {
      limits: [{ key: `wecom-robot:${digest(safeParam(url, 'key') ?? url)}`, limits: robotLimits }],
      async send() {
        await sendWeComRobot(deps.fetch, url, body as { msgtype: string });
        return { messageId: null };
      },
    };
  };
}

export function wecomAppSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const app = await appFor(deps.apps, input.recipient.app, 'wecom');
    const config = app.config as Extract<typeof app.config, { type: 'wecom' }>;
    const userIds = await vendorIds(app, input.recipient.people ?? []);
    const body = wecomAppMessage(input.message);
    return {
      limits: userIds.map((userId) => ({
        key: `wecom-member:${config.corp_id}:${config.agent_id}:${userId}`,
        limits: memberLimits,
      })),
      async send() {
        const result = await (app.client as WeComClient).sendMessage({
          touser: userIds.join('|'),
          ...body,
        } as never);
        // Unknown recipients do not fail the call: only a message that reached nobody is an error.
        const invalid = new Set(result.invaliduser);
        if (userIds.every((id) => invalid.has(id)))
          throw new AppError(
            'upstream_rejected',
            `WeCom app “${app.app.name}” cannot reach ${[...invalid].join(', ')}: not in the app's visible range (可见范围).`,
          );
        const missed = userIds.filter((id) => invalid.has(id));
        return {
          messageId: result.msgid || null,
          ...(missed.length > 0
            ? {
                note: `delivered, but WeCom could not reach ${missed.join(', ')} (not in the app's 可见范围)`,
              }
            : {}),
        };
      },
    };
  };
}
