// The soak (issue 3): 20,000 calls, ~100 in flight, a seeded random mix of
// faults over every protocol; exact series, in flight 0, heap flat. Two child
// processes of 10,000 calls and 50 in flight each, so that the soak uses both
// cores of a CI machine and stays under a minute; each has its own server,
// registry and exact checks, and needs --expose-gc. Each child asserts and
// prints its figures as "SOAK {json}". Replay a failure with SOAK_SEED=<seed>.
import { spawn } from "node:child_process";
import { expect } from "chai";

interface Figures {
  seed: number;
  calls: number;
  concurrency: number;
  seconds: number;
  cpuSeconds: number;
  faultsInjected: Record<string, number>;
  codeChecks: number;
  codeMismatches: number;
  deadlineCalls: number;
  deadlineMisattributed: number;
  invariantChecks: number;
  seriesCompared: number;
  gcExposed: boolean;
  heapMB: number[];
  heapGrowthFirstHalfMB: number;
  heapGrowthSecondHalfMB: number;
  heapGrowthSecondHalfBytesPerCall: number;
  perCallObjectsWatched: number;
  perCallObjectsRetained: number;
}

function soak(seed: string, calls: number, concurrency: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "test/fixtures/soak-run.ts", seed], {
      env: { ...process.env, SOAK_CALLS: String(calls), SOAK_CONCURRENCY: String(concurrency) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("SOAK "));
      if (code !== 0 || !line) {
        reject(new Error(`soak seed ${seed} failed (exit ${code}); replay: SOAK_CALLS=${calls} node --expose-gc --import tsx test/fixtures/soak-run.ts ${seed}\n${err.slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line.slice(5)) as Figures);
    });
  });
}

describe("soak", function () {
  this.timeout(300_000);

  it("20,000 calls with faults over every protocol: invariants exact, in flight 0, heap flat", async () => {
    const base = Number(process.env.SOAK_SEED ?? 20240611);
    const runs = await Promise.all([soak(String(base), 10_000, 50), soak(String(base + 1), 10_000, 50)]);
    for (const f of runs) console.log(`      SOAK ${JSON.stringify(f)}`);
    const faults: Record<string, number> = {};
    for (const f of runs) for (const [k, v] of Object.entries(f.faultsInjected)) faults[k] = (faults[k] ?? 0) + v;
    const sum = (k: "calls" | "codeChecks" | "invariantChecks" | "deadlineCalls" | "deadlineMisattributed") =>
      runs.reduce((n, f) => n + f[k], 0);
    console.log(
      `      soak total: ${sum("calls")} calls, ${Math.max(...runs.map((f) => f.seconds))} s, ` +
        `${sum("codeChecks")} code checks, ${sum("invariantChecks")} invariant checks, ` +
        `deadline calls ${sum("deadlineCalls")} (server inferred ${sum("deadlineMisattributed")} as Canceled: the known HTTP/1.1 limit), ` +
        `heap growth second half ${runs.map((f) => `${f.heapGrowthSecondHalfMB} MB (${f.heapGrowthSecondHalfBytesPerCall} B/call)`).join(" / ")}, ` +
        `per-call objects retained ${runs.map((f) => `${f.perCallObjectsRetained}/${f.perCallObjectsWatched}`).join(" / ")}, ` +
        `faults ${JSON.stringify(faults)}`,
    );
    expect(sum("calls")).to.be.at.least(20_000);
    for (const f of runs) {
      expect(f.codeMismatches).to.equal(0);
      expect(f.gcExposed).to.equal(true);
      // No per-call state outlives its call: none of the sampled requests,
      // signals and responses is reachable once the connections are closed.
      expect(f.perCallObjectsWatched).to.be.greaterThan(1000);
      expect(f.perCallObjectsRetained).to.equal(0);
      // The heap is flat up to the noise of the stack underneath: the same
      // traffic WITHOUT the interceptors (SOAK_BARE=1) grows the second half
      // by 250-600 bytes per call on Node 20 (connect-node, http2, V8), and
      // so does this run. A leak of our own per-call state (a label set, a
      // listener, an iterator, ≥ 100 bytes per call) is caught by the
      // retention check above; this catches anything much larger.
      expect(f.heapGrowthSecondHalfBytesPerCall).to.be.below(2048);
    }
  });
});
