// "Test connection": asks the platform now whether the credentials work and which permissions are missing,
// and says so in plain words (the answer is always 200; the outcome is also kept in the app's status).
import { useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import type { PlatformSpec } from './platforms';
import type { ImApp, TestResult } from './types';

const strings = defineStrings({
  en: {
    title: 'Test connection',
    explain: 'Asks {vendor} now for a token with the saved credentials, then tries the APIs Signoff uses.',
    test: 'Test connection',
    testing: 'Testing…',
    ok: 'Connection works: {vendor} accepted the credentials and every permission checked is granted.',
    refused: '{vendor} refused:',
    missing: '{vendor} says the app lacks these permissions:',
    missingHow:
      'Grant them (see “What the app needs” below), publish a new version of the app, and test again.',
    checked: 'Checked:',
  },
  'zh-CN': {
    title: '测试连接',
    explain: '立即用已保存的凭证向{vendor}获取 token，再调用 Signoff 需要的接口。',
    test: '测试连接',
    testing: '测试中…',
    ok: '连接正常：{vendor}接受了凭证，检查的权限都已开通。',
    refused: '{vendor}拒绝了：',
    missing: '{vendor}表示应用缺少以下权限：',
    missingHow: '请开通这些权限（见下方“所需权限”），发布应用的新版本，然后再测试。',
    checked: '已检查：',
  },
});

export function TestConnection({
  app,
  platform,
  onTested,
}: {
  app: ImApp;
  platform: PlatformSpec;
  onTested: () => void;
}) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  const vendor = tp('vendor');
  const [result, setResult] = useState<TestResult>();
  const [error, setError] = useState<ApiError>();
  const [testing, setTesting] = useState(false);

  const test = async () => {
    setTesting(true);
    setResult(undefined);
    setError(undefined);
    try {
      setResult(await api<TestResult>(`/api/im-apps/${encodeURIComponent(app.id)}/test`, { method: 'POST' }));
      onTested();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setTesting(false);
    }
  };

  return (
    <section className="card" aria-labelledby="test-title">
      <h2 id="test-title">{t('title')}</h2>
      <p className="hint">{t('explain', { vendor })}</p>
      <button type="button" onClick={test} disabled={testing}>
        {testing ? t('testing') : t('test')}
      </button>
      <div aria-live="polite">
        {result?.ok && <p className="notice notice-ok">{t('ok', { vendor })}</p>}
        {result?.error && (
          <div className="notice notice-error">
            {t('refused', { vendor })} {result.error.message}{' '}
            <code className="error-code">{result.error.code}</code>
          </div>
        )}
        {result && result.missing_permissions.length > 0 && (
          <div className="notice notice-error">
            <p>{t('missing', { vendor })}</p>
            <ul className="integrations-scopes">
              {result.missing_permissions.map((permission) => (
                // Feishu and DingTalk name scopes; WeCom answers with a sentence saying what to fix.
                <li key={permission}>{/\s/.test(permission) ? permission : <code>{permission}</code>}</li>
              ))}
            </ul>
            <p>{t('missingHow')}</p>
          </div>
        )}
        {result && result.checked.length > 0 && (
          <p className="hint">
            {t('checked')} {result.checked.join(' · ')}
          </p>
        )}
      </div>
      <ErrorNotice error={error} />
    </section>
  );
}
