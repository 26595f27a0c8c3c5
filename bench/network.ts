// Scenarios 3 and 4: a server process and a client process per variant,
// over HTTP/2 cleartext on 127.0.0.1. Every pair starts once and stays up;
// rounds then alternate the pairs, one measurement at a time, so that only
// one pair is busy at any moment.
import { Child } from "./child-process.js";
import type { ServerReady } from "./connect-server.js";
import type { LoadArg, LoadResult } from "./load.js";
import type { PeerVariant } from "./nice-server.js";
import type { Report } from "./report.js";
import { rotate } from "./alternate.js";
import type { NetworkSettings } from "./settings.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";
import type { Variant } from "./variants.js";

type PairName = Variant | PeerVariant;


/** One measurement: the client's load result and the server's CPU time. */
interface Measurement extends LoadResult {
  readonly serverCpuUs: number;
}

/** A server process and its client process. */
class Pair {
  private constructor(
    readonly name: PairName,
    private readonly server: Child<ServerReady>,
    private readonly client: Child,
  ) {}

  static async start(name: PairName): Promise<Pair> {
    const peer = name.startsWith("nice");
    const options = { timeoutMs: 420_000 };
    const server = await Child.start<ServerReady>(
      peer ? "./nice-server.ts" : "./connect-server.ts",
      { variant: name },
      options,
    );
    const client = await Child.start(
      peer ? "./nice-client.ts" : "./connect-client.ts",
      { variant: name, port: server.ready.port },
      options,
    );
    return new Pair(name, server, client);
  }

  async measure(load: LoadArg): Promise<Measurement> {
    const cpu0 = await this.server.call<number>("cpu");
    const result = await this.client.call<LoadResult>("load", load);
    const cpu1 = await this.server.call<number>("cpu");
    return { ...result, serverCpuUs: cpu1 - cpu0 };
  }

  /** The handled totals that the server and client recorded. */
  async handled(): Promise<[number, number]> {
    return [await this.server.call<number>("handled"), await this.client.call<number>("handled")];
  }

  async stop(): Promise<void> {
    await Promise.all([this.client.stop(), this.server.stop()]);
  }
}

/** Pairs that are measured side by side, with one kind of call. */
interface Group {
  readonly title: string;
  readonly kind: LoadArg["kind"];
  readonly protocol: LoadArg["protocol"];
  readonly pairs: readonly PairName[];
}

const groups: readonly Group[] = [
  { title: "gRPC unary", kind: "unary", protocol: "grpc", pairs: ["bare", "floor", "library", "nice-bare", "nice-prometheus"] },
  { title: "Connect unary", kind: "unary", protocol: "connect", pairs: ["bare", "floor", "library"] },
  { title: "gRPC server-stream", kind: "stream", protocol: "grpc", pairs: ["bare", "library"] },
  { title: "Connect server-stream", kind: "stream", protocol: "connect", pairs: ["bare", "library"] },
];

type Results = Map<Group, Record<string, Measurement[]>>;

/** network runs scenarios 3 and 4 and reports their figures. */
export async function network(s: NetworkSettings, report: Report): Promise<void> {
  report.note(
    "3 network",
    `${s.connectProtocol ? "gRPC and Connect" : "gRPC only"}; up to ${s.rounds} rounds ` +
      `(${s.budgetMs / 1000} s budget) of ${s.durationMs} ms per pair; unary ${s.unaryInFlight} calls in flight, ` +
      `server-stream ${s.streamInFlight} streams of ${s.streamLength} messages in flight`,
  );
  const names: PairName[] = ["bare", "floor", "library", "nice-bare", "nice-prometheus"];
  const pairs = new Map<PairName, Pair>();
  try {
    const t0 = performance.now();
    const secs = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
    for (const pair of await Promise.all(names.map((n) => Pair.start(n)))) {
      pairs.set(pair.name, pair);
    }
    report.note("3 network", `${pairs.size} server+client pairs started in ${secs(t0)}`);
    const t1 = performance.now();
    const load = (g: Group, warmup: boolean): LoadArg => ({
      kind: g.kind,
      protocol: g.protocol,
      inFlight: g.kind === "unary" ? s.unaryInFlight : s.streamInFlight,
      durationMs: warmup ? s.warmupCapMs : s.durationMs,
      maxCalls: !warmup ? undefined : g.kind === "unary" ? s.warmupCalls : s.warmupStreams,
      streamLength: s.streamLength,
    });
    const active = groups.filter((g) => s.connectProtocol || g.protocol === "grpc");
    for (const g of active) {
      for (const name of g.pairs) {
        const m = await pairs.get(name)?.measure(load(g, true));
        if (process.env.BENCH_DEBUG !== undefined && m !== undefined) {
          console.error(`warm-up ${g.title} ${name}: ${m.calls} calls, ${m.messages} msgs in ${m.elapsedMs.toFixed(0)} ms`);
        }
      }
    }
    report.note("3 network", `warm-up took ${secs(t1)}`);
    const results: Results = new Map(active.map((g) => [g, {}]));
    const start = performance.now();
    let round = 0;
    for (; round < s.rounds; round++) {
      if (round >= s.minRounds && performance.now() - start > s.budgetMs) {
        break;
      }
      for (const g of active) {
        const byPair = results.get(g) ?? {};
        for (const name of rotate(g.pairs, round)) {
          const m = await pairs.get(name)?.measure(load(g, false));
          if (m !== undefined) {
            (byPair[name] ??= []).push(m);
          }
        }
      }
    }
    report.note("3 network", `${round} rounds done`);
    reportNetwork(results, report);
    await checkHandled(pairs, report);
  } finally {
    await Promise.all([...pairs.values()].map((p) => p.stop()));
  }
}

