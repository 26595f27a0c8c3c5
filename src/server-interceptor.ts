import type {
  Interceptor,
  StreamRequest,
  StreamResponse,
  UnaryRequest,
  UnaryResponse,
} from "@connectrpc/connect";
import { callCode } from "./code.js";
import { kHttp2Stream } from "./http2-stream.js";
import type { Labels, MethodReporter } from "./method-reporter.js";
import type { Reporter } from "./reporter.js";
import { elapsedSeconds, forwardReturn, forwardThrow } from "./iterate.js";

type AnyFn = Parameters<Interceptor>[0];

/**
 * serverInterceptor is the server-side call lifecycle: it tells the reporter
 * when a call starts, each message it receives and sends, and when it ends,
 * with its code. It never touches prom-client itself.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function serverInterceptor(reporter: Reporter): Interceptor {
  return (next) => (req) => {
    const m = reporter.forCall(req);
    const exemplar = reporter.exemplar?.(req);
    const start = performance.now();
    m.started();
    if (!req.stream) {
      return unary(next, req, m, start, exemplar);
    }
    const call = new ServerCall(m, req, start, exemplar);
    return next({ ...req, message: new Received(req.message, m) }).then(
      (res): StreamResponse => {
        const stream = res as StreamResponse;
        return { ...stream, message: new Sent(stream.message, call) };
      },
      (e: unknown) => {
        call.end(true, e);
        throw e;
      },
    );
  };
}

async function unary(
  next: AnyFn,
  req: UnaryRequest,
  m: MethodReporter,
  start: number,
  exemplar: Labels | undefined,
): Promise<UnaryResponse> {
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
}

/**
 * ServerCall is the state of one streaming call on the server.
 */
class ServerCall {
  private ended = false;

  constructor(
    readonly m: MethodReporter,
    private readonly req: StreamRequest,
    private readonly start: number,
    private readonly exemplar: Labels | undefined,
  ) {}

  /**
   * Records the end of the call, once. With `ServerMetrics.contextValues`
   * wired in, a streaming call waits for its HTTP/2 stream to close: a client
   * that cancels while the handler still reads its requests only resets the
   * stream, and connect-node shows the handler a clean end of input.
   */
  end(failed: boolean, error: unknown): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
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

/**
 * Received counts each request message that the handler pulls.
 */
class Received<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;

  constructor(
    source: AsyncIterable<T>,
    private readonly m: MethodReporter,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().then(this.count);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return forwardReturn(this.it, value);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return forwardThrow(this.it, error);
  }

  private readonly count = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done !== true) {
      this.m.msgReceived();
    }
    return r;
  };
}

/**
 * Sent counts each response message handed on to the transport, and ends the
 * call when the response stream ends, throws, or is closed.
 */
class Sent<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ServerCall,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().then(this.onResult, this.onError);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(false, undefined);
    return forwardReturn(this.it, value);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return forwardThrow(this.it, error);
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
