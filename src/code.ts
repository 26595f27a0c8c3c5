import { Code, ConnectError } from "@connectrpc/connect";
import { now } from "./clock.js";

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
 * Client: the code the caller sees: `OK`, the error's code, or what
 * `ConnectError.from` makes of anything else (`Unknown`; an `AbortError` is
 * `Canceled`). A call that ends because its signal aborted (the caller's
 * `AbortController`, the deadline) has the code of the abort's reason.
 *
 * Server: the code on the wire, or, for a call that its client abandoned,
 * the reason it was abandoned:
 * - A call whose HTTP/2 stream the client reset (`resetCode`, seen through
 *   `ServerMetrics.contextValues`), or whose signal aborted before it ended,
 *   has the code of that abort: RST_STREAM CANCEL is Canceled; any other
 *   reset, and a lost connection, is DeadlineExceeded for a call with a
 *   deadline (Connect-ES clients reset with INTERNAL_ERROR on their
 *   deadline) and Canceled otherwise; the server's own deadline is
 *   DeadlineExceeded. A hang-up that carries no code (HTTP/1.1, a failed
 *   write) is Canceled, or DeadlineExceeded if the call's deadline has
 *   passed by the server's clock, with 20% (at least 50 ms) of slack.
 * - Otherwise the handler's outcome decides, and nothing else: a
 *   ConnectError keeps its code, whenever it comes; any other thrown value is
 *   Internal, which connect-node puts on the wire, except `throw undefined`,
 *   which connect-node sends as OK on every protocol but Connect unary.
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
  if (!server) {
    if (req.signal.aborted) {
      return reasonCode(req.signal.reason, Code.Canceled);
    }
    return failed ? reasonCode(error, Code.Unknown) : 0;
  }
  if (resetCode !== 0) {
    const code = h2ResetCodes[resetCode] ?? Code.Internal;
    return code === Code.Internal ? lostCode(req) : code;
  }
  if (req.signal.aborted) {
    const reason: unknown = req.signal.reason;
    if (isHangUp(reason)) {
      const timeoutMs = requestTimeoutMs(req.header);
      return timeoutMs !== undefined && deadlinePassed(timeoutMs, startMs) ? Code.DeadlineExceeded : Code.Canceled;
    }
    const code = (reason as ConnectError).code;
    return code === Code.Internal ? lostCode(req) : code;
  }
  if (!failed) {
    return 0;
  }
  if (error instanceof ConnectError) {
    return error.code;
  }
  return error === undefined && (req.stream || isGrpc(req.header)) ? 0 : Code.Internal;
}

/**
 * codeAfterReset is the code of a server call whose HTTP/2 stream was reset
 * after the call ended, as `ServerMetrics.contextValues` sees it, for a
 * handler that saw its requests end cleanly at `endOfInputMs` (server clock):
 *
 * - RST_STREAM CANCEL is a client that cancelled while it still sent (a
 *   Connect-ES client ends its requests cleanly, then resets): Canceled.
 * - Another reset is a Connect-ES client's deadline if the requests ended
 *   when the deadline had passed by the server's clock (it ends them cleanly,
 *   then resets with INTERNAL_ERROR): DeadlineExceeded.
 * - Otherwise the reset came after a complete answer (gRPC-Web and Connect
 *   clients reset a stream with INTERNAL_ERROR once they have read the whole
 *   answer), and `code`, the answer's code, stays.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function codeAfterReset(
  code: number,
  resetCode: number,
  req: CodeContext,
  startMs: number,
  endOfInputMs: number,
): number {
  if (resetCode === 0) {
    return code;
  }
  if (resetCode === h2Cancel) {
    return Code.Canceled;
  }
  const timeoutMs = requestTimeoutMs(req.header);
  return timeoutMs !== undefined && deadlinePassed(timeoutMs, startMs, endOfInputMs) ? Code.DeadlineExceeded : code;
}

/**
 * isHangUp tells whether a server call's abort reason is a hang-up that
 * carries no code: connect-node calls a closed HTTP/1.1 connection or a
 * destroyed stream Aborted, aborts with no reason when an HTTP/2 stream closes
 * without an error code, and passes on the error of a failed write.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function isHangUp(reason: unknown): boolean {
  return !(reason instanceof ConnectError) || reason.code === Code.Aborted;
}

/**
 * The code of a call whose client reset its stream with an error code, or
 * whose connection was lost: connect-node aborts such a call with Internal
 * (an INTERNAL_ERROR reset; Node reports a TCP reset as one too). A
 * Connect-ES client resets so on its deadline: DeadlineExceeded if the call
 * carried one. Otherwise the client went away: Canceled, as a grpc-go
 * server records any client reset or lost connection.
 */
function lostCode(req: CodeContext): number {
  return requestTimeoutMs(req.header) !== undefined ? Code.DeadlineExceeded : Code.Canceled;
}

/** RST_STREAM CANCEL. */
const h2Cancel = 8;

/**
 * The codes connect-node gives HTTP/2 reset codes (`connectErrorFromH2ResetCode`);
 * the others are Internal.
 */
const h2ResetCodes: Readonly<Record<number, number>> = {
  7: Code.Unavailable,
  [h2Cancel]: Code.Canceled,
  11: Code.ResourceExhausted,
  12: Code.PermissionDenied,
  13: Code.PermissionDenied,
};

/**
 * The code that `ConnectError.from(reason, fallback)` would give, without
 * allocating an error.
 */
function reasonCode(reason: unknown, fallback: Code): number {
  if (reason instanceof ConnectError) {
    return reason.code;
  }
  if (reason instanceof Error && (reason.name === "AbortError" || reason.name === "TimeoutError")) {
    return Code.Canceled;
  }
  return fallback;
}

function isGrpc(header: Headers): boolean {
  return header.get("content-type")?.startsWith("application/grpc") === true;
}

function deadlinePassed(timeoutMs: number, startMs: number, atMs = now()): boolean {
  const tolerance = Math.max(deadlineToleranceMinMs, timeoutMs * deadlineTolerance);
  return atMs - startMs + tolerance >= timeoutMs;
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
