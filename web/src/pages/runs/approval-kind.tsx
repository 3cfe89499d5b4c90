// Where an approval is decided: a platform's approval app (its mark and name), or Signoff itself.
import { type Platform, PlatformIcon, platformLabel } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';

const strings = defineStrings({
  en: { native: 'Signoff (native)' },
  'zh-CN': { native: 'Signoff（内置审批）' },
});

export function ApprovalKind({ kind }: { kind: string }) {
  const t = useT(strings);
  const label = kind === 'native' ? t('native') : (platformLabel[kind as Platform] ?? kind);
  return (
    <span className="runs-kind">
      {kind !== 'native' && <PlatformIcon platform={kind} />}
      <span>{label}</span>
    </span>
  );
}
