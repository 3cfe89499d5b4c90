// The console's shell: sign-in gate, navigation, language switch, and the table of pages by URL.
import { type ComponentType, type ReactElement, useEffect, useState } from 'react';
import { api, whenUnauthorized } from './api';
import { defineStrings, languages, useLanguage, useT } from './i18n';
import { ApprovalsPage } from './pages/approvals';
import { HomePage } from './pages/home';
import { InboxPage } from './pages/inbox';
import { ImAppEditPage, ImAppNewPage, IntegrationsPage } from './pages/integrations';
import { RunPage, RunsPage } from './pages/runs';
import { SignInPage } from './pages/sign-in';
import { WorkflowEditorPage, WorkflowsPage } from './pages/workflows';
import { Link, match, navigate, useLocation } from './router';
import { SandboxContext } from './sandbox-context';
import { session } from './session';

const strings = defineStrings({
  en: {
    skip: 'Skip to content',
    home: 'Start',
    runs: 'Runs',
    workflows: 'Workflows',
    approvals: 'Approvals',
    integrations: 'IM apps',
    sandbox: 'Sandbox',
    signOut: 'Sign out',
    language: 'Language',
    notFound: 'No page here.',
    menu: 'Main',
  },
  'zh-CN': {
    skip: '跳到正文',
    home: '开始',
    runs: '运行记录',
    workflows: '工作流',
    approvals: '审批',
    integrations: 'IM 应用',
    sandbox: '沙箱',
    signOut: '退出登录',
    language: '语言',
    notFound: '页面不存在。',
    menu: '主菜单',
  },
});

// biome-ignore lint/suspicious/noExplicitAny: each page takes its own URL params.
type PageComponent = ComponentType<any>;
const routes: [pattern: string, page: PageComponent][] = [
  ['/', HomePage],
  ['/settings/im', IntegrationsPage],
  ['/settings/im/new/:type', ImAppNewPage],
  ['/settings/im/:id', ImAppEditPage],
  ['/workflows', WorkflowsPage],
  ['/workflows/new', WorkflowEditorPage],
  ['/workflows/:name', WorkflowEditorPage],
  ['/runs', RunsPage],
  ['/runs/:id', RunPage],
  ['/approvals', ApprovalsPage],
  ['/inbox', InboxPage],
];

export function App() {
  const t = useT(strings);
  const { path } = useLocation();
  const { language, setLanguage } = useLanguage();
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  const [sandbox, setSandbox] = useState(false);

  useEffect(() => {
    whenUnauthorized(() => {
      session.signOut();
      setSignedIn(false);
    });
  }, []);
  useEffect(() => {
    // The sandbox's own page answers only when the sandbox is on.
    fetch('/sandbox/state')
      .then((response) => setSandbox(response.ok))
      .catch(() => setSandbox(false));
  }, []);

  if (!signedIn) return <SignInPage onSignedIn={() => setSignedIn(true)} sandbox={sandbox} />;

  let page: ReactElement = <p>{t('notFound')}</p>;
  for (const [pattern, Component] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = <Component key={path} {...params} />;
      break;
    }
  }
  const nav: [string, string][] = [
    ['/', t('home')],
    ['/runs', t('runs')],
    ['/workflows', t('workflows')],
    ['/approvals', t('approvals')],
    ['/settings/im', t('integrations')],
    ...(sandbox ? ([['/inbox', t('sandbox')]] as [string, string][]) : []),
  ];
  const current = (href: string) =>
    href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);

  return (
    <SandboxContext.Provider value={sandbox}>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Signoff
        </Link>
        <nav aria-label={t('menu')}>
          {nav.map(([href, label]) => (
            <Link key={href} href={href} aria-current={current(href) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="topbar-end">
          <label className="language">
            <span className="visually-hidden">{t('language')}</span>
            <select value={language} onChange={(event) => setLanguage(event.target.value as typeof language)}>
              {languages.map((code) => (
                <option key={code} value={code}>
                  {code === 'en' ? 'English' : '简体中文'}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="button-link"
            onClick={() => {
              session.signOut();
              setSignedIn(false);
              navigate('/');
            }}
          >
            {t('signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </SandboxContext.Provider>
  );
}

/** Checks the server still accepts the token (used by the sign-in page). */
export const whoAmI = (token?: string) =>
  api<{ name: string; is_admin: boolean }>('/api/me', token ? { token } : {});
