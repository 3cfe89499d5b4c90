// Sign in with an API token. `signoff serve` prints a link with the token after `#` (never sent to the
// server in a URL, never logged); the token is kept in this tab's session storage only.
import { type FormEvent, useEffect, useState } from 'react';
import { type ApiError, api } from '../api';
import { ErrorNotice } from '../components/error-notice';
import { defineStrings, languages, useLanguage, useT } from '../i18n';
import { session } from '../session';

const strings = defineStrings({
  en: {
    title: 'Sign in to Signoff',
    token: 'API token',
    tokenHelp:
      'At its first start, `npm start` prints an admin token and a sign-in link. Other users get theirs with `npx signoff tokens add`.',
    lost: 'Lost the first token? Restart with SIGNOFF_ADMIN_TOKEN set to a secret of 20 or more characters: it becomes a valid admin token.',
    submit: 'Sign in',
    checking: 'Checking…',
    sandbox: 'The sandbox is on: fake Feishu, Lark, DingTalk and WeCom companies are ready to try.',
  },
  'zh-CN': {
    title: '登录 Signoff',
    token: 'API 令牌',
    tokenHelp:
      '首次启动时，`npm start` 会打印管理员令牌和登录链接。其他用户可通过 `npx signoff tokens add` 获取令牌。',
    lost: '丢失了首个令牌？设置 SIGNOFF_ADMIN_TOKEN（至少 20 个字符的密钥）后重启，它即成为有效的管理员令牌。',
    submit: '登录',
    checking: '验证中…',
    sandbox: '沙箱已开启：已准备好模拟的飞书、Lark、钉钉和企业微信，可直接试用。',
  },
});

export function SignInPage({ onSignedIn, sandbox }: { onSignedIn: () => void; sandbox: boolean }) {
  const t = useT(strings);
  const { language, setLanguage } = useLanguage();
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const signIn = async (candidate: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await api('/api/me', { token: candidate });
      session.signIn(candidate);
      onSignedIn();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: read the link's token once.
  useEffect(() => {
    const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromLink) {
      history.replaceState(null, '', location.pathname + location.search);
      setToken(fromLink);
      void signIn(fromLink);
    }
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) void signIn(token.trim());
  };

  return (
    <main id="main" className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>{t('title')}</h1>
        {sandbox && <p className="notice notice-info">{t('sandbox')}</p>}
        <label className="field">
          <span>{t('token')}</span>
          <input
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            required
          />
          <small>{t('tokenHelp')}</small>
        </label>
        <ErrorNotice error={error} />
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? t('checking') : t('submit')}
        </button>
        <p>
          <small>{t('lost')}</small>
        </p>
        <select
          aria-label="Language / 语言"
          value={language}
          onChange={(event) => setLanguage(event.target.value as typeof language)}
        >
          {languages.map((code) => (
            <option key={code} value={code}>
              {code === 'en' ? 'English' : '简体中文'}
            </option>
          ))}
        </select>
      </form>
    </main>
  );
}
