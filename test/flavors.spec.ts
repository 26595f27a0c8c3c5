// Issue 9: each flavor prints its anchor library's exposition for a fixed
// traffic, byte for byte, against a golden file written by hand from the
// anchor's source (test/golden/README.md). An injected clock makes every
// duration 0 s, so nothing needs masking.
import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { setClock } from "../src/clock.js";
import { ClientMetrics, ServerMetrics, type FlavorName } from "../src/index.js";
import { formatBound } from "../src/number-format.js";
import { drain, outcome, requests } from "./support/fixture.js";
import { pingClient, protocols, quiesce, startServer, type TestServer } from "./support/harness.js";

/** The golden exposition of a flavor: the file without its `## ` header. */
function golden(flavor: string): string {
  const text = readFileSync(new URL(`golden/flavor-${flavor}.txt`, import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((line) => !line.startsWith("## "))
    .join("\n");
}

/** The golden files' traffic: one call of each kind over gRPC, in order. */
async function traffic(flavor: { flavor?: FlavorName; legacy?: boolean }, perMessage: boolean): Promise<string> {
  const registry = new Registry();
  const sm = new ServerMetrics({ registry, ...flavor, handlingTimeHistogram: true });
  const cm = new ClientMetrics({
    registry,
    ...flavor,
    handlingTimeHistogram: true,
    ...(perMessage ? { streamReceiveTimeHistogram: true, streamSendTimeHistogram: true } : {}),
  });
  let server: TestServer | undefined;
  try {
    server = await startServer([sm.interceptor]);
    const c = pingClient(server, protocols[0], [cm.interceptor]);
    expect((await c.ping({ value: "a" })).value).to.equal("a");
    expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
    expect(await drain(c.pingList({ responseCount: 3 }))).to.equal(3);
    expect((await c.pingClientStream(requests({}, {}))).counter).to.equal(2);
    expect(await drain(c.pingStream(requests({}, {}, {}, {})))).to.equal(4);
    await quiesce(registry);
    return await registry.metrics();
  } finally {
    await server?.close();
  }
}

describe("flavors", () => {
  beforeEach(() => setClock(() => 0));
  afterEach(() => setClock());

  const cases: [string, { flavor?: FlavorName; legacy?: boolean }, boolean][] = [
    ["go", { flavor: "go" }, true],
    ["go", {}, true],
    ["python", { flavor: "python" }, true],
    ["python-legacy", { flavor: "python-legacy" }, false],
    ["python-legacy", { legacy: true }, false],
    ["java", { flavor: "java" }, false],
  ];
  for (const [file, options, perMessage] of cases) {
    it(`${JSON.stringify(options)} prints golden/flavor-${file}.txt byte for byte`, async () => {
      expect(await traffic(options, perMessage)).to.equal(golden(file));
    });
  }

  it("refuses per-message histograms in a flavor that has none, and a legacy flag that contradicts the flavor", () => {
    for (const flavor of ["java", "python-legacy"] as const) {
      expect(() => new ClientMetrics({ registry: new Registry(), flavor, streamReceiveTimeHistogram: true })).to.throw(
        `connectrpc-prometheus: ClientMetrics: the "${flavor}" flavor has no per-message histograms; remove streamReceiveTimeHistogram and streamSendTimeHistogram, or use the "go" or "python" flavor.`,
      );
    }
    expect(() => new ServerMetrics({ registry: new Registry(), flavor: "java", legacy: true })).to.throw(
      `"legacy: true" is the flavor "python-legacy", which contradicts "flavor: java"; keep one of them.`,
    );
    expect(() => new ServerMetrics({ registry: new Registry(), flavor: "ruby" as never })).to.throw(
      `"flavor" must be one of "go", "python", "python-legacy", "java"; got "ruby".`,
    );
  });

  describe("custom buckets print the way the flavor prints numbers", () => {
    const bounds = [0, 0.00001, 0.0001, 0.001, 0.5, 1, 2.5, 100000, 1048576, 10000000, 4294967296, 1e16];
    const expected: Record<"go" | "python" | "java", string[]> = {
      go: ["0", "1e-05", "0.0001", "0.001", "0.5", "1", "2.5", "100000", "1.048576e+06", "1e+07", "4.294967296e+09", "1e+16"],
      python: ["0.0", "1e-05", "0.0001", "0.001", "0.5", "1.0", "2.5", "100000.0", "1.048576e+06", "1e+07", "4.294967296e+09", "1e+16"],
      java: ["0.0", "1.0E-5", "1.0E-4", "0.001", "0.5", "1.0", "2.5", "100000.0", "1048576.0", "1.0E7", "4.294967296E9", "1.0E16"],
    };
    for (const format of ["go", "python", "java"] as const) {
      it(`${format}: ${expected[format].join(" ")}`, () => {
        expect(bounds.map((b) => formatBound(b, format))).to.deep.equal(expected[format]);
      });
    }
    it("negative and special values", () => {
      expect([-0, -1e6, Infinity, -Infinity, NaN].map((b) => formatBound(b, "go"))).to.deep.equal(["0", "-1e+06", "+Inf", "-Inf", "NaN"]);
      expect([-0, -1e6].map((b) => formatBound(b, "python"))).to.deep.equal(["-0.0", "-1000000.0"]);
      expect([-0, -1e6].map((b) => formatBound(b, "java"))).to.deep.equal(["-0.0", "-1000000.0"]);
    });

    it("in the exposition: a python-legacy histogram with { buckets: [0.5, 1, 1048576] }", async () => {
      const registry = new Registry();
      const sm = new ServerMetrics({ registry, flavor: "python-legacy", handlingTimeHistogram: { buckets: [0.5, 1, 1048576] } });
      const server = await startServer([sm.interceptor]);
      try {
        await pingClient(server, protocols[0], []).ping({});
        await quiesce(registry);
      } finally {
        await server.close();
      }
      const les = (await registry.metrics()).split("\n").filter((l) => l.includes("_bucket{")).map((l) => /le="([^"]+)"/.exec(l)?.[1]);
      expect(les).to.deep.equal(["0.5", "1.0", "1.048576e+06", "+Inf"]);
    });
  });
});

describe("flavors with options on top", () => {
  beforeEach(() => setClock(() => 0));
  afterEach(() => setClock());

  /** The exposition lines of one call to PingError (NotFound) over gRPC-Web, for a flavor and options. */
  async function lines(flavor: FlavorName): Promise<string[]> {
    const registry = new Registry();
    const sm = new ServerMetrics({
      registry,
      flavor,
      namespace: "shop",
      handlingTimeHistogram: { buckets: [1] },
      codeLabelOnHistograms: true,
      protocolLabel: true,
      constLabels: { app: "a" },
      labels: { names: ["tenant"], fromRequest: () => ["t"] },
    });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, protocols[1], []);
      expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
      await quiesce(registry);
    } finally {
      await server.close();
    }
    return (await registry.metrics()).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  }
  const s = "connectrpc.prometheus.test.v1.PingService";

  it("java: its label values, code labels, declared order, options' labels after its own", async () => {
    const base = `grpc_type="UNARY",grpc_service="${s}",grpc_method="PingError"`;
    const extra = `rpc_protocol="grpc_web",tenant="t",app="a"`;
    expect(await lines("java")).to.deep.equal([
      `shop_grpc_server_started_total{${base},${extra}} 1`,
      `shop_grpc_server_handled_total{${base},code="NOT_FOUND",grpc_code="NOT_FOUND",${extra}} 1`,
      `shop_grpc_server_msg_received_total{${base},${extra}} 1`,
      `shop_grpc_server_handled_latency_seconds_bucket{${base},${extra},grpc_code="NOT_FOUND",le="1.0"} 1`,
      `shop_grpc_server_handled_latency_seconds_bucket{${base},${extra},grpc_code="NOT_FOUND",le="+Inf"} 1`,
      `shop_grpc_server_handled_latency_seconds_count{${base},${extra},grpc_code="NOT_FOUND"} 1`,
      `shop_grpc_server_handled_latency_seconds_sum{${base},${extra},grpc_code="NOT_FOUND"} 0`,
    ]);
  });

  it("python-legacy: its label values, code label `code`, every label in name order, `le` among them", async () => {
    const l = (code: string, le = "") =>
      `app="a",${code}grpc_method="PingError",grpc_service="${s}",grpc_type="UNARY",${le}rpc_protocol="grpc_web",tenant="t"`;
    expect(await lines("python-legacy")).to.deep.equal([
      `shop_grpc_server_started_total{${l("")}} 1`,
      `shop_grpc_server_handled_total{${l('code="NOT_FOUND",')}} 1`,
      `shop_grpc_server_msg_received_total{${l("")}} 1`,
      `shop_grpc_server_handled_latency_seconds_bucket{${l('code="NOT_FOUND",', 'le="1.0",')}} 1`,
      `shop_grpc_server_handled_latency_seconds_bucket{${l('code="NOT_FOUND",', 'le="+Inf",')}} 1`,
      `shop_grpc_server_handled_latency_seconds_count{${l('code="NOT_FOUND",')}} 1`,
      `shop_grpc_server_handled_latency_seconds_sum{${l('code="NOT_FOUND",')}} 0`,
    ]);
  });

  it("go: Go's values, every label in name order, `le` first", async () => {
    const l = `app="a",grpc_code="NotFound",grpc_method="PingError",grpc_service="${s}",grpc_type="unary",rpc_protocol="grpc_web",tenant="t"`;
    const base = l.replace('grpc_code="NotFound",', "");
    expect(await lines("go")).to.deep.equal([
      `shop_grpc_server_started_total{${base}} 1`,
      `shop_grpc_server_handled_total{${l}} 1`,
      `shop_grpc_server_msg_received_total{${base}} 1`,
      `shop_grpc_server_handling_seconds_bucket{le="1",${l}} 1`,
      `shop_grpc_server_handling_seconds_bucket{le="+Inf",${l}} 1`,
      `shop_grpc_server_handling_seconds_sum{${l}} 0`,
      `shop_grpc_server_handling_seconds_count{${l}} 1`,
    ]);
  });
});
