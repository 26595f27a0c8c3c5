import type { DescMethod } from "@bufbuild/protobuf";
import type { AnyRequest } from "./call-labels.js";
import type { FlavorName } from "./constants.js";

/**
 * HistogramOption turns a histogram on: `true` for the flavor's default
 * buckets (Go's `.005 .01 .025 .05 .1 .25 .5 1 2.5 5 10` seconds by
 * default), or `{ buckets }` for your own, strictly increasing.
 */
export type HistogramOption = boolean | { readonly buckets?: readonly number[] };

/**
 * RequestLabelsOption adds labels taken from each request: see
 * `MetricsOptions.labels`.
 */
export interface RequestLabelsOption {
  /** The label names, appended to every series. */
  readonly names: readonly string[];
  /** One value per name, for each call. */
  readonly fromRequest: (req: AnyRequest) => readonly string[];
  /** Distinct values each label keeps; later new values are `other`. Default: 100. */
  readonly maxValuesPerLabel?: number;
  /** Longer values are `other`. Default: 128 characters. */
  readonly maxValueLength?: number;
}

/**
 * MetricsRegistry is a registry the metrics can go into: a `Registry` of
 * prom-client 15 or of its successor @prometheus-io/client 0.16, or one of
 * their subclasses (`AggregatorRegistry`, `ClusterRegistry`,
 * `WorkerRegistry`). These four members are all the library uses.
 */
export interface MetricsRegistry {
  /** Takes one of the library's metric objects; each package types it as its own `Metric`. */
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
  readonly contentType: string;
}

/**
 * MetricsOptions are the options that ServerMetrics and ClientMetrics share.
 */
export interface MetricsOptions {
  /**
   * The registry to register the metrics with: prom-client's or
   * @prometheus-io/client's. Default: prom-client's global `register`. One
   * ServerMetrics and one ClientMetrics fit in one registry.
   */
  readonly registry?: MetricsRegistry;
  /**
   * Record the handling-time histogram (`grpc_server_handling_seconds`,
   * `grpc_client_handling_seconds`). Default: off, as in go-grpc-prometheus:
   * histograms cost Prometheus far more to store than counters.
   */
  readonly handlingTimeHistogram?: HistogramOption;
  /**
   * Whose exposition to print: `"go"` (go-grpc-prometheus, the default),
   * `"python"` or `"python-legacy"` (py-grpc-prometheus with `legacy=False`
   * or `True`), `"java"` (java-grpc-prometheus). It sets names, HELP texts,
   * label names and values, default buckets and how bucket bounds are
   * printed; never when things are counted. See docs/metrics.md, "Flavors".
   */
  readonly flavor?: FlavorName;
  /** `true` is the same as `flavor: "python-legacy"`. Default: false. */
  readonly legacy?: boolean;
  /**
   * Labels with fixed values, added to every series. Names must be valid
   * Prometheus label names and must not be one of the library's own labels.
   */
  readonly constLabels?: Readonly<Record<string, string>>;
  /**
   * Called when a callback of these options throws or returns something
   * unusable (`exemplars`, `labels.fromRequest`, `filter`). The call itself
   * is never affected. Default: warn once on the console, then stay quiet.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Add the label `rpc_protocol` to every series: `grpc`, `grpc_web` or
   * `connect`, read from the request's content-type (a Connect GET is
   * `connect`). Default: off.
   */
  readonly protocolLabel?: boolean;
  /**
   * Add the code label (`grpc_code`; `code` in the python-legacy flavor) to
   * the handling-time histogram, so that the latency of successful and failed
   * calls can be told apart, like java-grpc-prometheus's
   * `withCodeLabelInLatencyHistogram`. Default: off.
   */
  readonly codeLabelOnHistograms?: boolean;
  /**
   * Called once per call; the labels it returns (for example `traceExemplar`,
   * the trace of the call's `traceparent`) go on the `handled` increment and
   * the handling-time observation as OpenMetrics exemplars. Needs a registry
   * with the OpenMetrics content type:
   * `registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)`. Default: none.
   */
  readonly exemplars?: (req: AnyRequest) => Record<string, string> | undefined;
  /**
   * Labels taken from each request, appended to every series, like
   * go-grpc-middleware's `WithLabelsFromContext`. Each label keeps at most
   * `maxValuesPerLabel` distinct values (default 100) of at most
   * `maxValueLength` characters (default 128); any other value is `other`,
   * so that no client can explode the number of series.
   */
  readonly labels?: RequestLabelsOption;
  /** Prefix every metric name with `<namespace>_`. Default: none. */
  readonly namespace?: string;
  /** Prefix every metric name with `<subsystem>_` (after the namespace). Default: none. */
  readonly subsystem?: string;
  /**
   * Which methods to record: `false` leaves a method out entirely (no
   * series, not even from `initialize()`). Called once per method
   * descriptor. Typical: `(m) => m.parent.typeName !== "grpc.health.v1.Health"`.
   * Default: every method.
   */
  readonly filter?: (method: DescMethod) => boolean;
  /**
   * Record the size in bytes of each message sent and received, as its
   * binary protobuf encoding: `grpc_server_msg_received_bytes`,
   * `grpc_server_msg_sent_bytes` and the `grpc_client_*` twins. Connect
   * hands interceptors messages, not bytes, so each message is encoded once
   * more to be measured. Default: off; buckets: gRFC A66's, 0 to 4 GiB.
   */
  readonly messageSizeHistogram?: HistogramOption;
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
   * response message of a streaming call. Default: off. Flavors "go" and
   * "python" only.
   */
  readonly streamReceiveTimeHistogram?: HistogramOption;
  /**
   * Record `grpc_client_msg_send_handling_seconds`: the time the transport
   * takes to send each request message of a streaming call. Default: off.
   * Flavors "go" and "python" only.
   */
  readonly streamSendTimeHistogram?: HistogramOption;
}
