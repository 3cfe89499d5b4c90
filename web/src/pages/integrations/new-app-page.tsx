// /settings/im/new/<type>: add an app of one platform. Once the platform has accepted the credentials, the
// app's own page takes over with the callback URL and the steps left to do.
import { Page } from '../../components/page';
import { PlatformIcon, platformLabel } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { Link, navigate } from '../../router';
import { PlatformChoices } from './choose-platform';
import { ImAppForm } from './im-app-form';
import { Permissions } from './permissions';
import { type PlatformSpec, platformOf } from './platforms';
import './integrations.css';

const strings = defineStrings({
  en: {
    title: 'Add a {platform} app',
    back: '← IM apps',
    unknown: 'No such platform',
    choose: 'Signoff works with these platforms:',
  },
  'zh-CN': {
    title: '添加 {platform} 应用',
    back: '← IM 应用',
    unknown: '没有这个平台',
    choose: 'Signoff 支持以下平台：',
  },
});

export function ImAppNewPage({ type }: { type: string }) {
  const t = useT(strings);
  const platform = platformOf(type);
  if (!platform) {
    return (
      <Page title={t('unknown')}>
        <p>{t('choose')}</p>
        <PlatformChoices />
      </Page>
    );
  }
  return <NewApp platform={platform} />;
}

function NewApp({ platform }: { platform: PlatformSpec }) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  return (
    <Page title={t('title', { platform: platformLabel[platform.type] })}>
      <p>
        <Link href="/settings/im">{t('back')}</Link>
      </p>
      <div className="integrations-columns">
        <div className="card">
          <p className="integrations-order">
            <PlatformIcon platform={platform.type} size={24} /> <span>{tp('order')}</span>
          </p>
          <ImAppForm
            platform={platform}
            onSaved={(app) => navigate(`/settings/im/${encodeURIComponent(app.id)}?created=1`)}
          />
        </div>
        <aside className="card">
          <Permissions platform={platform} />
        </aside>
      </div>
    </Page>
  );
}
