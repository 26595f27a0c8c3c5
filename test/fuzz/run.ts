// The fuzz loop: seeded batches, half with a series per call and half
// without, part of them under CPU load; every series checked exactly after
// each batch; on a failure, the smallest failing call, replayed alone.
import { replayAlone, replayCopies, runBatch } from "./batch.js";
import { diff } from "./compare.js";
import type { Entry } from "./ledger.js";
import { classify, holes } from "./holes.js";
import { limits } from "./oracle.js";
import { generateCall, generateEnv, prng } from "./generate.js";
import { describe, methodOf, size, type Call, type EnvOptions } from "./plan.js";

/** FuzzConfig says how long to fuzz and with which seed. */
export interface FuzzConfig {
  readonly seed: number;
  readonly calls: number;
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Stop at the first failing batch (default true). */
  readonly stopOnFailure?: boolean;
  /** Run only this batch (the others are generated, not run): to replay one. */
  readonly onlyBatch?: number;
  /** Log every failing call, not only the smallest. */
  readonly verbose?: boolean;
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

/** FuzzResult is what a fuzz run found and measured. */
export interface FuzzResult {
  readonly seed: number;
  readonly calls: number;
  readonly batches: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly failures: FuzzFailure[];
  /** How often each documented limit or accepted race happened. */
  readonly limits: Record<string, number>;
  /** How many calls could have shown each. */
  readonly eligible: Record<string, number>;
  /** Failing calls per known hole (batches with a series per call only). */
  readonly holes: Record<string, number>;
  /** Calls whose caller gave up (aborted, or its deadline fired) on our server. */
  readonly gaveUp: number;
  /** The documented limits that happened more often than their bound allows. */
  readonly overBound: string[];
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
    c.server === "raw" && c.raw ? `raw ${c.raw.kind}` : `handler ${h.end.kind}${h.lateFraction ? " late" : ""}${h.pull < c.caller.requests ? " early-return" : ""}${h.yields > 100 ? " flood" : h.gapMs > 0 ? " slow" : ""}`,
    `env ${o.perCall ? "per-call" : "aggregate"}${o.load ? " loaded" : ""}${o.contextValues ? " contextValues" : ""}`,
  ]) coverage[k] = (coverage[k] ?? 0) + 1;
}

/** fuzz runs `calls` seeded calls and returns what it found. */
export async function fuzz(cfg: FuzzConfig): Promise<FuzzResult> {
  const { seed, calls } = cfg;
  const batchSize = cfg.batchSize ?? 250;
  const concurrency = cfg.concurrency ?? 48;
  const log = cfg.log ?? (() => {});
  const rand = prng(seed);
  const start = performance.now();
  const failures: FuzzFailure[] = [];
  const limitCounts: Record<string, number> = {};
  const eligible: Record<string, number> = {};
  const coverage: Record<string, number> = {};
  let gaveUp = 0;
  const holeCounts: Record<string, number> = {};
  let made = 0;
  let ran = 0;
  let batch = 0;
  while (made < calls && (failures.length === 0 || cfg.stopOnFailure === false)) {
    // Alternate a series per call and sums per method; every other pair under load.
    const o = generateEnv(rand, batch % 2 === 0, batch % 4 >= 2);
    const list = Array.from({ length: Math.min(batchSize, calls - made) }, (_, i) => generateCall(rand, `s${seed}b${batch}c${made + i}`, o));
    made += list.length;
    if (cfg.onlyBatch !== undefined && cfg.onlyBatch !== batch) {
      batch++;
      continue;
    }
    ran += list.length;
    for (const c of list) cover(coverage, c, o);
    const r = await runBatch(o, list, concurrency);
    for (const [k, v] of Object.entries(r.verdict.limitCounts)) limitCounts[k] = (limitCounts[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.verdict.eligible)) eligible[k] = (eligible[k] ?? 0) + v;
    const v = r.verdict;
    const named: Record<string, number> = {};
    for (const f of v.failures) {
      const hs = classify(f, o);
      for (const h of hs) {
        holeCounts[holes[h]] = (holeCounts[holes[h]] ?? 0) + 1;
        named[h] = (named[h] ?? 0) + 1;
      }
      if (cfg.verbose || hs.includes("other")) log(`  [${hs.join(",")}] ${describe(f.entry.call)}\n    truth: ${truth(f.entry)}\n    ${diff(f.expected, f.actual).join("\n    ")}`);
    }
    gaveUp += r.entries.filter((e) => e.caller.gaveUp !== undefined && e.entered && e.call.server === "connect-node").length;
    log(`batch ${batch}: ${list.length} calls in ${r.seconds.toFixed(1)} s ${JSON.stringify(o)} → ${v.failures.length} failing calls${v.failures.length ? ` ${JSON.stringify(named)}` : ""}, ${v.methods.length} failing methods${r.errors.length ? `, ${r.errors.length} onError` : ""}`);
    if (v.failures.length || v.methods.length || v.stray.length || r.errors.length) {
      failures.push(await reduce(seed, batch, o, r.entries, v, r.errors));
      log(failures[failures.length - 1].report);
    }
    batch++;
  }
  const seconds = (performance.now() - start) / 1000;
  const overBound = checkBounds(limitCounts, eligible, gaveUp);
  return { seed, calls: ran, batches: batch, seconds, callsPerSecond: ran / seconds, failures, limits: limitCounts, eligible, holes: holeCounts, gaveUp, overBound, coverage };
}

