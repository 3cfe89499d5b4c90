// What every channel does with one outbox row: find out who exactly receives it (address-book lookups),
// say which rate limits the send consumes, and then send. The outbox takes the rate slot between the two,
// so a send never leaves before the destination can take it.
import type { ImApps } from '../../engine/approval-apps.js';
import type { Fetch } from '../../providers/http.js';
import type { NotificationRecord } from '../../store/notifications.js';
import type { RateKey } from '../../store/rate-log.js';
import type { NotificationMessage } from '../message.js';
import type { Destination, Recipient } from '../notifier.js';
import type { Mailer } from './mail.js';

export interface SendInput {
  row: NotificationRecord;
  message: NotificationMessage;
  recipient: Recipient;
  /** Opened from the sealed column: webhook URL, signing secret, headers. */
  destination: Destination;
  /** For an in-place update: the row whose vendor message is updated. */
  original?: NotificationRecord | undefined;
}

export interface PreparedSend {
  /** Rate-limit keys this send consumes, at the vendor's documented limits. */
  limits: RateKey[];
  /**
   * Sends; returns the vendor's message id where it gives one, and a note when it went out but not to
   * everyone (WeCom's `invaliduser`). Throws AppError.
   */
  send(): Promise<{ messageId: string | null; note?: string }>;
}

export type ChannelSender = (input: SendInput) => Promise<PreparedSend>;

export interface ChannelDeps {
  fetch: Fetch;
  apps: ImApps;
  /** Undefined when SIGNOFF_SMTP_URL is not set. */
  mailer: Mailer | undefined;
  now: () => number;
}
