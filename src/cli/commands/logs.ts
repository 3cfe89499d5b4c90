import { parseArgs } from 'node:util';
import type { LogChunk, LogPage } from '../client.js';
import type { Output } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, runId } from './define.js';

const followPollMs = 500;

export const logs = defineCommand({
  name: 'logs',
  usage: 'logs <run> [job] [-f|--follow]',
  summary: "Print a run's job logs (all jobs, or one)",
  help: `With all jobs, each line starts with [job]. Signoff's own notes about a job (why it ended, retries)
are part of the log too.

Options:
  -f, --follow   keep printing new output until the run ends
  --json         print the log chunks as JSON, one object per line

Examples:
  signoff logs 42
  signoff logs 42 compile --follow`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: { follow: { type: 'boolean', short: 'f' }, ...jsonOption },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 2);
    const id = runId(positionals[0]);
    const job = positionals[1];
    const api = client();
    const printer = values.json ? jsonPrinter(out) : textPrinter(out, job === undefined);
    let after = 0;
    for (;;) {
      const page = await api.get<LogPage>(`/api/runs/${id}/logs`, { query: { job, after } });
      for (const chunk of page.chunks) printer.chunk(chunk);
      after = page.next;
      if (page.done) break;
      if (page.chunks.length === 0) {
        if (!values.follow) break;
        await new Promise((resolve) => setTimeout(resolve, followPollMs));
      }
    }
    printer.end();
    return 0;
  },
});

interface Printer {
  chunk(chunk: LogChunk): void;
  end(): void;
}

function jsonPrinter(out: Output): Printer {
  return { chunk: (chunk) => out.print(JSON.stringify(chunk)), end: () => {} };
}

/**
 * Writes chunks as text. Chunks of different jobs interleave and a chunk may end mid-line, so with a
 * [job] prefix each job's unfinished line waits for the rest of it (or the end) before it is printed.
 */
function textPrinter(out: Output, prefixed: boolean): Printer {
  const { style } = out;
  const paint = (stream: LogChunk['stream'], text: string) =>
    stream === 'system' ? style.dim(text) : stream === 'stderr' ? style.yellow(text) : text;
  if (!prefixed) {
    let endsWithNewline = true;
    return {
      chunk(chunk) {
        out.write(paint(chunk.stream, chunk.text));
        if (chunk.text !== '') endsWithNewline = chunk.text.endsWith('\n');
      },
      end: () => {
        if (!endsWithNewline) out.write('\n');
      },
    };
  }
  const partial = new Map<string, { text: string; stream: LogChunk['stream'] }>();
  const print = (job: string, stream: LogChunk['stream'], text: string) =>
    out.print(`${style.cyan(`[${job}]`)} ${paint(stream, text)}`);
  return {
    chunk(chunk) {
      const lines = ((partial.get(chunk.job)?.text ?? '') + chunk.text).split('\n');
      partial.set(chunk.job, { text: lines.pop() ?? '', stream: chunk.stream });
      for (const text of lines) print(chunk.job, chunk.stream, text);
    },
    end() {
      for (const [job, { text, stream }] of partial) if (text !== '') print(job, stream, text);
    },
  };
}
