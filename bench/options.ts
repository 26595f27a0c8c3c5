// Scenario 6, the parent's side: runs options-worker.ts and reports what each
// option of issues 6 and 11 adds per unary call to the library with default
// options, in ns (CPU time, client and server together) and as the ratio of
// the call's time with the option to its time without; and what
// messageSizeHistogram adds per streamed message, by message size. A ratio of overheads (over bare)
// would divide by a difference of a few µs that the noise of a busy machine
// can bring near zero, so the time ratio is the one reported.
import { Child } from "./child-process.js";
import type { OptionsArg, OptionsResult, SizeConfig, SizeSlice } from "./options-worker.js";
import { maxValueLength, options, sizeStreamLength, tenants } from "./option-variants.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";
import { traceExemplarSource } from "./trace-exemplar.js";

/** How each option is set, for the report. */
const shown: Record<(typeof options)[number], string> = {
  protocolLabel: "protocolLabel: true",
  codeLabelOnHistograms: "codeLabelOnHistograms: true",
  exemplars: "exemplars: traceExemplar",
  labels: `labels: { names: ["tenant"], maxValueLength: ${maxValueLength} } (${tenants.length} values, 1 too long)`,
  namespace: `namespace: "shop", subsystem: "api"`,
  filter: "filter: (m) => m.name !== \"EchoStream\"",
  messageSizeHistogram: "messageSizeHistogram: true",
};

/** Per round, the median over slices of `f`; then the spread over rounds. */
function byRound<S>(rounds: readonly S[][], f: (s: S) => number): Spread {
  return spread(rounds.map((slices) => spread(slices.map(f)).median));
}

/** Per round, the median over slices of `f` for each payload, then `g` of those; the spread over rounds. */
function sizeRound(rounds: readonly SizeSlice[][], payloads: readonly number[], g: (costs: number[]) => number): Spread {
  const cost = (s: SizeSlice, p: number) => s[`messageSizeHistogram ${p}` as SizeConfig].cpuNs - s[`defaults ${p}` as SizeConfig].cpuNs;
  return spread(rounds.map((slices) => g(payloads.map((p) => spread(slices.map((s) => cost(s, p))).median))));
}

/** optionCosts runs scenario 6 and reports its figures. */
export async function optionCosts(arg: OptionsArg, report: Report): Promise<void> {
  const s6 = "6 options";
  report.note(
    s6,
    `as scenario 1, unary only: rounds of ${arg.slices} slices of ${arg.unaryBatch} calls per configuration ` +
      `(bare, defaults, and defaults plus one option); handling-time histogram on both sides; ` +
      `x-tenant header from ${tenants.length} values and a sampled traceparent on every call; ` +
      `exemplars from ${traceExemplarSource}; ${arg.budgetMs / 1000} s; CPU time`,
  );
  report.note(
    s6,
    "with every option off the per-call path is the default path: options are settled at construction " +
      "(a histogram or callback that is off is undefined, and the call path only tests for it)",
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

  const { payloads } = arg;
  report.note(
    s6,
    `messageSizeHistogram by message size: server streams of ${payloads
      .map((p) => `${sizeStreamLength(arg.sizeBatchBytes, p)} messages of ${p} B`)
      .join(", ")}, against the defaults; ${r.sizes.length} rounds of ${arg.slices} slices, ` +
      `${arg.sizeBudgetMs / 1000} s; each message is encoded once more on each side`,
  );
  payloads.forEach((p, i) => {
    report.add({
      scenario: s6,
      name: `messageSizeHistogram, ${p} B messages, cost (client+server)`,
      value: fmtNumber(sizeRound(r.sizes, payloads, (c) => c[i]), "ns/msg"),
    });
    const ratio = byRound(r.sizes, (s) => s[`messageSizeHistogram ${p}` as SizeConfig].cpuNs / s[`defaults ${p}` as SizeConfig].cpuNs);
    report.add({ scenario: s6, name: `messageSizeHistogram, ${p} B messages, time/defaults`, value: fmtRatio(ratio) });
  });
  if (payloads.length >= 2) {
    const lo = payloads[0];
    const hi = payloads[payloads.length - 1];
    const perKb = sizeRound(r.sizes, payloads, (c) => (c[c.length - 1] - c[0]) / ((hi - lo) / 1024));
    report.add({ scenario: s6, name: `messageSizeHistogram, cost per KB of message (${lo} B to ${hi} B)`, value: fmtNumber(perKb, "ns/KB") });
  }
}
