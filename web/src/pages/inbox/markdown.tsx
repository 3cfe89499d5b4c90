// One small Markdown renderer for the messages the fakes received (Feishu/Lark card Markdown, DingTalk and
// WeCom Markdown), and a plain-text one for text messages. It builds React elements only: every character
// that is not recognised syntax is shown as text, so a message can never inject markup into the console.
//
// Block syntax: headings, paragraphs (each line break kept, as the IM apps show them), quotes, lists,
// rules, fenced code. Inline: bold, italic, strike, code, links and images (http/https only; DingTalk's
// dingtalk://dingtalkclient/page/link?url=… is opened as the page it wraps), `<font color>`, `<br>`,
// mentions (Feishu `<at id=…></at>`, WeCom `<@userid>`, DingTalk `@<mobile|userid>` listed in `at`),
// HTML character references (Feishu escapes data as `&#60;`) and backslash escapes.
import type { ReactNode } from 'react';

export interface MentionOptions {
  /** The name to show for a mentioned id (`all` for everyone); undefined shows the id. */
  mentionName?: (id: string) => string | undefined;
  /** DingTalk: the mobiles and userids listed in the message's `at`, written as `@<id>` in its text. */
  plainMentions?: readonly string[];
}

interface Context extends MentionOptions {
  rules: Rule[];
  /** A counter for React keys, unique within one rendered message. */
  next: () => string;
}

/** The renderer for one syntax element at the current position: a node, decoded text, or no match. */
interface Rule {
  pattern: RegExp;
  render: (match: RegExpExecArray, context: Context, before: string) => ReactNode | undefined;
}

export function Markdown({ text, ...options }: { text: string } & MentionOptions) {
  const context = makeContext(markdownRules, options);
  return <div className="inbox-md">{blocks(text, context)}</div>;
}

/** A text message: only line breaks, mentions and (WeCom) `<a href>` links mean anything. */
export function PlainText({ text, ...options }: { text: string } & MentionOptions) {
  const context = makeContext(textRules, options);
  return (
    <div className="inbox-md inbox-text">{lines(text.replace(/\r\n?/g, '\n').split('\n'), context)}</div>
  );
}

function makeContext(rules: Rule[], options: MentionOptions): Context {
  let counter = 0;
  return { ...options, rules, next: () => String(counter++) };
}

