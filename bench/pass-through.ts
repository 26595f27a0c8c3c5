// The pass-through: the physical limit of a Connect interceptor that counts.
// It does what any metrics interceptor must do and nothing more: it wraps
// the request and response streams, and counts in one `.then` per message
// (and per unary call), as a side reaction on the promise it hands on
// unchanged. No labels, no codes, no clock, no registry. An interceptor that
// counts per message cannot cost less, so the library's overhead over this
// one's is what its metrics cost.
import type { Interceptor } from "@connectrpc/connect";

/** What a pass-through interceptor counted. */
export class PassThroughCounts {
  calls = 0;
  ok = 0;
  failed = 0;
  messages = 0;
}

/** passThroughInterceptor makes one side's pass-through, counting into `counts`. */
export function passThroughInterceptor(counts: PassThroughCounts): Interceptor {
  const ok = () => {
    counts.ok++;
  };
  const failed = () => {
    counts.failed++;
  };
  return (next) => (req) => {
    counts.calls++;
    if (!req.stream) {
      const res = next(req);
      res.then(ok, failed);
      return res;
    }
    return next({ ...req, message: new Counting(req.message, counts) }).then((res) =>
      res.stream ? { ...res, message: new Counting(res.message, counts) } : res,
    );
  };
}

/**
 * Counting wraps an async iterator: it counts each message in one `.then` on
 * the promise that the wrapped `next()` returns, and returns that very
 * promise, so a message reaches the consumer in the same microtask as
 * without it.
 */
class Counting<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;

  constructor(
    source: AsyncIterable<T>,
    private readonly counts: PassThroughCounts,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const p = this.it.next();
    p.then(this.step, this.ignore);
    return p;
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.it.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return this.it.throw?.(error) ?? Promise.reject(error);
  }

  private readonly step = (r: IteratorResult<T>): void => {
    if (r.done !== true) {
      this.counts.messages++;
    }
  };

  private readonly ignore = (): void => {};
}
