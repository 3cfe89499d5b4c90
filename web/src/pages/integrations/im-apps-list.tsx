// Settings → Integrations → IM: every registered app and where it stands, and the way to add one.
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { Page } from '../../components/page';
import { PlatformIcon, platformLabel } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { Link, useLocation } from '../../router';
import { AppStatus } from './app-status';
import { AddAppButton, PlatformChoices } from './choose-platform';
import type { ImApp } from './types';
import './integrations.css';

const strings = defineStrings({
  en: {
    title: 'IM apps',
    intro:
      'The Feishu, Lark, DingTalk and WeCom apps that approval and notification jobs go through. A workflow names one with app: <name>.',
    loading: 'Loading…',
    emptyTitle: 'No IM app yet',
    emptyText:
      'Add the app your team uses: choose its platform, enter the credentials its console issues, then paste the callback URL Signoff gives you back into that console.',
    sandbox: 'sandbox',
    sandboxTitle: 'Points at the sandbox’s fake platform',
    deleted: '{name} was deleted.',
    loadFailed: 'The IM apps could not be loaded.',
  },
  'zh-CN': {
    title: 'IM 应用',
    intro: '审批和通知任务所使用的飞书、Lark、钉钉和企业微信应用。工作流用 app: <名称> 指定其中一个。',
    loading: '加载中…',
    emptyTitle: '还没有 IM 应用',
    emptyText:
      '添加团队使用的应用：选择平台，填入该平台后台给出的凭证，再把 Signoff 给出的回调地址填回该后台。',
    sandbox: '沙箱',
    sandboxTitle: '指向沙箱中的模拟平台',
    deleted: '已删除 {name}。',
    loadFailed: '无法加载 IM 应用。',
  },
});

export function IntegrationsPage() {
  const t = useT(strings);
  const { query } = useLocation();
  const deleted = query.get('deleted');
  const { data, error, loading } = usePoll(() => api<{ im_apps: ImApp[] }>('/api/im-apps'), [], {
    live: true,
    intervalMs: 5000,
  });
  const apps = data?.im_apps;
  return (
    <Page title={t('title')} actions={<AddAppButton />}>
      <p className="hint">{t('intro')}</p>
      {deleted && (
        <p className="notice notice-ok" role="status">
          {t('deleted', { name: deleted })}
        </p>
      )}
      <ErrorNotice error={error} title={t('loadFailed')} />
      {loading && !apps && <p>{t('loading')}</p>}
      {apps && apps.length === 0 && (
        <section className="card integrations-empty" aria-labelledby="no-apps">
          <h2 id="no-apps">{t('emptyTitle')}</h2>
          <p>{t('emptyText')}</p>
          <PlatformChoices />
        </section>
      )}
      {apps && apps.length > 0 && (
        <ul className="integrations-list">
          {apps.map((app) => (
            <li key={app.id} className="card">
              <h2 className="integrations-app-name">
                <PlatformIcon platform={app.type} size={24} />
                <Link href={`/settings/im/${app.id}`}>{app.name}</Link>
                <span className="integrations-type">{platformLabel[app.type]}</span>
                {app.sandbox && (
                  <span className="badge badge-active" title={t('sandboxTitle')}>
                    {t('sandbox')}
                  </span>
                )}
              </h2>
              <AppStatus app={app} />
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