/** `raw` as a link target when it is http(s), else undefined (never javascript:, data:, relative …). */
export function safeHref(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  let url = raw.trim();
  const wrapped = /^dingtalk:\/\/dingtalkclient\/page\/link\?(.*)$/i.exec(url);
  if (wrapped) url = new URLSearchParams(wrapped[1]).get('url') ?? '';
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

// ---- blocks ----

const FENCE = /^\s{0,3}(```|~~~)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const BLANK = /^\s*$/;

function blocks(source: string, context: Context): ReactNode[] {
  const all = source.replace(/\r\n?/g, '\n').split('\n');
  const out: ReactNode[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(<p key={context.next()}>{lines(paragraph, context)}</p>);
    paragraph = [];
  };
  let index = 0;
  while (index < all.length) {
    const line = all[index]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      index++;
      while (index < all.length && !all[index]!.trim().startsWith(fence[1]!)) body.push(all[index++]!);
      index++;
      out.push(
        <pre key={context.next()} className="inbox-md-code">
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    if (BLANK.test(line)) {
      flush();
      index++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      out.push(headingOf(heading[1]!.length, inline(heading[2]!, context), context.next()));
      index++;
      continue;
    }
    if (RULE.test(line)) {
      flush();
      out.push(<hr key={context.next()} />);
      index++;
      continue;
    }
    if (QUOTE.test(line)) {
      flush();
      const quoted: string[] = [];
      for (let match = QUOTE.exec(line); match; match = QUOTE.exec(all[index] ?? '')) {
        quoted.push(match[1]!);
        index++;
      }
      out.push(<blockquote key={context.next()}>{blocks(quoted.join('\n'), context)}</blockquote>);
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = NUMBERED.exec(line);
    if (bullet || numbered) {
      flush();
      const pattern = bullet ? BULLET : NUMBERED;
      const items: ReactNode[] = [];
      for (let match = pattern.exec(line); match; match = pattern.exec(all[index] ?? '')) {
        const content = match[match.length - 1]!;
        items.push(<li key={context.next()}>{inline(content, context)}</li>);
        index++;
      }
      out.push(
        bullet ? (
          <ul key={context.next()}>{items}</ul>
        ) : (
          <ol key={context.next()} start={Number(numbered![1])}>
            {items}
          </ol>
        ),
      );
      continue;
    }
    paragraph.push(line);
    index++;
  }
  flush();
  return out;
}

/** Message headings sit under the page's h1–h3: `#` is an h4, `##` an h5, deeper ones h6. */
function headingOf(level: number, children: ReactNode[], key: string): ReactNode {
  const className = `inbox-md-h${level}`;
  if (level === 1)
    return (
      <h4 key={key} className={className}>
        {children}
      </h4>
    );
  if (level === 2)
    return (
      <h5 key={key} className={className}>
        {children}
      </h5>
    );
  return (
    <h6 key={key} className={className}>
      {children}
    </h6>
  );
}

/** Lines of one paragraph: each line break is kept (two trailing spaces, DingTalk's break, too). */
function lines(texts: string[], context: Context): ReactNode[] {
  const out: ReactNode[] = [];
  texts.forEach((text, index) => {
    if (index > 0) out.push(<br key={context.next()} />);
    out.push(...inline(text.replace(/\s+$/, ''), context));
  });
  return out;
}

// ---- inline ----

/** Characters where some rule may start; any other character is text at once. */
const STARTERS = new Set(['\\', '&', '`', '!', '[', '*', '_', '~', '<', '@']);

function inline(text: string, context: Context): ReactNode[] {
  const out: ReactNode[] = [];
  let buffer = '';
  let at = 0;
  const flush = () => {
    if (buffer) out.push(buffer);
    buffer = '';
  };
  scan: while (at < text.length) {
    const char = text[at]!;
    if (STARTERS.has(char)) {
      for (const rule of context.rules) {
        rule.pattern.lastIndex = at;
        const match = rule.pattern.exec(text);
        if (!match) continue;
        const node = rule.render(match, context, text.slice(0, at));
        if (node === undefined) continue;
        if (typeof node === 'string') buffer += node;
        else {
          flush();
          out.push(node);
        }
        at += match[0].length;
        continue scan;
      }
    }
    buffer += char;
    at++;
  }
  flush();
  return out;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

function decodeEntity(match: RegExpExecArray): string {
  const code = match[1] ? Number(match[1]) : match[2] ? Number.parseInt(match[2], 16) : undefined;
  if (code === undefined) return NAMED_ENTITIES[match[3]!] ?? match[0];
  const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
  return valid ? String.fromCodePoint(code) : match[0];
}

/** Colours a message may use: WeCom's three names, Feishu's names, and hex colours (DingTalk). */
const COLOURS: Record<string, string> = {
  info: '#15803d',
  comment: '#6b7280',
  warning: '#c2410c',
  green: '#15803d',
  red: '#b91c1c',
  grey: '#6b7280',
  gray: '#6b7280',
  blue: '#1d4ed8',
  orange: '#c2410c',
  yellow: '#a16207',
  purple: '#7e22ce',
  violet: '#6d28d9',
  carmine: '#be123c',
  turquoise: '#0f766e',
  wathet: '#0369a1',
  indigo: '#4338ca',
};

function colourOf(name: string): string | undefined {
  if (/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(name)) return name;
  return COLOURS[name.toLowerCase()];
}

function mention(id: string, label: string | undefined, context: Context): ReactNode {
  const name = context.mentionName?.(id) ?? (label?.trim() || id);
  return (
    <span key={context.next()} className="inbox-mention">
      @{name}
    </span>
  );
}

function link(href: string | undefined, children: ReactNode[], context: Context): ReactNode {
  if (!href) return <span key={context.next()}>{children}</span>;
  return (
    <a key={context.next()} href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

const escapeRule: Rule = { pattern: /\\([\\`*_{}[\]()#+\-.!<>~|@])/y, render: (match) => match[1] };
const entityRule: Rule = {
  pattern: /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos|nbsp));/y,
  render: decodeEntity,
};
const feishuAtRule: Rule = {
  pattern: /<at\s+(?:id|user_id|open_id|email)\s*=\s*(["']?)([^"'\s>]+)\1\s*>([^<]*)<\/at>/iy,
  render: (match, context) => mention(match[2]!, match[3], context),
};
const anchorRule: Rule = {
  pattern: /<a\s+href\s*=\s*(["'])([^"']*)\1\s*>(.*?)<\/a>/iy,
  render: (match, context) => link(safeHref(match[2]), inline(match[3]!, context), context),
};
const plainMentionRule: Rule = {
  pattern: /@([^\s@]+)/y,
  render: (match, context, before) =>
    context.plainMentions?.includes(match[1]!) && !/[A-Za-z0-9]$/.test(before)
      ? mention(match[1]!, undefined, context)
      : undefined,
};

const markdownRules: Rule[] = [
  escapeRule,
  entityRule,
  {
    pattern: /(`+)(.+?)\1(?!`)/y,
    render: (match, context) => <code key={context.next()}>{match[2]}</code>,
  },
  {
    pattern: /!\[([^\]]*)\]\(\s*([^()\s]+)\s*\)/y,
    render: (match, context) => link(safeHref(match[2]), [`🖼 ${match[1] || 'image'}`], context),
  },
  {
    pattern: /\[((?:[^[\]]|\[[^\]]*\])+)\]\(\s*([^()\s]+(?:\([^()\s]*\)[^()\s]*)*)(?:\s+"[^"]*")?\s*\)/y,
    render: (match, context) => link(safeHref(match[2]), inline(match[1]!, context), context),
  },
  {
    pattern: /(\*\*|__)(?=\S)(.+?)\1/y,
    render: (match, context) => <strong key={context.next()}>{inline(match[2]!, context)}</strong>,
  },
  {
    pattern: /~~(?=\S)(.+?)~~/y,
    render: (match, context) => <del key={context.next()}>{inline(match[1]!, context)}</del>,
  },
  {
    // `_` inside a word (snake_case) is not emphasis.
    pattern: /([*_])(?=[^\s*_])(.+?)\1(?![A-Za-z0-9])/y,
    render: (match, context, before) =>
      match[1] === '_' && /[A-Za-z0-9]$/.test(before) ? undefined : (
        <em key={context.next()}>{inline(match[2]!, context)}</em>
      ),
  },
  {
    pattern: /<font\s+color\s*=\s*(["']?)([#\w-]+)\1\s*>(.*?)<\/font>/iy,
    render: (match, context) => {
      const colour = colourOf(match[2]!);
      return (
        <span key={context.next()} style={colour ? { color: colour } : undefined}>
          {inline(match[3]!, context)}
        </span>
      );
    },
  },
  feishuAtRule,
  { pattern: /<@([^<>\s]+)>/y, render: (match, context) => mention(match[1]!, undefined, context) },
  { pattern: /<br\s*\/?>/iy, render: (_match, context) => <br key={context.next()} /> },
  anchorRule,
  plainMentionRule,
];

const textRules: Rule[] = [feishuAtRule, anchorRule, plainMentionRule];
