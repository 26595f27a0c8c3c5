import {
  Code,
  ConnectError,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { callCode } from "./code.js";
import type { Labels, MethodReporter } from "./method-reporter.js";
import type { Reporter } from "./reporter.js";
import { elapsedSeconds, forwardReturn, forwardThrow } from "./iterate.js";

type AnyFn = Parameters<Interceptor>[0];

/**
 * clientInterceptor is the client-side call lifecycle: it tells the reporter
 * when a call starts, each message it sends and receives (with the time each
 * took), and when it ends, with its code. It never touches prom-client itself.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function clientInterceptor(reporter: Reporter): Interceptor {
  return (next) => (req) => {
    const m = reporter.forCall(req);
    const exemplar = reporter.exemplar?.(req);
    const start = performance.now();
    m.started();
    if (!req.stream) {
      return unary(next, req, m, start, exemplar);
    }
    const call = new ClientCall(m, req, start, exemplar);
    return next({ ...req, message: new Sent(req.message, m) }).then(
      (res): StreamResponse => {
        const stream = res as StreamResponse;
        return { ...stream, message: new Received(stream.message, call) };
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
  m.msgSent();
  let res: UnaryResponse;
  try {
    res = (await next(req)) as UnaryResponse;
  } catch (e) {
    m.handled(callCode(false, true, e, req, start), elapsedSeconds(m, start), exemplar);
    throw e;
  }
  m.msgReceived();
  m.handled(0, elapsedSeconds(m, start), exemplar);
  return res;
}

/**
 * ClientCall is the state of one streaming call on the client. It ends on the
 * first of: the response stream ends or throws, or the call's signal aborts
 * (the caller's AbortController or the deadline). Connect-ES drops `return()`
 * when a caller breaks out of `for await`, so the signal is the only news of
 * a caller who stops reading.
 */
class ClientCall {
  private ended = false;

  constructor(
    readonly m: MethodReporter,
    private readonly req: StreamRequest,
    private readonly start: number,
    private readonly exemplar: Labels | undefined,
  ) {
    req.signal.addEventListener("abort", this.onAbort);
  }

  /** Records the end of the call, once. */
  end(failed: boolean, error: unknown): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.req.signal.removeEventListener("abort", this.onAbort);
    const code = callCode(false, failed, error, this.req, this.start);
    this.m.handled(code, elapsedSeconds(this.m, this.start), this.exemplar);
  }

  private readonly onAbort = (): void => {
    this.end(true, this.req.signal.reason);
  };
}

/**
 * Sent counts each request message the transport pulls, and times how long
 * the transport takes to send it: from handing it over to the next pull.
 */
class Sent<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;
  private sendStart = -1;

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
    this.sendDone();
    return this.it.next().then(this.count);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.sendDone();
    return forwardReturn(this.it, value);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.sendDone();
    return forwardThrow(this.it, error);
  }

  private sendDone(): void {
    if (this.sendStart >= 0) {
      this.m.sendSeconds((performance.now() - this.sendStart) / 1000);
      this.sendStart = -1;
    }
  }

  private readonly count = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done !== true) {
      this.m.msgSent();
      if (this.m.timedSend) {
        this.sendStart = performance.now();
      }
    }
    return r;
  };
}

/**
 * Received counts each response message delivered to the caller, times each
 * wait for one, and ends the call when the stream ends or throws.
 */
class Received<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;
  private readonly m: MethodReporter;
  /** A client stream's single response is one wait, not two. */
  private waitsLeft: number;
  private recvStart = -1;
  private received = 0;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    this.it = source[Symbol.asyncIterator]();
    this.m = call.m;
    this.waitsLeft = !this.m.timedRecv
      ? 0
      : this.m.kind === "client_streaming"
        ? 1
        : Infinity;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.waitsLeft > 0) {
      this.waitsLeft--;
      this.recvStart = performance.now();
    }
    return this.it.next().then(this.onResult, this.onError);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, new ConnectError("response stream closed", Code.Canceled));
    return forwardReturn(this.it, value);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return forwardThrow(this.it, error);
  }

  private waited(): void {
    if (this.recvStart >= 0) {
      this.m.recvSeconds((performance.now() - this.recvStart) / 1000);
      this.recvStart = -1;
    }
  }

  private readonly onResult = (r: IteratorResult<T>): IteratorResult<T> => {
    this.waited();
    if (r.done !== true) {
      this.received++;
      this.m.msgReceived();
    } else if (this.m.kind === "client_streaming" && this.received !== 1) {
      // Connect-ES's client then fails the call with this code, after the
      // stream ended cleanly here.
      this.call.end(true, new ConnectError("protocol error: not one response message", Code.Unimplemented));
    } else {
      this.call.end(false, undefined);
    }
    return r;
  };

  private readonly onError = (e: unknown): never => {
    this.waited();
    this.call.end(true, e);
    throw e;
  };
}
