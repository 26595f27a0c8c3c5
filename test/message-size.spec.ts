// Issue 11: `messageSizeHistogram` records the size of each message sent and
// received, as its binary protobuf encoding, on both sides and for every RPC
// kind, with the same rules as the message counters.
import { expect } from "chai";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingRequestSchema, PingResponseSchema } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { drain, outcome, requests, useFixture } from "./support/fixture.js";
import { protocols, series, service } from "./support/harness.js";

const req = (value: string, errorCodeReturned = 0) =>
  toBinary(PingRequestSchema, create(PingRequestSchema, { value, errorCodeReturned })).byteLength;
const res = (value: string, counter: number) =>
  toBinary(PingResponseSchema, create(PingResponseSchema, { value, counter })).byteLength;

/** The sizes observed in one histogram of one method: count and sum. */
async function sizes(registry: Registry, name: string, method: string): Promise<{ count: number; sum: number }> {
  const s = await series(registry, name);
  const find = (suffix: string) =>
    Object.entries(s).find(([k]) => k.startsWith(`${name}_${suffix}{`) && k.includes(`grpc_method="${method}"`))?.[1];
  return { count: find("count") ?? 0, sum: find("sum") ?? 0 };
}

describe("messageSizeHistogram", () => {
  const f = useFixture({ server: { messageSizeHistogram: true }, client: { messageSizeHistogram: true } });

  for (const p of [protocols[0], protocols[2], protocols[4]]) {
    describe(`over ${p.name}`, () => {
      it("unary: one request and, on success, one response, on both sides", async () => {
        const c = f.client(p);
        await c.ping({ value: "abc" });
        expect(await outcome(() => c.pingError({ value: "abcdef", errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
        await f.settled("grpc_");
        for (const side of ["server", "client"] as const) {
          const sent = side === "client" ? "sent" : "received";
          const received = side === "client" ? "received" : "sent";
          expect(await sizes(f.registry, `grpc_${side}_msg_${sent}_bytes`, "Ping")).to.deep.equal({ count: 1, sum: req("abc") });
          expect(await sizes(f.registry, `grpc_${side}_msg_${received}_bytes`, "Ping")).to.deep.equal({ count: 1, sum: res("abc", 1) });
          expect(await sizes(f.registry, `grpc_${side}_msg_${sent}_bytes`, "PingError")).to.deep.equal({ count: 1, sum: req("abcdef", Code.NotFound) });
          expect(await sizes(f.registry, `grpc_${side}_msg_${received}_bytes`, "PingError")).to.deep.equal({ count: 0, sum: 0 });
        }
      });

      it("server stream and client stream: every message, the client stream's response on success only", async () => {
        const c = f.client(p);
        expect(await drain(c.pingList({ value: "xy", responseCount: 3 }))).to.equal(3);
        await c.pingClientStream(requests({ value: "a" }, { value: "bb" }, { value: "" }));
        await f.settled("grpc_");
        const list = res("xy", 0) + res("xy", 1) + res("xy", 2);
        expect(await sizes(f.registry, "grpc_server_msg_sent_bytes", "PingList")).to.deep.equal({ count: 3, sum: list });
        expect(await sizes(f.registry, "grpc_client_msg_received_bytes", "PingList")).to.deep.equal({ count: 3, sum: list });
        const three = req("a") + req("bb") + req("");
        expect(await sizes(f.registry, "grpc_client_msg_sent_bytes", "PingClientStream")).to.deep.equal({ count: 3, sum: three });
        expect(await sizes(f.registry, "grpc_server_msg_received_bytes", "PingClientStream")).to.deep.equal({ count: 3, sum: three });
        expect(await sizes(f.registry, "grpc_client_msg_received_bytes", "PingClientStream")).to.deep.equal({ count: 1, sum: res("", 3) });
      });
    });
  }

  it("bidi: every message both ways", async () => {
    const c = f.client(protocols[0]);
    expect(await drain(c.pingStream(requests({ value: "q" }, { value: "rr" })))).to.equal(2);
    await f.settled("grpc_");
    expect(await sizes(f.registry, "grpc_client_msg_sent_bytes", "PingStream")).to.deep.equal({ count: 2, sum: req("q") + req("rr") });
    expect(await sizes(f.registry, "grpc_server_msg_sent_bytes", "PingStream")).to.deep.equal({ count: 2, sum: res("q", 1) + res("rr", 2) });
  });

  it("uses gRFC A66's buckets by default, printed as Go prints them, with the HELP texts of docs/metrics.md", async () => {
    await f.client(protocols[0]).ping({ value: "abc" });
    await f.settled("grpc_");
    const text = await f.registry.getSingleMetricAsString("grpc_server_msg_received_bytes");
    const lines = text.split("\n");
    expect(lines[0]).to.equal(
      "# HELP grpc_server_msg_received_bytes Histogram of the size in bytes of RPC messages received on the server, as encoded in binary protobuf.",
    );
    expect(lines[1]).to.equal("# TYPE grpc_server_msg_received_bytes histogram");
    const l = `grpc_method="Ping",grpc_service="${service}",grpc_type="unary"`;
    const les = ["0", "1024", "2048", "4096", "16384", "65536", "262144", "1.048576e+06", "4.194304e+06", "1.6777216e+07", "6.7108864e+07", "2.68435456e+08", "1.073741824e+09", "4.294967296e+09", "+Inf"];
    expect(lines.slice(2)).to.deep.equal([
      ...les.map((le) => `grpc_server_msg_received_bytes_bucket{le="${le}",${l}} ${le === "0" ? 0 : 1}`),
      `grpc_server_msg_received_bytes_sum{${l}} ${req("abc")}`,
      `grpc_server_msg_received_bytes_count{${l}} 1`,
    ]);
  });

  it("is off by default: no size families at all", () => {
    const registry = new Registry();
    new ServerMetrics({ registry });
    new ClientMetrics({ registry });
    expect(registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.endsWith("_bytes"))).to.deep.equal([]);
  });
});
