// Counting on the token path at the cost of an addition. prom-client hashes
// and validates the label values on every inc() and observe(), even through a
// labels() child (measured ~0.5 µs an inc, ~0.9 µs an observe); a cell is
// looked up once per label set and then is plain arithmetic. Counter cells
// are handed to prom-client when Prometheus scrapes; CellHistogram is a
// histogram registered with prom-client's registry that keeps its own cells
// and prints exactly what prom-client's Histogram prints (pinned by
// test/unit/metrics-cells.test.ts).
import { Counter, type CounterConfiguration, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

export interface CounterCell {
  inc(): void;
}

/** A prom-client Counter whose cells are added to it at scrape time. */
export class CellCounter<L extends string> extends Counter<L> {
  readonly #cells: { labels: Partial<Record<L, string>>; n: number; inc(): void }[] = [];

  constructor(config: CounterConfiguration<L>) {
    super(config);
  }

  /** The cell of these label values, in labelNames order. Keep it: each call makes a new cell. */
  cell(...values: string[]): CounterCell {
    const names = (this as unknown as { labelNames: L[] }).labelNames;
    const labels = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Partial<Record<L, string>>;
    const cell = { labels, n: 0, inc() { this.n += 1; } };
    this.#cells.push(cell);
    // The series exists (at 0) from now on, as a labels() child's would.
    this.inc(labels, 0);
    return cell;
  }

  #flush(): void {
    for (const cell of this.#cells) {
      if (cell.n === 0) continue;
      this.inc(cell.labels, cell.n);
      cell.n = 0;
    }
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    this.#flush();
    return super.get() as Promise<MetricObjectWithValues<MetricValueWithName<L>>>;
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    if (#cells in this) for (const cell of this.#cells) cell.n = 0;
    super.reset();
  }
}

export interface HistogramCell {
  observe(value: number): void;
}

interface HistogramCellState extends HistogramCell {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export interface CellHistogramConfiguration<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  buckets: number[];
  registers: Registry[];
}

/** A histogram of cells, in prom-client's registry and exposition format. */
export class CellHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly L[];
  readonly upperBounds: number[];
  #cells = new Map<string, HistogramCellState>();

  constructor(config: CellHistogramConfiguration<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.upperBounds = [...config.buckets].sort((a, b) => a - b);
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  /** The cell of these label values, in labelNames order (the same cell for the same values). */
  cell(...values: string[]): HistogramCell {
    const key = values.join('\u0000');
    let cell = this.#cells.get(key);
    if (!cell) {
      const bounds = this.upperBounds;
      cell = {
        labels: Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]])),
        counts: new Array<number>(bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
        observe(value: number) {
          let i = 0;
          while (i < bounds.length && value > bounds[i]) i += 1;
          this.counts[i] += 1;
          this.sum += value;
          this.count += 1;
        },
      };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  async get(): Promise<Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'>> {
    const values: MetricValueWithName<string>[] = [];
    for (const cell of this.#cells.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += cell.counts[i];
        values.push({ labels: { le, ...cell.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...cell.labels }, value: cell.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type as never, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const cell of this.#cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}
