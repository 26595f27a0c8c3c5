/**
 * An OpenMetrics exemplar, shaped as prom-client prints it: the labels, the
 * value it belongs to, and when it was recorded (seconds since the epoch).
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Exemplar {
  readonly labelSet: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number;
}

/**
 * HistogramData is one histogram series kept in plain numbers: a count per
 * bucket (not cumulative; the last one is +Inf), the sum and the count. An
 * observation costs a few comparisons and three additions; the registry reads
 * the buckets when it is scraped.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class HistogramData {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  /** Set by `initialize()`: the series exists before its first observation. */
  zeroed = false;
  /** The last exemplar of each bucket, when exemplars are on. */
  exemplars: (Exemplar | undefined)[] | undefined;

  constructor(private readonly bounds: Float64Array) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** True when the series is printed: observed, or created by `initialize()`. */
  get exists(): boolean {
    return this.count > 0 || this.zeroed;
  }

  observe(value: number): number {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.buckets[i]++;
    this.sum += value;
    this.count++;
    return i;
  }

  observeWithExemplar(value: number, labelSet: Readonly<Record<string, string>> | undefined): void {
    const i = this.observe(value);
    if (labelSet !== undefined) {
      (this.exemplars ??= [])[i] = { labelSet, value, timestamp: Date.now() / 1000 };
    }
  }

  reset(): void {
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
    this.zeroed = false;
    this.exemplars = undefined;
  }
}
