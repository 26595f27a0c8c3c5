import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { drain, outcome, useFixture } from "./support/fixture.js";
import { protocols, quiesce, service } from "./support/harness.js";

const grpc = protocols[0];

/** The non-bucket lines of the exposition: HELP, TYPE and samples. */
async function lines(text: Promise<string>): Promise<string[]> {
  return (await text).split("\n").filter((l) => l !== "" && !l.includes("_bucket{"));
}

describe("legacy mode", () => {
  const f = useFixture({
    server: { legacy: true },
    client: { legacy: true },
  });

  it("exposes py-grpc-prometheus's legacy names, labels and values", async () => {
    const c = f.client(grpc);
    await c.ping({});
    expect(await outcome(() => c.pingError({ errorCodeReturned: Code.DeadlineExceeded }))).to.equal("DeadlineExceeded");
    expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
    await quiesce(f.registry);
    const l = (method: string, type: string) => `grpc_method="${method}",grpc_service="${service}",grpc_type="${type}"`;
    const ping = l("Ping", "UNARY");
    const err = l("PingError", "UNARY");
    const list = l("PingList", "SERVER_STREAMING");
    const got = await lines(f.registry.metrics());
    const sums = got.filter((x) => x.includes("_sum{"));
    expect(sums).to.have.length(6);
    expect(got.filter((x) => !x.includes("_sum{"))).to.deep.equal([
      "# HELP grpc_server_started_total Total number of RPCs started on the server.",
      "# TYPE grpc_server_started_total counter",
      `grpc_server_started_total{${ping}} 1`,
      `grpc_server_started_total{${err}} 1`,
      `grpc_server_started_total{${list}} 1`,
      "# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.",
      "# TYPE grpc_server_handled_total counter",
      `grpc_server_handled_total{code="OK",${ping}} 1`,
      `grpc_server_handled_total{code="DEADLINE_EXCEEDED",${err}} 1`,
      `grpc_server_handled_total{code="OK",${list}} 1`,
      "# HELP grpc_server_msg_received_total Total number of RPC stream messages received on the server.",
      "# TYPE grpc_server_msg_received_total counter",
      `grpc_server_msg_received_total{${ping}} 1`,
      `grpc_server_msg_received_total{${err}} 1`,
      `grpc_server_msg_received_total{${list}} 1`,
      "# HELP grpc_server_msg_sent_total Total number of gRPC stream messages sent by the server.",
      "# TYPE grpc_server_msg_sent_total counter",
      `grpc_server_msg_sent_total{${ping}} 1`,
      `grpc_server_msg_sent_total{${list}} 2`,
      "# HELP grpc_server_handled_latency_seconds Histogram of response latency (seconds) of gRPC that had been application-level handled by the server",
      "# TYPE grpc_server_handled_latency_seconds histogram",
      `grpc_server_handled_latency_seconds_count{${ping}} 1`,
      `grpc_server_handled_latency_seconds_count{${err}} 1`,
      `grpc_server_handled_latency_seconds_count{${list}} 1`,
      "# HELP grpc_client_started_total Total number of RPCs started on the client",
      "# TYPE grpc_client_started_total counter",
      `grpc_client_started_total{${ping}} 1`,
      `grpc_client_started_total{${err}} 1`,
      `grpc_client_started_total{${list}} 1`,
      "# HELP grpc_client_completed_total Total number of RPCs completed on the client, regardless of success or failure.",
      "# TYPE grpc_client_completed_total counter",
      `grpc_client_completed_total{code="OK",${ping}} 1`,
      `grpc_client_completed_total{code="DEADLINE_EXCEEDED",${err}} 1`,
      `grpc_client_completed_total{code="OK",${list}} 1`,
      "# HELP grpc_client_msg_received_total Total number of RPC stream messages received by the client.",
      "# TYPE grpc_client_msg_received_total counter",
      `grpc_client_msg_received_total{${ping}} 1`,
      `grpc_client_msg_received_total{${list}} 2`,
      "# HELP grpc_client_msg_sent_total Total number of gRPC stream messages sent by the client.",
      "# TYPE grpc_client_msg_sent_total counter",
      `grpc_client_msg_sent_total{${ping}} 1`,
      `grpc_client_msg_sent_total{${err}} 1`,
      `grpc_client_msg_sent_total{${list}} 1`,
      "# HELP grpc_client_completed_latency_seconds Histogram of rpc response latency (in seconds) for completed rpcs.",
      "# TYPE grpc_client_completed_latency_seconds histogram",
      `grpc_client_completed_latency_seconds_count{${ping}} 1`,
      `grpc_client_completed_latency_seconds_count{${err}} 1`,
      `grpc_client_completed_latency_seconds_count{${list}} 1`,
    ]);
  });

  it("uses the Python client's default buckets, printed as Python prints floats", async () => {
    await f.client(grpc).ping({});
    await quiesce(f.registry);
    const les = (await f.registry.metrics())
      .split("\n")
      .filter((x) => x.startsWith("grpc_server_handled_latency_seconds_bucket"))
      .map((x) => /le="([^"]+)"/.exec(x)?.[1]);
    expect(les).to.deep.equal(["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "+Inf"]);
  });

  it("works with initialize(), with every legacy code", async () => {
    const { PingService } = await import("../gen/connectrpc/prometheus/test/v1/ping_pb.js");
    f.serverMetrics.initialize(PingService);
    const codes = (await f.registry.metrics())
      .split("\n")
      .filter((x) => x.startsWith("grpc_server_handled_total") && x.includes('grpc_method="Ping"'))
      .map((x) => /code="([^"]+)"/.exec(x)?.[1]);
    expect(codes).to.deep.equal([
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    ]);
  });
});
