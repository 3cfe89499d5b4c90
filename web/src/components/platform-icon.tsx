// Each IM platform's mark as a small coloured square with its initial (no vendor artwork is bundled).
export type Platform = 'feishu' | 'lark' | 'dingtalk' | 'wecom';

export const platformLabel: Record<Platform, string> = {
  feishu: 'Feishu 飞书',
  lark: 'Lark',
  dingtalk: 'DingTalk 钉钉',
  wecom: 'WeCom 企业微信',
};

const look: Record<Platform, { colour: string; letter: string }> = {
  feishu: { colour: '#3370ff', letter: '飞' },
  lark: { colour: '#00b8a9', letter: 'L' },
  dingtalk: { colour: '#0089ff', letter: '钉' },
  wecom: { colour: '#07c160', letter: '企' },
};

export function PlatformIcon({ platform, size = 20 }: { platform: string; size?: number }) {
  const known = look[platform as Platform];
  if (!known) return null;
  return (
    <span
      className="platform-icon"
      role="img"
      aria-label={platformLabel[platform as Platform]}
      title={platformLabel[platform as Platform]}
      style={{ background: known.colour, width: size, height: size, fontSize: size * 0.6 }}
    >
      {known.letter}
    </span>
  );
}
