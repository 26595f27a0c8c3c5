// `npm run bench [-- --quick] [-- --only=in-process,network,memory,options,interceptor,scrape]`:
// the benchmark suite of issues 4, 11 and 12. Every scenario runs in child processes; this
// process only orchestrates and prints. See docs/performance.md.
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import { inProcess } from "./in-process.js";
import { interceptorAlone } from "./interceptor.js";
import { memory } from "./memory.js";
import { network } from "./network.js";
import { optionCosts } from "./options.js";
import { Report } from "./report.js";
import { scrape } from "./scrape.js";
import { settings } from "./settings.js";

const scenarios = ["in-process", "network", "memory", "options", "interceptor", "scrape"] as const;
type Scenario = (typeof scenarios)[number];

/** parseArgs reads `--quick` and `--only=a,b`. */
function parseArgs(argv: readonly string[]): { quick: boolean; only: Set<Scenario> } {
  const quick = argv.includes("--quick");
  const only = argv.find((a) => a.startsWith("--only="));
  const picked = only === undefined ? [...scenarios] : only.slice("--only=".length).split(",");
  for (const p of picked) {
    if (!(scenarios as readonly string[]).includes(p)) {
      throw new Error(`unknown scenario "${p}"; known: ${scenarios.join(", ")}`);
    }
  }
  return { quick, only: new Set(picked as Scenario[]) };
}

/** The commit measured, and whether src/ differs from it. */
function sourceState(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "src") !== "";
    return `commit ${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/" : ""}`;
  } catch {
    return "commit unknown";
  }
}

async function main(): Promise<number> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const s = settings(quick);
  const report = new Report();
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
  const t0 = performance.now();
  console.log(
    `connectrpc-prometheus bench${quick ? " --quick" : ""}: node ${process.version}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${load()}, ${sourceState()}`,
  );
  console.log("Every figure is a median over rounds, with its min–max; A and B run alternately.\n");
  const run = async (name: Scenario, f: () => Promise<void>) => {
    if (only.has(name)) {
      const start = performance.now();
      await f();
      console.log(`(${name} took ${((performance.now() - start) / 1000).toFixed(0)} s)\n`);
    }
  };
  await run("in-process", () => inProcess(s.inProcess, report));
  await run("network", () => network(s.network, report));
  await run("memory", () => memory(s.memory, report));
  if (s.options !== undefined) {
    const o = s.options;
    await run("options", () => optionCosts(o, report));
  }
  await run("interceptor", () => interceptorAlone(s.interceptor, report));
  await run("scrape", () => scrape(s.scrape, report));
  report.printSummary();
  console.log(
    `\nTook ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at the end ${load()}.`,
  );
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
