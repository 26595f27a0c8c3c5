// Issue 13: the tests that kill the mutants StrykerJS found alive in
// src/constants.ts, src/histogram-data.ts, src/metric-family.ts,
// src/number-format.ts, src/reporter.ts and src/resolve-options.ts
// (`npm run mutate`; docs/mutation.md lists every survivor and what became of
// it, including the ones that are equivalent). One describe per source file;
// each test states the behaviour that the mutant broke, with a fresh Registry,
// real servers on 127.0.0.1 and exact values.
import { expect } from "chai";
import type { DescMethod } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics, type ServerMetricsOptions } from "../src/index.js";
import { key, pingClient, protocols, quiesce, series, service, startServer } from "./support/harness.js";

const grpc = protocols[0];
const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };
const methodNames = ["PingEmpty", "Ping", "PingError", "PingList", "PingClientStream", "PingStream"];

describe("mutants: constants.ts", () => {
  it("the exposition prints the HELP line of each message-size histogram", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, messageSizeHistogram: true });
    new ClientMetrics({ registry, messageSizeHistogram: true });
    const help = (await registry.metrics()).split("\n").filter((l) => l.startsWith("# HELP") && l.includes("_bytes "));
    const text = (what: string) => `Histogram of the size in bytes of RPC messages ${what}, as encoded in binary protobuf.`;
    expect(help).to.deep.equal([
      `# HELP grpc_server_msg_received_bytes ${text("received on the server")}`,
      `# HELP grpc_server_msg_sent_bytes ${text("sent by the server")}`,
      `# HELP grpc_client_msg_received_bytes ${text("received by the client")}`,
      `# HELP grpc_client_msg_sent_bytes ${text("sent by the client")}`,
    ]);
  });

  it("the handling-time histogram is opt-in in every flavor but python-legacy, where it is always on", () => {
    const histograms = (flavor: "go" | "python" | "python-legacy" | "java", on?: false) => {
      const registry = new Registry();
      const opts = on === undefined ? { registry, flavor } : { registry, flavor, handlingTimeHistogram: on };
      new ServerMetrics(opts);
      new ClientMetrics(opts);
      return registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.endsWith("_seconds"));
    };
    for (const on of [undefined, false] as const) {
      expect(histograms("go", on), `go ${on}`).to.deep.equal([]);
      expect(histograms("python", on), `python ${on}`).to.deep.equal([]);
      expect(histograms("java", on), `java ${on}`).to.deep.equal([]);
      expect(histograms("python-legacy", on), `python-legacy ${on}`).to.deep.equal([
        "grpc_server_handled_latency_seconds",
        "grpc_client_completed_latency_seconds",
      ]);
    }
  });
});

describe("mutants: reporter.ts", () => {
  /** A filter that counts how often it is asked about each method. */
  function countingFilter(verdict: (m: DescMethod) => boolean) {
    const asked: Record<string, number> = {};
    const filter = (m: DescMethod) => {
      asked[m.name] = (asked[m.name] ?? 0) + 1;
      return verdict(m);
    };
    return { asked, filter };
  }

  for (const [what, extra] of [
    ["without per-call labels", {}],
    ["with protocolLabel", { protocolLabel: true }],
  ] as const) {
    it(`${what}, filter is asked once per method descriptor, however often initialize() runs and calls come`, async () => {
      const registry = new Registry();
      const { asked, filter } = countingFilter((m) => m.name !== "PingEmpty");
      const sm = new ServerMetrics({ registry, filter, ...(extra as ServerMetricsOptions) });
      const server = await startServer([sm.interceptor]);
      try {
        const c = pingClient(server, grpc, []);
        await c.ping({});
        sm.initialize(PingService);
        sm.initialize(PingService);
        await c.ping({});
        await c.pingEmpty({});
        await quiesce(registry);
      } finally {
        await server.close();
      }
      expect(asked).to.deep.equal(Object.fromEntries(methodNames.map((m) => [m, 1])));
      const started = await series(registry, "grpc_server_started_total");
      const labels = "protocolLabel" in extra ? { ...ping, rpc_protocol: "grpc" } : ping;
      expect(started[key("grpc_server_started_total", labels)]).to.equal(2);
      expect(Object.keys(started).filter((k) => k.includes('"PingEmpty"'))).to.deep.equal([]);
    });
  }

  it("a filter that throws is reported to onError once per method, however often initialize() runs", () => {
    const errors: string[] = [];
    const sm = new ServerMetrics({
      registry: new Registry(),
      onError: (e) => errors.push((e as Error).message),
      filter: (m) => {
        throw new Error(`no verdict for ${m.name}`);
      },
    });
    sm.initialize(PingService);
    sm.initialize(PingService);
    expect(errors).to.deep.equal(methodNames.map((m) => `no verdict for ${m}`));
  });
});

describe("mutants: resolve-options.ts", () => {
  it("a request label may not be named le: the exact message lists the reserved names", () => {
    expect(
      () => new ServerMetrics({ registry: new Registry(), labels: { names: ["le"], fromRequest: () => ["x"] } }),
    ).to.throw(Error).with.property(
      "message",
      `connectrpc-prometheus: ServerMetrics: "labels.names" may not set "le": the library sets it. ` +
        `Reserved: grpc_type, grpc_service, grpc_method, grpc_code, code, rpc_protocol, le.`,
    );
  });
});
