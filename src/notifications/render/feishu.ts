// Feishu / Lark interactive cards (message card JSON 1.0: `config`, `header`, `elements`), for the app's bot
// (im/v1 messages, content = JSON.stringify(card), ≤ 30 KB) and for custom bot webhooks
// ({msg_type:'interactive', card}, body ≤ 20 KB). Lark takes the same cards; only the "Open in …" button
// names the platform.
//
// Formats: the header and button texts are `plain_text` (shown as they are: the title is never escaped);
// everything else is card Markdown (`markdown` elements, `lark_md` fields) with data escaped as `feishu_md`.
// `message.custom.title` is plain text; `message.custom.content` is `feishu_md` (shown above the facts).
import type { Mentions, NotificationMessage } from '../message.js';
import { byteLength, truncate } from './escape.js';
import {
  approvalLines,
  cleanMentions,
  customContent,
  detailLines,
  esc,
  fitLevels,
  introLines,
  type Limits,
  type Markup,
  type RenderOptions,
  safeUrl,
  stageLines,
  type Tone,
  titleOf,
  toneOf,
  truncateLines,
} from './facts.js';
import {
  type ApprovalPlatform,
  formatDuration,
  labels,
  openInText,
  platformName,
  statusIcon,
  statusText,
} from './i18n.js';

/** App bot message content (JSON.stringify(card)): Feishu refuses more than 30 KB; keep 1 KB spare. */
export const FEISHU_CARD_MAX_BYTES = 29 * 1024;
/** Custom bot request body: at most 20 KB, and the sender adds `timestamp` and `sign`. */
export const FEISHU_WEBHOOK_MAX_BYTES = 19 * 1024;

/** Header colours (card 标题 `template`): green done, red error, orange warning, grey void, blue running. */
const TEMPLATE: Record<Tone, string> = {
  good: 'green',
  bad: 'red',
  warn: 'orange',
  muted: 'grey',
  info: 'blue',
};
/** `<font color>` in card Markdown takes green, red and grey. */
const FONT: Partial<Record<Tone, string>> = { good: 'green', bad: 'red', muted: 'grey' };

const markup: Markup = {
  format: 'feishu_md',
  bold: (text) => `**${text}**`,
  link: (text, url) => `[${text}](${url})`,
  status: (status, text) => {
    const colour = FONT[toneOf(status)];
    return colour ? `<font color='${colour}'>${text}</font>` : text;
  },
};

export interface PlainText {
  tag: 'plain_text';
  content: string;
}

export type FeishuElement =
  | { tag: 'markdown'; content: string }
  | { tag: 'div'; fields: Array<{ is_short: boolean; text: { tag: 'lark_md'; content: string } }> }
  | { tag: 'hr' }
  | {
      tag: 'action';
      actions: Array<{ tag: 'button'; text: PlainText; type: 'primary' | 'default'; url: string }>;
    };

export type FeishuCard = {
  config: { wide_screen_mode: true; update_multi: true };
  header: { title: PlainText; template: string };
  elements: FeishuElement[];
};

export type FeishuOptions = RenderOptions & { maxBytes?: number };

/**
 * The card for `message`. `platformLabel` (`Feishu` or `Lark`) names the app in the "Open in …" button of a
 * Feishu/Lark approval; it defaults to the approval's platform.
 */
export function feishuCard(
  message: NotificationMessage,
  mentions: Mentions,
  platformLabel?: string,
  options: FeishuOptions = {},
): FeishuCard {
  const max = options.maxBytes ?? FEISHU_CARD_MAX_BYTES;
  const size = (card: FeishuCard) => byteLength(JSON.stringify(card));
  const card = fitLevels(
    (limits) => buildCard(message, cleanMentions(mentions), platformLabel, options, limits),
    (built) => size(built) <= max,
  );
  return shrink(card, size, max);
}

/** A custom bot webhook body (`card`, not `content`), at most 20 KB with the signature. */
export function feishuWebhookBody(
  message: NotificationMessage,
  mentions: Mentions,
  platformLabel?: string,
  options: RenderOptions = {},
): { msg_type: 'interactive'; card: FeishuCard } {
  const envelope = byteLength(JSON.stringify({ msg_type: 'interactive', card: null })) - 4;
  const card = feishuCard(message, mentions, platformLabel, {
    ...options,
    maxBytes: FEISHU_WEBHOOK_MAX_BYTES - envelope,
  });
  return { msg_type: 'interactive', card };
}

