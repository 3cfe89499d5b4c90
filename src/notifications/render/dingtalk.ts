// DingTalk: custom group robot bodies (markdown with @mentions, or an actionCard with buttons) and the `msg`
// of a work notification (工作通知, topapi/message/corpconversation/asyncsend_v2).
//
// Formats: the robot `title` / `action_card.title` (shown in the chat list and the push notification) is
// plain text; the Markdown body escapes data as `dingtalk_md`. `message.custom.title` is plain text (it is
// escaped here for the Markdown heading); `message.custom.content` is `dingtalk_md` and replaces the facts.
import type { Mentions, NotificationMessage } from '../message.js';
import { byteLength, escapeText, oneLine, truncate } from './escape.js';
import {
  approvalLines,
  cleanMentions,
  customContent,
  detailLines,
  fitLevels,
  hasMentions,
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
import { labels, openInText, platformName } from './i18n.js';

/**
 * DingTalk refuses a robot body over 20000 bytes (errcode 460101 "body 大小不合法 … 请保持大小在 20000bytes
 * 以内", seen in public bug reports); keep room to spare.
 */
export const DINGTALK_ROBOT_MAX_BYTES = 19_000;
/** Work notification `msg`: no documented limit found; kept well below the robot's. */
export const DINGTALK_NOTICE_MAX_BYTES = 8_000;

/** `<font color>` takes a hex colour (named colours only work on the desktop client); no quotes. */
const COLOUR: Record<Tone, string> = {
  good: '#1f9d55',
  bad: '#d93026',
  warn: '#e8710a',
  muted: '#8c8c8c',
  info: '#3270e3',
};

const markup: Markup = {
  format: 'dingtalk_md',
  bold: (text) => `**${text}**`,
  link: (text, url) => `[${text}](${url})`,
  status: (status, text) => `<font color=${COLOUR[toneOf(status)]}>${text}</font>`,
};

/** Two trailing spaces make a line break on every client (a bare `\n` does not everywhere). */
const BREAK = '  \n';
const PARAGRAPH = '\n\n';

export type DingTalkAt = { atMobiles: string[]; atUserIds: string[]; isAtAll: boolean };
export type DingTalkRobotMarkdown = {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at: DingTalkAt;
};
export type DingTalkRobotActionCard = {
  msgtype: 'actionCard';
  actionCard: {
    title: string;
    text: string;
    btnOrientation: '0' | '1';
    btns: Array<{ title: string; actionURL: string }>;
  };
};
export type DingTalkWorkNotice = {
  msgtype: 'action_card';
  action_card: { title: string; markdown: string; single_title: string; single_url: string };
};

/**
 * `url` opened from a DingTalk message: inside DingTalk on phones and, with `pc_slide=false`, in the browser
 * on desktops (消息链接说明: dingtalk://dingtalkclient/page/link?url=<urlencoded>&pc_slide=…).
 */
export function dingtalkLink(url: string): string {
  return `dingtalk://dingtalkclient/page/link?url=${encodeURIComponent(url)}&pc_slide=false`;
}

/**
 * The robot body. With mentions: markdown, the people listed in `at` and named as `@<mobile>` / `@<userId>`
 * in the text (DingTalk highlights and notifies only when both are there). Without: an actionCard with a
 * "View run" button (and "Open in DingTalk" for a DingTalk approval).
 */
export function dingtalkRobotBody(
  message: NotificationMessage,
  mentions: Mentions,
  options: RenderOptions = {},
): DingTalkRobotMarkdown | DingTalkRobotActionCard {
  const people = cleanMentions(mentions);
  const title = plainTitle(message);
  const l = labels(message.language);
  const runUrl = safeUrl(message.run.url);
  const fits = (body: unknown) => byteLength(JSON.stringify(body)) <= DINGTALK_ROBOT_MAX_BYTES;

  if (hasMentions(people)) {
    const tail = [
      ...(runUrl ? [markup.link(escapeText('dingtalk_md', l.viewRun), runUrl)] : []),
      [...people.mobiles, ...people.ids].map((who) => `@${who}`).join(' '),
    ].filter(Boolean);
    const build = (limits: Limits, text = body(message, limits, options)): DingTalkRobotMarkdown => ({
      msgtype: 'markdown',
      markdown: { title, text: [text, ...tail].join(PARAGRAPH) },
      at: { atMobiles: people.mobiles, atUserIds: people.ids, isAtAll: people.all },
    });
    const result = fitLevels((limits) => build(limits), fits);
    if (fits(result)) return result;
    // The link and the mentions stay; the body gives way.
    const last = body(message, LAST, options);
    return build(LAST, cut(last, build(LAST, last), DINGTALK_ROBOT_MAX_BYTES));
  }

  const btns: DingTalkRobotActionCard['actionCard']['btns'] = [];
  if (runUrl) btns.push({ title: l.viewRun, actionURL: dingtalkLink(runUrl) });
  const vendorUrl = safeUrl(message.approval?.vendor_link);
  if (vendorUrl && message.approval)
    btns.push({
      title: openInText(message.language, platformName(message.language, message.approval.platform)),
      actionURL: dingtalkLink(vendorUrl),
    });
  const build = (limits: Limits): DingTalkRobotActionCard => ({
    msgtype: 'actionCard',
    actionCard: { title, text: body(message, limits, options), btnOrientation: '0', btns },
  });
  const result = fitLevels(build, fits);
  if (!fits(result)) result.actionCard.text = cut(result.actionCard.text, result, DINGTALK_ROBOT_MAX_BYTES);
  return result;
}

/** The `msg` of a work notification: an action card with one "View run" button. */
export function dingtalkWorkNotice(
  message: NotificationMessage,
  options: RenderOptions = {},
): DingTalkWorkNotice {
  const l = labels(message.language);
  const runUrl = safeUrl(message.run.url);
  const build = (limits: Limits): DingTalkWorkNotice => ({
    msgtype: 'action_card',
    action_card: {
      title: plainTitle(message),
      markdown: body(message, limits, options),
      single_title: l.viewRun,
      single_url: runUrl ? dingtalkLink(runUrl) : '',
    },
  });
  const fits = (msg: DingTalkWorkNotice) => byteLength(JSON.stringify(msg)) <= DINGTALK_NOTICE_MAX_BYTES;
  const result = fitLevels(build, fits);
  if (!fits(result))
    result.action_card.markdown = cut(result.action_card.markdown, result, DINGTALK_NOTICE_MAX_BYTES);
  return result;
}

const LAST: Limits = LEVELS[LEVELS.length - 1]!;

/** The title shown in the chat list and the push notification: plain text, one line. */
function plainTitle(message: NotificationMessage): string {
  return truncate(oneLine(titleOf(message)), 300);
}

/** The Markdown body: the title as a heading, then the author's content or the facts. */
function body(message: NotificationMessage, limits: Limits, options: RenderOptions): string {
  const heading = `#### ${markup.status(message.status, escapeText('dingtalk_md', truncate(titleOf(message), 400)))}`;
  const custom = customContent(message, 'dingtalk_md', BREAK);
  if (custom) return [heading, custom].join(PARAGRAPH);
  const blocks = [
    [...introLines(message, markup, limits, options), runLine(message, markup, limits)],
    detailLines(message, markup, limits),
    approvalLines(message, markup, limits),
    stageLines(message, markup, limits),
  ]
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join(BREAK));
  return [heading, ...blocks].join(PARAGRAPH);
}

/** `text` cut so that `whole` (which contains it) fits in `max` bytes of JSON. */
function cut(text: string, whole: unknown, max: number): string {
  const over = byteLength(JSON.stringify(whole)) - max;
  return truncateLines(text, Math.max(0, byteLength(text) - over * 2 - 64), BREAK);
}
