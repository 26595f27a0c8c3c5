// The figures of scenarios 3 and 4, computed from the network measurements:
// per round, one pair's figure over (or minus) another pair's from the same
// round, then the median and min–max over rounds.
import type { Measurement, PairName } from "./network-pair.js";
import type { Report } from "./report.js";
import { fmtNumber, fmtRatio, spread, type Spread } from "./stats.js";

/** What one group of pairs measured: per pair, one measurement per round. */
export interface GroupResult {
  readonly title: string;
  readonly byPair: Partial<Record<PairName, Measurement[]>>;
}

type Figure = (m: Measurement) => number;

const callsPerSec: Figure = (m) => m.calls / (m.elapsedMs / 1000);
const msgsPerSec: Figure = (m) => m.messages / (m.elapsedMs / 1000);
const serverCpuPerCall: Figure = (m) => m.serverCpuUs / m.calls;
const clientCpuPerCall: Figure = (m) => m.cpuUs / m.calls;
const serverCpuPerMsg: Figure = (m) => (m.serverCpuUs * 1000) / m.messages;
const clientCpuPerMsg: Figure = (m) => (m.cpuUs * 1000) / m.messages;

/** Per round, `f` of pair `a`'s and pair `b`'s measurements. */
function paired(g: GroupResult, a: PairName, b: PairName, f: (a: Measurement, b: Measurement) => number): Spread {
  const as = g.byPair[a] ?? [];
  const bs = g.byPair[b] ?? [];
  return spread(as.map((m, i) => f(m, bs[i])));
}

const ratio = (g: GroupResult, a: PairName, b: PairName, f: Figure) => paired(g, a, b, (x, y) => f(x) / f(y));
const delta = (g: GroupResult, a: PairName, b: PairName, f: Figure) => paired(g, a, b, (x, y) => f(x) - f(y));

/** reportUnary reports a unary group: ours against bare and floor, and the peer if it ran. */
export function reportUnary(g: GroupResult, report: Report): void {
  const scenario = "3 network";
  const lb = ratio(g, "library", "bare", callsPerSec);
  const lf = ratio(g, "library", "floor", callsPerSec);
  report.add({ scenario, name: `${g.title} calls/s, library/bare`, value: fmtRatio(lb) });
  report.add({ scenario, name: `${g.title} calls/s, library/floor`, value: fmtRatio(lf), target: "≥ 0.98", met: lf.median >= 0.98 });
  report.add({ scenario, name: `${g.title} calls/s, floor/bare`, value: fmtRatio(ratio(g, "floor", "bare", callsPerSec)) });
  for (const side of ["server", "client"] as const) {
    const cpu = side === "server" ? serverCpuPerCall : clientCpuPerCall;
    report.add({ scenario, name: `${g.title} ${side} CPU/call, library/bare`, value: fmtRatio(ratio(g, "library", "bare", cpu)) });
    for (const v of ["floor", "library"] as const) {
      report.add({ scenario, name: `${g.title} ${side} CPU/call, ${v}−bare`, value: fmtNumber(delta(g, v, "bare", cpu), "µs", 1) });
    }
  }
  if (g.byPair["nice-bare"] === undefined) {
    return;
  }
  const s4 = "4 peer";
  const nb = ratio(g, "nice-prometheus", "nice-bare", callsPerSec);
  report.add({ scenario: s4, name: "nice-grpc unary calls/s, nice-grpc-prometheus/bare", value: fmtRatio(nb) });
  report.add({
    scenario: s4,
    name: "gRPC unary calls/s instrumented/bare: ours vs nice-grpc's",
    value: `${lb.median.toFixed(3)} vs ${nb.median.toFixed(3)}`,
    target: "ours above",
    met: lb.median > nb.median,
  });
  report.add({ scenario: s4, name: "nice-grpc server CPU/call, prometheus−bare", value: fmtNumber(delta(g, "nice-prometheus", "nice-bare", serverCpuPerCall), "µs", 1) });
  report.add({ scenario: s4, name: "nice-grpc client CPU/call, prometheus−bare", value: fmtNumber(delta(g, "nice-prometheus", "nice-bare", clientCpuPerCall), "µs", 1) });
  report.add({ scenario: s4, name: "nice-grpc bare over Connect-ES bare, calls/s", value: fmtRatio(ratio(g, "nice-bare", "bare", callsPerSec)) });
}

/** reportStream reports a server-stream group: ours against bare. */
export function reportStream(g: GroupResult, report: Report): void {
  const scenario = "3 network";
  const lb = ratio(g, "library", "bare", msgsPerSec);
  report.add({ scenario, name: `${g.title} msgs/s, library/bare`, value: fmtRatio(lb), target: "≥ 0.97", met: lb.median >= 0.97 });
  report.add({ scenario, name: `${g.title} server CPU/msg, library−bare`, value: fmtNumber(delta(g, "library", "bare", serverCpuPerMsg), "ns") });
  report.add({ scenario, name: `${g.title} client CPU/msg, library−bare`, value: fmtNumber(delta(g, "library", "bare", clientCpuPerMsg), "ns") });
}
