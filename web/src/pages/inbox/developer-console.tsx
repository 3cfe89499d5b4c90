// What the fake vendor's own developer console shows for its demo app, labelled as that console labels it,
// so a newcomer can rehearse "Add IM app" by copying from it as from the real console. These are the fake's
// made-up credentials (the sandbox is a demo mode); no credential of a registered app is ever shown.
import { CopyButton } from '../../components/copy-button';
import { defineStrings, type Translate, useT } from '../../i18n';
import { Link } from '../../router';
import type { SandboxType, SandboxVendorState } from './sandbox-state';

const strings = defineStrings({
  en: {
    summary: 'Developer console of this fake',
    intro:
      'What the {platform} console shows for the demo app behind {app}. These are made-up credentials that only this fake accepts. To rehearse adding an IM app as you would with a real account, copy them into',
    addApp: 'IM apps → Add {platform} app',
    introEnd: ', with the API base below as the app’s API base.',
    feishuCredentials: 'Credentials & Basic Info (凭证与基础信息)',
    feishuEvents: 'Events & Callbacks → Encryption Strategy (事件与回调 → 加密策略)',
    dingtalkCredentials: 'Credentials & Basic Info (凭证与基础信息)',
    dingtalkEvents: 'Events & Callbacks (事件与回调)',
    wecomCompany: 'My Company → Company Info (我的企业 → 企业信息)',
    wecomApp: 'App Management → the app (应用管理)',
    wecomReceive: 'Receive Messages → API (接收消息 → 设置API接收)',
    fakeApi: 'This fake',
    apiBase: 'API base',
    apiBaseDingTalk: 'API base (api_base and oapi_base)',
    robots: 'Group robots',
    feishuRobot: 'Custom bot (自定义机器人)',
    feishuRobotIn: 'Custom bot (自定义机器人) in {chat}',
    dingtalkRobot: 'Custom robot (自定义机器人)',
    wecomRobot: 'Group robot (群机器人)',
    webhook: 'Webhook URL',
    feishuSecret: 'Signature verification secret (签名校验)',
    dingtalkSecret: 'Signing secret (加签)',
    copy: 'Copy {label}',
  },
  'zh-CN': {
    summary: '这个模拟平台的开发者后台',
    intro:
      '{platform}开发者后台中，{app} 背后演示应用的信息。这些是虚构的凭证，只有这个模拟平台接受。要像使用真实账号一样练习添加 IM 应用，把它们复制到',
    addApp: 'IM 应用 → 添加{platform}应用',
    introEnd: '，并把下面的 API 地址填为应用的 API 地址。',
    feishuCredentials: '凭证与基础信息',
    feishuEvents: '事件与回调 → 加密策略',
    dingtalkCredentials: '凭证与基础信息',
    dingtalkEvents: '事件与回调',
    wecomCompany: '我的企业 → 企业信息',
    wecomApp: '应用管理 → 自建应用',
    wecomReceive: '接收消息 → 设置API接收',
    fakeApi: '模拟平台',
    apiBase: 'API 地址',
    apiBaseDingTalk: 'API 地址（api_base 与 oapi_base）',
    robots: '群机器人',
    feishuRobot: '自定义机器人',
    feishuRobotIn: '自定义机器人（群聊 {chat}）',
    dingtalkRobot: '自定义机器人',
    wecomRobot: '群机器人',
    webhook: 'Webhook 地址',
    feishuSecret: '签名校验密钥',
    dingtalkSecret: '加签密钥',
    copy: '复制 {label}',
  },
});

type Key = keyof typeof strings.en;

