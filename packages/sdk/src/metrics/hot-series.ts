import type { Registry } from 'prom-client';

/**
 * A counter and a histogram for the per-message path, kept as plain numbers and read by prom-client's
 * registry at scrape time (it calls `get()`, as it does for its own metrics, and renders the text).
 *
 * Why not prom-client's own `Counter` and `Histogram` here: even through a bound child, each `inc()` and
 * `observe()` rebuilds and hashes the label set and checks the labels again, about 0.3-0.5 µs a call;
 * with a counter and a histogram each for the Stream message and for the skill invocation, that was
 * 1.5-2 µs of a ~6 µs skill call (issue 14). Here a call is a bucket search and three additions. The
 * exposition is prom-client's (same names, types, help, default labels); everything else in
 * {@link Metrics} still uses prom-client's own types.
 */

/** The shape prom-client's registry reads from a metric (`Registry.registerMetric`). */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}
interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

interface SeriesConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: readonly Registry[];
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  if (values.length !== names.length)
    throw new Error(`expected ${names.length} label values (${names.join(', ')}), got ${values.length}`);
  const labels: Record<string, string> = {};
  names.forEach((n, i) => {
    labels[n] = values[i] as string;
  });
  return labels;
}

abstract class HotSeries<Child> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  readonly #labelNames: readonly string[];
  protected readonly children = new Map<string, { labels: Record<string, string>; child: Child }>();

  constructor(config: SeriesConfig) {
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames;
    // prom-client's types name only its own classes; the registry itself needs just `name` and `get()`.
    for (const r of config.registers) r.registerMetric(this as never);
  }

  protected abstract make(): Child;

  /** The series of these label values (in `labelNames` order); keep it: finding it is the slow part. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { labels: labelsOf(this.#labelNames, values), child: this.make() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  /**
   * Forgets every series (prom-client's `Registry.resetMetrics()` calls it). A series handed out by
   * {@link labels} stays attached: it is zeroed and left out of the exposition until it counts again,
   * as prom-client's own bound children behave, so a caller that kept it keeps reporting.
   */
  reset(): void {
    for (const { child } of this.children.values()) this.zero(child);
  }

  protected abstract zero(child: Child): void;

  abstract get(): Promise<MetricSnapshot>;
}

/** One counter series. */
export interface HotCount {
  inc(value?: number): void;
}

/** A monotonic counter with labels (prom-client's `Counter` for the per-message path). */
interface CounterChild extends HotCount {
  value: number;
  /** Counted since it was made or last reset (an untouched series is not exposed, as in prom-client). */
  touched: boolean;
}

export class HotCounter extends HotSeries<CounterChild> {
  readonly type = 'counter' as const;

  protected make(): CounterChild {
    return {
      value: 0,
      touched: false,
      inc(value = 1) {
        // As prom-client refuses them: a counter never goes down, and NaN or Infinity would stick.
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
          throw new TypeError(`a counter goes up by a finite number >= 0, got ${value}`);
        this.value += value;
        this.touched = true;
      },
    };
  }

  protected zero(child: CounterChild): void {
    child.value = 0;
    child.touched = false;
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    for (const { labels, child } of this.children.values())
      if (child.touched) values.push({ value: child.value, labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** One histogram series. */
export interface HotObserve {
  observe(value: number): void;
}

interface HistogramChild extends HotObserve {
  /** Observations per bucket (not cumulative); the last is above every bound (`+Inf`). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with labels and fixed buckets (prom-client's `Histogram` for the per-message path). */
export class HotHistogram extends HotSeries<HistogramChild> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(config: SeriesConfig & { buckets: readonly number[] }) {
    super(config);
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected make(): HistogramChild {
    const bounds = this.#bounds;
    return {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
      observe(value: number) {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        let i = 0;
        while (i < bounds.length && value > (bounds[i] as number)) i++;
        this.counts[i] = (this.counts[i] ?? 0) + 1;
        this.sum += value;
        this.count += 1;
      },
    };
  }

  protected zero(child: HistogramChild): void {
    child.counts.fill(0);
    child.sum = 0;
    child.count = 0;
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      if (child.count === 0) continue; // never observed, or not since the last reset
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += child.counts[i] as number;
        values.push({ value: cumulative, labels: { ...labels, le }, metricName: bucket });
      });
      values.push({ value: child.count, labels: { ...labels, le: '+Inf' }, metricName: bucket });
      values.push({ value: child.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: child.count, labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
