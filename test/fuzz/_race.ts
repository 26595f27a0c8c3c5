import { runBatch } from "./batch.js";
import { generateCall, generateEnv, prng } from "./generate.js";
import { describe } from "./plan.js";
import { expectations } from "./oracle.js";
Error.stackTraceLimit = 0;
for (const seed of process.argv.slice(2).map(Number)) {
  const rand = prng(seed);
  const o = { ...generateEnv(rand, true, seed % 2 === 0) };
  const calls = Array.from({ length: 250 }, (_, i) => generateCall(rand, `c${i}`, o));
  const r = await runBatch(o, calls, 24);
  for (const e of r.entries) {
    const alts = expectations(e, o);
    if (alts.some((a) => a.limit?.startsWith("race"))) console.log(describe(e.call), "\n   ", JSON.stringify(e.caller), JSON.stringify(e.handler));
  }
}
process.exit(0);
