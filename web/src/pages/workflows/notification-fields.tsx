// The notification part of the form editor: the channel, and where it goes (a group chat picked from the
// bot's groups, people from the address book, a robot's webhook URL, or mail addresses).
import { defineStrings, useT } from '../../i18n';
import type { NotificationDraft } from './build-job';
import { appChannels, type Channel, channelStrings, channels } from './channels';
import { ImAppField } from './im-app-field';
import { InputField } from './input-field';
import { ApproverPicker } from './pickers/approver-picker';
import { ChatPicker } from './pickers/chat-picker';
import type { ImApp } from './types';

export const notificationStrings = defineStrings({
  en: {
    channel: 'Channel',
    recipients: 'Recipients',
    url: 'Webhook URL',
    urlHelp:
      'A webhook URL is a credential: keep it in a secret and write {{ secrets.<name> }} here (see docs/notifications.md).',
    secret: 'Signing secret (optional)',
    secretHelp:
      'The 加签 / 签名校验 secret from the robot’s security settings, best as {{ secrets.<name> }}.',
    mailTo: 'Email addresses',
    mailHelp: 'Separated by commas or spaces; each gets its own mail.',
    title: 'Title (optional)',
    content: 'Message (optional)',
    messageHelp:
      'Without them Signoff writes a summary of the run. Templates: {{ params.version }}, {{ run.url }}.',
  },
  'zh-CN': {
    channel: '通知渠道',
    recipients: '接收人',
    url: 'Webhook 地址',
    urlHelp:
      'Webhook 地址相当于凭证：请存入密钥，并在此填写 {{ secrets.<名称> }}（见 docs/notifications.md）。',
    secret: '签名密钥（可选）',
    secretHelp: '机器人安全设置中的 加签 / 签名校验 密钥，建议写成 {{ secrets.<名称> }}。',
    mailTo: '邮箱地址',
    mailHelp: '用逗号或空格分隔；每人单独收到一封邮件。',
    title: '标题（可选）',
    content: '消息内容（可选）',
    messageHelp: '不填写时 Signoff 会生成运行摘要。支持模板：{{ params.version }}、{{ run.url }}。',
  },
});

export function NotificationFields({
  draft,
  setDraft,
  apps,
}: {
  draft: NotificationDraft;
  setDraft: (draft: NotificationDraft) => void;
  apps: ImApp[];
}) {
  const t = useT(notificationStrings);
  const names = useT(channelStrings);
  const platform = appChannels[draft.channel];
  const chooseChannel = (channel: Channel) => {
    // The app goes back to "the first of this platform" (the form fills it in).
    setDraft({ ...draft, channel, app: undefined, chat: undefined, people: [] });
  };

  return (
    <>
      <label className="field">
        <span>{t('channel')}</span>
        <select value={draft.channel} onChange={(event) => chooseChannel(event.target.value as Channel)}>
          {channels.map((channel) => (
            <option key={channel} value={channel}>
              {names(channel)}
            </option>
          ))}
        </select>
      </label>

      {platform && (
        <ImAppField
          platform={platform}
          apps={apps}
          value={draft.app}
          onChange={(app) => setDraft({ ...draft, app, chat: undefined, people: [] })}
        />
      )}

      {(draft.channel === 'feishu_app' || draft.channel === 'lark_app') && draft.app && (
        <ChatPicker
          key={draft.app.id}
          app={draft.app}
          value={draft.chat}
          onChange={(chat) => setDraft({ ...draft, chat })}
        />
      )}
      {(draft.channel === 'dingtalk_app' || draft.channel === 'wecom_app') && draft.app && (
        <ApproverPicker
          key={draft.app.id}
          app={draft.app}
          legend={t('recipients')}
          value={draft.people}
          onChange={(people) => setDraft({ ...draft, people })}
        />
      )}

      {!platform && draft.channel !== 'mail' && (
        <>
          <InputField
            label={t('url')}
            value={draft.url}
            onChange={(url) => setDraft({ ...draft, url })}
            placeholder="{{ secrets.ops_hook }}"
            autoComplete="off"
            help={t('urlHelp')}
          />
          {draft.channel !== 'wecom_robot' && (
            <InputField
              label={t('secret')}
              value={draft.secret}
              onChange={(secret) => setDraft({ ...draft, secret })}
              autoComplete="off"
              help={t('secretHelp')}
            />
          )}
        </>
      )}
      {draft.channel === 'mail' && (
        <InputField
          label={t('mailTo')}
          value={draft.mailTo}
          onChange={(mailTo) => setDraft({ ...draft, mailTo })}
          help={t('mailHelp')}
        />
      )}

      <InputField
        label={t('title')}
        value={draft.title}
        onChange={(title) => setDraft({ ...draft, title })}
      />
      <label className="field">
        <span>{t('content')}</span>
        <textarea
          rows={3}
          value={draft.content}
          onChange={(event) => setDraft({ ...draft, content: event.target.value })}
        />
        <small>{t('messageHelp')}</small>
      </label>
    </>
  );
}
