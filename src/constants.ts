// The wire vocabulary: every metric name, HELP text, label name and label
// value that this library writes, per flavor. It is the compatibility
// contract with go-grpc-prometheus (the default), py-grpc-prometheus and
// java-grpc-prometheus, so it lives in one place and nowhere else.
// test/golden/flavor-*.txt cite the anchors' source lines for each of them.

/** Label names shared by every flavor. */
export const labelType = "grpc_type";
export const labelService = "grpc_service";
export const labelMethod = "grpc_method";
export const labelCode = "grpc_code";
/** py-grpc-prometheus's legacy name for the code label; java-grpc-prometheus has both. */
export const labelLegacyCode = "code";
/** The label that `protocolLabel` adds. */
export const labelProtocol = "rpc_protocol";
/** The value that stands for every request-label value past the guard. */
export const overflowValue = "other";

/** The keys of `DescMethod.methodKind`. */
export type MethodKind = "unary" | "client_streaming" | "server_streaming" | "bidi_streaming";

/** One metric: its name and HELP text. */
export interface MetricDef {
  readonly name: string;
  readonly help: string;
}

/** The metrics of one side in one flavor. Absent ones do not exist in that flavor. */
export interface MetricDefs {
  readonly started: MetricDef;
  readonly handled: MetricDef;
  readonly msgReceived: MetricDef;
  readonly msgSent: MetricDef;
  readonly handlingSeconds: MetricDef;
  readonly msgRecvSeconds?: MetricDef;
  readonly msgSendSeconds?: MetricDef;
  readonly msgReceivedBytes: MetricDef;
  readonly msgSentBytes: MetricDef;
}

/** The names of the flavors. */
export type FlavorName = "go" | "python" | "python-legacy" | "java";

/**
 * Flavor is everything that one anchor library prints differently: names,
 * HELP texts, label names and values, label order, default buckets, and how
 * the bucket bounds are printed. When things are counted never depends on it.
 */
export interface Flavor {
  readonly name: FlavorName;
  readonly server: MetricDefs;
  readonly client: MetricDefs;
  /** `grpc_type` values by method kind. */
  readonly typeValues: Readonly<Record<MethodKind, string>>;
  /** Code values indexed by code number: 0 = OK, then Connect's `Code` 1-16. */
  readonly codeValues: readonly string[];
  /** The labels that carry the code on the handled counter, in order. */
  readonly handledCodeLabels: readonly string[];
  /** The code label that `codeLabelOnHistograms` adds. */
  readonly histogramCodeLabel: string;
  /**
   * "sorted": every label in name order, as client_golang and
   * prometheus_client print them. "declared": java-grpc-prometheus's declared
   * order, the options' labels after the code labels of a counter and before
   * the code label of a histogram, as simpleclient prints them.
   */
  readonly labelOrder: "sorted" | "declared";
  /**
   * Where `le` goes: "first", before the other labels, as prom-client prints
   * its own histograms (and this library always has, in the go flavor);
   * "sorted", in name order among them (prometheus_client); "last"
   * (simpleclient).
   */
  readonly le: "first" | "sorted" | "last";
  /** `_count` before `_sum`, as prometheus_client and simpleclient print them. */
  readonly countFirst: boolean;
  readonly defaultBuckets: readonly number[];
  /** How the anchor's client library prints a bucket bound. */
  readonly numberFormat: "go" | "python" | "java";
  /** py-grpc-prometheus's legacy mode records the latency histograms whatever the option says. */
  readonly handlingHistogramAlways: boolean;
}

/** go-grpc-prometheus `grpc_type` values (`util.go`). */
const goTypes: Readonly<Record<MethodKind, string>> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/** grpc-python and grpc-java method types (`grpc_utils.py`, `MethodType`). */
const upperTypes: Readonly<Record<MethodKind, string>> = {
  unary: "UNARY",
  client_streaming: "CLIENT_STREAMING",
  server_streaming: "SERVER_STREAMING",
  bidi_streaming: "BIDI_STREAMING",
};

