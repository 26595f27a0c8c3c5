import { Code, ConnectError, type Interceptor, type StreamRequest } from "@connectrpc/connect";
import { now } from "./clock.js";
import { callCode } from "./code.js";
import { elapsedSeconds, ignore, lifecycle, StreamCall, watchUnary, Wrapped, type CallStart, type Side } from "./lifecycle.js";
import { observeSize } from "./message-size.js";
import type { Reporter } from "./reporter.js";
import type { Series } from "./series.js";

/**
 * clientInterceptor follows each call a client makes: sent 1, and received 1
 * on success, for unary calls; each request the transport pulls (and how long
 * it took to send) and each response delivered (and how long it was waited
 * for) for streams; the end, with the code the caller sees.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function clientInterceptor(reporter: Reporter): Interceptor {
  return lifecycle(reporter, client);
}

const client: Side = {
  unary(next, req, call) {
    const { s, exemplar, fail } = call;
    s.sent++;
    observeSize(s.sizeSent, req.method.input, req.message, fail);
    return watchUnary(
      next,
      req,
      (res) => {
        s.received++;
        observeSize(s.sizeReceived, req.method.output, res.message, fail);
        s.handledCall(0, elapsedSeconds(call), exemplar);
      },
      (e) => s.handledCall(callCode(false, true, e, req, call.start), elapsedSeconds(call), exemplar),
    );
  },
  stream: (req, call) => new ClientCall(req, call),
};

/**
 * ClientCall ends on the first of: the response stream ends or throws, or
 * the call's signal aborts (the caller's AbortController or the deadline).
 * Connect-ES drops `return()` when a caller breaks out of `for await`, so the
 * signal is the only news of a caller who stops reading.
 */
class ClientCall extends StreamCall {
  constructor(req: StreamRequest, call: CallStart) {
    super(req, call);
    req.signal.addEventListener("abort", this.onAbort);
  }

  requests<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Sent(source, this);
  }

  responses<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return new Received(source, this);
  }

  /**
   * The call failed before there was a response stream to read: like Go's
   * first `RecvMsg` that returns the error, that is one wait for a message.
   */
  override failed(error: unknown): void {
    const { s, start } = this.call;
    s.recv?.observe((now() - start) / 1000);
    super.failed(error);
  }

  protected finish(failed: boolean, error: unknown): void {
    this.req.signal.removeEventListener("abort", this.onAbort);
    const { s, exemplar, start } = this.call;
    s.handledCall(callCode(false, failed, error, this.req, start), elapsedSeconds(this.call), exemplar);
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
  private readonly s: Series;
  private sendStart = -1;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    super(source);
    this.s = call.call.s;
  }

  override next(): Promise<IteratorResult<T>> {
    this.sent();
    return super.next();
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.sent();
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.sent();
    return super.throw(error);
  }

  /** The transport asks for the next message, or is done: it has sent the last one. */
  private sent(): void {
    if (this.sendStart >= 0) {
      this.s.send!.observe((now() - this.sendStart) / 1000);
      this.sendStart = -1;
    }
  }

  protected readonly onResult = (r: IteratorResult<T>): void => {
    if (r.done === true) {
      return;
    }
    const s = this.s;
    s.sent++;
    if (s.sizeSent !== undefined) {
      observeSize(s.sizeSent, this.call.req.method.input, r.value, this.call.call.fail);
    }
    if (s.send !== undefined) {
      this.sendStart = now();
    }
  };

  protected readonly onError = ignore;
}

/**
 * Counts each response message delivered to the caller, times each wait for
 * one, and ends the call when the stream ends or throws. A client stream's
 * single response counts only when the call succeeds, as a unary response
 * does: the caller gets no message otherwise.
 */
class Received<T> extends Wrapped<T> {
  private readonly s: Series;
  /** Waits left to time: a client stream's single response is one wait, not two. */
  private waitsLeft: number;
  private recvStart = -1;
  private received = 0;
  private single: T | undefined;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    super(source);
    const s = call.call.s;
    this.s = s;
    this.waitsLeft = s.recv === undefined ? 0 : s.kind === "client_streaming" ? 1 : Infinity;
  }

  override next(): Promise<IteratorResult<T>> {
    if (this.waitsLeft > 0) {
      this.waitsLeft--;
      this.recvStart = now();
    }
    return super.next();
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
      this.s.recv!.observe((now() - this.recvStart) / 1000);
      this.recvStart = -1;
    }
  }

  protected readonly onResult = (r: IteratorResult<T>): void => {
    this.waited();
    const { call, s } = this;
    if (s.kind !== "client_streaming") {
      if (r.done === true) {
        call.end(false, undefined);
        return;
      }
      s.received++;
      if (s.sizeReceived !== undefined) {
        observeSize(s.sizeReceived, call.req.method.output, r.value, call.call.fail);
      }
    } else if (r.done !== true) {
      this.received++;
      this.single = r.value;
    } else if (this.received === 1) {
      s.received++;
      if (s.sizeReceived !== undefined) {
        observeSize(s.sizeReceived, call.req.method.output, this.single, call.call.fail);
      }
      this.single = undefined;
      call.end(false, undefined);
    } else {
      // Connect-ES's client then fails the call with this code, after the
      // stream ended cleanly here.
      call.end(true, new ConnectError("protocol error: not one response message", Code.Unimplemented));
    }
  };

  protected readonly onError = (e: unknown): void => {
    this.waited();
    this.call.end(true, e);
  };
}
