// Liquid over the workflow author's text only. Values (params, outputs, names) are passed as data, so a
// param containing `{{ … }}` is printed literally and never evaluated. In shell scripts every value is
// also quoted for the exact place it lands (bare, inside "…", inside '…'), so a value can never become
// a command.
import { Liquid, type LiquidOptions } from 'liquidjs';

export interface TemplateContext {
  params: Record<string, string>;
  run: { id: number; number: number; workflow: string; triggered_by: string | null; url: string };
  jobs: Record<string, { status: string; outputs: Record<string, string> }>;
  /** Operator-provided secrets (SIGNOFF_SECRET_<NAME>), so tokens never sit in a workflow document. */
  secrets: Record<string, string>;
}

/**
 * The one Liquid setup, shared by the renderer and the validator so what passes validation renders.
 * An empty in-memory template map means `{% include %}` and `{% render %}` can never read a file.
 */
export function createLiquid(options: LiquidOptions = {}): Liquid {
  return new Liquid({ strictFilters: true, ownPropertyOnly: true, templates: {}, ...options });
}

const plain = createLiquid({ cache: 200 });

// Values are first rendered as numbered markers (NUL cannot occur in a script), then replaced once the
// quoting context around each marker is known.
const marker = (index: number) => `\u0000${index}\u0000`;

/** `shell`: quoted for where each value lands; a function: each value escaped by it (markdown, HTML). */
export type Escaping = 'none' | 'shell' | ((value: string) => string);

export async function render(
  source: string,
  context: TemplateContext,
  escaping: Escaping = 'none',
): Promise<string> {
  if (!source.includes('{')) return source;
  if (escaping === 'none') return plain.parseAndRender(source, context as unknown as Record<string, unknown>);
  if (typeof escaping === 'function') {
    // Only what `{{ … }}` prints is escaped: the author's own markup around it stays markup.
    const escaped = createLiquid({
      outputEscape: (value: unknown) => escaping(value === undefined || value === null ? '' : String(value)),
    });
    return escaped.parseAndRender(source, context as unknown as Record<string, unknown>);
  }
  const values: string[] = [];
  const collecting = createLiquid({
    outputEscape: (value: unknown) =>
      marker(values.push(value === undefined || value === null ? '' : String(value)) - 1),
  });
  const rendered = await collecting.parseAndRender(source, context as unknown as Record<string, unknown>);
  return placeShellValues(rendered, values);
}

/** Replaces each marker with its value, quoted for the shell context the marker sits in. */
export function placeShellValues(script: string, values: string[]): string {
  let out = '';
  let quote: 'none' | 'single' | 'double' = 'none';
  for (let i = 0; i < script.length; i++) {
    const char = script[i]!;
    if (char === '\u0000') {
      const end = script.indexOf('\u0000', i + 1);
      const value = values[Number(script.slice(i + 1, end))] ?? '';
      if (quote === 'single') out += value.replaceAll("'", `'\\''`);
      else if (quote === 'double') out += value.replace(/[\\$`"]/g, '\\$&');
      else out += shellQuote(value);
      i = end;
      continue;
    }
    out += char;
    if (quote === 'single') {
      if (char === "'") quote = 'none';
    } else if (char === '\\') {
      out += script[++i] ?? ''; // an escaped character never opens or closes a quote
    } else if (char === "'" && quote === 'none') {
      quote = 'single';
    } else if (char === '"') {
      quote = quote === 'double' ? 'none' : 'double';
    }
  }
  return out;
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
