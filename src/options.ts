import { register as globalRegistry, type Registry } from "prom-client";
import {
  defaultBuckets,
  labelCode,
  labelLegacyCode,
  labelMethod,
  labelService,
  labelType,
  legacyDefaultBuckets,
  type MetricDefs,
} from "./constants.js";
import type { ReporterConfig } from "./reporter.js";

/**
 * HistogramOption turns a histogram on: `true` for the default buckets (Go's
 * `.005 .01 .025 .05 .1 .25 .5 1 2.5 5 10`), or `{ buckets }` for your own,
 * strictly increasing, in seconds.
 */
export type HistogramOption = boolean | { readonly buckets?: readonly number[] };

/**
 * MetricsOptions are the options that ServerMetrics and ClientMetrics share.
 */
export interface MetricsOptions {
  /**
   * The prom-client registry to register the metrics with. Default:
   * prom-client's global `register`. One ServerMetrics and one ClientMetrics
   * fit in one registry.
   */
  readonly registry?: Registry;
  /**
   * Record the handling-time histogram (`grpc_server_handling_seconds`,
   * `grpc_client_handling_seconds`). Default: off, as in go-grpc-prometheus:
   * histograms cost Prometheus far more to store than counters.
   */
  readonly handlingTimeHistogram?: HistogramOption;
  /**
   * Expose py-grpc-prometheus's legacy names and label values. Default: false.
   * See docs/metrics.md, "Legacy mode".
   */
  readonly legacy?: boolean;
  /**
   * Labels with fixed values, added to every series. Names must be valid
   * Prometheus label names and must not be one of the library's own labels.
   */
  readonly constLabels?: Readonly<Record<string, string>>;
  /**
   * Called when recording a metric throws (for example a metric that was
   * removed from under us). The call itself is never affected. Default: warn
   * once on the console, then stay quiet.
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * ServerMetricsOptions configure ServerMetrics.
 */
export type ServerMetricsOptions = MetricsOptions;

/**
 * ClientMetricsOptions configure ClientMetrics.
 */
export interface ClientMetricsOptions extends MetricsOptions {
  /**
   * Record `grpc_client_msg_recv_handling_seconds`: each wait for the next
   * response message of a streaming call. Default: off. Not in legacy mode.
   */
  readonly streamReceiveTimeHistogram?: HistogramOption;
  /**
   * Record `grpc_client_msg_send_handling_seconds`: the time the transport
   * takes to send each request message of a streaming call. Default: off. Not
   * in legacy mode.
   */
  readonly streamSendTimeHistogram?: HistogramOption;
}

const sharedKeys = [
  "registry",
  "handlingTimeHistogram",
  "legacy",
  "constLabels",
  "onError",
];
const clientKeys = [
  ...sharedKeys,
  "streamReceiveTimeHistogram",
  "streamSendTimeHistogram",
];

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const reservedLabels = [
  labelType,
  labelService,
  labelMethod,
  labelCode,
  labelLegacyCode,
  "le",
];

/**
 * resolveOptions checks the options of one side and settles its
 * configuration. Every mistake throws here, at construction, with a message
 * that says what to change.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function resolveOptions(
  side: "ServerMetrics" | "ClientMetrics",
  options: ClientMetricsOptions | undefined,
  defs: MetricDefs,
  legacyDefs: MetricDefs,
): ReporterConfig {
  const fail = (message: string): never => {
    throw new Error(`connectrpc-prometheus: ${side}: ${message}`);
  };
  const opts: ClientMetricsOptions = options ?? {};
  if (typeof opts !== "object") {
    fail(`options must be an object, got ${typeof opts}.`);
  }
  const known = side === "ClientMetrics" ? clientKeys : sharedKeys;
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      fail(`unknown option "${key}". Known options: ${known.join(", ")}.`);
    }
  }
  const registry = opts.registry ?? globalRegistry;
  if (
    typeof registry !== "object" ||
    typeof registry.getSingleMetric !== "function" ||
    typeof registry.registerMetric !== "function"
  ) {
    fail(`"registry" must be a prom-client Registry.`);
  }
  if (opts.legacy !== undefined && typeof opts.legacy !== "boolean") {
    fail(`"legacy" must be true or false.`);
  }
  if (opts.onError !== undefined && typeof opts.onError !== "function") {
    fail(`"onError" must be a function.`);
  }
  const legacy = opts.legacy === true;
  const fallback = legacy ? legacyDefaultBuckets : defaultBuckets;
  const handling = buckets(fail, "handlingTimeHistogram", opts.handlingTimeHistogram, fallback);
  const recv = buckets(fail, "streamReceiveTimeHistogram", opts.streamReceiveTimeHistogram, fallback);
  const send = buckets(fail, "streamSendTimeHistogram", opts.streamSendTimeHistogram, fallback);
  return {
    registry,
    defs: legacy ? legacyDefs : defs,
    legacy,
    constLabels: constLabels(fail, opts.constLabels),
    // py-grpc-prometheus's legacy mode always records the latency histogram
    // and never the per-message ones.
    handlingBuckets: legacy ? (handling ?? fallback) : handling,
    recvBuckets: legacy ? undefined : recv,
    sendBuckets: legacy ? undefined : send,
    onError: opts.onError ?? warnOnce(),
  };
}

function buckets(
  fail: (message: string) => never,
  name: string,
  option: HistogramOption | undefined,
  fallback: readonly number[],
): readonly number[] | undefined {
  if (option === undefined || option === false) {
    return undefined;
  }
  if (option === true) {
    return fallback;
  }
  if (typeof option !== "object" || option === null) {
    return fail(`"${name}" must be true, false or { buckets: number[] }.`);
  }
  for (const key of Object.keys(option)) {
    if (key !== "buckets") {
      fail(`unknown key "${key}" in "${name}". The only key is "buckets".`);
    }
  }
  const list = option.buckets;
  if (list === undefined) {
    return fallback;
  }
  if (!Array.isArray(list) || list.length === 0) {
    return fail(`"${name}.buckets" must be a non-empty array of numbers.`);
  }
  list.forEach((b, i) => {
    if (typeof b !== "number" || !Number.isFinite(b)) {
      fail(`"${name}.buckets[${i}]" must be a finite number, got ${String(b)}.`);
    }
    if (i > 0 && b <= list[i - 1]) {
      fail(
        `"${name}.buckets" must be strictly increasing, but ${String(b)} follows ${String(list[i - 1])}.`,
      );
    }
  });
  return [...list];
}

function constLabels(
  fail: (message: string) => never,
  labels: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  if (labels === undefined) {
    return {};
  }
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    return fail(`"constLabels" must be an object of label names to string values.`);
  }
  for (const [name, value] of Object.entries(labels)) {
    if (!labelNamePattern.test(name) || name.startsWith("__")) {
      fail(
        `"constLabels" has the invalid label name "${name}". Use letters, digits and underscores, not starting with a digit or "__".`,
      );
    }
    if (reservedLabels.includes(name)) {
      fail(
        `"constLabels" may not set "${name}": the library sets it. Reserved: ${reservedLabels.join(", ")}.`,
      );
    }
    if (typeof value !== "string") {
      fail(`"constLabels.${name}" must be a string, got ${typeof value}.`);
    }
  }
  return { ...labels };
}

function warnOnce(): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (!warned) {
      warned = true;
      console.warn(
        "connectrpc-prometheus: recording a metric failed; calls are not affected, " +
          "later failures are not reported. Pass `onError` to see each one.",
        error,
      );
    }
  };
}
