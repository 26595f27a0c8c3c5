import { Code, ConnectError, type Interceptor, type UnaryResponse } from "@connectrpc/connect";
import { callCode } from "./code.js";
import { elapsedSeconds, lifecycle, StreamCall, Wrapped, type Side } from "./lifecycle.js";
import type { Reporter } from "./reporter.js";

/**
 * clientInterceptor follows each call a client makes: sent 1 and received 1
 * on success for unary calls; each request the transport pulls (and how long
 * it took to send) and each response delivered (and how long it was waited
 * for) for streams; the end, with the code the caller sees.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function clientInterceptor(reporter: Reporter): Interceptor {
  return lifecycle(reporter, client);
}

const client: Side = {
  async unary(next, req, m, start, exemplar) {
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
  },
  stream: (m, req, start, exemplar) => new ClientCall(m, req, start, exemplar),
};

/**
 * ClientCall ends on the first of: the response stream ends or throws, or
 * the call's signal aborts (the caller's AbortController or the deadline).
 * Connect-ES drops `return()` when a caller breaks out of `for await`, so the
 * signal is the only news of a caller who stops reading.
 */
class ClientCall extends StreamCall {
  constructor(...args: ConstructorParameters<typeof StreamCall>) {
    super(...args);
    this.req.signal.addEventListener("abort", this.onAbort);
  }

  requests<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Sent(source, this);
  }

  responses<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Received(source, this);
  }

  protected finish(failed: boolean, error: unknown): void {
    this.req.signal.removeEventListener("abort", this.onAbort);
    const code = callCode(false, failed, error, this.req, this.start);
    this.m.handled(code, elapsedSeconds(this.m, this.start), this.exemplar);
  }

  private readonly onAbort = (): void => {
    this.end(true, this.req.signal.reason);
  };
}

/**
 * Counts each request message the transport pulls, and times how long the
 * transport takes to send it: from handing it over to the next pull.
 */
class Sent<T> extends Wrapped<T> {
  private sendStart = -1;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    super(source);
  }

  next(): Promise<IteratorResult<T>> {
    this.sendDone();
    return this.it.next().then(this.count);
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.sendDone();
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.sendDone();
    return super.throw(error);
  }

  private sendDone(): void {
    if (this.sendStart >= 0) {
      this.call.m.sendSeconds((performance.now() - this.sendStart) / 1000);
      this.sendStart = -1;
    }
  }

  private readonly count = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done !== true) {
      this.call.m.msgSent();
      if (this.call.m.timedSend) {
        this.sendStart = performance.now();
      }
    }
    return r;
  };
}

/**
 * Counts each response message delivered to the caller, times each wait for
 * one, and ends the call when the stream ends or throws.
 */
class Received<T> extends Wrapped<T> {
  /** Waits left to time: a client stream's single response is one wait, not two. */
  private waitsLeft: number;
  private recvStart = -1;
  private received = 0;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    super(source);
    const m = call.m;
    this.waitsLeft = !m.timedRecv ? 0 : m.kind === "client_streaming" ? 1 : Infinity;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.waitsLeft > 0) {
      this.waitsLeft--;
      this.recvStart = performance.now();
    }
    return this.it.next().then(this.onResult, this.onError);
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, new ConnectError("response stream closed", Code.Canceled));
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return super.throw(error);
  }

  private waited(): void {
    if (this.recvStart >= 0) {
      this.call.m.recvSeconds((performance.now() - this.recvStart) / 1000);
      this.recvStart = -1;
    }
  }

  private readonly onResult = (r: IteratorResult<T>): IteratorResult<T> => {
    this.waited();
    if (r.done !== true) {
      this.received++;
      this.call.m.msgReceived();
    } else if (this.call.m.kind === "client_streaming" && this.received !== 1) {
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
