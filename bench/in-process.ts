// Scenarios 1 and 2, the parent's side: runs in-process-worker.ts and turns
// its per-round times into overheads against the bare transport and the
// floor. Overheads are measured in CPU time of the process, which a busy
// machine inflates far less than wall-clock time; the wall-clock ratio is
// shown too.
import { Child } from "./child-process.js";
import type { InProcessArg, InProcessResult } from "./in-process-worker.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, perRound } from "./stats.js";
import type { Variant } from "./variants.js";

type Rounds = readonly Record<Variant, number>[];

/** Overhead of a variant over bare, per round, in ns. */
const overhead = (rounds: Rounds, v: Variant) => perRound(rounds, (r) => r[v] - r.bare);

/** A variant's time over bare's, per round. */
const overBare = (rounds: Rounds, v: Variant) => perRound(rounds, (r) => r[v] / r.bare);

/** Library overhead over floor overhead, per round. */
const overFloor = (rounds: Rounds) =>
  perRound(rounds, (r) => (r.library - r.bare) / (r.floor - r.bare));

/** inProcess runs scenarios 1 and 2 and reports their figures. */
export async function inProcess(arg: InProcessArg, report: Report): Promise<void> {
  const s1 = "1 in-process";
  const s2 = "2 floor";
  report.note(
    s1,
    `up to ${arg.rounds} rounds (${arg.budgetMs / 1000} s each for unary and stream) × ${arg.slices} interleaved slices of ${arg.unaryBatch} unary calls ` +
      `and ${arg.streamBatch} × ${arg.streamLength}-message server stream per variant; CPU time unless marked wall`,
  );
  const child = await Child.start("./in-process-worker.ts", null, { timeoutMs: 300_000 });
  const r = await child.call<InProcessResult>("run", arg);
  await child.stop();
  report.note(s1, `${r.unaryCpu.length} unary rounds, ${r.streamCpu.length} stream rounds done`);

  report.add({ scenario: s1, name: "unary time, library/bare", value: fmtRatio(overBare(r.unaryCpu, "library")) });
  report.add({ scenario: s1, name: "unary time, library/bare (wall)", value: fmtRatio(overBare(r.unaryWall, "library")) });
  report.add({ scenario: s1, name: "unary overhead, library (client+server)", value: fmtNumber(overhead(r.unaryCpu, "library"), "ns/call") });
  report.add({ scenario: s1, name: "stream time, library/bare", value: fmtRatio(overBare(r.streamCpu, "library")) });
  report.add({ scenario: s1, name: "stream time, library/bare (wall)", value: fmtRatio(overBare(r.streamWall, "library")) });
  const streamLib = overhead(r.streamCpu, "library");
  report.add({
    scenario: s1,
    name: "stream overhead, library (client+server)",
    value: fmtNumber(streamLib, "ns/msg"),
    target: "≤ 500 ns/msg",
    met: streamLib.median <= 500,
  });

  report.add({ scenario: s2, name: "unary overhead, floor (client+server)", value: fmtNumber(overhead(r.unaryCpu, "floor"), "ns/call") });
  const ratio = overFloor(r.unaryCpu);
  report.add({
    scenario: s2,
    name: "unary overhead, library/floor",
    value: fmtRatio(ratio, 2),
    target: "≤ 1.25",
    met: ratio.median <= 1.25,
  });
  report.add({ scenario: s2, name: "unary overhead, library/floor (wall)", value: fmtRatio(overFloor(r.unaryWall), 2) });
  report.add({ scenario: s2, name: "stream overhead, floor (client+server)", value: fmtNumber(overhead(r.streamCpu, "floor"), "ns/msg") });
  report.add({ scenario: s2, name: "stream overhead, library/floor", value: fmtRatio(overFloor(r.streamCpu), 2) });
}
