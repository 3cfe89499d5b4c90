// /settings/im/<id>: one app. Where it stands, its callback URL and the steps to paste it, "Test
// connection", the form to change it (secrets never shown, kept unless replaced) and Delete. It is also
// where adding an app lands, since the callback URL exists only once the app is saved.
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { PlatformIcon, platformLabel } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link, navigate, useLocation } from '../../router';
import { AppStatus } from './app-status';
import { CallbackSetup } from './callback-setup';
import { DeleteApp } from './delete-app';
import { ImAppForm } from './im-app-form';
import { Permissions } from './permissions';
import { platforms } from './platforms';
import { TestConnection } from './test-connection';
import type { ImApp } from './types';
import './integrations.css';

const strings = defineStrings({
  en: {
    back: '← IM apps',
    loading: 'Loading…',
    notFound: 'IM app not found',
    created: 'Saved: {vendor} accepted the credentials. What is left to do is below.',
    sandbox: 'Points at the sandbox’s fake {vendor}.',
    status: 'Status',
    change: 'Change the app',
    needs: 'What the app needs in {vendor}',
  },
  'zh-CN': {
    back: '← IM 应用',
    loading: '加载中…',
    notFound: '找不到该 IM 应用',
    created: '已保存：{vendor}接受了凭证。剩下要做的见下文。',
    sandbox: '指向沙箱中的模拟{vendor}。',
    status: '状态',
    change: '修改应用',
    needs: '应用在{vendor}中需要的权限',
  },
});

export function ImAppEditPage({ id }: { id: string }) {
  const t = useT(strings);
  const { query } = useLocation();
  // Read again every few seconds: the callback turns "verified" the moment the vendor console saves the URL.
  const {
    data: app,
    error,
    reload,
  } = usePoll((signal) => api<ImApp>(`/api/im-apps/${encodeURIComponent(id)}`, { signal }), [id], {
    live: true,
    intervalMs: 3000,
  });
  if (!app) {
    return (
      <Page title={error?.status === 404 ? t('notFound') : t('loading')}>
        <p>
          <Link href="/settings/im">{t('back')}</Link>
        </p>
        <ErrorNotice error={error} />
      </Page>
    );
  }
  return <AppView app={app} created={query.get('created') !== null} reload={reload} />;
}

function AppView({ app, created, reload }: { app: ImApp; created: boolean; reload: () => Promise<void> }) {
  const t = useT(strings);
  const platform = platforms[app.type];
  const vendor = useT(platform.strings)('vendor');
  return (
    <Page
      title={app.name}
      actions={
        <DeleteApp
          app={app}
          onDeleted={() =>
            navigate(`/settings/im?deleted=${encodeURIComponent(app.name)}`, { replace: true })
          }
        />
      }
    >
      <div className="integrations-app">
        <p className="integrations-subtitle">
          <Link href="/settings/im">{t('back')}</Link>
          <span>
            <PlatformIcon platform={app.type} size={20} /> {platformLabel[app.type]}
          </span>
          <code>{app.id}</code>
        </p>
        {created && (
          <p className="notice notice-ok" role="status">
            {t('created', { vendor })}
          </p>
        )}
        {app.sandbox && <p className="notice notice-info">{t('sandbox', { vendor })}</p>}
        <section className="card" aria-labelledby="status-title">
          <h2 id="status-title">{t('status')}</h2>
          <AppStatus app={app} />
        </section>
        <CallbackSetup app={app} platform={platform} />
        <TestConnection app={app} platform={platform} onTested={reload} />
        <section className="card" aria-labelledby="change-title">
          <h2 id="change-title">{t('change')}</h2>
          <ImAppForm key={app.id} platform={platform} existing={app} onSaved={() => void reload()} />
        </section>
        <details className="card integrations-needs">
          <summary>{t('needs', { vendor })}</summary>
          <Permissions platform={platform} titled={false} />
        </details>
      </div>
    </Page>
  );
}
