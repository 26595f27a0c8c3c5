// `npx tsx bench/profile.ts [calls]`: profiles the in-process unary path with
// `node --cpu-prof`, bare and library, and prints where the time goes, per
// call: by origin (library, prom-client, Connect, …) and the top functions.
// Profiles go to .bench/profiles (git-ignored); only the summary is printed.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { summarise, type CpuProfile, type Origin, type ProfileSummary } from "./cpu-profile-summary.js";

const calls = Number(process.argv[2] ?? "100000");
const root = fileURLToPath(new URL("..", import.meta.url));
const dir = `${root}.bench/profiles`;

/** run profiles one variant and summarises its measured stretch. */
function run(variant: string): ProfileSummary {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = spawnSync(
    process.execPath,
    ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", dir, "--import", "tsx", "bench/profile-target.ts", variant, String(calls)],
    { cwd: root, encoding: "utf8", timeout: 300_000 },
  );
  if (out.status !== 0) {
    throw new Error(`profile-target failed: ${out.stderr}`);
  }
  const lines = out.stdout.trim().split("\n");
  const { startUs, endUs } = JSON.parse(lines[lines.length - 1]) as { startUs: number; endUs: number };
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) {
    throw new Error("no .cpuprofile written");
  }
  return summarise(JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as CpuProfile, startUs, endUs);
}

const ns = (us: number) => ((us * 1000) / calls).toFixed(0).padStart(6);
const bare = run("bare");
const lib = run("library");
console.log(`In-process unary, ${calls} calls per variant; self time in ns per call (sampled every 100 µs).\n`);
console.log("origin        bare  library  library−bare");
for (const o of Object.keys(lib.byOrigin) as Origin[]) {
  console.log(`${o.padEnd(12)} ${ns(bare.byOrigin[o])}  ${ns(lib.byOrigin[o])}  ${ns(lib.byOrigin[o] - bare.byOrigin[o])}`);
}
console.log(`${"total".padEnd(12)} ${ns(bare.totalUs)}  ${ns(lib.totalUs)}  ${ns(lib.totalUs - bare.totalUs)}`);
console.log("\nTop self time, library run (ns per call, share of the run):");
for (const f of lib.functions.slice(0, 30)) {
  const share = ((100 * f.selfUs) / lib.totalUs).toFixed(1).padStart(5);
  console.log(`${ns(f.selfUs)} ${share}%  ${f.origin.padEnd(11)} ${f.name}  ${f.location}`);
}
console.log("\nTop self time in library and prom-client code, library run:");
for (const f of lib.functions.filter((x) => x.origin === "library" || x.origin === "prom-client").slice(0, 20)) {
  console.log(`${ns(f.selfUs)}  ${f.origin.padEnd(11)} ${f.name}  ${f.location}`);
}
