import type { Interceptor, UnaryResponse } from "@connectrpc/connect";
import { callCode } from "./code.js";
import { kHttp2Stream } from "./http2-stream.js";
import { elapsedSeconds, lifecycle, StreamCall, Wrapped, type Side } from "./lifecycle.js";
import type { Reporter } from "./reporter.js";

/**
 * serverInterceptor follows each call a server handles: received 1 and sent
 * 1 on success for unary calls; each request the handler pulls and each
 * response handed to the transport for streams; the end, with the code the
 * client is sent.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function serverInterceptor(reporter: Reporter): Interceptor {
  return lifecycle(reporter, server);
}

const server: Side = {
  async unary(next, req, m, start, exemplar) {
    m.msgReceived();
    let res: UnaryResponse;
    try {
      res = (await next(req)) as UnaryResponse;
    } catch (e) {
      m.handled(callCode(true, true, e, req, start), elapsedSeconds(m, start), exemplar);
      throw e;
    }
    // A handler that ignored a reset still returns: the signal decides.
    const code = callCode(true, false, undefined, req, start);
    if (code === 0) {
      m.msgSent();
    }
    m.handled(code, elapsedSeconds(m, start), exemplar);
    return res;
  },
  stream: (m, req, start, exemplar) => new ServerCall(m, req, start, exemplar),
};

class ServerCall extends StreamCall {
  requests<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Received(source, this);
  }

  responses<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Sent(source, this);
  }

  /**
   * With `ServerMetrics.contextValues` wired in, the call waits for its
   * HTTP/2 stream to close: a client that cancels while the handler still
   * reads its requests only resets the stream, and connect-node shows the
   * handler a clean end of input.
   */
  protected finish(failed: boolean, error: unknown): void {
    const seconds = elapsedSeconds(this.m, this.start);
    // The code as of now: the signal aborts on completion too, later.
    const code = callCode(true, failed, error, this.req, this.start);
    const stream = this.req.contextValues.get(kHttp2Stream);
    if (stream === undefined || this.req.signal.aborted) {
      this.m.handled(code, seconds, this.exemplar);
    } else if (stream.closed) {
      this.reset(code, failed, error, seconds, stream.rstCode);
    } else {
      stream.once("close", () => this.reset(code, failed, error, seconds, stream.rstCode));
    }
  }

  /** Records the call, as reset by the client if its stream was. */
  private reset(code: number, failed: boolean, error: unknown, seconds: number, rstCode = 0): void {
    if (rstCode !== 0) {
      code = callCode(true, failed, error, this.req, this.start, rstCode);
    }
    this.m.handled(code, seconds, this.exemplar);
  }
}

/** Counts each request message that the handler pulls. */
class Received<T> extends Wrapped<T> {
  constructor(
    source: AsyncIterable<T>,
    private readonly call: ServerCall,
  ) {
    super(source);
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().then(this.count);
  }

  private readonly count = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done !== true) {
      this.call.m.msgReceived();
    }
    return r;
  };
}

/**
 * Counts each response message handed on to the transport, and ends the call
 * when the response stream ends, throws, or is closed.
 */
class Sent<T> extends Wrapped<T> {
  constructor(
    source: AsyncIterable<T>,
    private readonly call: ServerCall,
  ) {
    super(source);
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().then(this.onResult, this.onError);
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(false, undefined);
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return super.throw(error);
  }

  private readonly onResult = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done === true) {
      this.call.end(false, undefined);
    } else {
      this.call.m.msgSent();
    }
    return r;
  };

  private readonly onError = (e: unknown): never => {
    this.call.end(true, e);
    throw e;
  };
}
