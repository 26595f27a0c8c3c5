// Small statistics over benchmark rounds: every figure is a median with its
// min–max across rounds, so that one noisy round cannot decide a result.

/** The spread of one figure across rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** spread summarises values measured once per round. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) {
    return { median: NaN, min: NaN, max: NaN };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** perRound maps each round's figures to one value, then summarises them. */
export function perRound<T>(rounds: readonly T[], f: (round: T) => number): Spread {
  return spread(rounds.map(f));
}

/** fmtRatio prints a ratio spread as `1.234 (1.201–1.260)`. */
export function fmtRatio(s: Spread, digits = 3): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** fmtNumber prints a spread of plain numbers, such as ns per call. */
export function fmtNumber(s: Spread, unit: string, digits = 0): string {
  const f = (n: number) => n.toFixed(digits);
  return `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)})`;
}
