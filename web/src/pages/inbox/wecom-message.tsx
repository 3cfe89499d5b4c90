// A WeCom message drawn as the client shows it: Markdown (with `<font color="info|comment|warning">` and
// `<@userid>` mentions), a text message (with `<a href>` links and the people it mentions), or a text card.
// App messages (应用消息) and group robot messages have the same bodies. A render function, not a
// component: it returns undefined for kinds it does not draw, and the caller shows the raw JSON instead.
import type { ReactNode } from 'react';
import { defineStrings, useT } from '../../i18n';
import { list, record, text } from './json-reading';
import { LinkButton } from './link-button';
import { Markdown, type MentionOptions, PlainText } from './markdown';
import type { MessageToDraw } from './message-to-draw';

const strings = defineStrings({
  en: { details: 'Details', everyone: 'everyone' },
  'zh-CN': { details: '详情', everyone: '所有人' },
});

export function renderWeComMessage({ kind, content, mentions }: MessageToDraw): ReactNode {
  const part = record(record(content)[kind]);
  switch (kind) {
    case 'markdown':
    case 'markdown_v2':
      return (
        <div className="inbox-bubble">
          <Markdown text={text(part.content)} {...mentions} />
        </div>
      );
    case 'text':
      return <WeComText part={part} mentions={mentions} />;
    case 'textcard':
      return <WeComTextCard part={part} />;
    default:
      return undefined;
  }
}

function WeComText({ part, mentions }: { part: Record<string, unknown>; mentions: MentionOptions }) {
  const t = useT(strings);
  const mentioned = [...list(part.mentioned_list), ...list(part.mentioned_mobile_list)].map(text);
  return (
    <div className="inbox-bubble">
      <PlainText text={text(part.content)} {...mentions} />
      {mentioned.length > 0 && (
        <p>
          {mentioned.map((id) => (
            <span key={id} className="inbox-mention">
              @{id === '@all' ? t('everyone') : (mentions.mentionName?.(id) ?? id)}{' '}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}

/** A text card: title, a description whose `<div class="gray|normal|highlight">` lines become lines. */
function WeComTextCard({ part }: { part: Record<string, unknown> }) {
  const t = useT(strings);
  const description = text(part.description)
    .replace(/<div[^>]*>/gi, '')
    .replace(/<\/div>/gi, '\n')
    .trim();
  return (
    <div className="inbox-card">
      <h4 className="inbox-card-header inbox-template-default">{text(part.title)}</h4>
      <div className="inbox-card-body">
        <PlainText text={description} />
        <LinkButton label={text(part.btntxt) || t('details')} url={text(part.url)} />
      </div>
    </div>
  );
}
