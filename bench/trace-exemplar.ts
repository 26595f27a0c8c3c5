// The `exemplars` function that scenario 6 measures: the library's
// `traceExemplar` once src/index.ts exports it, and until then an inline
// equivalent that does the same work (read `traceparent`, match it, check
// the version, the ids and the sampled flag, return the trace and span ids).
import * as library from "../src/index.js";
import type { AnyRequest } from "../src/index.js";

type ExemplarFn = (req: AnyRequest) => Record<string, string> | undefined;

const pattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const fixedLength = 55;
const zeroTrace = "0".repeat(32);
const zeroSpan = "0".repeat(16);

/** inlineTraceExemplar parses a W3C `traceparent` header as traceExemplar does. */
function inlineTraceExemplar(req: AnyRequest): Record<string, string> | undefined {
  const header = req.header.get("traceparent");
  if (header === null || header.length < fixedLength) return undefined;
  const m = pattern.exec(header);
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags] = m;
  if (version === "ff") return undefined;
  if (header.length > fixedLength && (version === "00" || header[fixedLength] !== "-")) return undefined;
  if (traceId === zeroTrace || spanId === zeroSpan) return undefined;
  if ((parseInt(flags, 16) & 1) === 0) return undefined;
  return { trace_id: traceId, span_id: spanId };
}

const exported = (library as unknown as { traceExemplar?: ExemplarFn }).traceExemplar;

/** traceExemplar is the library's export if there is one, else the inline equivalent. */
export const traceExemplar: ExemplarFn = exported ?? inlineTraceExemplar;

/** Where traceExemplar comes from, for the report. */
export const traceExemplarSource = exported !== undefined ? "the library's traceExemplar" : "an inline equivalent of traceExemplar";

/** The sampled `traceparent` every call of scenario 6 sends. */
export const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
