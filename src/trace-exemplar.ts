import type { AnyRequest } from "./call-labels.js";

/**
 * The fixed part of a W3C `traceparent`: version, trace-id, parent-id and
 * trace-flags, lowercase hex, dash-separated (55 characters).
 */
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const fixedLength = 55;
const zeroTraceId = "0".repeat(32);
const zeroParentId = "0".repeat(16);
/** The trace-flags bit that says the caller records the trace. */
const sampledFlag = 0x01;

/**
 * traceExemplar is a function to pass as the `exemplars` option: it puts the
 * call's trace on the `handled` increment and the handling-time observation,
 * so that Grafana can jump from a latency bucket to the trace. It reads the
 * W3C Trace Context `traceparent` header and returns its trace-id as
 * `trace_id` and its parent-id as `span_id`; it needs no OpenTelemetry code.
 *
 * On the server it reads the incoming request: `span_id` is the caller's
 * span. On the client it reads the outgoing request's headers as the
 * interceptors before ClientMetrics' interceptor left them (a tracing
 * interceptor that starts the call's span and sets `traceparent`), or as the
 * caller passed them in the call options; `span_id` is then the call's own
 * span. A header that an HTTP-level instrumentation adds below Connect comes
 * too late to be read.
 *
 * A missing or malformed header gives no exemplar, following the
 * trace-context rules: version `ff` is invalid; version `00` is exactly
 * `00-<32 hex>-<16 hex>-<2 hex>`; a later version may go on after a `-`;
 * hex is lowercase; an all-zero trace-id or parent-id is invalid. Two
 * `traceparent` headers are malformed too. A trace whose `sampled` flag is
 * off gives no exemplar either: it is not recorded, so the link would lead
 * nowhere, and the series keeps its last exemplar that does lead somewhere.
 *
 * ```ts
 * import { Registry, type OpenMetricsContentType } from "prom-client";
 * import { ClientMetrics, ServerMetrics, traceExemplar } from "connectrpc-prometheus";
 *
 * const registry = new Registry<OpenMetricsContentType>();
 * registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
 * const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true, exemplars: traceExemplar });
 * const clientMetrics = new ClientMetrics({ registry, handlingTimeHistogram: true, exemplars: traceExemplar });
 * // Client: interceptors: [tracing, clientMetrics.interceptor], where `tracing`
 * // starts the call's span and sets req.header's traceparent.
 * // grpc_server_handled_total{...} 1 # {trace_id="4bf92f35...",span_id="00f067aa..."} 1 1700000000.123
 * ```
 */
export function traceExemplar(req: AnyRequest): Record<string, string> | undefined {
  const header = req.header.get("traceparent");
  if (header === null || header.length < fixedLength) {
    return undefined;
  }
  const match = traceparentPattern.exec(header);
  if (match === null) {
    return undefined;
  }
  const [, version, traceId, parentId, flags] = match;
  if (version === "ff") {
    return undefined;
  }
  if (header.length > fixedLength && (version === "00" || header[fixedLength] !== "-")) {
    return undefined;
  }
  if (traceId === zeroTraceId || parentId === zeroParentId) {
    return undefined;
  }
  if ((parseInt(flags, 16) & sampledFlag) === 0) {
    return undefined;
  }
  return { trace_id: traceId, span_id: parentId };
}
