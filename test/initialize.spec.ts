import { expect } from "chai";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { key, series, service } from "./support/harness.js";

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

  it("is idempotent and keeps counts", async () => {
    const registry = new Registry();
    const m = new ServerMetrics({ registry });
    m.initialize(PingService);
    m.initialize(PingService, PingService);
    expect(Object.keys(await series(registry, "grpc_server_"))).to.have.length(methods.length * 20);
  });
});
