import type { MethodReporter } from "./method-reporter.js";

/**
 * Seconds since `start`, read from the clock only when the method's
 * handling-time histogram needs them.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function elapsedSeconds(m: MethodReporter, start: number): number {
  return m.timed ? (performance.now() - start) / 1000 : 0;
}

/**
 * Passes `return()` on to a wrapped iterator, as a generator would.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function forwardReturn<T>(
  it: AsyncIterator<T>,
  value: unknown,
): Promise<IteratorResult<T>> {
  return it.return !== undefined
    ? it.return(value)
    : Promise.resolve({ done: true, value } as IteratorResult<T>);
}

/**
 * Passes `throw()` on to a wrapped iterator, as a generator would.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function forwardThrow<T>(
  it: AsyncIterator<T>,
  error: unknown,
): Promise<IteratorResult<T>> {
  return it.throw !== undefined ? it.throw(error) : Promise.reject(error);
}
