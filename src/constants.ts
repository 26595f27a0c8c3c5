// The wire vocabulary: every metric name, HELP text, label name and label
// value that this library writes. It is the compatibility contract with
// go-grpc-prometheus (default) and py-grpc-prometheus (`legacy: true`), so it
// lives in one place and nowhere else.

/**
 * Label names, in the order go-grpc-prometheus declares them.
 */
export const labelType = "grpc_type";
export const labelService = "grpc_service";
export const labelMethod = "grpc_method";
export const labelCode = "grpc_code";
/** py-grpc-prometheus's legacy name for the code label. */
export const labelLegacyCode = "code";

/**
 * Default histogram buckets: Go's `prometheus.DefBuckets`.
 */
export const defaultBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The keys of `DescMethod.methodKind`.
 */
export type MethodKind =
  | "unary"
  | "client_streaming"
  | "server_streaming"
  | "bidi_streaming";

/** `grpc_type` values of go-grpc-prometheus (`util.go`). */
export const typeValues: Readonly<Record<MethodKind, string>> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/** `grpc_type` values of py-grpc-prometheus (`grpc_utils.py`). */
export const legacyTypeValues: Readonly<Record<MethodKind, string>> = {
  unary: "UNARY",
  client_streaming: "CLIENT_STREAMING",
  server_streaming: "SERVER_STREAMING",
  bidi_streaming: "BIDI_STREAMING",
};

/**
 * `grpc_code` values indexed by code number (0 = OK, then Connect's `Code`
 * 1-16). They equal grpc-go's `codes.Code.String()`.
 */
export const codeValues: readonly string[] = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** Legacy code values: grpc `StatusCode.name` in Python. */
export const legacyCodeValues: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/**
 * Legacy default buckets: py-grpc-prometheus always uses the Python client's
 * defaults, which add .075, .75 and 7.5 to Go's.
 */
export const legacyDefaultBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * The order in which `initialize()` creates the `handled` series: Go's
 * `allCodes` (Unauthenticated sits after PermissionDenied there).
 */
export const initializeCodeOrder: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 16, 8, 9, 10, 11, 12, 13, 14, 15,
];

/** One metric: its name and HELP text. */
export interface MetricDef {
  readonly name: string;
  readonly help: string;
}

/** The metrics of one side, in one naming mode. */
export interface MetricDefs {
  readonly started: MetricDef;
  readonly handled: MetricDef;
  readonly msgReceived: MetricDef;
  readonly msgSent: MetricDef;
  readonly handlingSeconds: MetricDef;
  readonly msgRecvSeconds?: MetricDef;
  readonly msgSendSeconds?: MetricDef;
}

export const serverMetricDefs: MetricDefs = {
  started: {
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
  },
  handled: {
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
  },
  msgReceived: {
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
  },
  msgSent: {
    name: "grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
  },
  handlingSeconds: {
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
  },
};

export const legacyServerMetricDefs: MetricDefs = {
  ...serverMetricDefs,
  handlingSeconds: {
    name: "grpc_server_handled_latency_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server",
  },
};

export const clientMetricDefs: MetricDefs = {
  started: {
    name: "grpc_client_started_total",
    help: "Total number of RPCs started on the client.",
  },
  handled: {
    name: "grpc_client_handled_total",
    help: "Total number of RPCs completed by the client, regardless of success or failure.",
  },
  msgReceived: {
    name: "grpc_client_msg_received_total",
    help: "Total number of RPC stream messages received by the client.",
  },
  msgSent: {
    name: "grpc_client_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the client.",
  },
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
};

export const legacyClientMetricDefs: MetricDefs = {
  started: {
    name: "grpc_client_started_total",
    // py-grpc-prometheus's text, without the final period.
    help: "Total number of RPCs started on the client",
  },
  handled: {
    name: "grpc_client_completed_total",
    help: "Total number of RPCs completed on the client, regardless of success or failure.",
  },
  msgReceived: clientMetricDefs.msgReceived,
  msgSent: clientMetricDefs.msgSent,
  handlingSeconds: {
    name: "grpc_client_completed_latency_seconds",
    help: "Histogram of rpc response latency (in seconds) for completed rpcs.",
  },
};
