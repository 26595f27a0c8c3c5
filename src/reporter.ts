import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry, type RegistryContentType } from "prom-client";
import { CallLabels, type AnyRequest, type RequestLabels } from "./call-labels.js";
import {
  codeValues,
  labelCode,
  labelLegacyCode,
  labelMethod,
  labelService,
  labelType,
  legacyCodeValues,
  legacyTypeValues,
  typeValues,
  type MetricDef,
  type MetricDefs,
} from "./constants.js";
import { MethodReporter, type Labels, type MethodLabels } from "./method-reporter.js";

/**
 * The settled configuration of one side's metrics.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface ReporterConfig {
  readonly registry: Registry<RegistryContentType>;
  /** Names and HELP texts, with the namespace and subsystem applied. */
  readonly defs: MetricDefs;
  readonly legacy: boolean;
  readonly constLabels: Readonly<Labels>;
  /** Buckets of the handling-time histogram, or undefined when it is off. */
  readonly handlingBuckets: readonly number[] | undefined;
  readonly recvBuckets: readonly number[] | undefined;
  readonly sendBuckets: readonly number[] | undefined;
  readonly protocolLabel: boolean;
  readonly codeLabelOnHistograms: boolean;
  readonly exemplars: ((req: AnyRequest) => Labels | undefined) | undefined;
  readonly requestLabels: RequestLabels | undefined;
  /** Called when recording fails; the call goes on. */
  readonly onError: (error: unknown) => void;
}

/**
 * Reporter owns the prom-client instruments of one side. It creates every
 * instrument once, at construction, and hands out a MethodReporter per method
 * (and per value of the per-call labels, when those are on) with its label
 * sets built once. The counters' `collect()` hooks gather the MethodReporters'
 * counts whenever the registry is read. Only it and MethodReporter touch
 * prom-client.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class Reporter {
  readonly started: Counter<string>;
  readonly handled: Counter<string>;
  readonly msgReceived: Counter<string>;
  readonly msgSent: Counter<string>;
  readonly handling: Histogram<string> | undefined;
  readonly recv: Histogram<string> | undefined;
  readonly send: Histogram<string> | undefined;
  /** True when `handled` and `handling` take exemplars. */
  readonly withExemplars: boolean;
  /** True when `handling` has the code label. */
  readonly codeOnHistograms: boolean;
  /** Reports a failed recording; never throws. */
  readonly fail: (error: unknown) => void;
  /** The reporter of a call's method and labels. */
  readonly forCall: (req: AnyRequest) => MethodReporter;
  /** The exemplar labels of a call, or undefined. */
  readonly exemplar: ((req: AnyRequest) => Labels | undefined) | undefined;
  private readonly config: ReporterConfig;
  private readonly callLabels: CallLabels | undefined;
  private readonly methods = new WeakMap<DescMethod, MethodReporter>();
  /** Every MethodReporter made: bounded by methods × per-call label values. */
  private readonly all: MethodReporter[] = [];
  private readonly labelled = new WeakMap<DescMethod, Map<string, MethodReporter>>();

  constructor(config: ReporterConfig) {
    const { defs, registry, constLabels, legacy } = config;
    this.config = config;
    const onError = config.onError;
    this.fail = (error) => {
      try {
        onError(error);
      } catch {
        // The hook must not fail a call either.
      }
    };
    this.withExemplars = config.exemplars !== undefined;
    this.codeOnHistograms = config.codeLabelOnHistograms;
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
    this.callLabels = dynamic
      ? new CallLabels(config.protocolLabel, config.requestLabels, this.fail)
      : undefined;
    this.forCall = dynamic
      ? (req) => this.labelledMethod(req.method, this.callLabels!.values(req))
      : (req) => this.method(req.method);

    refuseTaken(registry, [
      defs.started,
      defs.handled,
      defs.msgReceived,
      defs.msgSent,
      config.handlingBuckets && defs.handlingSeconds,
      config.recvBuckets && defs.msgRecvSeconds,
      config.sendBuckets && defs.msgSendSeconds,
    ]);
    const code = legacy ? labelLegacyCode : labelCode;
    const base = [
      labelType,
      labelService,
      labelMethod,
      ...Object.keys(constLabels),
      ...(this.callLabels?.names ?? []),
    ];
    const counter = (
      def: MetricDef,
      labelNames: string[],
      flush: (m: MethodReporter) => void,
      enableExemplars = false,
    ) => {
      const all = this.all;
      const fail = this.fail;
      return new Counter({
        ...def,
        labelNames,
        enableExemplars,
        registers: [registry as Registry],
        // Hand the counts gathered since the last read to prom-client.
        collect() {
          for (const m of all) {
            try {
              flush(m);
            } catch (e) {
              fail(e);
            }
          }
        },
      });
    };
    const histogram = (
      def: MetricDef | undefined,
      buckets: readonly number[] | undefined,
      labelNames: string[],
      enableExemplars = false,
    ) =>
      def && buckets
        ? new Histogram({ ...def, labelNames, buckets: [...buckets], enableExemplars, registers: [registry as Registry] })
        : undefined;
    this.started = counter(defs.started, base, (m) => m.flushStarted());
    this.handled = counter(defs.handled, [...base, code], (m) => m.flushHandled(), this.withExemplars);
    this.msgReceived = counter(defs.msgReceived, base, (m) => m.flushReceived());
    this.msgSent = counter(defs.msgSent, base, (m) => m.flushSent());
    this.handling = histogram(
      defs.handlingSeconds,
      config.handlingBuckets,
      this.codeOnHistograms ? [...base, code] : base,
      this.withExemplars,
    );
    this.recv = histogram(defs.msgRecvSeconds, config.recvBuckets, base);
    this.send = histogram(defs.msgSendSeconds, config.sendBuckets, base);
  }

  /**
   * initialize creates every series of the services' methods at zero, with
   * the `handled` series for all 17 codes, like Go's InitializeMetrics. With
   * per-call labels, it does so for every protocol, and "" for the
   * request-derived labels.
   */
  initialize(services: readonly DescService[]): void {
    for (const service of services) {
      for (const method of service.methods) {
        if (this.callLabels === undefined) {
          this.method(method).zero();
        } else {
          for (const values of this.callLabels.initialValues()) {
            this.labelledMethod(method, values).zero();
          }
        }
      }
    }
  }

  private method(method: DescMethod): MethodReporter {
    let m = this.methods.get(method);
    if (m === undefined) {
      m = new MethodReporter(this, this.labelsOf(method, []), method.methodKind);
      this.methods.set(method, m);
      this.all.push(m);
    }
    return m;
  }

  private labelledMethod(method: DescMethod, values: string[]): MethodReporter {
    let byValues = this.labelled.get(method);
    if (byValues === undefined) {
      byValues = new Map();
      this.labelled.set(method, byValues);
    }
    const key = values.join("\u0000");
    let m = byValues.get(key);
    if (m === undefined) {
      m = new MethodReporter(this, this.labelsOf(method, values), method.methodKind);
      byValues.set(key, m);
      this.all.push(m);
    }
    return m;
  }

  private labelsOf(method: DescMethod, callValues: readonly string[]): MethodLabels {
    const { legacy, constLabels } = this.config;
    const types = legacy ? legacyTypeValues : typeValues;
    const base: Labels = {
      ...constLabels,
      [labelType]: types[method.methodKind],
      [labelService]: method.parent.typeName,
      [labelMethod]: method.name,
    };
    this.callLabels?.names.forEach((name, i) => (base[name] = callValues[i]));
    const codeName = legacy ? labelLegacyCode : labelCode;
    const codes = legacy ? legacyCodeValues : codeValues;
    return {
      base: sorted(base),
      handled: codes.map((c) => sorted({ ...base, [codeName]: c })),
    };
  }
}

