import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ApiError, formatProblems, type Workflow } from '../client.js';
import { defineCommand, expectPositionals, jsonOption, printJson, UsageError } from './define.js';

export const apply = defineCommand({
  name: 'apply',
  usage: 'apply -f <workflow.yaml>',
  summary: 'Create a workflow, or replace the one with the same name',
  help: `Options:
  -f, --file <path>   the workflow document: YAML, or JSON when the name ends in .json; - reads stdin
  --json              print the saved workflows as JSON

A document that is not valid is refused with every problem listed by line and column; nothing is saved
from it and the exit code is 1. See docs/workflow.md for what a workflow may contain.

Examples:
  signoff apply -f release.yaml
  cat release.yaml | signoff apply -f -`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: { file: { type: 'string', short: 'f', multiple: true }, ...jsonOption },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 0);
    const files = values.file ?? [];
    if (files.length === 0)
      throw new UsageError('say which file to apply: -f workflow.yaml (or -f - for stdin)');
    if (files.filter((file) => file === '-').length > 1)
      throw new UsageError('stdin (-f -) can be read only once');
    const api = client();
    const saved: Workflow[] = [];
    let failures = 0;
    for (const file of files) {
      const label = file === '-' ? 'stdin' : file;
      const text = file === '-' ? await readStdin() : await readDocument(file);
      const json = file === '-' ? /^\s*[{[]/.test(text) : /\.json$/i.test(file);
      try {
        const { status, body } = await api.post<Workflow>('/api/workflows', {
          raw: { text, contentType: json ? 'application/json' : 'application/yaml' },
        });
        saved.push(body);
        if (!values.json) {
          out.print(
            `workflow ${body.name} ${status === 201 ? 'created' : 'updated'} (version ${body.version})`,
          );
        }
      } catch (error) {
        if (!(error instanceof ApiError) || error.problems.length === 0) throw error;
        failures++;
        const count = error.problems.length;
        out.note(`${label}: not applied, ${count} problem${count === 1 ? '' : 's'}:`);
        for (const line of formatProblems(error.problems)) out.note(line);
      }
    }
    if (values.json && files.length > 1) printJson(out, saved);
    else if (values.json && saved[0]) printJson(out, saved[0]);
    return failures > 0 ? 1 : 0;
  },
});

async function readDocument(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') throw new Error(`${file}: no such file`);
    if (code === 'EISDIR') throw new Error(`${file} is a directory; give a workflow file`);
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
