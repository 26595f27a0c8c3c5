import { register as globalRegistry, Registry, type RegistryContentType } from "prom-client";
import { labelProtocol, type AnyRequest, type RequestLabels } from "./call-labels.js";
import {
  defaultBuckets,
  labelCode,
  labelLegacyCode,
  labelMethod,
  labelService,
  labelType,
  legacyDefaultBuckets,
  type MetricDef,
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
  readonly registry?: Registry<RegistryContentType>;
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
  /**
   * Add the label `rpc_protocol` to every series: `grpc`, `grpc_web` or
   * `connect`, read from the request's content-type (a Connect GET is
   * `connect`). Default: off.
   */
  readonly protocolLabel?: boolean;
  /**
   * Add `grpc_code` (`code` in legacy mode) to the handling-time histogram, so
   * that the latency of successful and failed calls can be told apart, like
   * java-grpc-prometheus's `withCodeLabelInLatencyHistogram`. Default: off.
   */
  readonly codeLabelOnHistograms?: boolean;
  /**
   * Called once per call; the labels it returns (for example
   * `{ trace_id }` of the active span) go on the `handled` increment and the
   * handling-time observation as OpenMetrics exemplars. Needs a registry with
   * the OpenMetrics content type:
   * `registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)`. Default: none.
   */
  readonly exemplars?: (req: AnyRequest) => Record<string, string> | undefined;
  /**
   * Labels taken from each request, appended to every series, like
   * go-grpc-middleware's `WithLabelsFromContext`. `fromRequest` returns one
   * value per name. Each label keeps at most `maxValuesPerLabel` distinct
   * values (default 100); later new values become `other`, so that no client
   * can explode the number of series.
   */
  readonly labels?: {
    readonly names: readonly string[];
    readonly fromRequest: (req: AnyRequest) => readonly string[];
    readonly maxValuesPerLabel?: number;
  };
  /** Prefix every metric name with `<namespace>_`. Default: none. */
  readonly namespace?: string;
  /** Prefix every metric name with `<subsystem>_` (after the namespace). Default: none. */
  readonly subsystem?: string;
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
  "protocolLabel",
  "codeLabelOnHistograms",
  "exemplars",
  "labels",
  "namespace",
  "subsystem",
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
  labelProtocol,
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
  for (const key of ["onError", "exemplars"] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== "function") {
      fail(`"${key}" must be a function.`);
    }
  }
  for (const key of ["protocolLabel", "codeLabelOnHistograms"] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== "boolean") {
      fail(`"${key}" must be true or false.`);
    }
  }
  if (
    opts.exemplars !== undefined &&
    (registry.contentType as string) !== Registry.OPENMETRICS_CONTENT_TYPE
  ) {
    fail(
      `"exemplars" need a registry with the OpenMetrics content type: ` +
        `call \`registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)\` first.`,
    );
  }
  const legacy = opts.legacy === true;
  const fallback = legacy ? legacyDefaultBuckets : defaultBuckets;
  const handling = buckets(fail, "handlingTimeHistogram", opts.handlingTimeHistogram, fallback);
  const recv = buckets(fail, "streamReceiveTimeHistogram", opts.streamReceiveTimeHistogram, fallback);
  const send = buckets(fail, "streamSendTimeHistogram", opts.streamSendTimeHistogram, fallback);
  const consts = constLabels(fail, opts.constLabels);
  return {
    registry,
    defs: prefixed(fail, legacy ? legacyDefs : defs, opts.namespace, opts.subsystem),
    legacy,
    constLabels: consts,
    protocolLabel: opts.protocolLabel === true,
    codeLabelOnHistograms: opts.codeLabelOnHistograms === true,
    exemplars: opts.exemplars,
    requestLabels: requestLabels(fail, opts.labels, Object.keys(consts)),
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
    checkLabelName(fail, "constLabels", name);
    if (typeof value !== "string") {
      fail(`"constLabels.${name}" must be a string, got ${typeof value}.`);
    }
  }
  return { ...labels };
}

function checkLabelName(fail: (message: string) => never, option: string, name: string): void {
  if (typeof name !== "string" || !labelNamePattern.test(name) || name.startsWith("__")) {
    fail(
      `"${option}" has the invalid label name "${String(name)}". Use letters, digits and underscores, not starting with a digit or "__".`,
    );
  }
  if (reservedLabels.includes(name)) {
    fail(`"${option}" may not set "${name}": the library sets it. Reserved: ${reservedLabels.join(", ")}.`);
  }
}

function requestLabels(
  fail: (message: string) => never,
  option: MetricsOptions["labels"],
  constNames: readonly string[],
): RequestLabels | undefined {
  if (option === undefined) {
    return undefined;
  }
  if (typeof option !== "object" || option === null) {
    return fail(`"labels" must be { names: string[], fromRequest: (req) => string[] }.`);
  }
  for (const key of Object.keys(option)) {
    if (!["names", "fromRequest", "maxValuesPerLabel"].includes(key)) {
      fail(`unknown key "${key}" in "labels". Known keys: names, fromRequest, maxValuesPerLabel.`);
    }
  }
  const { names, fromRequest, maxValuesPerLabel = 100 } = option;
  if (!Array.isArray(names) || names.length === 0) {
    return fail(`"labels.names" must be a non-empty array of label names.`);
  }
  for (const name of names) {
    checkLabelName(fail, "labels.names", name);
    if (constNames.includes(name)) {
      fail(`"labels.names" has "${name}", which "constLabels" sets already.`);
    }
  }
  if (new Set(names).size !== names.length) {
    fail(`"labels.names" has a name twice.`);
  }
  if (typeof fromRequest !== "function") {
    fail(`"labels.fromRequest" must be a function that returns one value per name.`);
  }
  if (!Number.isInteger(maxValuesPerLabel) || maxValuesPerLabel < 1) {
    fail(`"labels.maxValuesPerLabel" must be a positive integer, got ${String(maxValuesPerLabel)}.`);
  }
  return { names: [...names], fromRequest, maxValuesPerLabel };
}

const namePartPattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The metric names with `namespace_subsystem_` in front, as client libraries do. */
function prefixed(
  fail: (message: string) => never,
  defs: MetricDefs,
  namespace: string | undefined,
  subsystem: string | undefined,
): MetricDefs {
  const parts: string[] = [];
  for (const [key, part] of [["namespace", namespace], ["subsystem", subsystem]] as const) {
    if (part === undefined || part === "") continue;
    if (typeof part !== "string" || !namePartPattern.test(part)) {
      fail(`"${key}" must be letters, digits and underscores, not starting with a digit; got "${String(part)}".`);
    }
    parts.push(part);
  }
  if (parts.length === 0) {
    return defs;
  }
  const prefix = parts.join("_") + "_";
  const out: Record<string, MetricDef> = {};
  for (const [key, def] of Object.entries(defs) as [string, MetricDef | undefined][]) {
    if (def) out[key] = { ...def, name: prefix + def.name };
  }
  return out as unknown as MetricDefs;
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
