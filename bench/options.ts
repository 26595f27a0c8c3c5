// Scenario 6, the parent's side: runs options-worker.ts and reports what each
// option of issue 6 adds per unary call to the library with default options,
// in ns (CPU time, client and server together) and as the ratio of the call's
// time with the option to its time without. A ratio of overheads (over bare)
// would divide by a difference of a few µs that the noise of a busy machine
// can bring near zero, so the time ratio is the one reported.
import { Child } from "./child-process.js";
import type { OptionsArg, OptionsResult, OptionSlice } from "./options-worker.js";
import { options, tenants } from "./option-variants.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";

/** How each option is set, for the report. */
const shown: Record<(typeof options)[number], string> = {
  protocolLabel: "protocolLabel: true",
  codeLabelOnHistograms: "codeLabelOnHistograms: true",
  exemplars: "exemplars: () => ({ trace_id })",
  labels: `labels: { names: ["tenant"] } (${tenants.length} values)`,
  namespace: `namespace: "shop", subsystem: "api"`,
};

/** Per round, the median over slices of `f`; then the spread over rounds. */
function byRound(rounds: readonly OptionSlice[][], f: (s: OptionSlice) => number): Spread {
  return spread(rounds.map((slices) => spread(slices.map(f)).median));
}

/** optionCosts runs scenario 6 and reports its figures. */
export async function optionCosts(arg: OptionsArg, report: Report): Promise<void> {
  const s6 = "6 options";
  report.note(
    s6,
    `as scenario 1, unary only: rounds of ${arg.slices} slices of ${arg.unaryBatch} calls per configuration ` +
      `(bare, defaults, and defaults plus one option); handling-time histogram on both sides; ` +
      `x-tenant header from ${tenants.length} values on every call; ${arg.budgetMs / 1000} s; CPU time`,
  );
  report.note(
    s6,
    "with every option off the per-call path is the default path: options are settled at construction, " +
      `and scenario 1's "library" variant is that all-off configuration`,
  );
  const child = await Child.start("./options-worker.ts", null, { timeoutMs: 300_000 });
  const r: OptionsResult = await child.call("run", arg);
  await child.stop();
  report.note(s6, `${r.unary.length} rounds done`);
  for (const o of r.missing) {
    report.fail(s6, `${o}: its effect is missing from the exposition`);
  }
  report.add({
    scenario: s6,
    name: "unary overhead, defaults (client+server)",
    value: fmtNumber(byRound(r.unary, (s) => s.defaults.cpuNs - s.bare.cpuNs), "ns/call"),
  });
  for (const o of options) {
    const diff = byRound(r.unary, (s) => s[o].cpuNs - s.defaults.cpuNs);
    report.add({ scenario: s6, name: `${shown[o]}, cost`, value: fmtNumber(diff, "ns/call") });
    const ratio = byRound(r.unary, (s) => s[o].cpuNs / s.defaults.cpuNs);
    report.add({ scenario: s6, name: `${shown[o]}, time/defaults`, value: fmtRatio(ratio) });
  }
}
