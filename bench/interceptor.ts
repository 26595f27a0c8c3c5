// Scenario 7, the parent's side: runs interceptor-worker.ts and reports what
// each side's interceptor costs alone, per unary call and per stream message,
// over a `next` that answers at once: the pass-through (the limit), the
// library with default options (every histogram off), and the library with
// every time histogram on.
import { Child } from "./child-process.js";
import { sides, type AloneVariant, type Config, type Side } from "./interceptor-alone.js";
import type { ConfigSlice, InterceptorArg, InterceptorResult } from "./interceptor-worker.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";

type Instrumented = Exclude<AloneVariant, "bare">;
type Sides = readonly Side[];

/** The CPU ns of the variant on the given sides, summed, minus bare's. */
function over(s: ConfigSlice, v: Instrumented, on: Sides): number {
  return on.reduce((sum, side) => sum + s[`${side} ${v}` as Config].cpuNs - s[`${side} bare` as Config].cpuNs, 0);
}

/** Per round, the median over slices of `f`; then the spread over rounds. */
function byRound(rounds: readonly ConfigSlice[][], f: (s: ConfigSlice) => number): Spread {
  return spread(rounds.map((slices) => spread(slices.map(f)).median));
}

/** Per round, the median overhead of `a` over the median overhead of `b`. */
function ratio(rounds: readonly ConfigSlice[][], a: Instrumented, b: Instrumented, on: Sides): Spread {
  return spread(
    rounds.map((slices) => spread(slices.map((s) => over(s, a, on))).median / spread(slices.map((s) => over(s, b, on))).median),
  );
}

/** interceptorAlone runs scenario 7 and reports its figures. */
export async function interceptorAlone(arg: InterceptorArg, report: Report): Promise<void> {
  const s7 = "7 interceptor";
  report.note(
    s7,
    `each side's interceptor alone, around a next() that answers at once (no transport): rounds of ${arg.slices} slices; ` +
      `a slice is one batch per side and variant (bare, pass-through, defaults, library) of ${arg.unaryBatch} unary calls, ` +
      `or of ${arg.streamBatch} server streams of ${arg.streamLength} messages; ${arg.budgetMs / 1000} s for each; CPU time; ` +
      `overheads are over bare, which is the await of next() itself`,
  );
  const child = await Child.start("./interceptor-worker.ts", null, { exposeGc: true, timeoutMs: 300_000 });
  const r: InterceptorResult = await child.call("run", arg);
  await child.stop();
  report.note(s7, `${r.unary.length} unary rounds, ${r.stream.length} stream rounds done`);
  for (const [config, n] of Object.entries(r.counted)) {
    if (n !== r.calls) {
      report.fail(s7, `${config} counted ${n} calls, but ${r.calls} were made`);
    }
  }
  if (Object.values(r.counted).every((n) => n === r.calls)) {
    report.note(s7, `ok: every interceptor counted the ${r.calls} calls made through it`);
  }

  for (const side of sides) {
    const one: Sides = [side];
    report.add({ scenario: s7, name: `unary ${side}, bare (the await alone)`, value: fmtNumber(byRound(r.unary, (s) => s[`${side} bare`].cpuNs), "ns/call") });
    for (const v of ["pass-through", "defaults", "library"] as const) {
      report.add({ scenario: s7, name: `unary ${side} overhead, ${v}`, value: fmtNumber(byRound(r.unary, (s) => over(s, v, one)), "ns/call") });
    }
    const onOff = ratio(r.unary, "library", "defaults", one);
    report.add({ scenario: s7, name: `unary ${side} overhead, library/defaults`, value: fmtRatio(onOff, 2), target: "≤ 1.5", met: onOff.median <= 1.5 });
    report.add({ scenario: s7, name: `unary ${side} overhead, library/pass-through`, value: fmtRatio(ratio(r.unary, "library", "pass-through", one), 2) });
    report.add({ scenario: s7, name: `unary ${side} overhead, defaults/pass-through`, value: fmtRatio(ratio(r.unary, "defaults", "pass-through", one), 2) });
  }
  for (const side of sides) {
    const one: Sides = [side];
    report.add({ scenario: s7, name: `stream ${side}, bare (the stream alone)`, value: fmtNumber(byRound(r.stream, (s) => s[`${side} bare`].cpuNs), "ns/msg") });
    for (const v of ["pass-through", "defaults", "library"] as const) {
      report.add({ scenario: s7, name: `stream ${side} overhead, ${v}`, value: fmtNumber(byRound(r.stream, (s) => over(s, v, one)), "ns/msg") });
    }
    report.add({ scenario: s7, name: `stream ${side} overhead, library/pass-through`, value: fmtRatio(ratio(r.stream, "library", "pass-through", one), 2) });
    report.add({ scenario: s7, name: `stream ${side} overhead, defaults/pass-through`, value: fmtRatio(ratio(r.stream, "defaults", "pass-through", one), 2) });
  }
  const both: Sides = sides;
  const allOn = ratio(r.stream, "library", "pass-through", both);
  report.add({ scenario: s7, name: "stream overhead (client+server), library/pass-through", value: fmtRatio(allOn, 2), target: "≤ 1.5", met: allOn.median <= 1.5 });
  const off = ratio(r.stream, "defaults", "pass-through", both);
  report.add({ scenario: s7, name: "stream overhead (client+server), defaults/pass-through", value: fmtRatio(off, 2), target: "≤ 1.2", met: off.median <= 1.2 });
}
