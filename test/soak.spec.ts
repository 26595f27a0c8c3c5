// The soak (issue 3): 20,000 calls, ~100 in flight, a seeded random mix of
// faults over every protocol; exact series, in flight 0, heap flat. Two child
// processes of 10,000 calls and 50 in flight each, so that the soak uses both
// cores of a CI machine and stays under a minute; each has its own server,
// registry and exact checks, and needs --expose-gc. Each child asserts and
// prints its figures as "SOAK {json}". Replay a failure with SOAK_SEED=<seed>.
//
// Deadlines: over HTTP/2 the server must record every deadline call as
// DeadlineExceeded. Over HTTP/1.1 a deadline and a cancel look alike on the
// wire (docs/metrics.md, failure modes, note 2), and the server may record a
// deadline call as Canceled, but only one whose request took longer than the
// server's slack (200 ms of the 1 s deadline) to arrive: the soak counts both,
// per protocol, and asserts canceled ≤ arrived late (see soak-run.ts).
import { spawn } from "node:child_process";
import { expect } from "chai";
import { protocols } from "./support/harness.js";

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
  deadlineSlackMs: number;
  deadlineByProtocol: Record<string, DeadlineFigures>;
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

/** What the server recorded for one protocol's deadline calls. */
interface DeadlineFigures {
  calls: number;
  /** Calls whose request reached the server more than the slack after the call started. */
  arrivedLate: number;
  /** Server `handled_total` of these calls, by code. */
  recorded: Record<string, number>;
  /** Of them, Canceled (only allowed over HTTP/1.1). */
  canceled: number;
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
    const sum = (k: "calls" | "codeChecks" | "invariantChecks" | "deadlineCalls") => runs.reduce((n, f) => n + f[k], 0);
    const deadlines = protocols.map((p) => {
      const of = (k: "calls" | "arrivedLate" | "canceled") => runs.reduce((n, f) => n + f.deadlineByProtocol[p.name][k], 0);
      const recorded: Record<string, number> = {};
      for (const f of runs) for (const [c, v] of Object.entries(f.deadlineByProtocol[p.name].recorded)) recorded[c] = (recorded[c] ?? 0) + v;
      return { p, calls: of("calls"), arrivedLate: of("arrivedLate"), canceled: of("canceled"), recorded };
    });
    console.log(
      `      soak total: ${sum("calls")} calls, ${Math.max(...runs.map((f) => f.seconds))} s, ` +
        `${sum("codeChecks")} code checks, ${sum("invariantChecks")} invariant checks, ` +
        `deadline calls ${sum("deadlineCalls")}, recorded Canceled by the server (the known HTTP/1.1 limit; ` +
        `allowed only for requests that arrived > ${runs[0].deadlineSlackMs - 5} ms late): ` +
        `${deadlines.map((d) => `${d.p.name} ${d.canceled}/${d.calls} (late ${d.arrivedLate})`).join(", ")}, ` +
        `heap growth second half ${runs.map((f) => `${f.heapGrowthSecondHalfMB} MB (${f.heapGrowthSecondHalfBytesPerCall} B/call)`).join(" / ")}, ` +
        `per-call objects retained ${runs.map((f) => `${f.perCallObjectsRetained}/${f.perCallObjectsWatched}`).join(" / ")}, ` +
        `faults ${JSON.stringify(faults)}`,
    );
    expect(sum("calls")).to.be.at.least(20_000);
    expect(deadlines.reduce((n, d) => n + d.calls, 0)).to.equal(sum("deadlineCalls"));
    for (const d of deadlines) {
      expect(d.calls, `${d.p.name} deadline calls`).to.be.greaterThan(100);
      if (d.p.httpVersion === "2") {
        // A connect-node client resets with INTERNAL_ERROR on its deadline:
        // exact, no correction.
        expect(d.recorded, d.p.name).to.deep.equal({ DeadlineExceeded: d.calls });
      } else {
        // A deadline and a cancel look alike: Canceled for late arrivals only.
        expect(d.canceled, d.p.name).to.be.at.most(d.arrivedLate);
        const codes = { DeadlineExceeded: d.calls - d.canceled, Canceled: d.canceled };
        expect(d.recorded, d.p.name).to.deep.equal(Object.fromEntries(Object.entries(codes).filter(([, v]) => v > 0)));
      }
    }
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
