// How decisions reach Signoff (event_mode), one line each, so the choice can be made without the guide.
import { defineStrings, useT } from '../../i18n';
import type { EventMode, PlatformSpec } from './platforms';

export const eventModeStrings = defineStrings({
  en: {
    legend: 'How decisions reach Signoff',
    webhook: 'Webhook',
    long_connection: 'Long connection',
    stream: 'Stream',
    poll: 'Poll',
    isDefault: '(default)',
    webhookLine:
      '{vendor} sends each event by HTTP to this app’s callback URL, at once. Needs a public URL (SIGNOFF_PUBLIC_URL).',
    long_connectionLine:
      'Signoff connects out to {vendor} over a WebSocket and gets the events there. No public URL needed.',
    streamLine:
      'Signoff connects out to DingTalk (Stream 模式) and gets the events there. No public URL needed.',
    pollLine:
      'Signoff asks {vendor} every few seconds. Works with {credentials} only: no public URL, nothing more to set up.',
    always: 'Signoff also polls in every mode, so a missed event never loses a decision.',
  },
  'zh-CN': {
    legend: '审批结果如何到达 Signoff',
    webhook: 'Webhook（HTTP 回调）',
    long_connection: '长连接',
    stream: 'Stream 模式',
    poll: '轮询',
    isDefault: '（默认）',
    webhookLine:
      '{vendor}把每个事件通过 HTTP 立即发送到本应用的回调地址。需要公网地址（SIGNOFF_PUBLIC_URL）。',
    long_connectionLine: 'Signoff 通过 WebSocket 主动连接{vendor}并在连接上接收事件。不需要公网地址。',
    streamLine: 'Signoff 以 Stream 模式主动连接钉钉并接收事件。不需要公网地址。',
    pollLine: 'Signoff 每隔几秒询问一次{vendor}。只需 {credentials}：不需要公网地址，也无需其他配置。',
    always: '无论哪种方式，Signoff 都会定期轮询，错过的事件不会导致审批结果丢失。',
  },
});

/** The mode's name as the console shows it. */
export function useEventModeLabel(): (mode: string) => string {
  const t = useT(eventModeStrings);
  return (mode) => (mode in eventModeStrings.en ? t(mode as EventMode) : mode);
}

export function EventModeField({
  platform,
  value,
  onChange,
  error,
}: {
  platform: PlatformSpec;
  value: EventMode;
  onChange: (mode: EventMode) => void;
  error?: string | undefined;
}) {
  const t = useT(eventModeStrings);
  const tp = useT(platform.strings);
  const vars = { vendor: tp('vendor'), credentials: platform.minimumCredentials };
  return (
    <fieldset className="integrations-modes" aria-describedby="event-mode-always">
      <legend>{t('legend')}</legend>
      {platform.eventModes.map((mode) => {
        const note = platform.eventModeNotes?.[mode];
        return (
          <div key={mode} className="integrations-mode">
            <input
              type="radio"
              id={`event-mode-${mode}`}
              name="event_mode"
              value={mode}
              checked={value === mode}
              onChange={() => onChange(mode)}
              aria-describedby={`event-mode-${mode}-line`}
            />
            <label htmlFor={`event-mode-${mode}`}>
              {t(mode)}
              {mode === platform.defaultEventMode && ` ${t('isDefault')}`}
            </label>
            <small id={`event-mode-${mode}-line`}>
              {t(`${mode}Line`, vars)}
              {note && ` ${tp(note)}`}
            </small>
          </div>
        );
      })}
      <p className="hint" id="event-mode-always">
        {t('always')}
      </p>
      {error && <p className="integrations-field-error">{error}</p>}
    </fieldset>
  );
}
