import type {
  Interceptor,
  StreamRequest,
  StreamResponse,
  UnaryRequest,
  UnaryResponse,
} from "@connectrpc/connect";
import type { Labels, MethodReporter } from "./method-reporter.js";
import type { Reporter } from "./reporter.js";

/** The `next` an interceptor wraps. */
export type AnyFn = Parameters<Interceptor>[0];

/**
 * Side is what differs between the server and the client lifecycle: how a
 * unary call is counted, and the state of a streaming call.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Side {
  unary(
    next: AnyFn,
    req: UnaryRequest,
    m: MethodReporter,
    start: number,
    exemplar: Labels | undefined,
  ): Promise<UnaryResponse>;
  stream(
    m: MethodReporter,
    req: StreamRequest,
    start: number,
    exemplar: Labels | undefined,
  ): StreamCall;
}

/**
 * lifecycle is the call lifecycle that both interceptors share: it tells the
 * reporter when a call starts, and leaves the messages and the end to the
 * side's unary function or streaming call. It never touches prom-client.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function lifecycle(reporter: Reporter, side: Side): Interceptor {
  return (next) => (req) => {
    const m = reporter.forCall(req);
    const exemplar = reporter.exemplar?.(req);
    const start = performance.now();
    m.started();
    if (!req.stream) {
      return side.unary(next, req, m, start, exemplar);
    }
    const call = side.stream(m, req, start, exemplar);
    return next({ ...req, message: call.requests(req.message) }).then(
      (res): StreamResponse => {
        const stream = res as StreamResponse;
        return { ...stream, message: call.responses(stream.message) };
      },
      (e: unknown) => {
        call.end(true, e);
        throw e;
      },
    );
  };
}

/**
 * StreamCall is the state of one streaming call: it wraps the request and
 * response streams, and records the call's end exactly once.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export abstract class StreamCall {
  private ended = false;

  constructor(
    readonly m: MethodReporter,
    readonly req: StreamRequest,
    readonly start: number,
    readonly exemplar: Labels | undefined,
  ) {}

  /** Records the end of the call, the first time only. */
  end(failed: boolean, error: unknown): void {
    if (!this.ended) {
      this.ended = true;
      this.finish(failed, error);
    }
  }

  abstract requests<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  abstract responses<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  protected abstract finish(failed: boolean, error: unknown): void;
}

/**
 * Wrapped is a hand-written async iterator over another, cheaper per message
 * than an `async function*`. Subclasses count in `next()`; `return()` and
 * `throw()` pass on to the wrapped iterator, as a generator's would.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export abstract class Wrapped<T> implements AsyncIterableIterator<T> {
  protected readonly it: AsyncIterator<T>;

  constructor(source: AsyncIterable<T>) {
    this.it = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  abstract next(): Promise<IteratorResult<T>>;

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.it.return !== undefined
      ? this.it.return(value)
      : Promise.resolve({ done: true, value } as IteratorResult<T>);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return this.it.throw !== undefined ? this.it.throw(error) : Promise.reject(error);
  }
}

/**
 * Seconds since `start`, read from the clock only when the method's
 * handling-time histogram needs them.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function elapsedSeconds(m: MethodReporter, start: number): number {
  return m.timed ? (performance.now() - start) / 1000 : 0;
}
