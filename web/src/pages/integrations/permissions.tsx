// What the platform app must be granted, with the scope names exactly as the vendor console lists them
// (docs/integrations/<vendor>.md; Zadig's lists in the seed), and where to grant them.
import { defineStrings, useT } from '../../i18n';
import type { PlatformSpec } from './platforms';

const strings = defineStrings({
  en: { title: 'What the app needs in {vendor}' },
  'zh-CN': { title: '应用在{vendor}中需要的权限' },
});

/** `titled={false}` where the surrounding element already names it (a <details> summary). */
export function Permissions({ platform, titled = true }: { platform: PlatformSpec; titled?: boolean }) {
  const t = useT(strings);
  const tp = useT(platform.strings);
  const title = t('title', { vendor: tp('vendor') });
  return (
    <section className="integrations-permissions" aria-label={title}>
      {titled && <h2>{title}</h2>}
      <p>{tp(platform.permissionsWhere)}</p>
      {platform.permissions.map((group) => (
        <div key={group.title}>
          <h3>{tp(group.title)}</h3>
          {group.scopes && (
            <ul className="integrations-scopes">
              {group.scopes.map((scope) => (
                <li key={scope}>
                  <code>{scope}</code>
                </li>
              ))}
            </ul>
          )}
          {group.items && (
            <ul>
              {group.items.map((item) => (
                <li key={item}>{tp(item)}</li>
              ))}
            </ul>
          )}
        </div>
      ))}
    </section>
  );
}
