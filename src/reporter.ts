import type { DescMethod } from "@bufbuild/protobuf";
import type { AnyRequest } from "./call-labels.js";
import type { MetricsRegistry } from "./options.js";
import { CallLabels } from "./call-labels.js";
import { initializeCodeOrder, labelMethod, labelService, labelType } from "./constants.js";
import { MetricFamily } from "./metric-family.js";
import type { ReporterConfig } from "./resolve-options.js";
import { familiesOf } from "./families.js";
import { Series, SeriesLabels, type HistogramBounds, type Labels } from "./series.js";

/**
 * Reporter holds the series of one side and the metric families that read
 * them. It creates every family once, at construction, registers them with
 * the registry, and hands out the Series of each call's method (and per-call
 * label values), with its label sets built once. It is the only part that
 * touches the registry.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class Reporter {
  /** Every Series, in the order they were created: what the families read. */
  readonly all: Series[] = [];
  /** The Series of a call, or null when `filter` leaves its method out. */
  readonly forCall: (req: AnyRequest) => Series | null;
  /** The exemplar labels of a call, or undefined. */
  readonly exemplar: ((req: AnyRequest) => Labels | undefined) | undefined;
  /** Reports a failure of a user callback; never throws. */
  readonly fail: (error: unknown) => void;
  readonly families: readonly MetricFamily[];

  private readonly callLabels: CallLabels | undefined;
  private readonly bounds: HistogramBounds;
  /** Series by what the exposition is keyed by: kind, service, method, per-call label values. */
  private readonly byKey = new Map<string, Series>();
  /** A cache from descriptor objects, which are collected with their descriptors. */
  private readonly byMethod = new WeakMap<DescMethod, Series | null>();
  private readonly byMethodLabelled = new WeakMap<DescMethod, Map<string, Series> | null>();
  private registry: MetricsRegistry | undefined;

  constructor(private readonly config: ReporterConfig) {
    const onError = config.onError;
    this.fail = (error) => {
      try {
        onError(error);
      } catch {
        // The hook must not fail a call either.
      }
    };
    const exemplars = config.exemplars;
    this.exemplar =
      exemplars &&
      ((req) => {
        try {
          return checkExemplar(exemplars(req));
        } catch (e) {
          this.fail(e);
          return undefined;
        }
      });
    const dynamic = config.protocolLabel || config.requestLabels !== undefined;
    this.callLabels = dynamic ? new CallLabels(config.protocolLabel, config.requestLabels, this.fail) : undefined;
    this.forCall = dynamic
      ? (req) => this.labelledSeries(req.method, this.callLabels!.values(req))
      : (req) => this.methodSeries(req.method);
    const floats = (b: readonly number[] | undefined) => (b ? Float64Array.from(b) : undefined);
    this.bounds = {
      handling: floats(config.handlingBuckets),
      recv: floats(config.recvBuckets),
      send: floats(config.sendBuckets),
      size: floats(config.sizeBuckets),
      handlingByCode: config.codeLabelOnHistograms,
    };
    this.families = familiesOf(config, this.all);
    refuseTaken(config.registry, this.families.map((f) => f.registeredName));
    this.registry = config.registry;
    for (const family of this.families) {
      config.registry.registerMetric(family as never);
    }
  }

  /**
   * initialize creates every series of the methods at zero, with the
   * `handled` series for all 17 codes, like Go's InitializeMetrics. With
   * per-call labels, it does so for every protocol, and "" for the
   * request-derived labels. Series that exist keep their values.
   */
  initialize(methods: readonly DescMethod[]): void {
    for (const method of methods) {
      if (this.callLabels === undefined) {
        this.methodSeries(method)?.zero(initializeCodeOrder);
      } else {
        for (const values of this.callLabels.initialValues()) {
          this.labelledSeries(method, values)?.zero(initializeCodeOrder);
        }
      }
    }
  }

  /** Takes the families out of the registry, if they are still the ones registered there. */
  unregister(): void {
    const registry = this.registry;
    this.registry = undefined;
    for (const family of this.families) {
      if (registry !== undefined && registry.getSingleMetric(family.registeredName) === (family as unknown)) {
        registry.removeSingleMetric(family.registeredName);
      }
    }
  }

  /** The Series of a method without per-call labels; `filter` is asked once per descriptor. */
  private methodSeries(method: DescMethod): Series | null {
    let s = this.byMethod.get(method);
    if (s === undefined) {
      s = this.included(method) ? this.series(method, []) : null;
      this.byMethod.set(method, s);
    }
    return s;
  }

  private labelledSeries(method: DescMethod, values: readonly string[]): Series | null {
    let byValues = this.byMethodLabelled.get(method);
    if (byValues === undefined) {
      byValues = this.included(method) ? new Map() : null;
      this.byMethodLabelled.set(method, byValues);
    }
    if (byValues === null) {
      return null;
    }
    const key = values.join("\u0000");
    let s = byValues.get(key);
    if (s === undefined) {
      s = this.series(method, values);
      byValues.set(key, s);
    }
    return s;
  }

  /** The `filter` option's verdict; a filter that throws keeps the method. */
  private included(method: DescMethod): boolean {
    const filter = this.config.filter;
    if (filter === undefined) return true;
    try {
      return filter(method) !== false;
    } catch (e) {
      this.fail(e);
      return true;
    }
  }

  private series(method: DescMethod, values: readonly string[]): Series {
    const key = [method.methodKind, method.parent.typeName, method.name, ...values].join("\u0000");
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = new Series(this.labelsOf(method, values), method.methodKind, this.bounds);
      this.byKey.set(key, s);
      this.all.push(s);
    }
    return s;
  }

  private labelsOf(method: DescMethod, values: readonly string[]): SeriesLabels {
    const { flavor, constLabels } = this.config;
    const own: Labels = {
      [labelType]: flavor.typeValues[method.methodKind],
      [labelService]: method.parent.typeName,
      [labelMethod]: method.name,
    };
    const extra: Labels = {};
    this.callLabels?.names.forEach((name, i) => (extra[name] = values[i]));
    Object.assign(extra, constLabels);
    const make = (codeLabels: readonly string[], code: number, codeLast = false): Labels => {
      const labels: Labels = { ...own };
      const codes = () => codeLabels.forEach((name) => (labels[name] = flavor.codeValues[code]));
      if (!codeLast) codes();
      Object.assign(labels, extra);
      if (codeLast) codes();
      return Object.freeze(flavor.labelOrder === "sorted" ? sorted(labels) : labels);
    };
    return new SeriesLabels(make([], 0), (code, histogram) =>
      histogram
        ? // java-grpc-prometheus puts its header labels before the histogram's code label.
          make([flavor.histogramCodeLabel], code, true)
        : make(flavor.handledCodeLabels, code),
    );
  }
}

