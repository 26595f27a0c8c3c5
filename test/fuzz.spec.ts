// The differential fuzzer of issue 13, with a fixed seed: a few thousand calls
// over every protocol, RPC kind, handler and caller behaviour, interceptor
// chain, peer and option combination, half of them with a series per call,
// part of them under CPU load. Every series of both sides must equal what the
// callers and handlers observed; the documented limits stay within their
// bounds. A failure prints the seed and the smallest failing call; replay it
// with `npm run fuzz -- --seed <seed> --calls <calls>`.
import { expect } from "chai";
import { fuzz } from "./fuzz/run.js";

const seed = Number(process.env.FUZZ_SEED ?? 20260513);
const calls = Number(process.env.FUZZ_CALLS ?? 3000);

describe("fuzz (issue 13)", function () {
  this.timeout(180_000);

  it(`${calls} seeded calls (seed ${seed}): every series of both sides exact, documented limits within bounds`, async () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      const r = await fuzz({ seed, calls });
      console.log(`      FUZZ seed ${seed}: ${r.calls} calls in ${r.batches} batches, ${r.seconds.toFixed(1)} s, ${r.callsPerSecond.toFixed(0)} calls/s`);
      for (const [k, n] of Object.entries(r.eligible)) console.log(`      FUZZ ${k}: ${r.limits[k] ?? 0} of ${n}`);
      const reports = r.failures.map((f) => f.report).join("\n\n");
      expect(r.failures.length, `failing batches; replay: npm run fuzz -- --seed ${seed} --calls ${calls}\n${reports}\n`).to.equal(0);
      expect(r.overBound, "documented limits over their bounds").to.deep.equal([]);
      expect(r.calls).to.equal(calls);
    } finally {
      Error.stackTraceLimit = limit;
    }
  });
});
