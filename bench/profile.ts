// `npx tsx bench/profile.ts [calls]`: profiles the in-process unary path with
// `node --cpu-prof`, bare, floor and library alternating in one process, and
// prints where the time goes, per call: by origin (library, prom-client,
// Connect, …) and the top functions. The profile goes to .bench/profiles
// (git-ignored); only the summary is printed.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { summarise, type CpuProfile, type Origin, type ProfileSummary } from "./cpu-profile-summary.js";
import type { TargetWindows } from "./profile-target.js";
import { profiledVariants as variants, type ProfiledVariant as Variant } from "./variants.js";

const calls = Number(process.argv[2] ?? "60000");
const root = fileURLToPath(new URL("..", import.meta.url));
const dir = `${root}.bench/profiles`;

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const out = spawnSync(
  process.execPath,
  ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", dir, "--import", "tsx", "bench/profile-target.ts", String(calls)],
  { cwd: root, encoding: "utf8", timeout: 600_000 },
);
if (out.status !== 0) {
  throw new Error(`profile-target failed: ${out.stderr}`);
}
const lines = out.stdout.trim().split("\n");
const target = JSON.parse(lines[lines.length - 1]) as TargetWindows;
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
if (file === undefined) {
  throw new Error("no .cpuprofile written");
}
const profile = JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as CpuProfile;
const by = Object.fromEntries(variants.map((v) => [v, summarise(profile, target.windows[v])])) as Record<
  Variant,
  ProfileSummary
>;

const ns = (us: number) => ((us * 1000) / target.calls).toFixed(0).padStart(7);
console.log(
  `In-process unary, ${target.calls} calls per variant in alternating batches; ` +
    `self time in ns per call (sampled every 100 µs).\n`,
);
console.log("origin          bare    floor  library  lib−bare  lib−floor");
const row = (name: string, f: (s: ProfileSummary) => number) =>
  console.log(
    `${name.padEnd(12)} ${ns(f(by.bare))}  ${ns(f(by.floor))}  ${ns(f(by.library))}  ` +
      `${ns(f(by.library) - f(by.bare))}  ${ns(f(by.library) - f(by.floor))}`,
  );
for (const o of Object.keys(by.library.byOrigin) as Origin[]) {
  row(o, (s) => s.byOrigin[o]);
}
row("total", (s) => s.totalUs);

const top = (title: string, s: ProfileSummary, keep: (o: Origin) => boolean, n: number) => {
  console.log(`\n${title}`);
  for (const f of s.functions.filter((x) => keep(x.origin)).slice(0, n)) {
    const share = ((100 * f.selfUs) / s.totalUs).toFixed(1).padStart(5);
    console.log(`${ns(f.selfUs)} ${share}%  ${f.origin.padEnd(11)} ${f.name}  ${f.location}`);
  }
};
top("Top self time, library batches (ns per call, share of those batches):", by.library, () => true, 30);
top("Library and prom-client functions, library batches:", by.library, (o) => o === "library" || o === "prom-client", 20);
top("Floor and prom-client functions, floor batches:", by.floor, (o) => o === "bench" || o === "prom-client", 12);

/** The functions whose self time grows most from the floor's batches to the library's. */
const floorByKey = new Map(by.floor.functions.map((f) => [`${f.name}@${f.location}`, f.selfUs]));
const growth = by.library.functions
  .map((f) => ({ ...f, delta: f.selfUs - (floorByKey.get(`${f.name}@${f.location}`) ?? 0) }))
  .sort((a, b) => b.delta - a.delta);
console.log("\nLargest growth from floor to library batches (ns per call):");
for (const f of growth.slice(0, 20)) {
  console.log(`${ns(f.delta)}  ${f.origin.padEnd(11)} ${f.name}  ${f.location}`);
}
