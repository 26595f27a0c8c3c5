import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The part of a Connect request that decides a call's code.
 */
export interface CodeContext {
  readonly stream: boolean;
  readonly signal: AbortSignal;
  readonly header: Headers;
}

/**
 * Share of a deadline by which the server's clock may run short. The client
 * starts its clock before it connects and sends; the server starts its own
 * when the call reaches the interceptor, so it sees a client's deadline
 * expire early, by the time the request took to arrive.
 */
const deadlineTolerance = 0.2;
const deadlineToleranceMinMs = 50;

/**
 * callCode turns the outcome of a call into the code that its metrics record:
 * 0 for OK, else a Connect `Code` (1-16). It is the only place that decides a
 * code.
 *
 * - If the call's signal aborted before the call ended, or the client reset
 *   its HTTP/2 stream (`resetCode`, when the server can see it), the abort
 *   wins: a caller's abort or a client reset or hang-up is Canceled, a
 *   deadline is DeadlineExceeded.
 * - A ConnectError keeps its code.
 * - Server: any other thrown value is Internal, which is what connect-node
 *   puts on the wire. The one exception is `throw undefined`, which
 *   connect-node sends as OK except on a Connect unary call. Client: it is
 *   Unknown, as `ConnectError.from` makes it.
 * - Server: a failed call that carried a deadline (`grpc-timeout` or
 *   `connect-timeout-ms`) is DeadlineExceeded if the deadline has passed, or
 *   if the client reset the HTTP/2 stream with INTERNAL_ERROR, which is how a
 *   Connect-ES client enforces its deadline (connect-node hands the server
 *   that reset as Internal).
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function callCode(
  server: boolean,
  failed: boolean,
  error: unknown,
  req: CodeContext,
  startMs: number,
  resetCode = 0,
): number {
  let code: number;
  // A reset of the call's HTTP/2 stream counts as an abort, as connect-node
  // would report it: CANCEL is Canceled, any other error code Internal.
  const aborted = resetCode !== 0 || req.signal.aborted;
  if (resetCode !== 0) {
    code = resetCode === http2Cancel ? Code.Canceled : Code.Internal;
  } else if (aborted) {
    code = reasonCode(req.signal.reason, Code.Canceled);
    // connect-node aborts a server call with Aborted when the client hung up
    // (ECONNRESET, a destroyed stream): a client reset, so Canceled.
    if (server && code === Code.Aborted) {
      code = Code.Canceled;
    }
  } else if (!failed) {
    return 0;
  } else if (server) {
    code =
      error instanceof ConnectError
        ? error.code
        : error === undefined && (req.stream || isGrpc(req.header))
          ? 0
          : Code.Internal;
  } else {
    code = reasonCode(error, Code.Unknown);
  }
  if (server && code !== 0) {
    const timeoutMs = requestTimeoutMs(req.header);
    if (
      timeoutMs !== undefined &&
      ((aborted && code === Code.Internal) || deadlinePassed(timeoutMs, startMs))
    ) {
      return Code.DeadlineExceeded;
    }
  }
  return code;
}

/** NGHTTP2_CANCEL: the client cancelled the stream. */
const http2Cancel = 8;

/**
 * The code that `ConnectError.from(reason, fallback)` would give, without
 * allocating an error.
 */
function reasonCode(reason: unknown, fallback: Code): number {
  if (reason instanceof ConnectError) {
    return reason.code;
  }
  if (
    reason instanceof Error &&
    (reason.name === "AbortError" || reason.name === "TimeoutError")
  ) {
    return Code.Canceled;
  }
  return fallback;
}

function isGrpc(header: Headers): boolean {
  return header.get("content-type")?.startsWith("application/grpc") === true;
}

function deadlinePassed(timeoutMs: number, startMs: number): boolean {
  const tolerance = Math.max(
    deadlineToleranceMinMs,
    timeoutMs * deadlineTolerance,
  );
  return performance.now() - startMs + tolerance >= timeoutMs;
}

const grpcTimeoutUnitMs: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * requestTimeoutMs reads the deadline a request carries, in milliseconds:
 * `grpc-timeout` (gRPC and gRPC-Web) or `connect-timeout-ms` (Connect).
 * Malformed values count as no deadline; connect-node rejects them before any
 * interceptor runs anyway.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function requestTimeoutMs(header: Headers): number | undefined {
  const grpc = header.get("grpc-timeout");
  if (grpc !== null) {
    const match = /^(\d{1,8})([HMSmun])$/.exec(grpc);
    return match ? Number(match[1]) * grpcTimeoutUnitMs[match[2]] : undefined;
  }
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) {
    return Number(connect);
  }
  return undefined;
}
