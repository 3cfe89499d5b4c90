// The generic webhook: the message as a JSON event, signed with HMAC-SHA256 when the rule has a secret.
import { sendWebhook } from '../../providers/webhook/send.js';
import { webhookPayload } from '../render/index.js';
import type { ChannelDeps, ChannelSender } from './channel.js';
import { webhookUrl } from './people.js';

export function webhookSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const url = webhookUrl(input.destination.url, 'webhook').toString();
    return {
      limits: [],
      async send() {
        await sendWebhook(deps.fetch, {
          url,
          secret: input.destination.secret,
          headers: input.destination.headers,
          event: input.message.reason,
          // The same for every attempt: receivers drop a redelivery.
          deliveryId: `notification-${input.row.id}`,
          payload: webhookPayload(input.message),
        });
        return { messageId: null };
      },
    };
  };
}
