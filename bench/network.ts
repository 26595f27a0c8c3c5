// Scenarios 3 and 4: a server process and a client process per variant,
// over HTTP/2 cleartext on 127.0.0.1. Every pair starts once and stays up;
// rounds then alternate the pairs, one measurement at a time, so that only
// one pair is busy at any moment.
import { rotate } from "./alternate.js";
import type { LoadArg } from "./load.js";
import { reportStream, reportUnary, type GroupResult } from "./network-figures.js";
import { Pair, type Measurement, type PairName } from "./network-pair.js";
import type { Report } from "./report.js";
import type { NetworkSettings } from "./settings.js";

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

const pairNames: readonly PairName[] = ["bare", "floor", "library", "nice-bare", "nice-prometheus"];

/** network runs scenarios 3 and 4 and reports their figures. */
export async function network(s: NetworkSettings, report: Report): Promise<void> {
  const scenario = "3 network";
  report.note(
    scenario,
    `${s.connectProtocol ? "gRPC and Connect" : "gRPC only"}; up to ${s.rounds} rounds ` +
      `(${s.budgetMs / 1000} s budget) of ${s.durationMs} ms per pair; unary ${s.unaryInFlight} calls in flight, ` +
      `server-stream ${s.streamInFlight} streams of ${s.streamLength} messages in flight`,
  );
  const secs = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
  const t0 = performance.now();
  const started = await Promise.allSettled(pairNames.map((n) => Pair.start(n)));
  const pairs = new Map<PairName, Pair>();
  for (const p of started) {
    if (p.status === "fulfilled") {
      pairs.set(p.value.name, p.value);
    }
  }
  const pair = (name: PairName): Pair => {
    const p = pairs.get(name);
    if (p === undefined) {
      throw new Error(`network pair ${name} did not start`);
    }
    return p;
  };
  try {
    for (const p of started) {
      if (p.status === "rejected") {
        throw p.reason;
      }
    }
    report.note(scenario, `${pairs.size} server+client pairs started in ${secs(t0)}`);
    const load = (g: Group, warmup: boolean): LoadArg => ({
      kind: g.kind,
      protocol: g.protocol,
      inFlight: g.kind === "unary" ? s.unaryInFlight : s.streamInFlight,
      durationMs: warmup ? s.warmupCapMs : s.durationMs,
      maxCalls: !warmup ? undefined : g.kind === "unary" ? s.warmupCalls : s.warmupStreams,
      streamLength: s.streamLength,
    });
    const active = groups.filter((g) => s.connectProtocol || g.protocol === "grpc");
    const t1 = performance.now();
    for (const g of active) {
      for (const name of g.pairs) {
        await pair(name).measure(load(g, true));
      }
    }
    report.note(scenario, `warm-up took ${secs(t1)}`);
    const results = new Map(active.map((g) => [g, {} as Partial<Record<PairName, Measurement[]>>]));
    const t2 = performance.now();
    let round = 0;
    while (round < s.rounds && (round < s.minRounds || performance.now() - t2 < s.budgetMs)) {
      for (const g of active) {
        const byPair = results.get(g) ?? {};
        for (const name of rotate(g.pairs, round)) {
          (byPair[name] ??= []).push(await pair(name).measure(load(g, false)));
        }
      }
      round++;
    }
    report.note(scenario, `${round} rounds took ${secs(t2)}`);
    for (const [g, byPair] of results) {
      const result: GroupResult = { title: g.title, byPair };
      if (g.kind === "unary") {
        reportUnary(result, report);
      } else {
        reportStream(result, report);
      }
    }
    for (const name of ["library", "nice-prometheus"] as const) {
      const [server, client] = await pair(name).handled();
      if (server !== client) {
        report.fail(scenario, `${name}: the server counted ${server} handled calls, the client ${client}`);
      } else {
        report.note(scenario, `${name}: server and client both counted ${server} handled calls`);
      }
    }
  } finally {
    await Promise.all([...pairs.values()].map((p) => p.stop()));
  }
}