/** grpc-go's `codes.Code.String()`, which are also Connect's `Code` names. */
const goCodes: readonly string[] = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
  "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
  "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];

/** grpc-python's `StatusCode.name` and grpc-java's `Status.Code` names. */
const upperCodes: readonly string[] = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** Go's `prometheus.DefBuckets`. */
const goBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** prometheus_client's `Histogram.DEFAULT_BUCKETS`, which py-grpc-prometheus always uses. */
const pythonBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** java-grpc-prometheus's `Configuration.DEFAULT_LATENCY_BUCKETS`. */
const javaBuckets: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/**
 * Default buckets of the message size histograms: gRFC A66's, in bytes.
 */
export const sizeBuckets: readonly number[] = [
  0, 1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456,
  1073741824, 4294967296,
];

/**
 * The order in which `initialize()` creates the `handled` series: Go's
 * `allCodes` (Unauthenticated sits after PermissionDenied there).
 */
export const initializeCodeOrder: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 16, 8, 9, 10, 11, 12, 13, 14, 15];

// The size histograms are this library's own, in every flavor.
const serverSizes = {
  msgReceivedBytes: {
    name: "grpc_server_msg_received_bytes",
    help: "Histogram of the size in bytes of RPC messages received on the server, as encoded in binary protobuf.",
  },
  msgSentBytes: {
    name: "grpc_server_msg_sent_bytes",
    help: "Histogram of the size in bytes of RPC messages sent by the server, as encoded in binary protobuf.",
  },
};
const clientSizes = {
  msgReceivedBytes: {
    name: "grpc_client_msg_received_bytes",
    help: "Histogram of the size in bytes of RPC messages received by the client, as encoded in binary protobuf.",
  },
  msgSentBytes: {
    name: "grpc_client_msg_sent_bytes",
    help: "Histogram of the size in bytes of RPC messages sent by the client, as encoded in binary protobuf.",
  },
};

/** go-grpc-prometheus `server_metrics.go`. */
const goServer: MetricDefs = {
  started: { name: "grpc_server_started_total", help: "Total number of RPCs started on the server." },
  handled: {
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
  },
  msgReceived: {
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
  },
  msgSent: { name: "grpc_server_msg_sent_total", help: "Total number of gRPC stream messages sent by the server." },
  handlingSeconds: {
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
  },
  ...serverSizes,
};

/** go-grpc-prometheus `client_metrics.go`. */
const goClient: MetricDefs = {
  started: { name: "grpc_client_started_total", help: "Total number of RPCs started on the client." },
  handled: {
    name: "grpc_client_handled_total",
    help: "Total number of RPCs completed by the client, regardless of success or failure.",
  },
  msgReceived: {
    name: "grpc_client_msg_received_total",
    help: "Total number of RPC stream messages received by the client.",
  },
  msgSent: { name: "grpc_client_msg_sent_total", help: "Total number of gRPC stream messages sent by the client." },
  handlingSeconds: {
    name: "grpc_client_handling_seconds",
    help: "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
  },
  msgRecvSeconds: {
    name: "grpc_client_msg_recv_handling_seconds",
    help: "Histogram of response latency (seconds) of the gRPC single message receive.",
  },
  msgSendSeconds: {
    name: "grpc_client_msg_send_handling_seconds",
    help: "Histogram of response latency (seconds) of the gRPC single message send.",
  },
  ...clientSizes,
};

/** py-grpc-prometheus `server_metrics.py`, legacy=True. */
const pythonLegacyServer: MetricDefs = {
  ...goServer,
  handlingSeconds: {
    name: "grpc_server_handled_latency_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server",
  },
};

