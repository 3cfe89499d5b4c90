// Delivers outbox rows. One sender holds a row at a time (a conditional claim); a send waits for its rate
// slot (shared through the database) by going back on the queue, never by sleeping on a worker; a failure
// a retry can fix goes back with backoff (or as long as the vendor asked); any other failure ends the row
// with the vendor's reason. A crash leaves the row claimed by a dead instance: recovery hands it back.
import { type Queue, queues } from '../engine/queue.js';
import { type AppError, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import {
  claimNotification,
  findNotification,
  finishNotification,
  type NotificationRecord,
  releaseNotification,
} from '../store/notifications.js';
import { markSent, takeRateSlot } from '../store/rate-log.js';
import type { SecretBox } from '../store/secret-box.js';
import type { ChannelSender } from './channels/index.js';
import type { Destination, Recipient } from './notifier.js';

/** About 14 minutes of backoff (2 s doubling to 5 min) before a vendor that stays down fails the message. */
export const maxAttempts = 10;
/** A claim older than this belongs to a sender that stopped answering; another may take the row over. */
export const staleClaimMs = 120_000;

export interface OutboxOptions {
  db: Db;
  queue: Queue;
  log: Logger;
  instanceId: string;
  secretBox: SecretBox;
  senders: Record<string, ChannelSender>;
  now?: () => number;
  /** Each attempt's outcome in words (notification jobs write it to their log). */
  onAttempt?: (row: NotificationRecord, line: string) => void;
  /** A row reached its final status (notification jobs finish when all theirs have). */
  onFinal?: (row: NotificationRecord) => Promise<void>;
  /** What each attempt came to (the /metrics counters); not called when the row was not claimed. */
  onOutcome?: (row: NotificationRecord, outcome: Exclude<DeliveryOutcome, 'not-claimed'>) => void;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped' | 'retrying' | 'waiting' | 'not-claimed';

export class Outbox {
  private readonly now: () => number;

  constructor(private readonly options: OutboxOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Sends the row if it is due and free. Safe to call from the queue and the fast path at once. */
  async deliver(id: number): Promise<DeliveryOutcome> {
    const { db, instanceId } = this.options;
    const row = await claimNotification(db, id, instanceId, staleClaimMs);
    if (!row) return 'not-claimed';
    let outcome: Exclude<DeliveryOutcome, 'not-claimed'>;
    try {
      outcome = await this.attempt(row);
    } catch (error) {
      // Our own failure (database, a bug): give the row back for a later try rather than lose it.
      this.options.log.error({ err: error, notification: id }, 'notification delivery failed unexpectedly');
      await this.retryLater(row, 5_000, null, true);
      outcome = 'retrying';
    }
    this.options.onOutcome?.(row, outcome);
    return outcome;
  }

  private async attempt(row: NotificationRecord): Promise<Exclude<DeliveryOutcome, 'not-claimed'>> {
    const { db, secretBox } = this.options;
    let original: NotificationRecord | undefined;
    if (row.action === 'update') {
      original = row.updates_id ? await findNotification(db, row.updates_id) : undefined;
      if (!original || original.status === 'failed' || original.status === 'skipped')
        return this.end(row, { status: 'skipped', error: 'the message it would update was never delivered' });
      // The card is not out yet: update it once it is.
      if (original.status !== 'delivered') {
        await this.retryLater(row, 2_000, null, false);
        return 'waiting';
      }
    }
    const sender = this.options.senders[row.channel];
    if (!sender) return this.end(row, { status: 'failed', error: `unknown channel ${row.channel}` });
    const destination = row.sealed
      ? (JSON.parse(secretBox.open(row.sealed, row.dedup_key)) as Destination)
      : {};

    let prepared: Awaited<ReturnType<ChannelSender>>;
    let takenAt: number;
    let sentAt: number;
    let sent: Awaited<ReturnType<typeof prepared.send>>;
    try {
      prepared = await sender({
        row,
        message: row.message,
        recipient: row.recipient as Recipient,
        destination,
        original,
      });
      takenAt = this.now();
      const waitMs = await takeRateSlot(db, prepared.limits, takenAt, {
        placeFor: `notification:${row.id}`,
      });
      if (waitMs > 0) {
        await this.retryLater(row, waitMs, null, false);
        return 'waiting';
      }
      try {
        sent = await prepared.send();
      } catch (error) {
        await this.markSent(prepared.limits, takenAt, this.now());
        throw error;
      }
      sentAt = this.now();
    } catch (error) {
      return this.failed(row, error);
    }
    // The row says "delivered" before anything else is written: group robots have no idempotency key, so
    // the time between the vendor taking the message and this update is the only window in which a crash
    // makes the message go out twice.
    const { messageId, note } = sent;
    await finishNotification(db, row.id, {
      status: 'delivered',
      vendorMessageId: messageId,
      note: note ?? null,
    });
    await this.markSent(prepared.limits, takenAt, sentAt);
    this.options.onAttempt?.(
      row,
      `delivered to ${row.target || row.channel} on attempt ${row.attempts}${note ? `: ${note}` : ''}`,
    );
    return this.announce(row, 'delivered');
  }

  /**
   * Turns the send's rate slot from "in flight" into "sent at" (when the vendor's answer came back, read
   * before any other await: a later clock would hold the next window back for nothing).
   */
  private async markSent(
    limits: Parameters<typeof markSent>[1],
    takenAt: number,
    sentAt: number,
  ): Promise<void> {
    if (limits.length > 0) await markSent(this.options.db, limits, takenAt, sentAt);
  }

  private async failed(
    row: NotificationRecord,
    error: unknown,
  ): Promise<Exclude<DeliveryOutcome, 'not-claimed'>> {
    const message = isAppError(error) ? error.message : `unexpected error: ${String(error)}`;
    const retryable = isAppError(error) && error.retryable;
    this.options.onAttempt?.(row, `attempt ${row.attempts} failed: ${message}`);
    if (retryable && row.attempts < maxAttempts) {
      const backoff = Math.min(2 ** row.attempts * 1_000, 300_000);
      const delay = Math.max(backoff, (error as AppError).retryAfterMs ?? 0);
      this.options.log.warn(
        {
          notification: row.id,
          channel: row.channel,
          attempt: row.attempts,
          retry_in_ms: delay,
          reason: message,
        },
        'notification not delivered; retrying',
      );
      await this.retryLater(row, delay, message, true);
      return 'retrying';
    }
    const reason = retryable ? `gave up after ${row.attempts} attempts: ${message}` : message;
    this.options.log.warn({ notification: row.id, channel: row.channel, reason }, 'notification failed');
    return this.end(row, { status: 'failed', error: reason });
  }

  private async retryLater(
    row: NotificationRecord,
    delayMs: number,
    error: string | null,
    countAttempt: boolean,
  ): Promise<void> {
    const at = new Date(Date.now() + delayMs);
    await this.options.db.transaction(async (tx) => {
      await releaseNotification(tx, row.id, at, error, countAttempt);
      await this.options.queue.send(
        tx,
        queues.sendNotification,
        { notificationId: row.id },
        { startAfter: at },
      );
    });
  }

  private async end(
    row: NotificationRecord,
    outcome: Parameters<typeof finishNotification>[2],
  ): Promise<'delivered' | 'failed' | 'skipped'> {
    await finishNotification(this.options.db, row.id, outcome);
    return this.announce(row, outcome.status);
  }

  /** Tells the engine the row's final state (a notification job finishes when all its rows have). */
  private async announce<S extends 'delivered' | 'failed' | 'skipped'>(
    row: NotificationRecord,
    status: S,
  ): Promise<S> {
    const final = await findNotification(this.options.db, row.id);
    if (final) await this.options.onFinal?.(final);
    return status;
  }
}
