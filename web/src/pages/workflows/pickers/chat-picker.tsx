// Choosing the Feishu/Lark group chat a notification goes to: the groups the app's bot is in (only those
// can receive its messages), searchable by name or id.
import { useId, useState } from 'react';
import { api, segment } from '../../../api';
import { Avatar } from '../../../components/avatar';
import { ErrorNotice } from '../../../components/error-notice';
import { defineStrings, useT } from '../../../i18n';
import { usePoll } from '../../../poll';
import type { ImApp, ImChat } from '../types';

const strings = defineStrings({
  en: {
    legend: 'Group chat',
    filter: 'Search chats',
    loading: 'Loading the groups the bot is in…',
    scope: 'Lists the groups the app’s bot has been added to.',
    none: 'The bot is in no group yet. Add it in the group: 设置 (Settings) → 群机器人 (Bots) → 添加机器人 (Add bot), then look again (the list is cached for 5 minutes).',
    noMatch: 'No group the bot is in matches “{query}”.',
    chosen: 'Chosen: {name}',
  },
  'zh-CN': {
    legend: '群聊',
    filter: '搜索群聊',
    loading: '正在加载机器人所在的群…',
    scope: '列出应用机器人已加入的群。',
    none: '机器人还没有加入任何群。请在群里的 设置 → 群机器人 → 添加机器人 中添加，然后再查看（列表缓存 5 分钟）。',
    noMatch: '机器人所在的群中没有与“{query}”匹配的。',
    chosen: '已选：{name}',
  },
});

export function ChatPicker({
  app,
  value,
  onChange,
}: {
  app: ImApp;
  value: ImChat | undefined;
  onChange: (chat: ImChat) => void;
}) {
  const t = useT(strings);
  const group = useId();
  const [filter, setFilter] = useState('');
  const { data, error, loading } = usePoll(
    (signal) => api<{ chats: ImChat[] }>(`/api/im-apps/${segment(app.id)}/chats`, { signal }),
    [app.id],
  );
  const needle = filter.trim().toLowerCase();
  const chats = (data?.chats ?? []).filter(
    (chat) => !needle || chat.name.toLowerCase().includes(needle) || chat.id.toLowerCase().includes(needle),
  );

  return (
    <fieldset className="wf-picker">
      <legend>{t('legend')}</legend>
      <p className="hint wf-scope">{t('scope')}</p>
      {value && <p className="wf-chosen-chat">{t('chosen', { name: value.name })}</p>}
      <label className="field">
        <span>{t('filter')}</span>
        <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </label>
      <ErrorNotice error={error} />
      {loading && <p className="hint">{t('loading')}</p>}
      {data && data.chats.length === 0 && <p className="notice notice-info">{t('none')}</p>}
      {data && data.chats.length > 0 && chats.length === 0 && (
        <p className="notice notice-info">{t('noMatch', { query: filter.trim() })}</p>
      )}
      <ul className="plain-list wf-people">
        {chats.map((chat) => (
          <li key={chat.id}>
            <label className="wf-person">
              <input
                type="radio"
                name={group}
                checked={value?.id === chat.id}
                onChange={() => onChange(chat)}
              />
              <Avatar name={chat.name} src={chat.avatar ?? null} size={28} />
              <span className="wf-person-name">{chat.name}</span>
              <span className="wf-person-id">{chat.id}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
