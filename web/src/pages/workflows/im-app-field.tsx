// Which registered IM app a job goes through, among the apps of one platform; with none registered yet, a
// link to register one instead.
import type { Platform } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import { Link } from '../../router';
import { channelStrings } from './channels';
import type { ImApp } from './types';

const strings = defineStrings({
  en: {
    app: 'IM app',
    noApp: 'No {platform} app is registered yet.',
    addApp: 'Add one under IM apps',
  },
  'zh-CN': {
    app: 'IM 应用',
    noApp: '还没有登记{platform}应用。',
    addApp: '在 IM 应用中添加',
  },
});

export function ImAppField({
  platform,
  apps,
  value,
  onChange,
}: {
  platform: Platform;
  apps: ImApp[];
  value: ImApp | undefined;
  onChange: (app: ImApp | undefined) => void;
}) {
  const t = useT(strings);
  const names = useT(channelStrings);
  const appsOfPlatform = apps.filter((app) => app.type === platform);
  if (appsOfPlatform.length === 0)
    return (
      <p className="notice notice-info">
        {t('noApp', { platform: names(platform) })}{' '}
        <Link href={`/settings/im/new/${platform}`}>{t('addApp')}</Link>
      </p>
    );
  return (
    <label className="field">
      <span>{t('app')}</span>
      <select
        value={value?.id ?? ''}
        onChange={(event) => onChange(apps.find((app) => app.id === event.target.value))}
      >
        {appsOfPlatform.map((app) => (
          <option key={app.id} value={app.id}>
            {app.name}
          </option>
        ))}
      </select>
    </label>
  );
}
