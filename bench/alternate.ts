// Side-by-side timing: every configuration runs in every slice, one batch
// each, in an order that rotates from slice to slice, so that drift in the
// machine's speed (other processes, GC, thermal state) falls on all of them
// alike. Slices are grouped into rounds.

/** One timed batch: wall-clock time and the process's CPU time. */
export interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** One slice: one batch of every variant, run back to back. */
export type Slice<V extends string> = Record<V, Sample>;

/** Options of alternate(). */
export interface AlternateOptions<V extends string> {
  /** The configurations to compare. */
  readonly variants: readonly V[];
  /** How many rounds to run, at most. */
  readonly rounds: number;
  /** Start no new round after this long, once `minRounds` are done. */
  readonly budgetMs: number;
  readonly minRounds: number;
  /** How many slices a round has. */
  readonly slices: number;
  /** Runs one batch of a variant. */
  readonly batch: (variant: V) => Promise<void>;
  /**
   * Runs before each batch, untimed: e.g. a minor GC, so that no batch pays
   * for the garbage of the one before it.
   */
  readonly beforeBatch?: () => void;
}

/** alternate times the batches and returns them by round and slice. */
export async function alternate<V extends string>(opts: AlternateOptions<V>): Promise<Slice<V>[][]> {
  const rounds: Slice<V>[][] = [];
  let turn = 0;
  const start = performance.now();
  while (
    rounds.length < opts.rounds &&
    (rounds.length < opts.minRounds || performance.now() - start < opts.budgetMs)
  ) {
    const slices: Slice<V>[] = [];
    for (let s = 0; s < opts.slices; s++) {
      const slice = {} as Record<V, Sample>;
      for (const v of rotate(opts.variants, turn++)) {
        opts.beforeBatch?.();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await opts.batch(v);
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        slice[v] = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
      }
      slices.push(slice);
    }
    rounds.push(slices);
  }
  return rounds;
}

/** rotate returns the list shifted left by `n` places. */
export function rotate<T>(list: readonly T[], n: number): T[] {
  const k = n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