function buildCard(
  message: NotificationMessage,
  mentions: Mentions,
  platformLabel: string | undefined,
  options: RenderOptions,
  limits: Limits,
): FeishuCard {
  const l = labels(message.language);
  const elements: FeishuElement[] = [];
  const markdown = (lines: string[]) => {
    if (lines.length > 0) elements.push({ tag: 'markdown', content: lines.join('\n') });
  };

  const custom = customContent(message, 'feishu_md');
  if (custom) markdown([custom]);

  // What waits for whom, then the people to ping; `<at id=all></at>` needs the group owner to allow it.
  const [waiting] = introLines(message, markup, limits, options).filter((line) => line.startsWith('⏳'));
  const ats = [
    ...mentions.ids.map((id) => `<at id=${id}></at>`),
    ...(mentions.all ? ['<at id=all></at>'] : []),
  ];
  markdown([...(waiting ? [waiting] : []), ...(ats.length > 0 ? [ats.join(' ')] : [])]);

  const fieldOf = (label: string, value: string) => ({
    is_short: true,
    text: { tag: 'lark_md' as const, content: `**${esc('feishu_md', label)}**\n${value}` },
  });
  const fields = [
    fieldOf(l.workflow, esc('feishu_md', message.workflow, limits.valueBytes)),
    fieldOf(
      l.run,
      `#${message.run.number} · ${statusIcon(message.status)} ${markup.status(
        message.status,
        esc('feishu_md', statusText(message.language, message.status)),
      )}`,
    ),
    fieldOf(l.startedBy, esc('feishu_md', message.run.triggered_by ?? l.system, limits.valueBytes)),
  ];
  if (message.run.duration_ms !== null)
    fields.push(
      fieldOf(l.duration, esc('feishu_md', formatDuration(message.language, message.run.duration_ms))),
    );
  elements.push({ tag: 'div', fields });

  markdown(detailLines(message, markup, limits));
  markdown(approvalLines(message, markup, limits));
  const stages = stageLines(message, markup, limits);
  if (stages.length > 0) markdown([`**${esc('feishu_md', l.stages)}**`, ...stages]);

  const actions: Extract<FeishuElement, { tag: 'action' }>['actions'] = [];
  const runUrl = safeUrl(message.run.url);
  if (runUrl) actions.push(button(l.viewRun, runUrl, 'primary'));
  const vendorUrl = safeUrl(message.approval?.vendor_link);
  if (vendorUrl && message.approval)
    actions.push(
      button(
        openInText(message.language, vendorName(message, message.approval.platform, platformLabel)),
        vendorUrl,
        'default',
      ),
    );
  if (actions.length > 0) elements.push({ tag: 'hr' }, { tag: 'action', actions });

  return {
    config: { wide_screen_mode: true, update_multi: true },
    header: {
      title: { tag: 'plain_text', content: truncate(titleOf(message), 400) },
      template: TEMPLATE[toneOf(message.status)],
    },
    elements,
  };
}

function button(text: string, url: string, type: 'primary' | 'default') {
  return { tag: 'button' as const, text: { tag: 'plain_text' as const, content: text }, type, url };
}

/** The platform named by the "Open in …" button: a Feishu/Lark approval follows the channel's label. */
function vendorName(
  message: NotificationMessage,
  platform: ApprovalPlatform,
  label: string | undefined,
): string {
  if ((platform === 'feishu' || platform === 'lark') && label) {
    const key = label.toLowerCase();
    if (key === 'feishu' || key === 'lark') return platformName(message.language, key);
    return label;
  }
  return platformName(message.language, platform);
}

/** Last resort when even the least detailed card is too big (a huge custom content): cut the longest text. */
function shrink(card: FeishuCard, size: (card: FeishuCard) => number, max: number): FeishuCard {
  for (let round = 0; round < 20 && size(card) > max; round++) {
    const over = size(card) - max;
    const longest = card.elements
      .filter((element): element is Extract<FeishuElement, { tag: 'markdown' }> => element.tag === 'markdown')
      .sort((a, b) => byteLength(b.content) - byteLength(a.content))[0];
    if (!longest || byteLength(longest.content) <= 16) break;
    // JSON escaping makes text bigger than its bytes, so cut a little more than the excess.
    longest.content = truncateLines(
      longest.content,
      Math.max(0, byteLength(longest.content) - over * 2 - 64),
    );
  }
  return card;
}
