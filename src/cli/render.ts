// How the CLI shows things: status symbols and colours, aligned tables, durations and relative times.
// Colours only when the stream is a terminal and NO_COLOR is not set (https://no-color.org), so piped
// output and logs stay plain text.
import { formatDuration } from '../engine/duration.js';

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled && text !== '' ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** Where a command writes: stdout for results, stderr for notes and progress that is not the result. */
export interface Output {
  style: Style;
  /** Style for stderr, which may be a terminal when stdout is not. */
  errStyle: Style;
  /** Writes a line to stdout. */
  print(line?: string): void;
  /** Writes text to stdout as is. */
  write(text: string): void;
  /** Writes a line to stderr. */
  note(line: string): void;
}

interface Stream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function colorsWanted(stream: Stream, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

export function createOutput(
  env: Record<string, string | undefined>,
  stdout: Stream = process.stdout,
  stderr: Stream = process.stderr,
): Output {
  return {
    style: makeStyle(colorsWanted(stdout, env)),
    errStyle: makeStyle(colorsWanted(stderr, env)),
    print: (line = '') => void stdout.write(`${line}\n`),
    write: (text) => void stdout.write(text),
    note: (line) => void stderr.write(`${line}\n`),
  };
}

// ------------------------------------------------------------------ statuses

const symbols: Record<string, [string, keyof Omit<Style, 'enabled' | 'bold'>]> = {
  pending: ['·', 'dim'],
  queued: ['○', 'dim'],
  running: ['▶', 'cyan'],
  waiting_for_approval: ['⏳', 'yellow'],
  passed: ['✓', 'green'],
  approved: ['✓', 'green'],
  failed: ['✗', 'red'],
  rejected: ['✗', 'red'],
  timeout: ['⌛', 'red'],
  cancelled: ['⊘', 'yellow'],
  skipped: ['↷', 'dim'],
  delivered: ['✓', 'green'],
  sending: ['▶', 'cyan'],
};

/** The symbol of a run, job or approval status, coloured. */
export function statusSymbol(status: string, style: Style): string {
  const [symbol, colour] = symbols[status] ?? ['?', 'dim'];
  return style[colour](symbol);
}

/** `waiting_for_approval` → `waiting for approval`, coloured like its symbol. */
export function statusWord(status: string, style: Style): string {
  const [, colour] = symbols[status] ?? ['?', 'dim'];
  return style[colour](status.replaceAll('_', ' '));
}

export function statusLabel(status: string, style: Style): string {
  return `${statusSymbol(status, style)} ${statusWord(status, style)}`;
}

// ------------------------------------------------------------------ times

/** A job or run duration: milliseconds under a second, else whole seconds (`340ms`, `12s`, `1m5s`). */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return formatDuration(ms < 1000 ? ms : Math.round(ms / 1000) * 1000);
}

/** A span rounded to what a person cares about: seconds under an hour, minutes under a day, then hours. */
export function roughDuration(ms: number): string {
  const abs = Math.abs(ms);
  const unit = abs < 3_600_000 ? 1000 : abs < 86_400_000 ? 60_000 : 3_600_000;
  return formatDuration(Math.round(abs / unit) * unit);
}

/** `12s ago`, `in 59m` (for deadlines), or the date when it is far off. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now;
  if (Math.abs(delta) > 7 * 86_400_000) return new Date(at).toISOString().slice(0, 16).replace('T', ' ');
  if (Math.abs(delta) < 1000) return 'just now';
  return delta < 0 ? `${roughDuration(delta)} ago` : `in ${roughDuration(delta)}`;
}

// ------------------------------------------------------------------ tables

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape sequences we add.
const ansi = /\u001b\[[0-9;]*m/g;
const wide =
  /\p{Emoji_Presentation}|[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;

/** Columns a terminal gives the text: escape sequences take none, emoji and CJK take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text.replace(ansi, '')) width += wide.test(character) ? 2 : 1;
  return width;
}

export function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** An aligned table with a header row; an empty table says so instead. */
export function table(headers: string[], rows: string[][], style: Style, empty = 'nothing to show'): string {
  if (rows.length === 0) return style.dim(`(${empty})`);
  const widths = headers.map((header, index) =>
    Math.max(displayWidth(header), ...rows.map((row) => displayWidth(row[index] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => (index === cells.length - 1 ? cell : pad(cell, widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers.map((header) => header.toUpperCase()))), ...rows.map(line)].join('\n');
}
