let clock: () => number = () => performance.now();

/**
 * now reads the clock that times calls, in milliseconds: `performance.now()`
 * unless a test has set another with `setClock`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function now(): number {
  return clock();
}

/**
 * setClock replaces the clock, so that tests can assert exact durations.
 * Without an argument it restores `performance.now()`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function setClock(next?: () => number): void {
  clock = next ?? (() => performance.now());
}
