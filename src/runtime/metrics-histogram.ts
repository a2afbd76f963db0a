import { Histogram, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

// The runtime's histograms without prom-client's per-observe cost (metrics.ts): the runtime fills
// plain Buckets per job, and a BucketsHistogram renders them only when Prometheus scrapes.

/** Counts of one histogram series: per bucket (not cumulative; the last is +Inf), sum, count. */
export class Buckets {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(private readonly bounds: number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** A prom-client histogram whose series are filled by the caller's Buckets, read at scrape. */
export class BucketsHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    labelNames: string[],
    private readonly bounds: number[],
    private readonly series: () => Iterable<{ labels: Record<string, string>; buckets: Buckets }>,
    registry: Registry,
  ) {
    super({ name: metricName, help: metricHelp, labelNames, buckets: bounds, registers: [registry] });
  }

  // The registry renders text from getForPromString (get() is the JSON view): both read the Buckets.
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const { labels, buckets } of this.series()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += buckets.counts[i]!;
        values.push({ metricName: `${this.metricName}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.metricName}_bucket`, labels: { ...labels, le: '+Inf' }, value: buckets.count });
      values.push({ metricName: `${this.metricName}_sum`, labels, value: buckets.sum });
      values.push({ metricName: `${this.metricName}_count`, labels, value: buckets.count });
    }
    return { name: this.metricName, help: this.metricHelp, type: 'histogram', aggregator: 'sum', values } as unknown as MetricObjectWithValues<
      MetricValueWithName<string>
    >;
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.getForPromString();
  }
}
