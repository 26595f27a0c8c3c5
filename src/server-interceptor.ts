import type { Interceptor, StreamRequest } from "@connectrpc/connect";
import { callCode, codeAfterReset, isHangUp } from "./code.js";
import { kHttp2Stream, type ObservedStream } from "./http2-stream.js";
import { elapsedSeconds, ignore, lifecycle, StreamCall, watchUnary, Wrapped, type CallStart, type Side } from "./lifecycle.js";
import { now } from "./clock.js";
import { observeSize } from "./message-size.js";
import type { Reporter } from "./reporter.js";
import type { Series } from "./series.js";

/**
 * serverInterceptor follows each call a server handles: received 1, and sent
 * 1 on success, for unary calls; each request the handler pulls and each
 * response handed to the transport for streams; the end, with the code the
 * client is sent.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function serverInterceptor(reporter: Reporter): Interceptor {
  return lifecycle(reporter, server);
}

/**
 * How long a streaming call waits for its HTTP/2 stream to close, with
 * `ServerMetrics.contextValues`, before it is recorded with what is known.
 */
export const resetWaitMs = 1000;

const server: Side = {
  unary(next, req, call) {
    const { s, exemplar, fail } = call;
    s.received++;
    observeSize(s.sizeReceived, req.method.input, req.message, fail);
    return watchUnary(
      next,
      req,
      (res) => {
        // A handler that ignored a reset still returns: the signal decides.
        const code = callCode(true, false, undefined, req, call.start);
        if (code === 0) {
          s.sent++;
          observeSize(s.sizeSent, req.method.output, res.message, fail);
        }
        s.handledCall(code, elapsedSeconds(call), exemplar);
      },
      (e) => s.handledCall(callCode(true, true, e, req, call.start), elapsedSeconds(call), exemplar),
    );
  },
  stream: (req, call) => new ServerCall(req, call),
};

/**
 * ServerCall ends on the first of: the response stream ends, throws or is
 * closed; or the call's signal aborts before that (the client reset the
 * stream, hung up, or its deadline passed). The signal matters where the
 * response never ends: connect-node's response writer waits forever for a
 * stream that the client reset while the handler waited to write.
 */
class ServerCall extends StreamCall {
  /** The call's HTTP/2 stream, with `ServerMetrics.contextValues`. */
  readonly stream: ObservedStream | undefined;
  /** When the handler saw its requests end cleanly (server clock, ms), or -1. */
  endOfInput = -1;

  constructor(req: StreamRequest, call: CallStart) {
    super(req, call);
    this.stream = req.contextValues.get(kHttp2Stream);
    req.signal.addEventListener("abort", this.onAbort);
  }

  /** The handler saw its requests end cleanly. */
  sawEnd(): void {
    if (this.stream !== undefined && this.endOfInput < 0) {
      this.endOfInput = now();
    }
  }

  private readonly onAbort = (): void => {
    this.end(true, this.req.signal.reason);
  };

  requests<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Received(source, this);
  }

  responses<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Sent(source, this);
  }

  /**
   * With `ServerMetrics.contextValues` wired in, a call may wait for its
   * HTTP/2 stream to close, where that tells what the signal cannot: after
   * the handler saw its requests end (a client that cancels while it still
   * sends ends its requests cleanly, then resets the stream), or after a
   * hang-up without a code (a failed write). The wait is bounded.
   */
  protected finish(failed: boolean, error: unknown): void {
    this.req.signal.removeEventListener("abort", this.onAbort);
    const { s, exemplar, start } = this.call;
    const seconds = elapsedSeconds(this.call);
    const stream = this.stream;
    // A stream that was reset before the call ended: the reset decides.
    const rstCode = stream?.closed === true ? (stream.rstCode ?? 0) : 0;
    // The code as of now: the signal aborts when the call is over, too.
    const code = callCode(true, failed, error, this.req, start, rstCode);
    if (stream !== undefined && !stream.closed && this.tellsMore()) {
      const { req, endOfInput } = this;
      waitForClose(stream, (late) => s.handledCall(codeAfterReset(code, late, req, start, endOfInput), seconds, exemplar));
    } else {
      s.handledCall(code, seconds, exemplar);
    }
  }

  private tellsMore(): boolean {
    const { signal, method } = this.req;
    if (signal.aborted) {
      return isHangUp(signal.reason);
    }
    return this.endOfInput >= 0 && method.methodKind !== "server_streaming";
  }
}

/** Calls `record` with the stream's reset code when it closes, or with 0 after `resetWaitMs`. */
function waitForClose(stream: ObservedStream, record: (rstCode: number) => void): void {
  let done = false;
  const timer = setTimeout(() => {
    done = true;
    record(0);
  }, resetWaitMs);
  timer.unref?.();
  stream.once("close", () => {
    if (!done) {
      clearTimeout(timer);
      record(stream.rstCode ?? 0);
    }
  });
}

/** Counts each request message that the handler pulls, and sees the end of the requests. */
class Received<T> extends Wrapped<T> {
  private readonly s: Series;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ServerCall,
  ) {
    super(source);
    this.s = call.call.s;
  }

  protected readonly onResult = (r: IteratorResult<T>): void => {
    if (r.done === true) {
      this.call.sawEnd();
      return;
    }
    this.s.received++;
    if (this.s.sizeReceived !== undefined) {
      observeSize(this.s.sizeReceived, this.call.req.method.input, r.value, this.call.call.fail);
    }
  };

  protected readonly onError = ignore;
}

/**
 * Counts each response message handed on to the transport, and ends the call
 * when the response stream ends, throws, or is closed, or when the transport
 * fails to write and throws into it.
 */
class Sent<T> extends Wrapped<T> {
  private readonly s: Series;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ServerCall,
  ) {
    super(source);
    this.s = call.call.s;
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(false, undefined);
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return super.throw(error);
  }

  protected readonly onResult = (r: IteratorResult<T>): void => {
    if (r.done === true) {
      this.call.end(false, undefined);
      return;
    }
    this.s.sent++;
    if (this.s.sizeSent !== undefined) {
      observeSize(this.s.sizeSent, this.call.req.method.output, r.value, this.call.call.fail);
    }
  };

  protected readonly onError = (e: unknown): void => {
    this.call.end(true, e);
  };
}
