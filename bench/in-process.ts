// Scenarios 1 and 2, the parent's side: runs in-process-worker.ts and turns
// its slice times into overheads against the bare transport, the floor and
// the pass-through.
//
// Each slice runs one batch of every variant back to back, so a slice's
// differences are measured within a fraction of a second. A round's figure is
// the median over its slices, which rejects slices that another process
// disturbed; the report gives the median over rounds and their min–max.
// Overheads use the process's CPU time, which a busy machine inflates less
// than wall-clock time; the wall-clock ratio is shown too.
import { Child } from "./child-process.js";
import type { InProcessArg, InProcessResult, UnitSlice } from "./in-process-worker.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";
import type { Variant } from "./variants.js";

type Clock = "cpuNs" | "wallNs";
type Instrumented = Exclude<Variant, "bare">;

/** Per round, the median over slices of `f`; then the spread over rounds. */
function byRound(rounds: readonly UnitSlice[][], f: (s: UnitSlice) => number): Spread {
  return spread(rounds.map((slices) => spread(slices.map(f)).median));
}

/** Overhead of a variant over bare, in ns. */
const overhead = (rounds: readonly UnitSlice[][], v: Instrumented, c: Clock = "cpuNs") =>
  byRound(rounds, (s) => s[v][c] - s.bare[c]);

/** The library's time over bare's. */
const overBare = (rounds: readonly UnitSlice[][], c: Clock) => byRound(rounds, (s) => s.library[c] / s.bare[c]);

/** Per round, the median overhead of `a` over the median overhead of `b`. */
function overheadRatio(rounds: readonly UnitSlice[][], a: Instrumented, b: Instrumented, c: Clock = "cpuNs"): Spread {
  return spread(
    rounds.map((slices) => {
      const num = spread(slices.map((s) => s[a][c] - s.bare[c])).median;
      const den = spread(slices.map((s) => s[b][c] - s.bare[c])).median;
      return num / den;
    }),
  );
}

/** inProcess runs scenarios 1 and 2 and reports their figures. */
export async function inProcess(arg: InProcessArg, report: Report): Promise<void> {
  const s1 = "1 in-process";
  const s2 = "2 floor";
  const s2p = "2 pass-through";
  report.note(
    s1,
    `rounds of ${arg.slices} slices; a slice is one batch per variant (bare, pass-through, floor, defaults, library) of ` +
      `${arg.unaryBatch} unary calls, or of ${arg.streamBatch} server streams of ${arg.streamLength} messages; ` +
      `${arg.budgetMs / 1000} s for each; CPU time unless marked wall; ` +
      `"library" has every time histogram on, "defaults" every histogram off`,
  );
  const child = await Child.start("./in-process-worker.ts", null, { timeoutMs: 300_000 });
  const r: InProcessResult = await child.call("run", arg);
  await child.stop();
  report.note(s1, `${r.unary.length} unary rounds, ${r.stream.length} stream rounds done`);

  report.add({ scenario: s1, name: "unary time, library/bare", value: fmtRatio(overBare(r.unary, "cpuNs")) });
  report.add({ scenario: s1, name: "unary time, library/bare (wall)", value: fmtRatio(overBare(r.unary, "wallNs")) });
  report.add({ scenario: s1, name: "unary overhead, library (client+server)", value: fmtNumber(overhead(r.unary, "library"), "ns/call") });
  report.add({ scenario: s1, name: "stream time, library/bare", value: fmtRatio(overBare(r.stream, "cpuNs")) });
  report.add({ scenario: s1, name: "stream time, library/bare (wall)", value: fmtRatio(overBare(r.stream, "wallNs")) });
  const streamLib = overhead(r.stream, "library");
  report.add({
    scenario: s1,
    name: "stream overhead, library (client+server)",
    value: fmtNumber(streamLib, "ns/msg"),
    target: "≤ 500 ns/msg",
    met: streamLib.median <= 500,
  });
  report.add({ scenario: s1, name: "stream overhead, defaults (client+server)", value: fmtNumber(overhead(r.stream, "defaults"), "ns/msg") });

  report.add({ scenario: s2, name: "unary overhead, floor (client+server)", value: fmtNumber(overhead(r.unary, "floor"), "ns/call") });
  const ratio = overheadRatio(r.unary, "library", "floor");
  report.add({
    scenario: s2,
    name: "unary overhead, library/floor",
    value: fmtRatio(ratio, 2),
    target: "≤ 1.25",
    met: ratio.median <= 1.25,
  });
  report.add({ scenario: s2, name: "unary overhead, library/floor (wall)", value: fmtRatio(overheadRatio(r.unary, "library", "floor", "wallNs"), 2) });
  report.add({ scenario: s2, name: "stream overhead, floor (client+server)", value: fmtNumber(overhead(r.stream, "floor"), "ns/msg") });
  report.add({ scenario: s2, name: "stream overhead, library/floor", value: fmtRatio(overheadRatio(r.stream, "library", "floor"), 2) });

  for (const c of r.passThrough) {
    const same = c.counted.calls === c.expected.calls && c.counted.ok === c.expected.ok && c.counted.messages === c.expected.messages;
    const text = (x: typeof c.counted) => `${x.calls} calls, ${x.ok} unary OK, ${x.messages} stream messages`;
    if (same) {
      report.note(s2p, `ok: the ${c.side} pass-through counted ${text(c.counted)}, every one`);
    } else {
      report.fail(s2p, `the ${c.side} pass-through counted ${text(c.counted)}, but the calls were ${text(c.expected)}`);
    }
  }
  // Through a transport the pass-through adds a fraction of a µs to tens of
  // µs per call or message, less than the slices vary, so a ratio of
  // overheads would divide by a difference that noise can bring near zero:
  // the time ratios are reported here, and scenario 7 measures the ratios of
  // overheads on the interceptors alone.
  const timeOver = (rounds: readonly UnitSlice[][], a: Instrumented) => byRound(rounds, (s) => s[a].cpuNs / s["pass-through"].cpuNs);
  report.add({ scenario: s2p, name: "unary overhead, pass-through (client+server)", value: fmtNumber(overhead(r.unary, "pass-through"), "ns/call") });
  report.add({ scenario: s2p, name: "unary overhead, defaults (client+server)", value: fmtNumber(overhead(r.unary, "defaults"), "ns/call") });
  report.add({ scenario: s2p, name: "unary time, library/pass-through", value: fmtRatio(timeOver(r.unary, "library")) });
  report.add({ scenario: s2p, name: "unary time, defaults/pass-through", value: fmtRatio(timeOver(r.unary, "defaults")) });
  report.add({ scenario: s2p, name: "stream overhead, pass-through (client+server)", value: fmtNumber(overhead(r.stream, "pass-through"), "ns/msg") });
  report.add({ scenario: s2p, name: "stream time, library/pass-through", value: fmtRatio(timeOver(r.stream, "library")) });
  report.add({ scenario: s2p, name: "stream time, defaults/pass-through", value: fmtRatio(timeOver(r.stream, "defaults")) });
}
