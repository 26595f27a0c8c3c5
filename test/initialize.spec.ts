import { expect } from "chai";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { Code } from "@connectrpc/connect";
import { counters, only, type MethodCounts } from "./support/expect.js";
import { drain, outcome, requests, useFixture } from "./support/fixture.js";
import { key, protocols, series, service } from "./support/harness.js";

const methods = [
  ["PingEmpty", "unary"],
  ["Ping", "unary"],
  ["PingError", "unary"],
  ["PingList", "server_stream"],
  ["PingClientStream", "client_stream"],
  ["PingStream", "bidi_stream"],
] as const;

const goCodes = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
  "PermissionDenied", "Unauthenticated", "ResourceExhausted", "FailedPrecondition", "Aborted",
  "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
];

/** Go's default buckets, as the exposition prints their bounds. */
const goBuckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];

/** Every zero series of one side, as Go's InitializeMetrics creates them. */
function zeros(side: "server" | "client"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [method, type] of methods) {
    const labels = { grpc_method: method, grpc_service: service, grpc_type: type };
    out[key(`grpc_${side}_started_total`, labels)] = 0;
    for (const code of goCodes) out[key(`grpc_${side}_handled_total`, { ...labels, grpc_code: code })] = 0;
    out[key(`grpc_${side}_msg_received_total`, labels)] = 0;
    out[key(`grpc_${side}_msg_sent_total`, labels)] = 0;
    out[key(`grpc_${side}_handling_seconds_count`, labels)] = 0;
    out[key(`grpc_${side}_handling_seconds_sum`, labels)] = 0;
  }
  return out;
}

