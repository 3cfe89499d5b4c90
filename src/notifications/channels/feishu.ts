// Feishu/Lark: the app's bot (im/v1 messages, with the `uuid` idempotency key and in-place card updates)
// and custom bot webhooks (signed with timestamp + secret, answers in the body).
import { createHash, createHmac } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { FeishuClient } from '../../providers/feishu/client.js';
import { request, statusError } from '../../providers/http.js';
import type { RateKey } from '../../store/rate-log.js';
import type { Mentions } from '../message.js';
import { feishuCard, feishuWebhookBody } from '../render/index.js';
import type { ChannelDeps, ChannelSender, SendInput } from './channel.js';
import { appFor, describePerson, vendorIds, webhookUrl } from './people.js';

/** im/v1 send: 50/s and 1000/min per app; 5/s to one chat or one user (platforms.md §6.3). */
const appLimits = [
  { limit: 50, windowMs: 1_000 },
  { limit: 1_000, windowMs: 60_000 },
];
const perDestination = [{ limit: 5, windowMs: 1_000 }];
/** Custom bot: 5/s and 100/min per bot. */
const hookLimits = [
  { limit: 5, windowMs: 1_000 },
  { limit: 100, windowMs: 60_000 },
];

/**
 * Feishu dedupes a send with the same `uuid` for an hour (≤ 50 characters): a retry after an unknown
 * outcome (timeout, crash after the request) never shows twice. Made from the row's dedup key and time,
 * so two Signoff installations sharing an app never collide.
 */
export function messageUuid(input: SendInput): string {
  const { row } = input;
  return createHash('sha256')
    .update(`${row.dedup_key}\n${new Date(row.created_at).toISOString()}`)
    .digest('hex')
    .slice(0, 40);
}

export function feishuAppSender(deps: ChannelDeps, type: 'feishu' | 'lark'): ChannelSender {
  return async (input) => {
    const app = await appFor(deps.apps, input.recipient.app, type);
    const client = app.client as FeishuClient;
    const appKey: RateKey = { key: `feishu-app:${app.app.id}`, limits: appLimits };
    const platform = type === 'lark' ? 'Lark' : 'Feishu';

    if (input.row.action === 'update') {
      const messageId = input.original?.vendor_message_id;
      if (!messageId) throw new AppError('upstream_rejected', 'The card to update was never delivered.');
      const card = feishuCard(input.message, mentionsOf(input, []), platform);
      return {
        limits: [appKey],
        async send() {
          await client.call('PATCH', `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}`, {
            action: `updating card ${messageId}`,
            body: { content: JSON.stringify(card) },
          });
          return { messageId };
        },
      };
    }

    let receiveIdType: 'chat_id' | 'open_id' | 'email';
    let receiveId: string;
    const { chat, person } = input.recipient;
    if (chat) {
      receiveIdType = 'chat_id';
      receiveId = chat;
    } else if (person && 'email' in person) {
      receiveIdType = 'email';
      receiveId = person.email;
    } else if (person) {
      receiveIdType = 'open_id';
      [receiveId] = (await vendorIds(app, [person])) as [string];
    } else {
      throw new AppError('bad_request', 'A Feishu message needs a chat or a person.');
    }
    const mentionIds = chat ? await vendorIds(app, input.recipient.mention ?? []) : [];
    const card = feishuCard(input.message, mentionsOf(input, mentionIds), platform);
    const destinationKey = chat ? `feishu-chat:${chat}` : `feishu-user:${app.app.id}:${receiveId}`;
    const what = chat ? `chat ${chat}` : describePerson(person ?? {});
    return {
      limits: [appKey, { key: destinationKey, limits: perDestination }],
      async send() {
        const answer = await client.call<{ message_id?: string }>('POST', '/open-apis/im/v1/messages', {
          action: `sending a message to ${what}`,
          query: { receive_id_type: receiveIdType },
          body: {
            receive_id: receiveId,
            msg_type: 'interactive',
            content: JSON.stringify(card),
            uuid: messageUuid(input),
          },
        });
        return { messageId: answer.message_id ?? null };
      },
    };
  };
}

function mentionsOf(input: SendInput, ids: string[]): Mentions {
  return { ids, mobiles: [], all: input.recipient.mention_all === true && !!input.recipient.chat };
}

/** base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")), timestamp in seconds (vector R1). */
export function feishuHookSign(secret: string, timestamp: string): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
}

export function feishuWebhookSender(deps: ChannelDeps, label: 'Feishu' | 'Lark'): ChannelSender {
  return async (input) => {
    const url = webhookUrl(input.destination.url, input.row.channel).toString();
    const hookId = url.split('/').pop() ?? '';
    const target = `The ${label} custom bot …${hookId.slice(-4)}`;
    const ids = (input.recipient.mention ?? []).map((person) => person.id ?? '').filter(Boolean);
    const body: Record<string, unknown> = {
      ...feishuWebhookBody(input.message, { ids, mobiles: [], all: input.recipient.mention_all === true }),
    };
    return {
      limits: [{ key: `feishu-hook:${digest(url)}`, limits: hookLimits }],
      async send() {
        if (input.destination.secret) {
          const timestamp = String(Math.floor(deps.now() / 1000));
          body.timestamp = timestamp;
          body.sign = feishuHookSign(input.destination.secret, timestamp);
        }
        const response = await request(deps.fetch, {
          vendor: label === 'Feishu' ? 'feishu' : 'lark',
          url,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          target,
        });
        if (response.status !== 200)
          throw statusError(target, response.status, response.text, response.headers.get('retry-after'));
        let answer: { code?: number; msg?: string; StatusCode?: number };
        try {
          answer = JSON.parse(response.text);
        } catch {
          throw new AppError('upstream_error', `${target} answered with something that is not JSON.`);
        }
        const code = Number(answer.code ?? answer.StatusCode ?? -1);
        if (code === 0) return { messageId: null };
        throw hookError(target, code, answer.msg ?? '');
      },
    };
  };
}

/** Custom bot codes (platforms.md §3.9): what to fix, and whether a retry can help. */
function hookError(target: string, code: number, msg: string): AppError {
  const said = `code ${code}${msg ? `: ${msg}` : ''}`;
  switch (code) {
    case 11232:
      return new AppError('rate_limited', `${target} is sending too fast (${said}).`, {
        retryAfterMs: 10_000,
      });
    case 19021:
      return new AppError(
        'upstream_rejected',
        `${target} refused the signature (${said}). Check the rule's \`secret\` against the bot's 签名校验 (signature verification) secret, and this server's clock.`,
      );
    case 19022:
      return new AppError(
        'upstream_rejected',
        `${target} refused this server's IP address (${said}): check the bot's IP 白名单 (IP allow-list).`,
      );
    case 19024:
      return new AppError(
        'upstream_rejected',
        `${target} refused the message (${said}): it lacks the bot's 自定义关键词 (keyword).`,
      );
    case 9499:
      return new AppError(
        'upstream_rejected',
        `${target} refused the message as malformed or too large (${said}).`,
      );
    default:
      if (code >= 19000 && code < 20000)
        return new AppError(
          'upstream_rejected',
          `${target} refused the message (${said}); copy the webhook URL again from the group's bot settings.`,
        );
      return new AppError('upstream_error', `${target} failed (${said}).`);
  }
}

export function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 24);
}
