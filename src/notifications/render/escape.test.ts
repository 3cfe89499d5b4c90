import { describe, expect, it } from 'vitest';
import type { TextFormat } from '../message.js';
import { byteLength, escapeLines, escapeText, oneLine, truncate } from './escape.js';
import { activeIn, HOSTILE, shown } from './sample.js';

const FORMATS: TextFormat[] = ['feishu_md', 'dingtalk_md', 'wecom_md', 'html'];

describe('escapeText', () => {
  it.each(FORMATS)('%s shows hostile text literally, on one line', (format) => {
    const escaped = escapeText(format, HOSTILE);
    for (const active of activeIn(format)) expect(escaped).not.toContain(active);
    expect(escaped).not.toMatch(/[\r\n]/);
    expect(shown(format, escaped)).toBe(oneLine(HOSTILE));
  });

  it('leaves plain text alone', () => {
    expect(escapeText('plain', HOSTILE)).toBe(HOSTILE);
  });

  it('uses the entities Feishu documents', () => {
    expect(escapeText('feishu_md', '*_`[]()<>#\\~')).toBe(
      '&#42;&#95;&#96;&#91;&#93;&#40;&#41;&#60;&#62;&#35;&#92;&#126;',
    );
    expect(escapeText('feishu_md', '<at id=all></at>')).toBe('&#60;at id=all&#62;&#60;/at&#62;');
  });

  it('escapes & only where it starts a character reference', () => {
    expect(escapeText('feishu_md', 'R&D &amp; &#42;')).toBe('R&D &#38;amp; &#38;&#35;42;');
    expect(escapeText('wecom_md', 'R&D &amp;')).toBe('R&D ＆amp;');
    expect(escapeText('html', 'R&D')).toBe('R&amp;D');
  });

  it('disarms line starts: lists, headings, numbered lists', () => {
    expect(escapeText('feishu_md', '- item')).toBe('&#45; item');
    expect(escapeText('feishu_md', '12. item')).toBe('12&#46; item');
    expect(escapeText('feishu_md', 'a - b 1.5')).toBe('a - b 1.5');
    expect(escapeText('dingtalk_md', '# head')).toBe('\u200b# head');
    expect(escapeText('dingtalk_md', '  - item')).toBe('\u200b  - item');
    expect(escapeText('wecom_md', '1. one')).toBe('\u200b1. one');
    expect(escapeText('wecom_md', 'release #12')).toBe('release #12');
  });

  it('disarms Feishu emoji codes but not times', () => {
    expect(escapeText('feishu_md', 'a:DONE:b 10:30')).toBe('a&#58;DONE:b 10:30');
  });

  it('makes every line break a space and drops control characters', () => {
    expect(escapeText('html', 'a\r\nb\nc\rd\u2028e\tf\u0000g\u202eh')).toBe('a b c d e fgh');
    expect(oneLine('x\n\ny')).toBe('x  y');
  });

  it('HTML-escapes for attributes too', () => {
    expect(escapeText('html', `"a" 'b' <c> &d`)).toBe('&quot;a&quot; &#39;b&#39; &lt;c&gt; &amp;d');
  });

  it('escapes multi-line text line by line', () => {
    expect(escapeLines('html', 'a<b\nc')).toBe('a&lt;b<br>c');
    expect(escapeLines('wecom_md', '**x**\n# y')).toBe('＊＊x＊＊\n\u200b# y');
    expect(escapeLines('dingtalk_md', 'a\nb', '  \n')).toBe('a  \nb');
  });
});

describe('truncate', () => {
  it('returns short text unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('ends a cut with an ellipsis within the limit', () => {
    const cut = truncate('hello world', 8);
    expect(cut).toBe('hello…');
    expect(byteLength(cut)).toBeLessThanOrEqual(8);
  });

  it('never cuts inside a UTF-8 character or a surrogate pair', () => {
    for (let max = 3; max < 40; max++) {
      for (const text of ['测试测试测试测试测试测试', '😀😀😀😀😀😀😀😀😀😀']) {
        const cut = truncate(text, max);
        expect(byteLength(cut)).toBeLessThanOrEqual(max);
        expect(cut).not.toContain('\ufffd');
        expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
        expect(/[\ud800-\udbff]$/.test(cut.replace(/…$/, ''))).toBe(false);
      }
    }
  });

  it('never cuts inside an escape sequence or a tag', () => {
    const escaped = escapeText('feishu_md', '*'.repeat(20));
    for (let max = 3; max < byteLength(escaped); max++) {
      const cut = truncate(escaped, max);
      expect(cut.replace(/…$/, '')).toMatch(/^(&#42;)*$/);
    }
    expect(truncate('ab<font color="info">x</font>', 12)).toBe('ab…');
    expect(truncate('abc\\*def', 7)).toBe('abc…');
  });

  it('gives nothing when not even the ellipsis fits', () => {
    expect(truncate('hello', 2)).toBe('');
  });
});
