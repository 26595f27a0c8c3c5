// Scenario 8, the parent's side: runs scrape-worker.ts and reports, for 10,
// 100 and 1,000 methods with the server handling-time histogram on and one
// call each, how long `await registry.metrics()` takes and how much heap the
// metrics keep per method: today's library against the library at an earlier
// commit and against prom-client's own instruments.
import { Child } from "./child-process.js";
import type { Report } from "./report.js";
import type { ScrapeArg, ScrapeConfigResult, ScrapeImpl, ScrapeResult } from "./scrape-worker.js";
import { fmtNumber, fmtRatio, spread } from "./stats.js";

/** scrape runs scenario 8 and reports its figures. */
export async function scrape(arg: ScrapeArg, report: Report): Promise<void> {
  const s8 = "8 scrape";
  const names: Record<ScrapeImpl, string> = {
    library: "library",
    baseline: `library at ${arg.baselineCommit}`,
    "prom-client": "prom-client",
  };
  report.note(
    s8,
    `ServerMetrics with the handling-time histogram, and one unary call per method through its interceptor, ` +
      `at ${arg.sizes.join(", ")} methods (services of 10 methods); against "${names.baseline}" (prom-client's ` +
      `own histograms, counters read in collect()) and "prom-client" (the floor's instruments: a prom-client ` +
      `Counter per counter and a Histogram with the same labels and buckets); ` +
      `await registry.metrics() timed in rounds of ${arg.slices} slices, ${arg.budgetMs / 1000} s; CPU time; ` +
      `heap kept per method read after forced GCs`,
  );
  const child = await Child.start("./scrape-worker.ts", null, {
    exposeGc: true,
    nodeFlags: ["--no-flush-bytecode"],
    timeoutMs: 300_000,
  });
  const r: ScrapeResult = await child.call("run", arg);
  await child.stop();
  if (r.baselineMissing !== undefined) {
    report.note(s8, `left out: ${r.baselineMissing}`);
  }
  report.note(s8, `${r.configs[0]?.cpuMs.length ?? 0} rounds done`);
  const find = (impl: ScrapeImpl, size: number): ScrapeConfigResult | undefined =>
    r.configs.find((c) => c.impl === impl && c.size === size);
  for (const size of arg.sizes) {
    const lib = find("library", size);
    const prom = find("prom-client", size);
    if (lib === undefined || prom === undefined) {
      report.fail(s8, `${size} methods: a configuration is missing`);
      continue;
    }
    const others = r.configs.filter((c) => c.size === size);
    if (others.some((c) => c.samples !== lib.samples)) {
      report.fail(s8, `${size} methods: the expositions differ in samples: ` + others.map((c) => `${names[c.impl]} ${c.samples}`).join(", "));
    } else {
      report.note(s8, `ok: ${size} methods, every exposition has ${lib.samples} samples`);
    }
    for (const c of others) {
      report.add({ scenario: s8, name: `${size} methods, scrape, ${names[c.impl]}`, value: fmtNumber(spread(c.cpuMs), "ms", size >= 1000 ? 1 : 3) });
    }
    const ratio = spread(lib.cpuMs.map((ms, i) => ms / prom.cpuMs[i]));
    report.add({ scenario: s8, name: `${size} methods, scrape, library/prom-client`, value: fmtRatio(ratio, 2), target: "≤ 1.0", met: ratio.median <= 1 });
    const base = find("baseline", size);
    if (base !== undefined) {
      const vsBase = spread(lib.cpuMs.map((ms, i) => ms / base.cpuMs[i]));
      report.add({ scenario: s8, name: `${size} methods, scrape, library/${names.baseline}`, value: fmtRatio(vsBase, 2) });
    }
    report.add({
      scenario: s8,
      name: `${size} methods, heap per method`,
      value: others.map((c) => `${names[c.impl]} ${Math.round(c.heapPerMethod)} B`).join(", "),
    });
  }
}
