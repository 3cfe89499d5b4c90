// Escaping data for the places a renderer puts it. Every string in a NotificationMessage is data (a workflow
// name, a parameter, a job's failure reason, an approver's comment): whatever it contains, the reader must
// see it as written, never as markup, a link, a mention or a template.
//
// Per format:
// - `feishu_md` (card `markdown` element and `lark_md` text): HTML numeric character references. Feishu's
//   card Markdown page ("Markdown", section 支持的语法, table of 转义符) says that a character which hits
//   Markdown syntax must be written as an HTML entity `&#<number>;`, listing `&#42;` for `*`, `&#60;` for
//   `<`, `&#95;` for `_`, `&#96;` for a backtick, `&#91;`/`&#93;`, `&#40;`/`&#41;`, `&#35;`, `&#92;` … (the
//   page's `&sim;` for `~` is the mathematical ∼, so `~` uses the plain numeric `&#126;`).
//   https://open.feishu.cn/document/common-capabilities/message-card/message-cards-content/using-markdown-tags
//   Escaping `<` also disarms `<at id=…>`, `<font>`, `<a href>` and `<text_tag>`. `&` is escaped where it
//   would start a reference (`&#42;`, `&amp;`; `R&D` stays), `:` where it would open an emoji (`:OK:`), and
//   `-`, `+`, `1.` only at the start of the value, where they would start a list.
// - `dingtalk_md` and `wecom_md`: neither vendor documents any escape mechanism for its Markdown subset
//   (DingTalk: headings, quote, bold/italic, links, images, lists, `<font>`; WeCom: headings, bold, links,
//   inline code, quote, `<font color>`, `<@userid>`), and whether they decode HTML entities or honour
//   backslashes is not documented. So the syntax characters are replaced by their full-width forms
//   (`*` → `＊`, `<` → `＜`, `[` → `［` …), which no renderer parses and every reader reads as the same
//   character, in the message body and in plain places (a DingTalk `title`, a WeCom text message) alike.
//   A value that begins like a block (`# x`, `- x`, `1. x`, `+`, `=`) gets a zero-width space in front
//   of it (a heading or a list only starts at the very beginning of a line; `>` is replaced anyway).
// - `html`: `& < > " '` as entities, so it is safe in element content and in quoted attributes.
// - `plain`: unchanged.
//
// In every format but `plain`, line breaks (CR, LF, U+2028, U+2029) and tabs become spaces and other
// control characters are dropped: an escaped value is one line, so it cannot start a heading, a quote or a
// list on the next line.
import type { TextFormat } from '../message.js';

const FEISHU_ENTITIES: Record<string, string> = {
  '&': '&#38;',
  '<': '&#60;',
  '>': '&#62;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '(': '&#40;',
  ')': '&#41;',
  '#': '&#35;',
  '\\': '&#92;',
  $: '&#36;',
  '!': '&#33;',
  '-': '&#45;',
  '+': '&#43;',
  ':': '&#58;',
  '"': '&#34;',
  "'": '&#39;',
  '|': '&#124;',
  '.': '&#46;',
};

const FULL_WIDTH: Record<string, string> = {
  '&': '＆',
  '<': '＜',
  '>': '＞',
  '*': '＊',
  _: '＿',
  '~': '～',
  '`': '｀',
  '[': '［',
  ']': '］',
  '\\': '＼',
  '|': '｜',
};

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// `-` and `:` only matter in a few positions (a list item, an emoji `:OK:`); escaping them everywhere would
// make every date and URL five times longer, so Feishu gets them only where they can start syntax.
const FEISHU_PATTERN =
  /[<>*_~`[\]()#\\$!|"']|&(?=#?[A-Za-z0-9]+;)|:(?=[A-Za-z0-9_]+:)|(?<=^\s*)[-+]|(?<=^\s*\d+)\./g;
// `&` only where it would start a character reference (`R&D` stays as it is).
// `#` only starts a heading at the beginning of a line (see BLOCK_START), so `#12` stays as it is.
const FULL_WIDTH_PATTERN = /[<>*_~`[\]\\|]|&(?=#?[A-Za-z0-9]+;)/g;
const HTML_PATTERN = /[&<>"']/g;

const LINE_BREAKS = /\r\n|[\r\n\t\u2028\u2029\u0085]/g;
const ZERO_WIDTH_SPACE = '\u200b';
// What a line may start with to become a heading, a list item, a setext underline or a numbered list.
const BLOCK_START = /^\s*(?:[-+=#]|\d+[.)])/;

/** `value` as one line with control characters removed. */
export function oneLine(value: string): string {
  const line = value.replace(LINE_BREAKS, ' ');
  let kept = '';
  for (const char of line) if (!isControl(char.codePointAt(0)!)) kept += char;
  return kept;
}

/** C0/C1 controls (line breaks and tabs are handled before) and the bidi overrides that reverse text. */
function isControl(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * `value` escaped so that `format` shows it literally, as one line. For `plain` the value is returned as it
 * is (plain places do not interpret anything).
 */
export function escapeText(format: TextFormat, value: string): string {
  if (format === 'plain') return value;
  const line = oneLine(value);
  switch (format) {
    case 'feishu_md':
      return line.replace(FEISHU_PATTERN, (char) => FEISHU_ENTITIES[char[0]!] ?? char);
    case 'dingtalk_md':
    case 'wecom_md': {
      const text = line.replace(FULL_WIDTH_PATTERN, (char) => FULL_WIDTH[char] ?? char);
      return BLOCK_START.test(text) ? ZERO_WIDTH_SPACE + text : text;
    }
    case 'html':
      return line.replace(HTML_PATTERN, (char) => HTML_ENTITIES[char] ?? char);
  }
}

/**
 * Multi-line text (a custom content given as plain text) escaped line by line, the lines joined with
 * `lineBreak` (for html: `<br>`).
 */
export function escapeLines(format: TextFormat, value: string, lineBreak = '\n'): string {
  if (format === 'plain') return value;
  return value
    .split(/\r\n|[\r\n\u2028\u2029]/)
    .map((line) => escapeText(format, line))
    .join(format === 'html' ? '<br>' : lineBreak);
}

/** The UTF-8 size of `text` in bytes. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const ELLIPSIS = '…';
// An escape sequence or tag left open at the end of a cut: `&#4`, `&amp`, `<font colo`, `<@us`, a lone `\`.
const OPEN_SEQUENCE = /(?:&#?[A-Za-z0-9]*|<[^<>]*|\\)$/;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending with `…` when anything was cut. Never cuts inside a
 * character (a surrogate pair counts as one), an HTML character reference (`&#42;`, `&amp;`) or a tag
 * (`<font …>`, `<@id>`), and never leaves a trailing backslash that would escape the ellipsis.
 */
export function truncate(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  const room = maxBytes - byteLength(ELLIPSIS);
  if (room < 0) return '';
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = byteLength(char);
    if (used + size > room) break;
    used += size;
    end += char.length;
  }
  let kept = text.slice(0, end);
  const open = OPEN_SEQUENCE.exec(kept);
  // Only an opener that the full text closes later was cut in half; a bare `&` or `<` is left alone.
  if (open && open[0] !== '' && isCutSequence(open[0], text.slice(end))) kept = kept.slice(0, open.index);
  return kept + ELLIPSIS;
}

function isCutSequence(head: string, rest: string): boolean {
  if (head === '\\') return true;
  if (head.startsWith('&')) return /^&#?[A-Za-z0-9]+;/.test(head + rest);
  return /^[^<]*>/.test(rest);
}
