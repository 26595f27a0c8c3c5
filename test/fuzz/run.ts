// The fuzz loop: seeded batches, half with a series per call and half
// without, part of them under CPU load; every series checked exactly after
// each batch; on a failure, the smallest failing call, replayed alone.
import { replayAlone, runBatch } from "./batch.js";
import { diff } from "./compare.js";
import type { Entry } from "./ledger.js";
import { expectations } from "./oracle.js";
import { generateCall, generateEnv, prng } from "./generate.js";
import { describe, size, type Call, type EnvOptions } from "./plan.js";

export interface FuzzConfig {
  readonly seed: number;
  readonly calls: number;
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Stop at the first failing batch (default true). */
  readonly stopOnFailure?: boolean;
  readonly log?: (line: string) => void;
}

/** A failure, reduced to the smallest failing call. */
export interface FuzzFailure {
  readonly seed: number;
  readonly batch: number;
  readonly options: EnvOptions;
  readonly call?: Call;
  readonly report: string;
}

export interface FuzzResult {
  readonly seed: number;
  readonly calls: number;
  readonly batches: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly failures: FuzzFailure[];
  /** How often each documented limit or accepted race happened. */
  readonly limits: Record<string, number>;
  /** Calls per dimension value, to show what was covered. */
  readonly coverage: Record<string, number>;
}

function truth(e: Entry): string {
  return `caller ${JSON.stringify(e.caller)}; server entered=${e.entered} guarded=${e.guarded} handler ${JSON.stringify(e.handler)}`;
}

function cover(coverage: Record<string, number>, c: Call, o: EnvOptions): void {
  const h = c.handler;
  const at = "at" in c.caller.act ? c.caller.act.at : undefined;
  for (const k of [
    `kind ${c.kind}`, `transport ${c.proto}/h${c.http}`, `peers ${c.client}->${c.server}`,
    `client guard ${c.clientGuard}`, `server guard ${c.serverGuard}`,
    `caller ${c.caller.act.kind}${at === undefined ? "" : `@${at}`}${c.caller.deadlineMs ? " +deadline" : ""}${c.caller.holdOpen ? " +holdOpen" : ""}`,
    c.server === "raw" ? `raw ${c.raw?.kind}` : `handler ${h.end.kind}${h.lateFraction ? " late" : ""}${h.pull < c.caller.requests ? " early-return" : ""}`,
    `env ${o.perCall ? "per-call" : "aggregate"}${o.load ? " loaded" : ""}${o.contextValues ? " contextValues" : ""}`,
  ]) coverage[k] = (coverage[k] ?? 0) + 1;
}

/** fuzz runs `calls` seeded calls and returns what it found. */
export async function fuzz(cfg: FuzzConfig): Promise<FuzzResult> {
  const { seed, calls } = cfg;
  const batchSize = cfg.batchSize ?? 250;
  const concurrency = cfg.concurrency ?? 24;
  const log = cfg.log ?? (() => {});
  const rand = prng(seed);
  const start = performance.now();
  const failures: FuzzFailure[] = [];
  const limits: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  let made = 0;
  let batch = 0;
  while (made < calls && (failures.length === 0 || cfg.stopOnFailure === false)) {
    // Alternate a series per call and sums per method; every other pair under load.
    const o = generateEnv(rand, batch % 2 === 0, batch % 4 >= 2);
    const list = Array.from({ length: Math.min(batchSize, calls - made) }, (_, i) => generateCall(rand, `s${seed}b${batch}c${made + i}`, o));
    made += list.length;
    for (const c of list) cover(coverage, c, o);
    const r = await runBatch(o, list, concurrency);
    for (const [k, v] of Object.entries(r.verdict.limitCounts)) limits[k] = (limits[k] ?? 0) + v;
    const v = r.verdict;
    log(`batch ${batch}: ${list.length} calls in ${r.seconds.toFixed(1)} s ${JSON.stringify(o)} → ${v.failures.length} failing calls, ${v.methods.length} failing methods${r.errors.length ? `, ${r.errors.length} onError` : ""}`);
    if (v.failures.length || v.methods.length || v.stray.length || r.errors.length) {
      failures.push(await reduce(seed, batch, o, r.entries, v, r.errors));
      log(failures[failures.length - 1].report);
    }
    batch++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { seed, calls: made, batches: batch, seconds, callsPerSecond: made / seconds, failures, limits, coverage };
}

/** reduce finds the smallest failing call of a failing batch and replays it alone. */
async function reduce(
  seed: number,
  batch: number,
  o: EnvOptions,
  entries: readonly Entry[],
  v: { failures: { entry: Entry; expected: Record<string, number>; actual: Record<string, number> }[]; methods: string[]; stray: string[] },
  errors: unknown[],
): Promise<FuzzFailure> {
  const head = `FUZZ FAILURE seed=${seed} batch=${batch} options=${JSON.stringify(o)}`;
  if (v.failures.length > 0) {
    const sorted = [...v.failures].sort((a, b) => size(a.entry.call) - size(b.entry.call));
    const f = sorted[0];
    const alone = await replayAlone(o, [f.entry.call]);
    const lines = [
      head,
      `${v.failures.length} failing calls; the smallest:`,
      `  ${describe(f.entry.call)}`,
      `  truth: ${truth(f.entry)}`,
      ...diff(f.expected, f.actual).map((l) => `  ${l}`),
      alone[0]?.failed ? `  replayed alone: fails too` : `  replayed alone: passes (the failure needs the batch's concurrency or load)`,
      `  other failing calls: ${sorted.slice(1, 8).map((x) => describe(x.entry.call)).join("\n    ")}`,
    ];
    return { seed, batch, options: o, call: f.entry.call, report: lines.join("\n") };
  }
  if (v.methods.length > 0) {
    const calls = entries.filter((e) => v.methods.some((m) => JSON.stringify(expectations(e, o)[0].series).includes(`grpc_method="${m}"`)));
    const sorted = calls.map((e) => e.call).sort((a, b) => size(a) - size(b));
    const replayed = await replayAlone(o, sorted);
    const bad = replayed.find((x) => x.failed);
    const lines = [
      head,
      `methods whose sums match no combination of the calls' records: ${v.methods.join(", ")}; ${replayed.length} calls replayed one by one`,
      bad ? `  smallest failing call alone: ${describe(bad.call)}` : `  no call fails alone (the failure needs the batch's concurrency or load)`,
      ...(bad ? [`  truth: ${truth(bad.entry)}`, ...bad.lines.map((l) => `  ${l}`)] : []),
    ];
    return { seed, batch, options: o, call: bad?.call, report: lines.join("\n") };
  }
  return {
    seed,
    batch,
    options: o,
    report: [head, ...v.stray.map((s) => `  series of no call: ${s}`), ...errors.map((e) => `  onError: ${String(e)}`)].join("\n"),
  };
}
