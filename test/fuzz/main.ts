// The long fuzz run: npm run fuzz -- --seed S --calls N [--batch B] [--concurrency C] [--keep-going]
// [--batch-only K: run only batch K of that seed] [--verbose: every failing call] [--coverage]
// Prints each batch, the figures, every documented limit's count and, on a
// failure, the seed and the smallest failing call; exits 1 on a failure.
import { fuzz } from "./run.js";

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

// Stack traces are most of the cost of the many errors a fault mix throws.
Error.stackTraceLimit = 0;
const seed = arg("seed", Date.now() % 1_000_000);
const calls = arg("calls", 10_000);
const result = await fuzz({
  seed,
  calls,
  batchSize: arg("batch", 250),
  concurrency: arg("concurrency", 48),
  stopOnFailure: !process.argv.includes("--keep-going"),
  onlyBatch: process.argv.includes("--batch-only") ? arg("batch-only", 0) : undefined,
  verbose: process.argv.includes("--verbose"),
  log: (line) => console.log(line),
});
console.log(`\nseed ${result.seed}: ${result.calls} calls in ${result.batches} batches, ${result.seconds.toFixed(1)} s, ${result.callsPerSecond.toFixed(0)} calls/s`);
console.log("documented limits and accepted races (count / calls that could show it):");
for (const [k, n] of Object.entries(result.eligible)) console.log(`  ${k}: ${result.limits[k] ?? 0} / ${n}`);
console.log(`  calls whose caller gave up: ${result.gaveUp}`);
if (Object.keys(result.holes).length) console.log("failing calls by hole:", JSON.stringify(result.holes, null, 2));
for (const b of result.overBound) console.log(`OVER BOUND: ${b}`);
if (process.argv.includes("--coverage")) console.log("coverage:", JSON.stringify(result.coverage, null, 2));
console.log(result.failures.length === 0 ? "no failures" : `${result.failures.length} failing batches; replay: npm run fuzz -- --seed ${seed} --calls ${calls}`);
process.exit(result.failures.length === 0 && result.overBound.length === 0 ? 0 : 1);
