// The run's delivery log: every message it sent (notification jobs and notify rules), where it went and
// how delivery went. Live while the run goes on, while a message is still on its way, and a little after
// the run ends (its last events are sent just then).
import { useRef, useState } from 'react';
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import { usePoll } from '../../poll';
import type { Notification } from './types';

const strings = defineStrings({
  en: {
    title: 'Notifications',
    none: 'No messages sent for this run.',
    event: 'Event',
    channel: 'Channel',
    target: 'Target',
    status: 'Status',
    attempts: 'Attempts',
    lastError: 'Last error',
    messageId: 'Vendor message id',
    from: 'From',
    when: 'When',
    updated: 'card updated',
    nextTry: 'next try {ago}',
  },
  'zh-CN': {
    title: '通知',
    none: '此运行没有发送消息。',
    event: '事件',
    channel: '渠道',
    target: '发送对象',
    status: '状态',
    attempts: '尝试次数',
    lastError: '最近错误',
    messageId: '平台消息 ID',
    from: '来源',
    when: '时间',
    updated: '更新卡片',
    nextTry: '{ago}重试',
  },
});

/** How long after the run ends the log is still read (notify rules for the final event go out then). */
const afterEndMs = 10_000;

export function RunNotifications({ runId, finished }: { runId: number; finished: boolean }) {
  const t = useT(strings);
  const format = useFormat();
  const finishedSeenAt = useRef<number | undefined>(undefined);
  if (finished) finishedSeenAt.current ??= Date.now();

  // A message still on its way keeps the log live after the run has ended (retries can take minutes).
  const [unsent, setUnsent] = useState(false);
  const { data, error } = usePoll(
    async (signal) => {
      const answer = await api<{ notifications: Notification[] }>(`/api/runs/${runId}/notifications`, {
        signal,
      });
      setUnsent(answer.notifications.some((row) => row.status === 'pending' || row.status === 'sending'));
      return answer;
    },
    [runId],
    { live: !finished || unsent || Date.now() - (finishedSeenAt.current ?? 0) < afterEndMs },
  );
  const rows = data?.notifications;

  return (
    <section aria-labelledby="run-notifications-title">
      <h2 id="run-notifications-title">{t('title')}</h2>
      <ErrorNotice error={error} />
      {rows && rows.length === 0 && <p className="hint">{t('none')}</p>}
      {rows && rows.length > 0 && (
        <div className="table-scroll">
          <table className="runs-notifications">
            <thead>
              <tr>
                <th scope="col">{t('event')}</th>
                <th scope="col">{t('channel')}</th>
                <th scope="col">{t('target')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('attempts')}</th>
                <th scope="col">{t('lastError')}</th>
                <th scope="col">{t('messageId')}</th>
                <th scope="col">{t('from')}</th>
                <th scope="col">{t('when')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <td>
                    {row.event}
                    {row.action === 'update' && <div className="hint">{t('updated')}</div>}
                  </td>
                  <td>
                    <code>{row.channel}</code>
                  </td>
                  <td className="runs-break">{row.target}</td>
                  <td>
                    <StatusBadge status={row.status} />
                    {row.next_attempt_at && (
                      <div className="hint">{t('nextTry', { ago: format.ago(row.next_attempt_at) })}</div>
                    )}
                  </td>
                  <td className="runs-number">{row.attempts}</td>
                  <td className="runs-break">{row.last_error ?? '—'}</td>
                  <td className="runs-break">
                    {row.vendor_message_id ? <code>{row.vendor_message_id}</code> : '—'}
                  </td>
                  <td>
                    {row.job ?? ''} <code>{row.rule}</code>
                  </td>
                  <td>
                    <time dateTime={row.delivered_at ?? row.created_at}>
                      {format.time(row.delivered_at ?? row.created_at)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
