// A small, strict reader for the XML WeCom sends: nested elements without attributes, whose text is plain
// or CDATA. Anything else (DOCTYPE, entity declarations, processing instructions past the XML declaration,
// comments, attributes with external meaning) is refused: no general-purpose parser, so no XXE and no
// entity expansion, and every rejection is a 4xx AppError that names the defect, never the content.
import { AppError } from '../../errors.js';

export interface XmlElement {
  name: string;
  /** Child elements in document order (repeated names stay separate: SpRecord, Details, Notifyer). */
  children: XmlElement[];
  /** Text and CDATA of this element itself, concatenated; whitespace-only text between children is dropped. */
  text: string;
}

const MAX_DEPTH = 32;
const MAX_ELEMENTS = 10_000;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function refuse(message: string): never {
  throw new AppError('bad_request', `XML body: ${message}`);
}

/** Parses one document whose root is an element (WeCom's is always `<xml>`). */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  let elements = 0;
  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos++;
  };

  // An optional XML declaration, then only the root element.
  if (source.charCodeAt(0) === 0xfeff) pos = 1;
  skipSpace();
  if (source.startsWith('<?xml', pos)) {
    const end = source.indexOf('?>', pos);
    if (end < 0) refuse('unterminated XML declaration');
    pos = end + 2;
    skipSpace();
  }

  const decodeText = (raw: string): string =>
    raw.replace(/&([^;&\s]{0,10});|&/g, (match, name: string | undefined) => {
      if (name === undefined) refuse('a bare & in text');
      if (name in PREDEFINED) return PREDEFINED[name]!;
      const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
      if (numeric) {
        const code = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
        if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
          refuse('an invalid character reference');
        return String.fromCodePoint(code);
      }
      return refuse(`an undeclared entity reference (&${match.slice(1, 12)})`);
    });

  const readElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) refuse(`nesting deeper than ${MAX_DEPTH} levels`);
    if (++elements > MAX_ELEMENTS) refuse(`more than ${MAX_ELEMENTS} elements`);
    if (source[pos] !== '<') refuse(`expected an element at offset ${pos}`);
    const close = source.indexOf('>', pos);
    if (close < 0) refuse('unterminated tag');
    let tag = source.slice(pos + 1, close);
    pos = close + 1;
    const selfClosing = tag.endsWith('/');
    if (selfClosing) tag = tag.slice(0, -1);
    const name = tag.trimEnd();
    if (!NAME.test(name)) {
      if (/^[!?]/.test(name)) refuse('DOCTYPE, comments and processing instructions are not accepted');
      refuse(/\s/.test(name) ? 'attributes are not accepted' : 'an invalid element name');
    }
    const element: XmlElement = { name, children: [], text: '' };
    if (selfClosing) return element;

    let text = '';
    for (;;) {
      const next = source.indexOf('<', pos);
      if (next < 0) refuse(`element <${name}> is not closed`);
      const raw = source.slice(pos, next);
      if (raw.includes(']]>')) refuse('"]]>" outside CDATA');
      text += decodeText(raw);
      pos = next;
      if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos + 9);
        if (end < 0) refuse('unterminated CDATA section');
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith('</', pos)) {
        const end = source.indexOf('>', pos);
        if (end < 0) refuse('unterminated closing tag');
        const closing = source.slice(pos + 2, end).trimEnd();
        if (closing !== name) refuse(`<${name}> is closed by </${closing.slice(0, 40)}>`);
        pos = end + 1;
        break;
      } else if (source.startsWith('<!', pos) || source.startsWith('<?', pos)) {
        refuse('DOCTYPE, comments and processing instructions are not accepted');
      } else {
        element.children.push(readElement(depth + 1));
      }
    }
    // Text between child elements is layout; an element with children keeps only non-blank text.
    element.text = element.children.length > 0 && text.trim() === '' ? '' : text;
    return element;
  };

  const root = readElement(1);
  skipSpace();
  if (pos !== source.length) refuse('content after the root element');
  return root;
}

/** The first child called `name`, if any. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}

/** Every child called `name` (an element that repeats is an array even when it appears once). */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((candidate) => candidate.name === name) ?? [];
}

/** The text of the first child called `name`, trimmed; undefined when there is no such child. */
export function textOf(element: XmlElement | undefined, name: string): string | undefined {
  const found = child(element, name);
  return found === undefined ? undefined : found.text.trim();
}

/** Serialises a flat-or-nested value the way WeCom writes its XML: strings in CDATA, numbers bare. */
export function toXml(name: string, value: XmlValue): string {
  if (Array.isArray(value)) return value.map((item) => toXml(name, item)).join('');
  if (typeof value === 'number') return `<${name}>${value}</${name}>`;
  if (typeof value === 'string')
    return `<${name}><![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]></${name}>`;
  const inner = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => toXml(key, item as XmlValue))
    .join('');
  return `<${name}>${inner}</${name}>`;
}

export type XmlValue = string | number | XmlValue[] | { [key: string]: XmlValue | undefined };
