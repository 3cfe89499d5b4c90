// A DingTalk message drawn as the client shows it: a robot's markdown / actionCard / text / link / feedCard,
// or a work notification's (工作通知) markdown / action_card / text / link / oa. The robot's `at` list says
// which `@<mobile|userid>` in the text are mentions. A render function, not a component: it returns
// undefined for kinds it does not draw, and the caller shows the raw JSON instead.
import type { ReactNode } from 'react';
import { defineStrings, useT } from '../../i18n';
import { list, record, text } from './json-reading';
import { LinkButton } from './link-button';
import { Markdown, type MentionOptions, PlainText, safeHref } from './markdown';
import type { MessageToDraw } from './message-to-draw';

const strings = defineStrings({
  en: {
    preview: 'Shown in the chat list as: {title}',
    everyone: '@everyone',
    open: 'Open',
  },
  'zh-CN': {
    preview: '会话列表中显示为：{title}',
    everyone: '@所有人',
    open: '打开',
  },
});

interface Button {
  title: string;
  url: string;
}

export function renderDingTalkMessage({ kind, content, mentions }: MessageToDraw): ReactNode {
  const body = record(content);
  const part = record(body[kind]);
  const at = record(body.at);
  const withAt: MentionOptions = {
    ...mentions,
    plainMentions: [...list(at.atMobiles), ...list(at.atUserIds)].map(text).filter(Boolean),
  };
  const everyone = at.isAtAll === true;
  switch (kind) {
    case 'markdown':
      return (
        <DingTalkCard title={text(part.title)} everyone={everyone}>
          <Markdown text={text(part.text)} {...withAt} />
        </DingTalkCard>
      );
    case 'actionCard': {
      const buttons: Button[] = part.singleURL
        ? [{ title: text(part.singleTitle), url: text(part.singleURL) }]
        : list(part.btns)
            .map(record)
            .map((button) => ({ title: text(button.title), url: text(button.actionURL) }));
      return (
        <DingTalkCard title={text(part.title)} buttons={buttons} vertical={part.btnOrientation !== '1'}>
          <Markdown text={text(part.text)} {...withAt} />
        </DingTalkCard>
      );
    }
    case 'action_card': {
      const buttons: Button[] = part.single_url
        ? [{ title: text(part.single_title), url: text(part.single_url) }]
        : list(part.btn_json_list)
            .map(record)
            .map((button) => ({ title: text(button.title), url: text(button.action_url) }));
      return (
        <DingTalkCard title={text(part.title)} buttons={buttons} vertical={part.btn_orientation !== '1'}>
          <Markdown text={text(part.markdown)} {...withAt} />
        </DingTalkCard>
      );
    }
    case 'text':
      return (
        <DingTalkCard everyone={everyone}>
          <PlainText text={text(part.content)} {...withAt} />
        </DingTalkCard>
      );
    case 'link':
      return (
        <LinkCard
          title={text(part.title)}
          description={text(part.text)}
          url={text(part.messageUrl ?? part.messageURL)}
        />
      );
    case 'feedCard':
      return (
        <div className="inbox-feed">
          {list(part.links)
            .map(record)
            .map((item, index) => (
              <LinkCard
                // biome-ignore lint/suspicious/noArrayIndexKey: a feed's links never move.
                key={index}
                title={text(item.title)}
                url={text(item.messageURL ?? item.messageUrl)}
              />
            ))}
        </div>
      );
    case 'oa':
      return <OaCard oa={part} />;
    default:
      return undefined;
  }
}

function DingTalkCard({
  title,
  buttons = [],
  vertical = true,
  everyone = false,
  children,
}: {
  title?: string;
  buttons?: Button[];
  vertical?: boolean;
  everyone?: boolean;
  children: ReactNode;
}) {
  const t = useT(strings);
  return (
    <div className="inbox-bubble">
      {title && <p className="inbox-preview">{t('preview', { title })}</p>}
      {children}
      {everyone && <p className="inbox-mention">{t('everyone')}</p>}
      {buttons.length > 0 && (
        <div className={vertical ? 'inbox-card-actions is-vertical' : 'inbox-card-actions'}>
          {buttons.map((button, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a card's buttons never move.
            <LinkButton key={index} label={button.title} url={button.url} />
          ))}
        </div>
      )}
    </div>
  );
}

function LinkCard({ title, description, url }: { title: string; description?: string; url: string }) {
  const t = useT(strings);
  const href = safeHref(url);
  return (
    <div className="inbox-link-card">
      <strong>{title}</strong>
      {description && <p>{description}</p>}
      {href && (
        <a href={href} target="_blank" rel="noopener noreferrer">
          {t('open')}
        </a>
      )}
    </div>
  );
}

/** A work notification's OA message: a coloured head, a title, key–value rows and content. */
function OaCard({ oa }: { oa: Record<string, unknown> }) {
  const head = record(oa.head);
  const body = record(oa.body);
  const href = safeHref(text(oa.message_url));
  return (
    <div className="inbox-card">
      <h4 className="inbox-card-header inbox-template-blue">{text(head.text)}</h4>
      <div className="inbox-card-body">
        {text(body.title) && <strong>{text(body.title)}</strong>}
        <dl className="inbox-oa-form">
          {list(body.form)
            .map(record)
            .map((row, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a form's rows never move.
              <div key={index}>
                <dt>{text(row.key)}</dt>
                <dd>{text(row.value)}</dd>
              </div>
            ))}
        </dl>
        {text(body.content) && <PlainText text={text(body.content)} />}
        {href && (
          <a href={href} target="_blank" rel="noopener noreferrer">
            {href}
          </a>
        )}
      </div>
    </div>
  );
}