/** The console's pages, in its order, and the name each gives a credential (keys as Signoff's fields). */
const consolePages: Record<SandboxType, { page: Key; fields: [field: string, label: string][] }[]> = {
  feishu: [
    {
      page: 'feishuCredentials',
      fields: [
        ['app_id', 'App ID'],
        ['app_secret', 'App Secret'],
      ],
    },
    {
      page: 'feishuEvents',
      fields: [
        ['encrypt_key', 'Encrypt Key'],
        ['verification_token', 'Verification Token'],
      ],
    },
  ],
  lark: [],
  dingtalk: [
    {
      page: 'dingtalkCredentials',
      fields: [
        ['app_key', 'AppKey (Client ID)'],
        ['app_secret', 'AppSecret (Client Secret)'],
        ['agent_id', 'AgentId'],
      ],
    },
    {
      page: 'dingtalkEvents',
      fields: [
        ['aes_key', '加密 aes_key'],
        ['token', '签名 token'],
      ],
    },
  ],
  wecom: [
    { page: 'wecomCompany', fields: [['corp_id', '企业ID (Corp ID)']] },
    {
      page: 'wecomApp',
      fields: [
        ['agent_id', 'AgentId'],
        ['secret', 'Secret'],
      ],
    },
    {
      page: 'wecomReceive',
      fields: [
        ['token', 'Token'],
        ['encoding_aes_key', 'EncodingAESKey'],
      ],
    },
  ],
};
// Lark's console is Feishu's, in English.
consolePages.lark = consolePages.feishu;

export function DeveloperConsole({ vendor }: { vendor: SandboxVendorState }) {
  const t = useT(strings);
  const { credentials, api_base, robots } = vendor.developer_console;
  const pages = consolePages[vendor.type] ?? [];
  const known = new Set(pages.flatMap((page) => page.fields.map(([field]) => field)));
  // A credential this page does not know a console name for is still shown, under its field name.
  const others = Object.keys(credentials).filter((field) => !known.has(field));
  return (
    <details className="card inbox-devconsole">
      <summary>{t('summary')}</summary>
      <p className="hint">
        {t('intro', { platform: vendor.label, app: vendor.im_app.name })}{' '}
        <Link href={`/settings/im/new/${vendor.type}`}>{t('addApp', { platform: vendor.label })}</Link>
        {t('introEnd')}
      </p>
      <ConsoleGroup
        title={t('fakeApi')}
        rows={[[vendor.type === 'dingtalk' ? t('apiBaseDingTalk') : t('apiBase'), api_base]]}
        t={t}
      />
      {pages.map((page) => (
        <ConsoleGroup
          key={page.page}
          title={t(page.page)}
          rows={page.fields
            .filter(([field]) => credentials[field] !== undefined)
            .map(([field, label]) => [label, credentials[field]!])}
          t={t}
        />
      ))}
      {others.length > 0 && (
        <ConsoleGroup title="" rows={others.map((field) => [field, credentials[field]!])} t={t} />
      )}
      {robots.length > 0 && (
        <>
          <h4>{t('robots')}</h4>
          {robots.map((robot) => (
            <ConsoleGroup
              key={robot.url}
              title={robotTitle(vendor.type, robot.chat, t)}
              namedInCopy
              rows={[
                [t('webhook'), robot.url],
                ...(robot.secret
                  ? [
                      [
                        vendor.type === 'dingtalk' ? t('dingtalkSecret') : t('feishuSecret'),
                        robot.secret,
                      ] as [string, string],
                    ]
                  : []),
              ]}
              t={t}
            />
          ))}
        </>
      )}
    </details>
  );
}

function robotTitle(type: SandboxType, chat: string | undefined, t: Translate<typeof strings.en>): string {
  if (type === 'dingtalk') return t('dingtalkRobot');
  if (type === 'wecom') return t('wecomRobot');
  return chat ? t('feishuRobotIn', { chat }) : t('feishuRobot');
}

function ConsoleGroup({
  title,
  rows,
  namedInCopy = false,
  t,
}: {
  title: string;
  rows: [label: string, value: string][];
  /** Copy buttons name the group too (several robots have the same rows). */
  namedInCopy?: boolean;
  t: Translate<typeof strings.en>;
}) {
  if (rows.length === 0) return null;
  return (
    <div className="inbox-devconsole-group">
      {title && <p className="inbox-label">{title}</p>}
      <dl>
        {rows.map(([label, value]) => (
          <div key={label} className="inbox-devconsole-row">
            <dt>{label}</dt>
            <dd>
              <code>{value}</code>
              <CopyButton
                value={value}
                label={t('copy', { label: namedInCopy ? `${title}: ${label}` : label })}
              />
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
