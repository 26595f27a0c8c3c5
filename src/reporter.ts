import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry } from "prom-client";
import {
  codeValues,
  initializeCodeOrder,
  labelCode,
  labelLegacyCode,
  labelMethod,
  labelService,
  labelType,
  legacyCodeValues,
  legacyTypeValues,
  typeValues,
  type MethodKind,
  type MetricDef,
  type MetricDefs,
} from "./constants.js";

type Labels = Record<string, string>;

/**
 * The settled configuration of one side's metrics.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface ReporterConfig {
  readonly registry: Registry;
  readonly defs: MetricDefs;
  readonly legacy: boolean;
  readonly constLabels: Readonly<Labels>;
  /** Buckets of the handling-time histogram, or undefined when it is off. */
  readonly handlingBuckets: readonly number[] | undefined;
  readonly recvBuckets: readonly number[] | undefined;
  readonly sendBuckets: readonly number[] | undefined;
  /** Called when recording fails; the call goes on. */
  readonly onError: (error: unknown) => void;
}

/**
 * Reporter owns the prom-client instruments of one side. It creates every
 * instrument once, at construction, and hands out a MethodReporter per method
 * with its label sets built once. It is the only code that touches
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
  /** Reports a failed recording; never throws. */
  readonly fail: (error: unknown) => void;
  private readonly legacy: boolean;
  private readonly constLabels: Readonly<Labels>;
  private readonly methods = new WeakMap<DescMethod, MethodReporter>();

  constructor(config: ReporterConfig) {
    const { defs, registry, constLabels, legacy } = config;
    this.legacy = legacy;
    this.constLabels = constLabels;
    const onError = config.onError;
    this.fail = (error) => {
      try {
        onError(error);
      } catch {
        // The hook must not fail a call either.
      }
    };
    const wanted: (MetricDef | undefined)[] = [
      defs.started,
      defs.handled,
      defs.msgReceived,
      defs.msgSent,
      config.handlingBuckets && defs.handlingSeconds,
      config.recvBuckets && defs.msgRecvSeconds,
      config.sendBuckets && defs.msgSendSeconds,
    ];
    for (const def of wanted) {
      if (def && registry.getSingleMetric(def.name) !== undefined) {
        throw new Error(
          `connectrpc-prometheus: the metric ${def.name} is already registered in this registry. ` +
            `Create one ServerMetrics and one ClientMetrics per registry and share them, ` +
            `or pass another \`registry\` option.`,
        );
      }
    }
    const constNames = Object.keys(constLabels);
    const base = [labelType, labelService, labelMethod, ...constNames];
    const code = legacy ? labelLegacyCode : labelCode;
    const counter = (def: MetricDef, labelNames: string[]) =>
      new Counter({ ...def, labelNames, registers: [registry] });
    const histogram = (
      def: MetricDef | undefined,
      buckets: readonly number[] | undefined,
    ) =>
      def && buckets
        ? new Histogram({
            ...def,
            labelNames: base,
            buckets: [...buckets],
            registers: [registry],
          })
        : undefined;
    this.started = counter(defs.started, base);
    this.handled = counter(defs.handled, [...base, code]);
    this.msgReceived = counter(defs.msgReceived, base);
    this.msgSent = counter(defs.msgSent, base);
    this.handling = histogram(defs.handlingSeconds, config.handlingBuckets);
    this.recv = histogram(defs.msgRecvSeconds, config.recvBuckets);
    this.send = histogram(defs.msgSendSeconds, config.sendBuckets);
  }

  /**
   * The reporter of one method, built on first use and cached.
   */
  method(method: DescMethod): MethodReporter {
    let m = this.methods.get(method);
    if (m === undefined) {
      m = new MethodReporter(this, this.labelsOf(method), method.methodKind);
      this.methods.set(method, m);
    }
    return m;
  }

  /**
   * initialize creates every series of the services' methods at zero, with
   * the `handled` series for all 17 codes, like Go's InitializeMetrics.
   */
  initialize(services: readonly DescService[]): void {
    for (const service of services) {
      for (const method of service.methods) {
        this.method(method).zero();
      }
    }
  }

  private labelsOf(method: DescMethod): MethodLabels {
    const types = this.legacy ? legacyTypeValues : typeValues;
    const base: Labels = {
      ...this.constLabels,
      [labelType]: types[method.methodKind],
      [labelService]: method.parent.typeName,
      [labelMethod]: method.name,
    };
    const codeName = this.legacy ? labelLegacyCode : labelCode;
    const codes = this.legacy ? legacyCodeValues : codeValues;
    return {
      base: sorted(base),
      handled: codes.map((c) => sorted({ ...base, [codeName]: c })),
    };
  }
}

interface MethodLabels {
  readonly base: Labels;
  /** Indexed by code number. */
  readonly handled: readonly Labels[];
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

/**
 * MethodReporter records the events of one method's calls into the bound
 * series of its Reporter.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class MethodReporter {
  /** True when the handling-time histogram needs the call's duration. */
  readonly timed: boolean;
  /** True when per-message receive times are recorded (client only). */
  readonly timedRecv: boolean;
  /** True when per-message send times are recorded (client only). */
  readonly timedSend: boolean;

  constructor(
    private readonly r: Reporter,
    private readonly labels: MethodLabels,
    /** The method's RPC kind. */
    readonly kind: MethodKind,
  ) {
    this.timed = r.handling !== undefined;
    this.timedRecv = r.recv !== undefined;
    this.timedSend = r.send !== undefined;
  }

  started(): void {
    try {
      this.r.started.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  msgReceived(): void {
    try {
      this.r.msgReceived.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  msgSent(): void {
    try {
      this.r.msgSent.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  /** The call ended with `code` (0 = OK) after `seconds`. */
  handled(code: number, seconds: number): void {
    try {
      this.r.handled.inc(this.labels.handled[code] ?? this.labels.handled[2]);
      this.r.handling?.observe(this.labels.base, seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  recvSeconds(seconds: number): void {
    try {
      this.r.recv?.observe(this.labels.base, seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  sendSeconds(seconds: number): void {
    try {
      this.r.send?.observe(this.labels.base, seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  /** Creates every series of this method at zero. */
  zero(): void {
    const { r, labels } = this;
    r.started.inc(labels.base, 0);
    r.msgReceived.inc(labels.base, 0);
    r.msgSent.inc(labels.base, 0);
    for (const code of initializeCodeOrder) {
      r.handled.inc(labels.handled[code], 0);
    }
    r.handling?.zero(labels.base);
    r.recv?.zero(labels.base);
    r.send?.zero(labels.base);
  }
}