describe("initialize", () => {
  it("creates every server series at zero: each method, all 17 codes, the histogram", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, handlingTimeHistogram: true }).initialize(PingService);
    const s = await series(registry, "grpc_server_");
    const buckets = Object.keys(s).filter((k) => k.includes("_bucket{"));
    expect(buckets).to.have.length(methods.length * 12);
    expect(buckets.every((k) => s[k] === 0)).to.equal(true);
    for (const k of buckets) delete s[k];
    expect(s).to.deep.equal(zeros("server"));
  });

  it("creates every client series at zero for the services a client calls", async () => {
    const registry = new Registry();
    new ClientMetrics({ registry, handlingTimeHistogram: true }).initialize(PingService);
    const s = await series(registry, "grpc_client_");
    for (const k of Object.keys(s)) if (k.includes("_bucket{")) delete s[k];
    expect(s).to.deep.equal(zeros("client"));
  });

  it("lists the codes in Go's order", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry }).initialize(PingService);
    const codes = (await registry.metrics())
      .split("\n")
      .filter((l) => l.startsWith("grpc_server_handled_total") && l.includes('grpc_method="Ping"'))
      .map((l) => /grpc_code="([^"]+)"/.exec(l)?.[1]);
    expect(codes).to.deep.equal(goCodes);
  });

  it("creates each series once, however often it runs", async () => {
    const registry = new Registry();
    const m = new ServerMetrics({ registry });
    m.initialize(PingService);
    m.initialize(PingService, PingService);
    expect(Object.keys(await series(registry, "grpc_server_"))).to.have.length(methods.length * 20);
  });

  it("creates the client's per-message histograms for streaming methods only", async () => {
    const registry = new Registry();
    new ClientMetrics({ registry, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true }).initialize(PingService);
    const s = only(await series(registry, "grpc_client_msg_"), /^grpc_client_msg_(recv|send)_handling_seconds_/);
    const histograms = ["grpc_client_msg_recv_handling_seconds", "grpc_client_msg_send_handling_seconds"];
    const want: Record<string, number> = {};
    for (const [method, type] of methods) {
      if (type === "unary") continue;
      const labels = { grpc_method: method, grpc_service: service, grpc_type: type };
      for (const name of histograms) {
        for (const le of goBuckets) want[`${name}_bucket{le="${le}",${key("", labels).slice(1, -1)}}`] = 0;
        want[key(`${name}_sum`, labels)] = 0;
        want[key(`${name}_count`, labels)] = 0;
      }
    }
    // A unary call observes neither (see test/histograms.spec.ts), so no
    // series of either exists for PingEmpty, Ping or PingError.
    expect(s).to.deep.equal(want);
  });

  describe("after traffic", () => {
    const f = useFixture({
      server: { handlingTimeHistogram: true },
      client: { handlingTimeHistogram: true, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true },
    });

    it("is idempotent and keeps counts: every series, counters and histograms, keeps its value", async () => {
      const c = f.client(protocols[0]);
      await c.ping({});
      await c.ping({});
      expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
      expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
      await c.pingClientStream(requests({}, {}));
      expect(await drain(c.pingStream(requests({}, {})))).to.equal(2);
      const before = await f.settled("grpc_");
      // What the traffic above made, on both sides.
      // requests: what the client sent and the server received; responses: the reverse.
      const calls = [
        { type: "unary", method: "Ping", started: 2, requests: 2, responses: 2, handled: { OK: 2 } },
        { type: "unary", method: "PingError", started: 1, requests: 1, responses: 0, handled: { NotFound: 1 } },
        { type: "server_stream", method: "PingList", started: 1, requests: 1, responses: 2, handled: { OK: 1 } },
        { type: "client_stream", method: "PingClientStream", started: 1, requests: 2, responses: 1, handled: { OK: 1 } },
        { type: "bidi_stream", method: "PingStream", started: 1, requests: 2, responses: 2, handled: { OK: 1 } },
      ] as const;
      const traffic = (side: "server" | "client"): MethodCounts[] =>
        calls.map(({ requests, responses, ...m }) =>
          side === "server" ? { ...m, received: requests, sent: responses } : { ...m, received: responses, sent: requests },
        );
      expect(only(before, /_total\{/)).to.deep.equal({ ...counters("server", traffic("server")), ...counters("client", traffic("client")) });
      const count = (name: string, method: string, type: string) =>
        before[key(`${name}_count`, { grpc_method: method, grpc_service: service, grpc_type: type })];
      for (const side of ["server", "client"]) {
        const name = `grpc_${side}_handling_seconds`;
        expect(
          [count(name, "Ping", "unary"), count(name, "PingError", "unary"), count(name, "PingList", "server_stream"), count(name, "PingClientStream", "client_stream"), count(name, "PingStream", "bidi_stream")],
          side,
        ).to.deep.equal([2, 1, 1, 1, 1]);
      }
      // 2 responses and the end; 1 response; 2 responses and the end.
      const recv = "grpc_client_msg_recv_handling_seconds";
      expect([count(recv, "PingList", "server_stream"), count(recv, "PingClientStream", "client_stream"), count(recv, "PingStream", "bidi_stream")]).to.deep.equal([3, 1, 3]);
      const send = "grpc_client_msg_send_handling_seconds";
      expect([count(send, "PingList", "server_stream"), count(send, "PingClientStream", "client_stream"), count(send, "PingStream", "bidi_stream")]).to.deep.equal([1, 2, 2]);

      f.serverMetrics.initialize(PingService);
      f.clientMetrics.initialize(PingService);
      const after = await f.settled("grpc_");
      // Every series the traffic made keeps its value: counts, buckets, sums.
      const changed = Object.keys(before)
        .filter((k) => after[k] !== before[k])
        .map((k) => `${k}: ${before[k]} became ${after[k]}`);
      expect(changed).to.deep.equal([]);
      // Every other series is new, at zero, and none is a per-message
      // histogram of a unary method.
      const added = Object.keys(after).filter((k) => !(k in before));
      expect(added.filter((k) => after[k] !== 0)).to.deep.equal([]);
      expect(added.filter((k) => /^grpc_client_msg_(recv|send)_handling_seconds_/.test(k) && k.includes('grpc_type="unary"'))).to.deep.equal([]);
      expect(added.length).to.be.greaterThan(0);

      f.serverMetrics.initialize(PingService);
      f.clientMetrics.initialize(PingService);
      expect(await f.settled("grpc_")).to.deep.equal(after);
    });
  });
});
