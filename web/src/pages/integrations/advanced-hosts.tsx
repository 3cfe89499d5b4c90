// "Advanced": the API hosts, for a private deployment or an egress proxy. With the sandbox on, one click
// points them at the sandbox's fake platform (taken from the sandbox's own app), so a newcomer can try
// the whole form without a vendor account.
import { useState } from 'react';
import { ApiError, api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import { useSandbox } from '../../sandbox-context';
import type { PlatformSpec } from './platforms';
import { TextField } from './text-field';
import { type ImApp, sandboxAppId } from './types';

const strings = defineStrings({
  en: {
    advanced: 'Advanced: API host',
    api_base: 'API base (api_base)',
    oapi_base: 'Old API base (oapi_base)',
    useSandbox: 'Use the sandbox’s fake {vendor}',
    filled:
      'Pointed at the fake {vendor} of this server’s sandbox. It accepts only its demo app’s made-up credentials (see the sandbox section of docs/integrations/{type}.md).',
  },
  'zh-CN': {
    advanced: '高级：API 地址',
    api_base: 'API 地址（api_base）',
    oapi_base: '旧版 API 地址（oapi_base）',
    useSandbox: '使用沙箱中的模拟{vendor}',
    filled:
      '已指向本服务器沙箱中的模拟{vendor}。它只接受其演示应用的虚构凭证（见 docs/integrations/{type}.md 的沙箱一节）。',
  },
});

export function AdvancedHosts({
  platform,
  values,
  onChange,
  problems,
  open,
  onToggle,
}: {
  platform: PlatformSpec;
  values: Record<string, string>;
  onChange: (name: string, value: string) => void;
  problems: Record<string, string>;
  open: boolean;
  onToggle: (open: boolean) => void;
}) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  const sandbox = useSandbox();
  const [filled, setFilled] = useState(false);
  const [error, setError] = useState<ApiError>();

  const fillFromSandbox = async () => {
    setError(undefined);
    try {
      const fake = await api<ImApp>(`/api/im-apps/${sandboxAppId(platform.type)}`);
      for (const host of platform.hosts) {
        const value = fake.settings[host.name];
        if (value) onChange(host.name, value);
      }
      setFilled(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    }
  };

  return (
    <details
      className="integrations-advanced"
      open={open}
      onToggle={(event) => onToggle((event.target as HTMLDetailsElement).open)}
    >
      <summary>{t('advanced')}</summary>
      {sandbox && (
        <div className="integrations-sandbox-fill">
          <button type="button" onClick={fillFromSandbox}>
            {t('useSandbox', { vendor: tp('vendor') })}
          </button>
          {filled && (
            <p className="notice notice-info" role="status">
              {t('filled', { vendor: tp('vendor'), type: platform.type })}
            </p>
          )}
          <ErrorNotice error={error} />
        </div>
      )}
      {platform.hosts.map((host) => (
        <TextField
          key={host.name}
          id={`im-app-${host.name}`}
          label={t(host.name)}
          value={values[host.name] ?? ''}
          onChange={(value) => onChange(host.name, value)}
          placeholder={host.defaultValue}
          help={tp(host.help)}
          problem={problems[host.name]}
        />
      ))}
    </details>
  );
}
