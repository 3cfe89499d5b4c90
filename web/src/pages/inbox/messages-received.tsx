// What a fake received, newest first, each drawn as its platform shows it, with who it went to and when;
// "Show raw" opens the JSON the fake was sent.
import { useId, useState } from 'react';
import { defineStrings, type Translate, useFormat, useT } from '../../i18n';
import { renderDingTalkMessage } from './dingtalk-message';
import { renderFeishuMessage } from './feishu-message';
import { parseContent } from './json-reading';
import type { MentionOptions } from './markdown';
import type { MessageToDraw } from './message-to-draw';
import { personFinder, type SandboxMessage, type SandboxVendorState } from './sandbox-state';
import { TryIt } from './try-it';
import { renderWeComMessage } from './wecom-message';

const strings = defineStrings({
  en: {
    heading: 'Messages received ({count})',
    none: 'No message yet. Messages that Signoff sends to this fake (notification jobs and notify rules) appear here, as {platform} shows them.',
    toChat: 'Group chat {chat}',
    toFeishuPeople: 'Direct message to {people}',
    toDingTalkPeople: 'Work notification (工作通知) to {people}',
    toWeComPeople: 'App message (应用消息) to {people}',
    toFeishuBot: 'Custom bot (自定义机器人)',
    toFeishuBotIn: 'Custom bot (自定义机器人) in {chat}',
    toDingTalkRobot: 'Group custom robot (自定义机器人)',
    toWeComRobot: 'Group robot (群机器人)',
    nobody: 'nobody',
    updated: 'updated {ago}',
    showRaw: 'Show raw',
    hideRaw: 'Hide raw',
    notDrawn: 'This kind of message ({kind}) is not drawn here: see the raw message.',
    notJson: 'This message is not JSON: shown as received.',
    showOlder: 'Show {count} older',
    everyone: 'everyone',
  },
  'zh-CN': {
    heading: '收到的消息（{count}）',
    none: '还没有消息。Signoff 发给这个模拟平台的消息（通知任务和 notify 规则）会出现在这里，按{platform}的样子显示。',
    toChat: '群聊 {chat}',
    toFeishuPeople: '单聊消息，发给 {people}',
    toDingTalkPeople: '工作通知，发给 {people}',
    toWeComPeople: '应用消息，发给 {people}',
    toFeishuBot: '自定义机器人',
    toFeishuBotIn: '自定义机器人，群聊 {chat}',
    toDingTalkRobot: '群自定义机器人',
    toWeComRobot: '群机器人',
    nobody: '无人',
    updated: '{ago}更新',
    showRaw: '查看原始消息',
    hideRaw: '隐藏原始消息',
    notDrawn: '此类消息（{kind}）不在此绘制，请查看原始消息。',
    notJson: '此消息不是 JSON，按收到的原样显示。',
    showOlder: '再显示 {count} 条更早的',
    everyone: '所有人',
  },
});

const PAGE = 30;

export function MessagesReceived({ vendor }: { vendor: SandboxVendorState }) {
  const t = useT(strings);
  const [shown, setShown] = useState(PAGE);
  const headingId = useId();
  const newestFirst = vendor.messages
    .map((message, index) => ({ message, index }))
    .sort((a, b) => b.message.at.localeCompare(a.message.at) || b.index - a.index)
    .map(({ message }) => message);
  const findPerson = personFinder(vendor.people);
  const mentions: MentionOptions = {
    mentionName: (id) => (id === 'all' || id === '@all' ? t('everyone') : findPerson(id)?.name),
  };
  const older = newestFirst.length - shown;
  return (
    <section className="inbox-section" aria-labelledby={headingId}>
      <h3 id={headingId}>{t('heading', { count: vendor.messages.length })}</h3>
      {newestFirst.length === 0 ? (
        <div className="notice notice-info">
          <p>{t('none', { platform: vendor.label })}</p>
          <TryIt vendor={vendor} what="message" />
        </div>
      ) : (
        <ol className="plain-list inbox-messages">
          {newestFirst.slice(0, shown).map((message) => (
            <li key={message.id}>
              <MessageItem vendor={vendor} message={message} mentions={mentions} />
            </li>
          ))}
        </ol>
      )}
      {older > 0 && (
        <button type="button" onClick={() => setShown(shown + PAGE)}>
          {t('showOlder', { count: Math.min(older, PAGE) })}
        </button>
      )}
    </section>
  );
}

function MessageItem({
  vendor,
  message,
  mentions,
}: {
  vendor: SandboxVendorState;
  message: SandboxMessage;
  mentions: MentionOptions;
}) {
  const t = useT(strings);
  const { time, ago } = useFormat();
  const [raw, setRaw] = useState(false);
  const rawId = useId();
  const content = parseContent(message.content);
  const props: MessageToDraw = { kind: message.kind, content, mentions };
  const drawn =
    content === undefined
      ? undefined
      : vendor.type === 'dingtalk'
        ? renderDingTalkMessage(props)
        : vendor.type === 'wecom'
          ? renderWeComMessage(props)
          : renderFeishuMessage(props);
  const showRaw = raw || drawn === undefined;
  return (
    <article className="card inbox-message">
      <header className="inbox-message-meta">
        <span className="inbox-message-to">{recipient(vendor, message, t)}</span>
        <span className="hint">
          <time dateTime={message.at} title={time(message.at)}>
            {ago(message.at)}
          </time>
          {message.updated_at && <> · {t('updated', { ago: ago(message.updated_at) })}</>}
        </span>
        <code className="badge badge-muted">{message.kind}</code>
      </header>
      {drawn !== undefined ? (
        <div className="inbox-message-body">{drawn}</div>
      ) : (
        <p className="hint">{content === undefined ? t('notJson') : t('notDrawn', { kind: message.kind })}</p>
      )}
      {drawn !== undefined && (
        <button
          type="button"
          className="button-link inbox-raw-toggle"
          aria-expanded={raw}
          aria-controls={rawId}
          onClick={() => setRaw(!raw)}
        >
          {raw ? t('hideRaw') : t('showRaw')}
        </button>
      )}
      {showRaw && (
        <pre id={rawId} className="inbox-raw">
          {content === undefined ? message.content : JSON.stringify(content, null, 2)}
        </pre>
      )}
    </article>
  );
}

function recipient(
  vendor: SandboxVendorState,
  message: SandboxMessage,
  t: Translate<typeof strings.en>,
): string {
  const feishuLike = vendor.type === 'feishu' || vendor.type === 'lark';
  if (message.via === 'chat') {
    const chat = vendor.chats.find((candidate) => candidate.id === message.to);
    return t('toChat', { chat: chat?.name ?? message.to });
  }
  if (message.via === 'robot') {
    if (vendor.type === 'dingtalk') return t('toDingTalkRobot');
    if (vendor.type === 'wecom') return t('toWeComRobot');
    const hookId = message.to.replace(/^custom bot /, '');
    const robot = vendor.developer_console.robots.find((candidate) => candidate.url.endsWith(`/${hookId}`));
    return robot?.chat ? t('toFeishuBotIn', { chat: robot.chat }) : t('toFeishuBot');
  }
  const findPerson = personFinder(vendor.people);
  const ids = message.to.split(', ').filter(Boolean);
  const people = ids.map((id) => findPerson(id)?.name ?? id).join(', ') || t('nobody');
  if (feishuLike) return t('toFeishuPeople', { people });
  return vendor.type === 'dingtalk' ? t('toDingTalkPeople', { people }) : t('toWeComPeople', { people });
}