/**
 * Throws, before anything is registered, if the registry already has one of
 * the metrics: prom-client allows each name once per registry.
 */
function refuseTaken(registry: Registry<RegistryContentType>, defs: (MetricDef | undefined)[]): void {
  for (const def of defs) {
    if (def && registry.getSingleMetric(def.name) !== undefined) {
      throw new Error(
        `connectrpc-prometheus: the metric ${def.name} is already registered in this registry. ` +
          `Create one ServerMetrics and one ClientMetrics per registry and share them, ` +
          `or pass another \`registry\` option.`,
      );
    }
  }
}

/**
 * OpenMetrics allows an exemplar 128 characters of label names and values.
 * prom-client checks it only after counting, and then prints a broken
 * exemplar, so the check happens here, before.
 */
function checkExemplar(labels: Labels | undefined): Labels | undefined {
  if (labels === undefined) {
    return undefined;
  }
  let size = 0;
  for (const [name, value] of Object.entries(labels)) {
    if (typeof value !== "string") {
      throw new TypeError(`connectrpc-prometheus: exemplar label "${name}" must be a string; exemplar dropped.`);
    }
    size += name.length + value.length;
  }
  if (size > 128) {
    throw new RangeError(
      `connectrpc-prometheus: exemplar labels have ${size} characters, more than OpenMetrics' 128; exemplar dropped.`,
    );
  }
  return labels;
}

/**
 * The labels in name order, which is the order Go's exposition prints them.
 */
function sorted(labels: Labels): Labels {
  const out: Labels = {};
  for (const key of Object.keys(labels).sort()) {
    out[key] = labels[key];
  }
  return out;
}
