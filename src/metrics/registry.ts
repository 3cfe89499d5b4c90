// A small metrics registry and its Prometheus text rendering (exposition format 0.0.4): counters and
// histograms that live in this process, and gauges whose values are read at scrape time (from the
// database, the queue). No client library: the format is a few lines per series.
// Label values come from fixed sets or short codes; a metric that somehow grew past `maxSeries` label
// sets folds every new one into a single `other` series rather than growing without bound.

export const contentType = 'text/plain; version=0.0.4; charset=utf-8';

/** Label sets per metric before new ones are folded into `other`. */
export const maxSeries = 500;

type Labels<L extends string> = Readonly<Record<L, string>>;

interface Sample {
  suffix: string;
  labels: [string, string][];
  value: number;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  samples(): Sample[];
}

abstract class Family<L extends string, V> {
  protected readonly series = new Map<string, { labels: [string, string][]; value: V }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
  }

  protected entry(labels: Labels<L>, initial: () => V): { value: V } {
    const pairs = this.labelNames.map((label): [string, string] => [label, String(labels[label] ?? '')]);
    let key = pairs.map(([, value]) => value).join('\u0000');
    let found = this.series.get(key);
    if (!found && this.series.size >= maxSeries) {
      for (const pair of pairs) pair[1] = 'other';
      key = pairs.map(([, value]) => value).join('\u0000');
      found = this.series.get(key);
    }
    if (!found) {
      found = { labels: pairs, value: initial() };
      this.series.set(key, found);
    }
    return found;
  }
}

export class Counter<L extends string = never> extends Family<L, number> implements Metric {
  readonly type = 'counter';

  inc(labels: Labels<L>, by = 1): void {
    if (!(by >= 0)) return;
    this.entry(labels, () => 0).value += by;
  }

  samples(): Sample[] {
    return [...this.series.values()].map(({ labels, value }) => ({ suffix: '', labels, value }));
  }
}

export class Gauge<L extends string = never> extends Family<L, number> implements Metric {
  readonly type = 'gauge';

  set(labels: Labels<L>, value: number): void {
    this.entry(labels, () => 0).value = value;
  }

  /** Forgets every series (a scrape-time gauge starts each scrape empty). */
  clear(): void {
    this.series.clear();
  }

  samples(): Sample[] {
    return [...this.series.values()].map(({ labels, value }) => ({ suffix: '', labels, value }));
  }
}

interface Buckets {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Family<L, Buckets> implements Metric {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  observe(labels: Labels<L>, value: number): void {
    if (!Number.isFinite(value)) return;
    const buckets = this.entry(labels, () => ({ counts: this.bounds.map(() => 0), sum: 0, count: 0 })).value;
    for (let index = 0; index < this.bounds.length; index += 1)
      if (value <= this.bounds[index]!) buckets.counts[index]! += 1;
    buckets.sum += value;
    buckets.count += 1;
  }

  samples(): Sample[] {
    return [...this.series.values()].flatMap(({ labels, value }) => [
      ...this.bounds.map((bound, index) => ({
        suffix: '_bucket',
        labels: [...labels, ['le', formatValue(bound)] as [string, string]],
        value: value.counts[index]!,
      })),
      { suffix: '_bucket', labels: [...labels, ['le', '+Inf']], value: value.count },
      { suffix: '_sum', labels, value: value.sum },
      { suffix: '_count', labels, value: value.count },
    ]);
  }
}

/** Runs before each scrape to set scrape-time gauges; a failure leaves its gauges empty and is reported. */
export type Collector = () => Promise<void>;

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: { name: string; collect: Collector }[] = [];
  private readonly collectorUp = this.gauge(
    'signoff_metrics_source_up',
    'Whether the values read at scrape time from this source could be read (1) or not (0).',
    ['source'],
  );

  constructor(private readonly onCollectorError: (name: string, error: unknown) => void = () => {}) {}

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.add(new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.add(new Gauge<L>(name, help, labelNames));
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[],
    bounds: readonly number[],
  ): Histogram<L> {
    return this.add(new Histogram<L>(name, help, labelNames, bounds));
  }

  /**
   * Before each scrape, `collect` sets the gauges it owns, starting from empty: when it fails they stay
   * empty (no stale values), and `signoff_metrics_source_up{source=name}` says 0 unless `report` is false.
   */
  collect(
    name: string,
    collect: Collector,
    owned: Gauge<string>[],
    options: { report?: boolean } = {},
  ): void {
    const report = options.report ?? true;
    this.collectors.push({
      name,
      collect: async () => {
        for (const gauge of owned) gauge.clear();
        try {
          await collect();
          if (report) this.collectorUp.set({ source: name }, 1);
        } catch (error) {
          for (const gauge of owned) gauge.clear();
          if (report) this.collectorUp.set({ source: name }, 0);
          this.onCollectorError(name, error);
        }
      },
    });
  }

  /** Every metric in the text format, after the collectors have read their values. */
  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collector) => collector.collect()));
    const lines: string[] = [];
    for (const metric of this.metrics) {
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
      for (const sample of metric.samples()) {
        const labels = sample.labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',');
        lines.push(
          `${metric.name}${sample.suffix}${labels ? `{${labels}}` : ''} ${formatValue(sample.value)}`,
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.some((known) => known.name === metric.name))
      throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.push(metric);
    return metric;
  }
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function escapeLabel(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