/**
 * Throws, before anything is registered, if the registry already has one of
 * the metrics: a registry holds each name once.
 */
function refuseTaken(registry: MetricsRegistry, names: readonly string[]): void {
  for (const name of names) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new Error(
        `connectrpc-prometheus: the metric ${name} is already registered in this registry. ` +
          `Create one ServerMetrics and one ClientMetrics per registry and share them, ` +
          `call unregister() on the old one, or pass another \`registry\` option.`,
      );
    }
  }
}

/**
 * OpenMetrics allows an exemplar 128 characters of label names and values,
 * and prom-client would print a broken one, so the check happens here. No
 * labels at all is no exemplar.
 */
function checkExemplar(labels: Labels | undefined): Labels | undefined {
  if (labels === undefined || labels === null) {
    return undefined;
  }
  let size = 0;
  let names = 0;
  for (const name in labels) {
    const value = labels[name];
    if (typeof value !== "string") {
      throw new TypeError(`connectrpc-prometheus: exemplar label "${name}" must be a string; exemplar dropped.`);
    }
    size += name.length + value.length;
    names++;
  }
  if (size > 128) {
    throw new RangeError(
      `connectrpc-prometheus: exemplar labels have ${size} characters, more than OpenMetrics' 128; exemplar dropped.`,
    );
  }
  return names === 0 ? undefined : labels;
}

/** The labels in name order, which is the order Go's exposition prints them. */
function sorted(labels: Labels): Labels {
  const out: Labels = {};
  for (const key of Object.keys(labels).sort()) {
    out[key] = labels[key];
  }
  return out;
}

