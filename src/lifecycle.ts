import type {
  Interceptor,
  StreamRequest,
  StreamResponse,
  UnaryRequest,
  UnaryResponse,
} from "@connectrpc/connect";
import { now } from "./clock.js";
import type { Reporter } from "./reporter.js";
import type { Labels, Series } from "./series.js";

/** The `next` an interceptor wraps. */
export type AnyFn = Parameters<Interceptor>[0];

/**
 * One call, as both sides see it at its start.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface CallStart {
  readonly s: Series;
  readonly start: number;
  readonly exemplar: Labels | undefined;
  /** Reports a failed measurement (a message that cannot be encoded). */
  readonly fail: (error: unknown) => void;
}

/**
 * Side is what differs between the server and the client lifecycle: how a
 * unary call is counted, and the state of a streaming call.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Side {
  unary(next: AnyFn, req: UnaryRequest, call: CallStart): Promise<UnaryResponse>;
  stream(req: StreamRequest, call: CallStart): StreamCall;
}

/**
 * lifecycle is the call lifecycle that both interceptors share: it counts the
 * start of each call, and leaves the messages and the end to the side's
 * unary function or streaming call. It hands on what `next` returns or
 * throws unchanged, synchronous throws included.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function lifecycle(reporter: Reporter, side: Side): Interceptor {
  const { forCall, exemplar, fail } = reporter;
  return (next) => (req) => {
    const s = forCall(req);
    if (s === null) {
      return next(req);
    }
    const call: CallStart = { s, start: now(), exemplar: exemplar?.(req), fail };
    s.started++;
    if (!req.stream) {
      return side.unary(next, req, call);
    }
    const stream = side.stream(req, call);
    let res: Promise<UnaryResponse | StreamResponse>;
    try {
      res = next({ ...req, message: stream.requests(req.message) });
    } catch (e) {
      stream.failed(e);
      throw e;
    }
    return res.then(
      (r) => ({ ...(r as StreamResponse), message: stream.responses((r as StreamResponse).message) }),
      (e: unknown) => {
        stream.failed(e);
        throw e;
      },
    );
  };
}

/**
 * watchUnary records the end of a unary call when `next`'s promise settles,
 * as a side reaction: the caller gets the very promise `next` returned, and
 * settles no later than without the interceptor.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function watchUnary(
  next: AnyFn,
  req: UnaryRequest,
  ok: (res: UnaryResponse) => void,
  failed: (e: unknown) => void,
): Promise<UnaryResponse> {
  let res: Promise<UnaryResponse>;
  try {
    res = next(req) as Promise<UnaryResponse>;
  } catch (e) {
    failed(e);
    throw e;
  }
  res.then(ok, failed);
  return res;
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
    readonly req: StreamRequest,
    readonly call: CallStart,
  ) {}

  /** Records the end of the call, the first time only. */
  end(failed: boolean, error: unknown): void {
    if (!this.ended) {
      this.ended = true;
      this.finish(failed, error);
    }
  }

  /** The call failed before there was a response stream. */
  failed(error: unknown): void {
    this.end(true, error);
  }

  abstract requests<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  abstract responses<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  protected abstract finish(failed: boolean, error: unknown): void;
}

/**
 * Wrapped is a hand-written async iterator over another. It counts as a side
 * reaction on the promise that the wrapped iterator's `next()` returns and
 * hands on that same promise, so a message reaches the consumer in the same
 * microtask as without it. `return()` and `throw()` pass on to the wrapped
 * iterator, as a generator's would.
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

  next(): Promise<IteratorResult<T>> {
    const p = this.it.next();
    p.then(this.onResult, this.onError);
    return p;
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.it.return !== undefined
      ? this.it.return(value)
      : Promise.resolve({ done: true, value } as IteratorResult<T>);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return this.it.throw !== undefined ? this.it.throw(error) : Promise.reject(error);
  }

  /** Sees each result; must not throw. */
  protected abstract readonly onResult: (r: IteratorResult<T>) => void;
  /** Sees each rejection; must not throw. */
  protected abstract readonly onError: (e: unknown) => void;
}

/** A rejection handler for side reactions that have nothing to do on a rejection. */
export const ignore = (): void => {};

/**
 * Seconds since the call's start, read from the clock only when its
 * handling-time histogram needs them.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function elapsedSeconds(call: CallStart): number {
  return call.s.timed ? (now() - call.start) / 1000 : 0;
}