/** py-grpc-prometheus `client_metrics.py`, legacy=True. */
const pythonLegacyClient: MetricDefs = {
  started: { name: "grpc_client_started_total", help: "Total number of RPCs started on the client" },
  handled: {
    name: "grpc_client_completed_total",
    help: "Total number of RPCs completed on the client, regardless of success or failure.",
  },
  msgReceived: goClient.msgReceived,
  msgSent: goClient.msgSent,
  handlingSeconds: {
    name: "grpc_client_completed_latency_seconds",
    help: "Histogram of rpc response latency (in seconds) for completed rpcs.",
  },
  ...clientSizes,
};

/** py-grpc-prometheus `server_metrics.py`, legacy=False. */
const pythonServer: MetricDefs = goServer;

/** py-grpc-prometheus `client_metrics.py`, legacy=False. */
const pythonClient: MetricDefs = {
  ...goClient,
  started: pythonLegacyClient.started,
  handled: { name: "grpc_client_handled_total", help: pythonLegacyClient.handled.help },
  handlingSeconds: {
    name: "grpc_client_handling_seconds",
    // Two adjacent Python strings, joined without a space.
    help: "Histogram of response latency (seconds) of the gRPC untilit is finished by the application.",
  },
};

/** java-grpc-prometheus `ServerMetrics.java`. */
const javaServer: MetricDefs = {
  ...goServer,
  msgReceived: {
    name: "grpc_server_msg_received_total",
    help: "Total number of stream messages received from the client.",
  },
  msgSent: { name: "grpc_server_msg_sent_total", help: "Total number of stream messages sent by the server." },
  handlingSeconds: { name: "grpc_server_handled_latency_seconds", help: goServer.handlingSeconds.help },
};

/** java-grpc-prometheus `ClientMetrics.java`. */
const javaClient: MetricDefs = {
  started: goClient.started,
  handled: pythonLegacyClient.handled,
  msgReceived: {
    name: "grpc_client_msg_received_total",
    help: "Total number of stream messages received from the server.",
  },
  msgSent: { name: "grpc_client_msg_sent_total", help: "Total number of stream messages sent by the client." },
  handlingSeconds: pythonLegacyClient.handlingSeconds,
  ...clientSizes,
};

const go: Flavor = {
  name: "go",
  server: goServer,
  client: goClient,
  typeValues: goTypes,
  codeValues: goCodes,
  handledCodeLabels: [labelCode],
  histogramCodeLabel: labelCode,
  labelOrder: "sorted",
  le: "first",
  countFirst: false,
  defaultBuckets: goBuckets,
  numberFormat: "go",
  handlingHistogramAlways: false,
};

const python: Flavor = {
  name: "python",
  server: pythonServer,
  client: pythonClient,
  typeValues: upperTypes,
  codeValues: upperCodes,
  handledCodeLabels: [labelCode],
  histogramCodeLabel: labelCode,
  labelOrder: "sorted",
  le: "sorted",
  countFirst: true,
  defaultBuckets: pythonBuckets,
  numberFormat: "python",
  handlingHistogramAlways: false,
};

const pythonLegacy: Flavor = {
  name: "python-legacy",
  server: pythonLegacyServer,
  client: pythonLegacyClient,
  typeValues: upperTypes,
  codeValues: upperCodes,
  handledCodeLabels: [labelLegacyCode],
  histogramCodeLabel: labelLegacyCode,
  labelOrder: "sorted",
  le: "sorted",
  countFirst: true,
  defaultBuckets: pythonBuckets,
  numberFormat: "python",
  handlingHistogramAlways: true,
};

const java: Flavor = {
  name: "java",
  server: javaServer,
  client: javaClient,
  typeValues: upperTypes,
  codeValues: upperCodes,
  handledCodeLabels: [labelLegacyCode, labelCode],
  histogramCodeLabel: labelCode,
  labelOrder: "declared",
  le: "last",
  countFirst: true,
  defaultBuckets: javaBuckets,
  numberFormat: "java",
  handlingHistogramAlways: false,
};

/** Every flavor by name. */
export const flavors: Readonly<Record<FlavorName, Flavor>> = {
  go,
  python,
  "python-legacy": pythonLegacy,
  java,
};
