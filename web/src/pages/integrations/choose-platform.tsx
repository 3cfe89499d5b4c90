// "Add IM app" starts by choosing the platform: each leads to the form with exactly that platform's fields.
import { useRef } from 'react';
import { PlatformIcon, platformLabel } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { Link } from '../../router';
import { platformOrder } from './platforms';

const strings = defineStrings({
  en: {
    add: 'Add IM app',
    which: 'Which platform is the app on?',
    close: 'Close',
    feishu: 'A self-built app (企业自建应用) from the Feishu developer console (开发者后台).',
    lark: 'A custom app from the Lark Developer Console (Feishu’s international edition).',
    dingtalk: 'An internal app (企业内部应用) from the DingTalk developer console (开发者后台).',
    wecom: 'A self-built app (自建应用) from the WeCom admin console (管理后台).',
  },
  'zh-CN': {
    add: '添加 IM 应用',
    which: '应用在哪个平台上？',
    close: '关闭',
    feishu: '飞书开发者后台中的企业自建应用。',
    lark: 'Lark Developer Console 中的自建应用（飞书国际版）。',
    dingtalk: '钉钉开发者后台中的企业内部应用。',
    wecom: '企业微信管理后台中的自建应用。',
  },
});

export function PlatformChoices() {
  const t = useT(strings);
  return (
    <ul className="integrations-choices">
      {platformOrder.map((type) => (
        <li key={type}>
          <Link href={`/settings/im/new/${type}`} className="card integrations-choice">
            <PlatformIcon platform={type} size={32} />
            <span>
              <strong>{platformLabel[type]}</strong>
              <small>{t(type)}</small>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

export function AddAppButton() {
  const t = useT(strings);
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className="button-primary" onClick={() => dialog.current?.showModal()}>
        {t('add')}
      </button>
      <dialog ref={dialog} className="integrations-dialog" aria-labelledby="choose-platform-title">
        <div className="integrations-dialog-head">
          <h2 id="choose-platform-title">{t('which')}</h2>
          <button type="button" className="button-small" onClick={() => dialog.current?.close()}>
            {t('close')}
          </button>
        </div>
        {/* Following a link leaves the page; the dialog closes with it. */}
        <PlatformChoices />
      </dialog>
    </>
  );
}
