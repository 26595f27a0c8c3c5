import { runBatch } from "./batch.js";
import { generateCall, generateEnv, prng } from "./generate.js";
import { describe } from "./plan.js";
import { diff } from "./compare.js";
import { classify } from "./holes.js";
Error.stackTraceLimit = 0;
const seed = Number(process.argv[2] ?? 1), n = Number(process.argv[3] ?? 250), perCall = true, load = process.argv.includes("--load");
const rand = prng(seed);
const o = { ...generateEnv(rand, perCall, load), ...(process.argv.includes("--cv") ? { contextValues: true } : {}), ...(process.argv.includes("--noguards") ? { guards: false } : {}) };
const calls = Array.from({ length: n }, (_, i) => generateCall(rand, `c${i}`, o));
const r = await runBatch(o, calls, 24);
console.log(`${r.seconds.toFixed(1)} s`, JSON.stringify(o), JSON.stringify(r.verdict.limitCounts));
const counts: Record<string, number> = {};
for (const f of r.verdict.failures) {
  const k = classify(f);
  for (const h of k) counts[h] = (counts[h] ?? 0) + 1;
  const show = (process.argv.find((a) => a.startsWith("--show="))?.slice(7) ?? "other").split(","); if (k.some((h) => show.includes(h)) || process.argv.includes("--all")) {
    console.log(`[${k}] ${describe(f.entry.call)}\n   truth ${JSON.stringify(f.entry.caller)} ${JSON.stringify(f.entry.handler)} entered=${f.entry.entered}\n   ${diff(f.expected, f.actual).join("\n   ")}`);
  }
}
console.log(counts, "stray", r.verdict.stray.slice(0, 5), "errors", r.errors.slice(0, 3));
process.exit(0);
