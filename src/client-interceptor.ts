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

  /** The request stream, when its sends are timed. */
  sending: TimedSent<unknown> | undefined;

  requests<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    if (this.call.s.send === undefined) {
      return new Sent(source, this);
    }
    const timed = new TimedSent(source, this);
    this.sending = timed as TimedSent<unknown>;
    return timed;
  }

  responses<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    return this.call.s.recv === undefined ? new Received(source, this) : new TimedReceived(source, this);
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
    // A request the transport took and will not follow with another was sent as the call ended.
    this.sending?.sent();
    const { s, exemplar, start } = this.call;
    s.handledCall(callCode(false, failed, error, this.req, start), elapsedSeconds(this.call), exemplar);
  }

  private readonly onAbort = (): void => {
    this.end(true, this.req.signal.reason);
  };
}

/** Counts each request message the transport pulls. */
class Sent<T> extends Wrapped<T> {
  protected readonly s: Series;

  constructor(
    source: AsyncIterable<T>,
    protected readonly call: ClientCall,
  ) {
    super(source);
    this.s = call.call.s;
  }

  protected readonly onResult = (r: IteratorResult<T>): void => {
    if (r.done !== true) {
      this.counted(r.value);
    }
  };

  protected counted(message: T): void {
    const s = this.s;
    s.sent++;
    if (s.sizeSent !== undefined) {
      observeSize(s.sizeSent, this.call.req.method.input, message, this.call.call.fail);
    }
  }

  protected readonly onError = ignore;
}

/**
 * Sent, with `streamSendTimeHistogram`: it also times how long the transport
 * takes to send each message, from handing it over to the next pull.
 */
class TimedSent<T> extends Sent<T> {
  private sendStart = -1;

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

  protected override counted(message: T): void {
    super.counted(message);
    this.sendStart = now();
  }

  /**
   * The transport asks for the next message, is done, or the call ended: it
   * has sent the last one.
   */
  sent(): void {
    if (this.sendStart >= 0) {
      this.s.send!.observe((now() - this.sendStart) / 1000);
      this.sendStart = -1;
    }
  }
}

/**
 * Counts each response message delivered to the caller, times each wait for
 * one, and ends the call when the stream ends or throws. A client stream's
 * single response counts only when the call succeeds, as a unary response
 * does: the caller gets no message otherwise.
 */
class Received<T> extends Wrapped<T> {
  protected readonly s: Series;
  private received = 0;
  private single: T | undefined;

  constructor(
    source: AsyncIterable<T>,
    private readonly call: ClientCall,
  ) {
    super(source);
    this.s = call.call.s;
  }

  override return(value?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, new ConnectError("response stream closed", Code.Canceled));
    return super.return(value);
  }

  override throw(error?: unknown): Promise<IteratorResult<T>> {
    this.call.end(true, error);
    return super.throw(error);
  }

  /** A wait for a message ended. */
  protected waited(): void {}

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

/**
 * Received, with `streamReceiveTimeHistogram`: it also times each wait for a
 * message, as Go times each `RecvMsg`.
 */
class TimedReceived<T> extends Received<T> {
  /** Waits left to time: a client stream's single response is one wait, not two. */
  private waitsLeft = this.s.kind === "client_streaming" ? 1 : Infinity;
  private recvStart = -1;

  override next(): Promise<IteratorResult<T>> {
    if (this.waitsLeft > 0) {
      this.waitsLeft--;
      this.recvStart = now();
    }
    return super.next();
  }

  protected override waited(): void {
    if (this.recvStart >= 0) {
      this.s.recv!.observe((now() - this.recvStart) / 1000);
      this.recvStart = -1;
    }
  }
}
