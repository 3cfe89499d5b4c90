// Mail through the operator's SMTP server; one mail per recipient, with a stable Message-ID per message.
import { AppError } from '../../errors.js';
import { mailMessage } from '../render/index.js';
import type { ChannelDeps, ChannelSender } from './channel.js';

export function mailSender(deps: ChannelDeps): ChannelSender {
  return async (input) => {
    const mailer = deps.mailer;
    if (!mailer)
      throw new AppError(
        'upstream_rejected',
        'Mail is not set up on this server: set SIGNOFF_SMTP_URL (and SIGNOFF_MAIL_FROM) and restart.',
      );
    const to = input.recipient.email ?? '';
    const mail = mailMessage(input.message);
    return {
      limits: [],
      async send() {
        const sent = await mailer.send({
          to,
          subject: mail.subject,
          html: mail.html,
          text: mail.text,
          messageId: `<notification-${input.row.id}.${new Date(input.row.created_at).getTime()}@signoff>`,
        });
        return { messageId: sent.messageId };
      },
    };
  };
}
