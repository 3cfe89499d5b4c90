// What a benchmark hands back (figures, some with a goal) and how `npm run bench` prints them.

export interface Goal {
  /** The value must stay below (`<`) or above (`>`) `value`, in the figure's unit. */
  op: '<' | '>';
  value: number;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Decimal places to print (default 1). */
  digits?: number;
  goal?: Goal;
}

export interface BenchContext {
  /** A progress line, so a long phase does not look like a hang. */
  progress(message: string): void;
}

export interface Benchmark {
  /** What `npm run bench -- <name>` matches. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export function goalMet(figure: Figure): boolean | undefined {
  if (!figure.goal) return undefined;
  return figure.goal.op === '<' ? figure.value < figure.goal.value : figure.value > figure.goal.value;
}

export function formatValue(value: number, unit: string, digits = 1): string {
  const number = Number.isFinite(value) ? value.toFixed(digits) : String(value);
  return unit === '×' ? `${number}×` : unit ? `${number} ${unit}` : number;
}

export function formatTable(rows: { figure: Figure; prefix?: string }[]): string {
  const lines = rows.map(({ figure, prefix }) => {
    const met = goalMet(figure);
    return [
      prefix ? `${prefix}: ${figure.name}` : figure.name,
      formatValue(figure.value, figure.unit, figure.digits),
      figure.goal ? `${figure.goal.op} ${formatValue(figure.goal.value, figure.unit, 0)}` : '',
      met === undefined ? '' : met ? 'yes' : 'NO',
    ];
  });
  const header = ['figure', 'value', 'goal', 'met?'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (cells: string[]) =>
    `  ${cells.map((cell, column) => (column === 1 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ')}`.trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...lines.map(render)].join('\n');
}
