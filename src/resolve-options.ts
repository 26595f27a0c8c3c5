import type { DescMethod } from "@bufbuild/protobuf";
import { register as globalRegistry } from "prom-client";
import type { AnyRequest, RequestLabels } from "./call-labels.js";
import {
  flavors,
  labelCode,
  labelLegacyCode,
  labelMethod,
  labelProtocol,
  labelService,
  labelType,
  sizeBuckets,
  type Flavor,
  type MetricDef,
  type MetricDefs,
} from "./constants.js";
import type { ClientMetricsOptions, HistogramOption, MetricsOptions, MetricsRegistry } from "./options.js";

/**
 * The settled configuration of one side's metrics.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface ReporterConfig {
  readonly registry: MetricsRegistry;
  readonly flavor: Flavor;
  /** Names and HELP texts of this side, with the namespace and subsystem applied. */
  readonly defs: MetricDefs;
  readonly constLabels: Readonly<Record<string, string>>;
  /** Bucket bounds of each histogram, or undefined when it is off. */
  readonly handlingBuckets: readonly number[] | undefined;
  readonly recvBuckets: readonly number[] | undefined;
  readonly sendBuckets: readonly number[] | undefined;
  readonly sizeBuckets: readonly number[] | undefined;
  readonly protocolLabel: boolean;
  readonly codeLabelOnHistograms: boolean;
  readonly exemplars: ((req: AnyRequest) => Record<string, string> | undefined) | undefined;
  readonly requestLabels: RequestLabels | undefined;
  readonly filter: ((method: DescMethod) => boolean) | undefined;
  /** Called when a user callback fails; the call goes on. */
  readonly onError: (error: unknown) => void;
}

type Side = "ServerMetrics" | "ClientMetrics";
type Fail = (message: string) => never;

const sharedKeys = [
  "registry", "handlingTimeHistogram", "flavor", "legacy", "constLabels", "onError", "protocolLabel",
  "codeLabelOnHistograms", "exemplars", "labels", "namespace", "subsystem", "filter", "messageSizeHistogram",
];
const clientOnlyKeys = ["streamReceiveTimeHistogram", "streamSendTimeHistogram"];
const openMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const reservedLabels = [labelType, labelService, labelMethod, labelCode, labelLegacyCode, labelProtocol, "le"];

