import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { childrenNamed, parseXml, textOf, toXml } from './xml.js';

function refused(source: string): string {
  try {
    parseXml(source);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('bad_request');
    return (error as AppError).message;
  }
  throw new Error(`expected ${source} to be refused`);
}

describe('WeCom XML reader', () => {
  it('reads CDATA, plain text, predefined and numeric references, self-closing and repeated elements', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <A><![CDATA[x <y> & ]]]]><![CDATA[>z]]></A>\n  <B>1 &lt; 2 &amp;&#x4E2D;&#25991;</B>\n' +
        '  <C/><D> </D><R><V>1</V></R><R><V>2</V></R>\n</xml>\n',
    );
    expect(root.name).toBe('xml');
    expect(textOf(root, 'A')).toBe('x <y> & ]]>z');
    expect(textOf(root, 'B')).toBe('1 < 2 &中文');
    expect(textOf(root, 'C')).toBe('');
    expect(textOf(root, 'D')).toBe('');
    expect(textOf(root, 'Missing')).toBeUndefined();
    expect(childrenNamed(root, 'R').map((element) => textOf(element, 'V'))).toEqual(['1', '2']);
    expect(root.text).toBe('');
  });

  it('refuses DOCTYPE, entities, comments, processing instructions and attributes', () => {
    expect(refused('<!DOCTYPE xml [<!ENTITY a "b">]><xml/>')).toContain('DOCTYPE');
    expect(refused('<xml><!-- hi --></xml>')).toContain('comments');
    expect(refused('<xml><?php echo 1 ?></xml>')).toContain('processing instructions');
    expect(refused('<xml><A>&custom;</A></xml>')).toContain('entity');
    expect(refused('<xml><A>a & b</A></xml>')).toContain('&');
    expect(refused('<xml a="1"></xml>')).toContain('attributes');
    expect(refused('<xml><A>&#0;</A></xml>')).toContain('character reference');
  });

  it('refuses malformed documents', () => {
    for (const source of [
      '',
      'text',
      '<xml>',
      '<xml><A></B></xml>',
      '<xml></xml><more/>',
      '<xml><![CDATA[x</xml>',
      '<1a/>',
      '<xml>]]></xml>',
    ]) {
      refused(source);
    }
  });

  it('refuses documents nested too deep', () => {
    expect(refused(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toContain('nesting');
  });

  it('writes what it reads', () => {
    const xml = toXml('xml', { Name: 'a]]>b', Count: 3, List: [{ V: 'x' }, { V: 'y' }], Skip: undefined });
    const root = parseXml(xml);
    expect(textOf(root, 'Name')).toBe('a]]>b');
    expect(textOf(root, 'Count')).toBe('3');
    expect(childrenNamed(root, 'List')).toHaveLength(2);
    expect(textOf(root, 'Skip')).toBeUndefined();
  });
});
