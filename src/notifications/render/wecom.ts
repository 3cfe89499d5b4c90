// WeCom (企业微信): group robot bodies (webhook/send) and the body of an app message (message/send without
// touser/agentid). The Markdown is WeCom's first one (`markdown`, not `markdown_v2`, which cannot colour
// text or mention people): headings, bold, links, inline code, quotes, `<font color="info|comment|warning">`
// and `<@userid>` mentions; content ≤ 4096 bytes. A text message ≤ 2048 bytes (webhook doc 99110).
//
// Formats: data in the Markdown is escaped as `wecom_md`; the text message is plain.
// `message.custom.title` is plain text (escaped here for the Markdown heading); `message.custom.content` is
// `wecom_md` and replaces the facts.
import type { Mentions, NotificationMessage } from '../message.js';
import { byteLength, escapeText, oneLine, truncate } from './escape.js';
import {
  approvalLines,
  cleanMentions,
  customContent,
  detailLines,
  fitLevels,
  introLines,
  LEVELS,
  type Limits,
  type Markup,
  type RenderOptions,
  runLine,
  safeUrl,
  stageLines,
  type Tone,
  titleOf,
  toneOf,
  truncateLines,
} from './facts.js';
import { labels } from './i18n.js';

export const WECOM_MARKDOWN_MAX_BYTES = 4096;
export const WECOM_TEXT_MAX_BYTES = 2048;

/** The three colours WeCom Markdown has: info green, comment grey, warning orange-red. */
const COLOUR: Record<Tone, 'info' | 'comment' | 'warning'> = {
  good: 'info',
  bad: 'warning',
  warn: 'warning',
  muted: 'comment',
  info: 'comment',
};

const markup: Markup = {
  format: 'wecom_md',
  bold: (text) => `**${text}**`,
  link: (text, url) => `[${text}](${url})`,
  status: (status, text) => `<font color="${COLOUR[toneOf(status)]}">${text}</font>`,
};

export type WeComMarkdown = { msgtype: 'markdown'; markdown: { content: string } };
export type WeComText = {
  msgtype: 'text';
  text: { content: string; mentioned_list: string[]; mentioned_mobile_list: string[] };
};

/**
 * The robot bodies for `message`: the Markdown card (people with ids mentioned as `<@userid>` in it), and
 * a second, text message only when people must be reached by mobile or everyone (`@all`) is mentioned,
 * which only a text message can do.
 */
export function wecomRobotBodies(
  message: NotificationMessage,
  mentions: Mentions,
  options: RenderOptions = {},
): [WeComMarkdown] | [WeComMarkdown, WeComText] {
  const people = cleanMentions(mentions);
  const tags = people.ids.map((id) => `<@${id}>`).join(' ');
  const card: WeComMarkdown = {
    msgtype: 'markdown',
    markdown: { content: markdown(message, options, tags) },
  };
  if (people.mobiles.length === 0 && !people.all) return [card];
  const text: WeComText = {
    msgtype: 'text',
    text: {
      content: truncate(oneLine(titleOf(message)), WECOM_TEXT_MAX_BYTES),
      mentioned_list: people.all ? ['@all'] : [],
      mentioned_mobile_list: people.mobiles,
    },
  };
  return [card, text];
}

/** An app message body (`message/send`, the caller adds touser and agentid). */
export function wecomAppMessage(message: NotificationMessage, options: RenderOptions = {}): WeComMarkdown {
  return { msgtype: 'markdown', markdown: { content: markdown(message, options, '') } };
}

/** The Markdown content, at most 4096 bytes: the link and the mentions always stay. */
function markdown(message: NotificationMessage, options: RenderOptions, mentionTags: string): string {
  const l = labels(message.language);
  const runUrl = safeUrl(message.run.url);
  const tail = [runUrl ? markup.link(escapeText('wecom_md', l.viewRun), runUrl) : '', mentionTags]
    .filter(Boolean)
    .join('\n');
  const compose = (text: string) => (tail ? `${text}\n${tail}` : text);
  const fits = (text: string) => byteLength(text) <= WECOM_MARKDOWN_MAX_BYTES;
  const content = fitLevels((limits) => compose(body(message, limits, options)), fits);
  if (fits(content)) return content;
  const room = WECOM_MARKDOWN_MAX_BYTES - byteLength(compose(''));
  return compose(truncateLines(body(message, LEVELS[LEVELS.length - 1]!, options), Math.max(0, room)));
}

function body(message: NotificationMessage, limits: Limits, options: RenderOptions): string {
  const heading = `### ${escapeText('wecom_md', truncate(titleOf(message), 400))}`;
  const custom = customContent(message, 'wecom_md');
  if (custom) return `${heading}\n${custom}`;
  return [
    heading,
    ...introLines(message, markup, limits, options),
    runLine(message, markup, limits),
    ...detailLines(message, markup, limits),
    ...approvalLines(message, markup, limits),
    ...stageLines(message, markup, limits),
  ].join('\n');
}
