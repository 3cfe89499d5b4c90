// A Feishu / Lark message drawn as the client shows it: an interactive card (header in its template colour,
// Markdown, fields, rules, notes, buttons), a text message, or a rich-text post. A render function, not a
// component: it returns undefined for kinds it does not draw, and the caller shows the raw JSON instead.
import type { ReactNode } from 'react';
import { defineStrings, useT } from '../../i18n';
import { list, record, text } from './json-reading';
import { LinkButton } from './link-button';
import { Markdown, type MentionOptions, PlainText, safeHref } from './markdown';
import type { MessageToDraw } from './message-to-draw';

const strings = defineStrings({
  en: {
    image: 'image',
    unsupportedElement: 'A “{tag}” element (not drawn here; see the raw message).',
    templateCard: 'A card built from a template in the card builder (not drawn here; see the raw message).',
  },
  'zh-CN': {
    image: '图片',
    unsupportedElement: '“{tag}”组件（此处不绘制，请查看原始消息）。',
    templateCard: '由卡片搭建工具模板生成的卡片（此处不绘制，请查看原始消息）。',
  },
});

/** Header colours a card may ask for (`header.template`); anything else is drawn as the default. */
const TEMPLATES = new Set([
  'blue',
  'wathet',
  'turquoise',
  'green',
  'yellow',
  'orange',
  'red',
  'carmine',
  'violet',
  'purple',
  'indigo',
  'grey',
]);

export function renderFeishuMessage({ kind, content, mentions }: MessageToDraw): ReactNode {
  const body = record(content);
  if (kind === 'interactive') return <FeishuCard card={body} mentions={mentions} />;
  if (kind === 'text')
    return (
      <div className="inbox-bubble">
        <PlainText text={text(body.text)} {...mentions} />
      </div>
    );
  if (kind === 'post') return <FeishuPost post={body} mentions={mentions} />;
  return undefined;
}

function FeishuCard({ card, mentions }: { card: Record<string, unknown>; mentions: MentionOptions }) {
  const t = useT(strings);
  if (card.type === 'template') return <p className="hint">{t('templateCard')}</p>;
  const header = record(card.header);
  const title = text(record(header.title).content);
  const template = TEMPLATES.has(text(header.template)) ? text(header.template) : 'default';
  // Card JSON 1.0 keeps `elements` at the top (or per language); 2.0 under `body`.
  const i18n = Object.values(record(card.i18n_elements))[0];
  const elements = list(card.elements ?? record(card.body).elements ?? i18n);
  return (
    <div className="inbox-card">
      {title && <h4 className={`inbox-card-header inbox-template-${template}`}>{title}</h4>}
      <div className="inbox-card-body">
        {elements.map((element, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a card's elements never move.
          <CardElement key={index} element={record(element)} mentions={mentions} />
        ))}
      </div>
    </div>
  );
}

/** A `plain_text` or `lark_md` text object. */
function CardText({ value, mentions }: { value: unknown; mentions: MentionOptions }) {
  const object = record(value);
  const content = text(object.content);
  if (object.tag === 'lark_md') return <Markdown text={content} {...mentions} />;
  return <p className="inbox-card-plain">{content}</p>;
}

function CardElement({ element, mentions }: { element: Record<string, unknown>; mentions: MentionOptions }) {
  const t = useT(strings);
  switch (element.tag) {
    case 'markdown':
      return <Markdown text={text(element.content)} {...mentions} />;
    case 'div': {
      const fields = list(element.fields).map(record);
      return (
        <div className="inbox-card-div">
          {element.text !== undefined && <CardText value={element.text} mentions={mentions} />}
          {fields.length > 0 && (
            <div className="inbox-card-fields">
              {fields.map((field, index) => (
                <div
                  // biome-ignore lint/suspicious/noArrayIndexKey: a card's fields never move.
                  key={index}
                  className={field.is_short ? 'inbox-card-field is-short' : 'inbox-card-field'}
                >
                  <CardText value={field.text} mentions={mentions} />
                </div>
              ))}
            </div>
          )}
        </div>
      );
    }
    case 'hr':
      return <hr />;
    case 'note':
      return (
        <div className="inbox-card-note">
          {list(element.elements)
            .map(record)
            .map((part, index) =>
              part.tag === 'img' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: a note's parts never move.
                <span key={index}>🖼 {t('image')}</span>
              ) : (
                // biome-ignore lint/suspicious/noArrayIndexKey: a note's parts never move.
                <CardText key={index} value={part} mentions={mentions} />
              ),
            )}
        </div>
      );
    case 'action':
      return (
        <div className="inbox-card-actions">
          {list(element.actions)
            .map(record)
            .map((action, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a card's buttons never move.
              <CardButton key={index} action={action} />
            ))}
        </div>
      );
    case 'img':
      return <p className="hint">🖼 {text(record(element.alt).content) || t('image')}</p>;
    case 'column_set':
      return (
        <div className="inbox-card-columns">
          {list(element.columns)
            .map(record)
            .map((column, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a card's columns never move.
              <div key={index} className="inbox-card-column">
                {list(column.elements).map((child, childIndex) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a column's elements never move.
                  <CardElement key={childIndex} element={record(child)} mentions={mentions} />
                ))}
              </div>
            ))}
        </div>
      );
    default:
      return <p className="hint">{t('unsupportedElement', { tag: text(element.tag) || '?' })}</p>;
  }
}

/** A button opens its URL (buttons that call the app back do nothing in the sandbox). */
function CardButton({ action }: { action: Record<string, unknown> }) {
  const url = text(action.url) || text(record(action.multi_url).url);
  return (
    <LinkButton label={text(record(action.text).content)} url={url} primary={action.type === 'primary'} />
  );
}

/** A rich-text post: `{zh_cn: {title, content: [[node…]…]}}`, maybe under `post` (custom bots). */
function FeishuPost({ post, mentions }: { post: Record<string, unknown>; mentions: MentionOptions }) {
  const t = useT(strings);
  const locales = record(post.post ?? post);
  const body = 'content' in locales ? locales : record(Object.values(locales)[0]);
  const title = text(body.title);
  return (
    <div className="inbox-bubble inbox-post">
      {title && <h4 className="inbox-post-title">{title}</h4>}
      {list(body.content).map((paragraph, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a post's paragraphs never move.
        <div key={index} className="inbox-post-line">
          {list(paragraph)
            .map(record)
            .map((node, nodeIndex) => {
              const key = String(nodeIndex);
              switch (node.tag) {
                case 'a': {
                  const href = safeHref(text(node.href));
                  return href ? (
                    <a key={key} href={href} target="_blank" rel="noopener noreferrer">
                      {text(node.text)}
                    </a>
                  ) : (
                    <span key={key}>{text(node.text)}</span>
                  );
                }
                case 'at': {
                  const id = text(node.user_id);
                  return (
                    <span key={key} className="inbox-mention">
                      @{mentions.mentionName?.(id) ?? (text(node.user_name) || id)}
                    </span>
                  );
                }
                case 'md':
                  return <Markdown key={key} text={text(node.text)} {...mentions} />;
                case 'img':
                case 'media':
                  return <span key={key}>🖼 {t('image')}</span>;
                default: {
                  const styles = list(node.style);
                  let content: ReactNode = text(node.text);
                  if (styles.includes('bold')) content = <strong>{content}</strong>;
                  if (styles.includes('italic')) content = <em>{content}</em>;
                  if (styles.includes('lineThrough')) content = <del>{content}</del>;
                  return <span key={key}>{content}</span>;
                }
              }
            })}
        </div>
      ))}
    </div>
  );
}