/** Per round, `f` of pair `a`'s and pair `b`'s measurements of that round. */
function paired(
  byPair: Record<string, Measurement[]>,
  a: PairName,
  b: PairName,
  f: (a: Measurement, b: Measurement) => number,
): Spread {
  const bs = byPair[b];
  return spread(byPair[a].map((m, i) => f(m, bs[i])));
}

/** Per round, a figure of pair `a` over the same figure of pair `b`. */
const ratio = (byPair: Record<string, Measurement[]>, a: PairName, b: PairName, f: (m: Measurement) => number) =>
  paired(byPair, a, b, (x, y) => f(x) / f(y));

/** Per round, a figure of pair `a` minus the same figure of pair `b`. */
const delta = (byPair: Record<string, Measurement[]>, a: PairName, b: PairName, f: (m: Measurement) => number) =>
  paired(byPair, a, b, (x, y) => f(x) - f(y));

const callsPerSec = (m: Measurement) => m.calls / (m.elapsedMs / 1000);
const msgsPerSec = (m: Measurement) => m.messages / (m.elapsedMs / 1000);
const serverCpuPerCall = (m: Measurement) => m.serverCpuUs / m.calls;
const clientCpuPerCall = (m: Measurement) => m.cpuUs / m.calls;
const serverCpuPerMsg = (m: Measurement) => (m.serverCpuUs * 1000) / m.messages;
const clientCpuPerMsg = (m: Measurement) => (m.cpuUs * 1000) / m.messages;

function reportNetwork(results: Results, report: Report): void {
  for (const [g, byPair] of results) {
    const peer = g.pairs.includes("nice-bare");
    const scenario = "3 network";
    if (g.kind === "unary") {
      const lb = ratio(byPair, "library", "bare", callsPerSec);
      const lf = ratio(byPair, "library", "floor", callsPerSec);
      report.add({ scenario, name: `${g.title} calls/s, library/bare`, value: fmtRatio(lb) });
      report.add({ scenario, name: `${g.title} calls/s, library/floor`, value: fmtRatio(lf), target: "≥ 0.98", met: lf.median >= 0.98 });
      report.add({ scenario, name: `${g.title} calls/s, floor/bare`, value: fmtRatio(ratio(byPair, "floor", "bare", callsPerSec)) });
      for (const v of ["floor", "library"] as const) {
        report.add({ scenario, name: `${g.title} server CPU/call, ${v}−bare`, value: fmtNumber(delta(byPair, v, "bare", serverCpuPerCall), "µs", 2) });
        report.add({ scenario, name: `${g.title} client CPU/call, ${v}−bare`, value: fmtNumber(delta(byPair, v, "bare", clientCpuPerCall), "µs", 2) });
      }
      report.add({ scenario, name: `${g.title} server CPU/call, library/bare`, value: fmtRatio(ratio(byPair, "library", "bare", serverCpuPerCall)) });
      report.add({ scenario, name: `${g.title} client CPU/call, library/bare`, value: fmtRatio(ratio(byPair, "library", "bare", clientCpuPerCall)) });
      if (peer) {
        const s4 = "4 peer";
        const nb = ratio(byPair, "nice-prometheus", "nice-bare", callsPerSec);
        report.add({ scenario: s4, name: "nice-grpc gRPC unary calls/s, nice-grpc-prometheus/bare", value: fmtRatio(nb) });
        report.add({
          scenario: s4,
          name: "gRPC unary calls/s, ours (library/bare) vs peer's ratio",
          value: `${lb.median.toFixed(3)} vs ${nb.median.toFixed(3)}`,
          target: "ours above",
          met: lb.median > nb.median,
        });
        report.add({ scenario: s4, name: "nice-grpc server CPU/call, prometheus−bare", value: fmtNumber(delta(byPair, "nice-prometheus", "nice-bare", serverCpuPerCall), "µs", 2) });
        report.add({ scenario: s4, name: "nice-grpc client CPU/call, prometheus−bare", value: fmtNumber(delta(byPair, "nice-prometheus", "nice-bare", clientCpuPerCall), "µs", 2) });
        report.add({ scenario: s4, name: "nice-grpc bare calls/s over Connect-ES bare (gRPC)", value: fmtRatio(ratio(byPair, "nice-bare", "bare", callsPerSec)) });
      }
    } else {
      const lb = ratio(byPair, "library", "bare", msgsPerSec);
      report.add({ scenario, name: `${g.title} msgs/s, library/bare`, value: fmtRatio(lb), target: "≥ 0.97", met: lb.median >= 0.97 });
      report.add({ scenario, name: `${g.title} server CPU/msg, library−bare`, value: fmtNumber(delta(byPair, "library", "bare", serverCpuPerMsg), "ns") });
      report.add({ scenario, name: `${g.title} client CPU/msg, library−bare`, value: fmtNumber(delta(byPair, "library", "bare", clientCpuPerMsg), "ns") });
    }
  }
}

/** checkHandled compares the instrumented pairs' handled totals. */
async function checkHandled(pairs: Map<PairName, Pair>, report: Report): Promise<void> {
  for (const name of ["library", "nice-prometheus"] as const) {
    const [server, client] = (await pairs.get(name)?.handled()) ?? [NaN, NaN];
    if (server !== client) {
      report.fail("3 network", `${name}: server handled ${server} calls, client ${client}`);
    } else {
      report.note("3 network", `${name}: server and client both counted ${server} handled calls`);
    }
  }
}
