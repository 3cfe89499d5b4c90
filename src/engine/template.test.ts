import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { render, type TemplateContext } from './template.js';

const hostile = `{{ run.id }} '"; $(echo pwned) \`id\` \\ $HOME`;
const context = (value: string): TemplateContext => ({
  params: { value },
  run: { id: 7, number: 1, workflow: 'w', triggered_by: null, url: 'http://x/runs/7' },
  jobs: {},
  secrets: {},
});
const sh = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

describe('templates', () => {
  it('prints a value containing template syntax literally', async () => {
    expect(await render('v={{ params.value }}', context('{{ run.id }}'))).toBe('v={{ run.id }}');
  });

  it.each([
    ['bare', 'printf %s {{ params.value }}'],
    ['double quotes', 'printf %s "{{ params.value }}"'],
    ['single quotes', "printf %s '{{ params.value }}'"],
    ['mixed', `printf %s "a {{ params.value }}"' b '{{ params.value }}`],
  ])('keeps a hostile value as data in a shell script (%s)', async (_, script) => {
    const output = sh(await render(script, context(hostile), 'shell'));
    expect(output).not.toContain('pwned\n');
    expect(output).toContain(hostile);
  });
});
