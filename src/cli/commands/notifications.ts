import { parseArgs } from 'node:util';
import { relativeTime, statusLabel, table } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, printJson, UsageError } from './define.js';

interface Notification {
  id: number;
  run_id: number;
  job: string | null;
  rule: string;
  event: string;
  action: 'send' | 'update';
  channel: string;
  target: string;
  status: string;
  attempts: number;
  last_error: string | null;
  vendor_message_id: string | null;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

const statuses = ['pending', 'sending', 'delivered', 'failed', 'skipped'];

export const notifications = defineCommand({
  name: 'notifications',
  usage: 'notifications [run] [--status S] [--channel C] [--limit N]',
  summary: 'Delivery log: every message, where it went, and how delivery went',
  help: `With a run id, that run's messages, oldest first; without, recent messages of every run.

Options:
  --status <status>   only messages with this status: ${statuses.join(', ')}
  --channel <name>    only this channel (feishu_app, dingtalk_robot, wecom_robot, mail, …)
  --limit <n>         at most n messages (1 to 500, default 50)
  --json              print the API's JSON`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        status: { type: 'string' },
        channel: { type: 'string' },
        limit: { type: 'string', short: 'n' },
        ...jsonOption,
      },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 1);
    if (values.status !== undefined && !statuses.includes(values.status))
      throw new UsageError(`--status ${values.status}: use one of ${statuses.join(', ')}`);
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
      throw new UsageError(`--limit ${values.limit}: give a whole number from 1 to 500`);
    const [runId] = positionals;
    if (runId !== undefined && !/^\d+$/.test(runId)) throw new UsageError(`${runId}: a run id is a number`);
    const api = client();
    let body = runId
      ? await api.get<{ notifications: Notification[] }>(`/api/runs/${runId}/notifications`)
      : await api.get<{ notifications: Notification[] }>('/api/notifications', {
          query: { status: values.status, channel: values.channel, limit },
        });
    if (runId) {
      body = {
        notifications: body.notifications.filter(
          (row) =>
            (values.status === undefined || row.status === values.status) &&
            (values.channel === undefined || row.channel === values.channel),
        ),
      };
    }
    if (values.json) {
      printJson(out, body);
      return 0;
    }
    const now = Date.now();
    const rows = body.notifications.map((row) => [
      String(row.id),
      runId ? (row.job ?? '') : `${row.run_id}${row.job ? ` ${row.job}` : ''}`,
      row.action === 'update' ? `${row.event} (update)` : row.event,
      row.channel,
      row.target,
      statusLabel(row.status, out.style),
      String(row.attempts),
      row.status === 'delivered'
        ? relativeTime(row.delivered_at, now)
        : row.status === 'pending' && row.next_attempt_at
          ? `next ${relativeTime(row.next_attempt_at, now)}`
          : (row.last_error ?? ''),
    ]);
    out.print(
      table(
        ['id', runId ? 'job' : 'run', 'event', 'channel', 'target', 'status', 'tries', 'when / why'],
        rows,
        out.style,
        'no notifications',
      ),
    );
    return 0;
  },
});
