// Side-by-side timing: every configuration runs in every round, in an order
// that rotates from slice to slice, so that drift in the machine's speed
// (other processes, thermal state, GC) falls on all of them alike.

/** One timed batch: wall-clock time and the process's CPU time. */
export interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Options of alternate(). */
export interface AlternateOptions<V extends string> {
  /** The configurations to compare. */
  readonly variants: readonly V[];
  /** How many rounds to run, at most. */
  readonly rounds: number;
  /** Start no new round after this long, once `minRounds` are done. */
  readonly budgetMs: number;
  readonly minRounds: number;
  /** How many times each variant runs within a round, interleaved. */
  readonly slices: number;
  /** Runs one batch of a variant. */
  readonly batch: (variant: V) => Promise<void>;
}

/**
 * alternate times the batches and returns, per round, each variant's total
 * wall and CPU time in that round.
 */
export async function alternate<V extends string>(
  opts: AlternateOptions<V>,
): Promise<Record<V, Sample>[]> {
  const out: Record<V, Sample>[] = [];
  let turn = 0;
  const start = performance.now();
  for (let r = 0; r < opts.rounds; r++) {
    if (r >= opts.minRounds && performance.now() - start > opts.budgetMs) {
      break;
    }
    const sums = Object.fromEntries(opts.variants.map((v) => [v, { wallMs: 0, cpuMs: 0 }])) as Record<
      V,
      { wallMs: number; cpuMs: number }
    >;
    for (let s = 0; s < opts.slices; s++) {
      for (const v of rotate(opts.variants, turn++)) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await opts.batch(v);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        sums[v].wallMs += wall;
        sums[v].cpuMs += (cpu.user + cpu.system) / 1000;
      }
    }
    out.push(sums);
  }
  return out;
}

/** rotate returns the list shifted left by `n` places. */
export function rotate<T>(list: readonly T[], n: number): T[] {
  const k = n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
