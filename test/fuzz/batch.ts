// One batch: an environment, its calls run concurrently, the wait until both
// sides have recorded them, and the comparison with the oracle.
import { inFlight, series } from "../support/harness.js";
import { actualSeries, checkAggregate, checkPerCall, closest, diff, type Series, type Verdict } from "./compare.js";
import { startEnv, type Env } from "./env.js";
import type { Entry } from "./ledger.js";
import { busy } from "./load.js";
import { expectations } from "./oracle.js";
import type { Call, EnvOptions } from "./plan.js";

/** Runs `fn` over `items`, at most `n` at a time. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * settle waits until every handler that started has ended, both sides have
 * recorded every call, and nothing changes any more (connect-node may still
 * hand on a response a moment after its handler ended), or until `ms` passed
 * (then the comparison shows what is missing).
 */
export async function settle(env: Env, entries: readonly Entry[], ms = 2500): Promise<void> {
  const until = Date.now() + ms;
  await Promise.race([Promise.all(entries.filter((e) => e.entered).map((e) => e.done)), delay(ms)]);
  while (Date.now() < until && inFlight(await series(env.registry)) !== 0) await delay(5);
  const state = async () => JSON.stringify([await series(env.registry), entries.map((e) => [e.handler, e.caller])]);
  let last = await state();
  for (let quiet = 0; quiet < 2 && Date.now() < until; ) {
    await delay(20);
    const now = await state();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/** BatchResult is what a batch left: the ledger entries, the verdict, onError reports, its duration. */
export interface BatchResult {
  readonly entries: Entry[];
  readonly verdict: Verdict;
  /** Errors the metrics reported through onError. */
  readonly errors: unknown[];
  readonly seconds: number;
}

/** checkEntries compares the registry with the oracle, per call or per method. */
export function check(entries: readonly Entry[], actual: Series, o: EnvOptions): Verdict {
  return o.perCall ? checkPerCall(entries, actual, o) : checkAggregate(entries, actual, o);
}

/** runBatch runs a batch of calls in a fresh environment and checks every series. */
export async function runBatch(o: EnvOptions, calls: readonly Call[], concurrency: number): Promise<BatchResult> {
  const start = performance.now();
  const stop = o.load ? busy() : undefined;
  const env = await startEnv(o);
  try {
    const entries: Entry[] = [];
    await pool(calls, concurrency, async (c) => entries.push(await env.run(c)));
    await settle(env, entries);
    const verdict = check(entries, await actualSeries(env.registry), o);
    return { entries, verdict, errors: env.errors, seconds: (performance.now() - start) / 1000 };
  } finally {
    await env.close();
    await stop?.();
  }
}

/** What a call alone leaves in the registry, against its first acceptable record. */
export interface Replayed {
  readonly call: Call;
  readonly entry: Entry;
  readonly failed: boolean;
  readonly lines: string[];
}

/**
 * replayAlone runs calls one at a time in one fresh environment (with the
 * batch's options and load), and checks what each call alone added. It stops
 * at the first failing call, or after `max` calls.
 */
export async function replayAlone(o: EnvOptions, calls: readonly Call[], max = 300): Promise<Replayed[]> {
  const stop = o.load ? busy() : undefined;
  const env = await startEnv(o);
  const out: Replayed[] = [];
  try {
    for (const call of calls.slice(0, max)) {
      const before = await actualSeries(env.registry);
      const entry = await env.run(call);
      await settle(env, [entry]);
      const after = await actualSeries(env.registry);
      const added: Series = {};
      for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) added[k] = v - (before[k] ?? 0);
      const v = check([entry], added, o);
      const failed = v.failures.length + v.methods.length + v.stray.length > 0;
      out.push({ call, entry, failed, lines: failed ? diff(closest(expectations(entry, o), added), added) : [] });
      entry.markRelease();
      if (failed) break;
    }
  } finally {
    await env.close();
    await stop?.();
  }
  return out;
}

/**
 * replayCopies runs `n` copies of a call at once (each its own series), for a
 * failure that needs concurrency: how many of them fail.
 */
export async function replayCopies(o: EnvOptions, call: Call, n = 10): Promise<number> {
  const copies = Array.from({ length: n }, (_, i) => ({ ...call, id: `${call.id}.${i}` }));
  const r = await runBatch({ ...o, perCall: true, tenantLabel: false }, copies, n);
  return r.verdict.failures.length;
}
