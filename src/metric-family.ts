import type { MetricDef } from "./constants.js";
import type { Exemplar, HistogramData } from "./histogram-data.js";
import type { Labels } from "./series.js";

/**
 * One sample as a prom-client registry reads it from a metric's `get()`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Sample {
  value: number;
  labels: Labels;
  sharedLabels?: Labels;
  metricName?: string;
  exemplar?: Exemplar | null;
}

/** What a registry reads from a metric: prom-client's `MetricObjectWithValues`. */
interface MetricObject {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: Sample[];
  aggregator: "sum";
}

/**
 * MetricFamily is a metric that a prom-client registry can hold: it has the
 * `name`, `help`, `type`, `aggregator`, `get()` and `reset()` of prom-client's
 * own metrics, and reads its samples from the library's series when the
 * registry is read (a scrape, `metrics()`, `getMetricsAsJSON()`,
 * `getSingleMetric(name).get()`, a cluster aggregation). prom-client then
 * formats them as it formats its own metrics.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class MetricFamily {
  /** The name; prom-client strips `_total` from it when it prints OpenMetrics. */
  name: string;
  readonly help: string;
  readonly aggregator = "sum" as const;
  /** The name under which it was registered. */
  readonly registeredName: string;

  constructor(
    def: MetricDef,
    readonly type: "counter" | "histogram",
    private readonly read: (name: string, forJson: boolean) => Sample[],
    private readonly clear: () => void,
  ) {
    this.name = def.name;
    this.registeredName = def.name;
    this.help = def.help;
  }

  /** The samples, as prom-client's `get()` returns them. */
  get(): Promise<MetricObject> {
    return Promise.resolve(this.object(true));
  }

  /** The samples as the registry prints them: histograms keep their labels apart from `le`. */
  getForPromString(): Promise<MetricObject> {
    return Promise.resolve(this.object(false));
  }

  /** Clears every series, as `registry.resetMetrics()` expects. */
  reset(): void {
    this.clear();
  }

  private object(forJson: boolean): MetricObject {
    const { name, help, type, aggregator } = this;
    return { name, help, type, values: this.read(name, forJson), aggregator };
  }
}

/**
 * How one histogram prints its buckets: the `le` value of each bound,
 * `+Inf` last (a number where it prints as the flavor prints it), where
 * `le` goes among the labels, and whether `_count` comes before `_sum`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface BucketLayout {
  readonly le: readonly (number | string)[];
  /** `{ le }` of each bound, built once: prom-client's own histograms build them on every read. */
  readonly leLabels: readonly Labels[];
  readonly position: "first" | "sorted" | "last";
  readonly countFirst: boolean;
}

/**
 * histogramSamples turns histogram series into the samples prom-client
 * prints: cumulative `_bucket` lines, `_sum` and `_count`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function histogramSamples(
  name: string,
  layout: BucketLayout,
  series: readonly (readonly [Labels, HistogramData])[],
  forJson: boolean,
): Sample[] {
  const out: Sample[] = [];
  const bucketName = `${name}_bucket`;
  const sumName = `${name}_sum`;
  const countName = `${name}_count`;
  const { le, leLabels, position, countFirst } = layout;
  for (const [labels, data] of series) {
    let acc = 0;
    for (let i = 0; i < le.length; i++) {
      acc += data.buckets[i];
      const exemplar = data.exemplars?.[i] ?? null;
      if (position === "first" && !forJson) {
        out.push({ value: acc, labels: leLabels[i], sharedLabels: labels, metricName: bucketName, exemplar });
      } else {
        out.push({ value: acc, labels: withLe(labels, le[i], position), metricName: bucketName, exemplar });
      }
    }
    // prom-client's own `_sum` and `_count` samples carry an undefined exemplar.
    const sum: Sample = { value: data.sum, labels, metricName: sumName, exemplar: undefined };
    const count: Sample = { value: data.count, labels, metricName: countName, exemplar: undefined };
    if (countFirst) {
      out.push(count, sum);
    } else {
      out.push(sum, count);
    }
  }
  return out;
}

/** The labels with `le` first, last, or in name order among them (they are sorted then). */
function withLe(labels: Labels, le: number | string, position: "first" | "sorted" | "last"): Labels {
  const value = le as string;
  if (position === "first") return { le: value, ...labels };
  if (position === "last") return { ...labels, le: value };
  const out: Labels = {};
  let placed = false;
  for (const key in labels) {
    if (!placed && key > "le") {
      out.le = value;
      placed = true;
    }
    out[key] = labels[key];
  }
  if (!placed) out.le = value;
  return out;
}