/**
 * The bounds of the documented limits: the share of the calls that could show
 * one that may show it (judged from 20 such calls on), and the share of the
 * calls whose caller gave up that may race with their handler's end. The
 * HTTP/1.1 deadline limit is bounded call by call instead (oracle.ts `slow`).
 */
export const bounds: Readonly<Record<string, number>> = {
  // Only calls whose request took longer than the slack to arrive may show it.
  [limits.h1Deadline]: 1,
  [limits.grpcJsDeadline]: 1,
  [limits.h2SendingAbort]: 1,
  races: 0.1,
};

function checkBounds(counts: Record<string, number>, eligible: Record<string, number>, gaveUp: number): string[] {
  const out: string[] = [];
  for (const [name, share] of Object.entries(bounds)) {
    const n = counts[name] ?? 0;
    const of = eligible[name] ?? 0;
    if (of >= 20 && n > share * of) out.push(`${name}: ${n} of ${of} calls, bound ${share * 100}%`);
  }
  const raced = eligible[limits.raceHandler] ?? 0;
  if (gaveUp >= 20 && raced > bounds.races * gaveUp) out.push(`races: ${raced} of ${gaveUp} calls whose caller gave up, bound ${bounds.races * 100}%`);
  return out;
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
    const copies = alone[0]?.failed ? 0 : await replayCopies(o, f.entry.call);
    const lines = [
      head,
      `${v.failures.length} failing calls; the smallest:`,
      `  ${describe(f.entry.call)}`,
      `  truth: ${truth(f.entry)}`,
      ...diff(f.expected, f.actual).map((l) => `  ${l}`),
      alone[0]?.failed ? `  replayed alone: fails too` : `  replayed alone: passes; 10 concurrent copies: ${copies} fail (the failure needs concurrency or load)`,
      `  other failing calls: ${sorted.slice(1, 8).map((x) => describe(x.entry.call)).join("\n    ")}`,
    ];
    return { seed, batch, options: o, call: f.entry.call, report: lines.join("\n") };
  }
  if (v.methods.length > 0) {
    const calls = entries.filter((e) => v.methods.includes(methodOf[e.call.kind]));
    const sorted = calls.map((e) => e.call).sort((a, b) => size(a) - size(b));
    const replayed = await replayAlone(o, sorted);
    const bad = replayed.find((x) => x.failed);
    const copies = bad === undefined && sorted.length > 0 ? await replayCopies(o, sorted[0]) : 0;
    const lines = [
      head,
      `methods whose sums match no combination of the calls' records: ${v.methods.join(", ")}; ${replayed.length} calls replayed one by one`,
      bad ? `  smallest failing call alone: ${describe(bad.call)}` : `  no call fails alone (the failure needs concurrency or load); 10 concurrent copies of the smallest, ${sorted[0] ? describe(sorted[0]) : "-"}: ${copies} fail`,
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