/**
 * resolveOptions checks the options of one side and settles its
 * configuration. Every mistake throws here, at construction, with a message
 * that says what to change.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function resolveOptions(side: Side, options: ClientMetricsOptions | undefined): ReporterConfig {
  const fail: Fail = (message) => {
    throw new Error(`connectrpc-prometheus: ${side}: ${message}`);
  };
  const opts: ClientMetricsOptions = options ?? {};
  if (typeof opts !== "object" || opts === null) {
    fail(`options must be an object, got ${opts === null ? "null" : typeof opts}.`);
  }
  const known = side === "ClientMetrics" ? [...sharedKeys, ...clientOnlyKeys] : sharedKeys;
  for (const key of Object.keys(opts)) {
    if (side === "ServerMetrics" && clientOnlyKeys.includes(key)) {
      fail(`"${key}" is a ClientMetrics option: only clients time each stream message, as in go-grpc-prometheus.`);
    }
    if (!known.includes(key)) {
      fail(`unknown option "${key}". Known options: ${known.join(", ")}.`);
    }
  }
  const registry: MetricsRegistry = opts.registry ?? globalRegistry;
  if (
    typeof registry !== "object" ||
    registry === null ||
    typeof registry.getSingleMetric !== "function" ||
    typeof registry.registerMetric !== "function" ||
    typeof registry.removeSingleMetric !== "function"
  ) {
    fail(`"registry" must be a prom-client Registry.`);
  }
  for (const key of ["onError", "exemplars", "filter"] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== "function") {
      fail(`"${key}" must be a function.`);
    }
  }
  for (const key of ["protocolLabel", "codeLabelOnHistograms", "legacy"] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== "boolean") {
      fail(`"${key}" must be true or false.`);
    }
  }
  if (opts.exemplars !== undefined && (registry.contentType as string) !== openMetrics) {
    fail(
      `"exemplars" need a registry with the OpenMetrics content type: ` +
        `call \`registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)\` first.`,
    );
  }
  const flavor = flavorOf(fail, opts);
  const defs = side === "ServerMetrics" ? flavor.server : flavor.client;
  const fallback = flavor.defaultBuckets;
  const handling = buckets(fail, "handlingTimeHistogram", opts.handlingTimeHistogram, fallback);
  const recv = buckets(fail, "streamReceiveTimeHistogram", opts.streamReceiveTimeHistogram, fallback);
  const send = buckets(fail, "streamSendTimeHistogram", opts.streamSendTimeHistogram, fallback);
  if ((recv || send) && defs.msgRecvSeconds === undefined) {
    fail(
      `the "${flavor.name}" flavor has no per-message histograms; ` +
        `remove streamReceiveTimeHistogram and streamSendTimeHistogram, or use the "go" or "python" flavor.`,
    );
  }
  const consts = constLabels(fail, opts.constLabels);
  return {
    registry,
    flavor,
    defs: prefixed(fail, defs, opts.namespace, opts.subsystem),
    constLabels: consts,
    handlingBuckets: flavor.handlingHistogramAlways ? (handling ?? fallback) : handling,
    recvBuckets: recv,
    sendBuckets: send,
    sizeBuckets: buckets(fail, "messageSizeHistogram", opts.messageSizeHistogram, sizeBuckets),
    protocolLabel: opts.protocolLabel === true,
    codeLabelOnHistograms: opts.codeLabelOnHistograms === true,
    exemplars: opts.exemplars,
    requestLabels: requestLabels(fail, opts.labels, Object.keys(consts)),
    filter: opts.filter,
    onError: opts.onError ?? warnOnce(),
  };
}

function flavorOf(fail: Fail, opts: MetricsOptions): Flavor {
  const name = opts.flavor;
  if (name !== undefined && !Object.hasOwn(flavors, name)) {
    fail(`"flavor" must be one of ${Object.keys(flavors).map((f) => `"${f}"`).join(", ")}; got ${JSON.stringify(name)}.`);
  }
  if (opts.legacy === true) {
    if (name !== undefined && name !== "python-legacy") {
      fail(`"legacy: true" is the flavor "python-legacy", which contradicts "flavor: ${name}"; keep one of them.`);
    }
    return flavors["python-legacy"];
  }
  return flavors[name ?? "go"];
}

function buckets(fail: Fail, name: string, option: HistogramOption | undefined, fallback: readonly number[]) {
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
      fail(`"${name}.buckets" must be strictly increasing, but ${String(b)} follows ${String(list[i - 1])}.`);
    }
  });
  return [...list];
}

function constLabels(fail: Fail, labels: Readonly<Record<string, string>> | undefined) {
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

function checkLabelName(fail: Fail, option: string, name: string): void {
  if (typeof name !== "string" || !labelNamePattern.test(name) || name.startsWith("__")) {
    fail(
      `"${option}" has the invalid label name "${String(name)}". Use letters, digits and underscores, not starting with a digit or "__".`,
    );
  }
  if (reservedLabels.includes(name)) {
    fail(`"${option}" may not set "${name}": the library sets it. Reserved: ${reservedLabels.join(", ")}.`);
  }
}

function requestLabels(fail: Fail, option: MetricsOptions["labels"], constNames: readonly string[]) {
  if (option === undefined) {
    return undefined;
  }
  if (typeof option !== "object" || option === null) {
    return fail(`"labels" must be { names: string[], fromRequest: (req) => string[] }.`);
  }
  const keys = ["names", "fromRequest", "maxValuesPerLabel", "maxValueLength"];
  for (const key of Object.keys(option)) {
    if (!keys.includes(key)) {
      fail(`unknown key "${key}" in "labels". Known keys: ${keys.join(", ")}.`);
    }
  }
  const { names, fromRequest, maxValuesPerLabel = 100, maxValueLength = 128 } = option;
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
  for (const [key, value] of [["maxValuesPerLabel", maxValuesPerLabel], ["maxValueLength", maxValueLength]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      fail(`"labels.${key}" must be a positive integer, got ${String(value)}.`);
    }
  }
  return { names: [...names], fromRequest, maxValuesPerLabel, maxValueLength };
}

const namePartPattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The metric names with `namespace_subsystem_` in front, as client libraries do. */
function prefixed(fail: Fail, defs: MetricDefs, namespace: string | undefined, subsystem: string | undefined) {
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
        "connectrpc-prometheus: a callback of the metrics options failed; calls are not affected, " +
          "later failures are not reported. Pass `onError` to see each one.",
        error,
      );
    }
  };
}

