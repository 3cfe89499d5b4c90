// Where an IM app stands: the last credential check, how its events arrive, the last event received and
// whether the platform has verified its callback URL. Shared by the list and the app's page.
import { StatusBadge } from '../../components/status-badge';
import { defineStrings, useFormat, useT } from '../../i18n';
import { useEventModeLabel } from './event-mode-field';
import type { CallbackState, ImApp } from './types';

const strings = defineStrings({
  en: {
    credentials: 'Credentials',
    checked: 'checked {ago}',
    eventMode: 'Event mode',
    lastEvent: 'Last event received',
    noEvent: 'none yet',
    callback: 'Callback',
    verified: 'verified',
    waiting: 'waiting for the platform',
    not_configured: 'not configured yet',
    not_used: 'not used in this mode',
  },
  'zh-CN': {
    credentials: '凭证',
    checked: '检查于{ago}',
    eventMode: '事件方式',
    lastEvent: '最近收到的事件',
    noEvent: '尚无',
    callback: '回调',
    verified: '已验证',
    waiting: '等待平台验证',
    not_configured: '尚未配置',
    not_used: '此模式不使用',
  },
});

const callbackTone: Record<CallbackState, string> = {
  verified: 'good',
  waiting: 'wait',
  not_configured: 'wait',
  not_used: 'muted',
};

export function CallbackBadge({ state }: { state: CallbackState }) {
  const t = useT(strings);
  return <span className={`badge badge-${callbackTone[state]}`}>{t(state)}</span>;
}

export function AppStatus({ app }: { app: ImApp }) {
  const t = useT(strings);
  const format = useFormat();
  const modeLabel = useEventModeLabel();
  const { status } = app;
  return (
    <dl className="integrations-status">
      <div>
        <dt>{t('credentials')}</dt>
        <dd>
          <StatusBadge status={status.credentials} />{' '}
          {status.last_check_at && (
            <small title={format.time(status.last_check_at)}>
              {t('checked', { ago: format.ago(status.last_check_at) })}
            </small>
          )}
          {status.last_check_error && <p className="integrations-problem">{status.last_check_error}</p>}
        </dd>
      </div>
      <div>
        <dt>{t('eventMode')}</dt>
        <dd>{modeLabel(app.event_mode)}</dd>
      </div>
      <div>
        <dt>{t('lastEvent')}</dt>
        <dd>
          {status.last_event_at ? (
            <span title={format.time(status.last_event_at)}>{format.ago(status.last_event_at)}</span>
          ) : (
            t('noEvent')
          )}
        </dd>
      </div>
      <div>
        <dt>{t('callback')}</dt>
        <dd>
          <CallbackBadge state={status.callback} />
          {status.callback_hint && <p className="hint">{status.callback_hint}</p>}
        </dd>
      </div>
    </dl>
  );
}
