// After saving: the app's callback URL to copy, and the numbered steps to paste it in the vendor console,
// in the order that platform imposes (DESIGN.md "setup flows"), for the app's event mode.
import { CopyButton } from '../../components/copy-button';
import { defineStrings, useT } from '../../i18n';
import { CallbackBadge } from './app-status';
import type { EventMode, PlatformSpec } from './platforms';
import type { ImApp } from './types';

const strings = defineStrings({
  en: {
    title: 'Callback URL',
    copy: 'Copy the callback URL',
    status: 'Callback status:',
    steps: 'Then, in {vendor}:',
    connectSteps: 'To receive events over the connection, in {vendor}:',
    onlyWebhook: 'Used in webhook mode only; this app is in another mode now.',
    pollDone:
      'Nothing more to do in {vendor}: in poll mode Signoff asks about each waiting approval every 10 seconds. For decisions within a second, switch the event mode below; the steps then appear here.',
    local:
      'This URL is built from SIGNOFF_PUBLIC_URL, and points at this machine only: {vendor} cannot reach it. Set SIGNOFF_PUBLIC_URL to the server’s public address and restart before you paste it.',
  },
  'zh-CN': {
    title: '回调地址',
    copy: '复制回调地址',
    status: '回调状态：',
    steps: '然后在{vendor}中：',
    connectSteps: '要通过连接接收事件，请在{vendor}中：',
    onlyWebhook: '只在 Webhook 模式下使用；此应用当前不是该模式。',
    pollDone:
      '{vendor}中无需再做什么：轮询模式下 Signoff 每 10 秒询问一次每个等待中的审批。若想让审批结果在一秒内到达，请在下方切换事件方式，相应步骤会显示在这里。',
    local:
      '此地址由 SIGNOFF_PUBLIC_URL 生成，只指向本机：{vendor}无法访问。请先把 SIGNOFF_PUBLIC_URL 设为服务器的公网地址并重启，再粘贴。',
  },
});

const localHost = /^https?:\/\/(localhost|127\.|\[::1\])/;

export function CallbackSetup({ app, platform }: { app: ImApp; platform: PlatformSpec }) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  const vendor = tp('vendor');
  const mode = app.event_mode as EventMode;
  const steps = platform.setupSteps[mode];
  return (
    <section className="card integrations-callback" aria-labelledby="callback-title">
      <h2 id="callback-title">{t('title')}</h2>
      <div className="integrations-url">
        <code>{app.callback_url}</code>
        <CopyButton value={app.callback_url} label={t('copy')} />
      </div>
      {mode !== 'webhook' && <p className="hint">{t('onlyWebhook')}</p>}
      {mode === 'webhook' && !app.sandbox && localHost.test(app.callback_url) && (
        <p className="notice notice-error">{t('local', { vendor })}</p>
      )}
      <p>
        {t('status')} <CallbackBadge state={app.status.callback} />
      </p>
      {steps ? (
        <>
          <h3>{mode === 'webhook' ? t('steps', { vendor }) : t('connectSteps', { vendor })}</h3>
          <ol className="integrations-steps">
            {steps.map((step) => (
              <li key={step}>{tp(step)}</li>
            ))}
          </ol>
        </>
      ) : (
        <p>{t('pollDone', { vendor })}</p>
      )}
    </section>
  );
}
