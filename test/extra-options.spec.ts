import { expect } from "chai";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { routes } from "./support/ping-service.js";
import { Registry, type OpenMetricsContentType } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { drain, outcome, useFixture } from "./support/fixture.js";
import { key, pingClient, protocols, quiesce, series, service, startServer } from "./support/harness.js";

const grpc = protocols[0];

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}
const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };

describe("protocolLabel", () => {
  const f = useFixture({ server: { protocolLabel: true }, client: { protocolLabel: true } });

  it("adds rpc_protocol to every series, on both sides, for every protocol", async () => {
    for (const p of protocols) await f.client(p).ping({});
    await drain(f.client(protocols[1]).pingList({ responseCount: 2 }));
    const s = await f.settled("grpc_");
    for (const side of ["server", "client"]) {
      const started = (protocol: string) => s[key(`grpc_${side}_started_total`, { ...ping, rpc_protocol: protocol })];
      expect([started("grpc"), started("grpc_web"), started("connect")], side).to.deep.equal([1, 2, 2]);
      expect(s[key(`grpc_${side}_handled_total`, { ...ping, grpc_code: "OK", rpc_protocol: "grpc_web" })], side).to.equal(2);
      expect(
        s[key(`grpc_${side}_msg_${side === "server" ? "sent" : "received"}_total`, { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream", rpc_protocol: "grpc_web" })],
        side,
      ).to.equal(2);
    }
    expect(Object.keys(s).every((k) => k.includes("rpc_protocol="))).to.equal(true);
  });

  it("counts a Connect GET as connect", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, protocolLabel: true });
    const methods: string[] = [];
    const server = await startServer([
      sm.interceptor,
      (next) => (req) => {
        methods.push(req.requestMethod);
        return next(req);
      },
    ]);
    try {
      const transport = createConnectTransport({ baseUrl: server.h1Url, httpVersion: "1.1", useHttpGet: true });
      await createClient(PingService, transport).pingEmpty({});
      await quiesce(registry);
      expect(methods).to.deep.equal(["GET"]);
      const empty = { grpc_method: "PingEmpty", grpc_service: service, grpc_type: "unary" };
      expect(await series(registry, "grpc_server_handled_total")).to.deep.equal({
        [key("grpc_server_handled_total", { ...empty, grpc_code: "OK", rpc_protocol: "connect" })]: 1,
      });
    } finally {
      await server.close();
    }
  });
});

describe("codeLabelOnHistograms", () => {
  const f = useFixture({
    server: { handlingTimeHistogram: true, codeLabelOnHistograms: true },
    client: { handlingTimeHistogram: true, codeLabelOnHistograms: true, streamReceiveTimeHistogram: true },
  });

  it("splits the handling-time histogram by code, and only it", async () => {
    const c = f.client(grpc);
    await c.ping({});
    expect(await outcome(() => c.ping({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
    await drain(c.pingList({ responseCount: 1 }));
    const s = await f.settled("grpc_");
    for (const side of ["server", "client"]) {
      expect(s[key(`grpc_${side}_handling_seconds_count`, { ...ping, grpc_code: "OK" })], side).to.equal(1);
      expect(s[key(`grpc_${side}_handling_seconds_count`, { ...ping, grpc_code: "NotFound" })], side).to.equal(1);
      expect(s[key(`grpc_${side}_handling_seconds_count`, ping)], side).to.equal(undefined);
    }
    // Per-message waits have no code: it is not known yet when they are observed.
    expect(s[key("grpc_client_msg_recv_handling_seconds_count", { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" })]).to.equal(2);
  });
});

describe("exemplars", () => {
  it("put the call's labels on handled and handling_seconds, in the OpenMetrics exposition", async () => {
    const registry = openMetricsRegistry();
    const seen: string[] = [];
    const exemplars = (req: { header: Headers }) => {
      const id = req.header.get("x-trace-id");
      seen.push(id ?? "");
      return id ? { trace_id: id } : undefined;
    };
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: { buckets: [60] }, exemplars });
    const cm = new ClientMetrics({ registry, handlingTimeHistogram: { buckets: [60] }, exemplars });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, grpc, [cm.interceptor]);
      await c.ping({}, { headers: { "x-trace-id": "abc123" } });
      await c.ping({});
      await quiesce(registry);
      const text = await registry.metrics();
      // Once per call and side.
      expect(seen).to.deep.equal(["abc123", "abc123", "", ""]);
      for (const side of ["server", "client"]) {
        const handled = text.split("\n").find((l) => l.startsWith(`grpc_${side}_handled_total{grpc_code="OK",grpc_method="Ping"`));
        expect(handled, side).to.match(/\} 2 # \{trace_id="abc123"\} 1 \d+(\.\d+)?$/);
        const bucket = text.split("\n").find((l) => l.startsWith(`grpc_${side}_handling_seconds_bucket{le="60",grpc_method="Ping"`));
        expect(bucket, side).to.match(/\} 2 # \{trace_id="abc123"\} [0-9.e-]+ \d+(\.\d+)?$/);
      }
    } finally {
      await server.close();
    }
  });

  it("need an OpenMetrics registry, and say so", () => {
    expect(() => new ServerMetrics({ registry: new Registry(), exemplars: () => undefined })).to.throw(
      /"exemplars" need a registry with the OpenMetrics content type: call `registry\.setContentType\(Registry\.OPENMETRICS_CONTENT_TYPE\)` first/,
    );
  });

  it("never fail a call: a throwing function or an oversized label set goes to onError", async () => {
    const registry = openMetricsRegistry();
    const errors: string[] = [];
    let n = 0;
    const sm = new ServerMetrics({
      registry,
      onError: (e) => errors.push((e as Error).message),
      exemplars: () => {
        if (n++ === 0) throw new Error("no span");
        return { trace_id: "x".repeat(200) };
      },
    });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, grpc, []);
      expect(await outcome(() => c.ping({}))).to.equal("OK");
      expect(await outcome(() => c.ping({}))).to.equal("OK");
      await quiesce(registry);
      expect(errors).to.deep.equal([
        "no span",
        "connectrpc-prometheus: exemplar labels have 208 characters, more than OpenMetrics' 128; exemplar dropped.",
      ]);
      // Both counted, with no exemplar (prom-client would print a broken one).
      const text = await registry.metrics();
      expect(text).to.include(`${key("grpc_server_handled_total", { ...ping, grpc_code: "OK" })} 2\n`);
      expect(text).not.to.include("#  {");
      expect(text).not.to.include("# {}");
    } finally {
      await server.close();
    }
  });
});

describe("labels", () => {
  it("append request-derived labels to every series", async () => {
    const registry = new Registry();
    const labels = { names: ["tenant"], fromRequest: (req: { header: Headers }) => [req.header.get("x-tenant") ?? ""] };
    const sm = new ServerMetrics({ registry, labels });
    const cm = new ClientMetrics({ registry, labels });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, grpc, [cm.interceptor]);
      await c.ping({}, { headers: { "x-tenant": "acme" } });
      await c.ping({}, { headers: { "x-tenant": "acme" } });
      await c.ping({}, { headers: { "x-tenant": "globex" } });
      await c.ping({});
      await quiesce(registry);
      const s = await series(registry);
      for (const side of ["server", "client"]) {
        const handled = (tenant: string) => s[key(`grpc_${side}_handled_total`, { ...ping, grpc_code: "OK", tenant })];
        expect([handled("acme"), handled("globex"), handled("")], side).to.deep.equal([2, 1, 1]);
      }
      expect(Object.keys(s).every((k) => k.includes("tenant="))).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it("keep each label to maxValuesPerLabel values; 10,000 distinct values make no more series", async function () {
    this.timeout(60_000);
    const registry = new Registry();
    const sm = new ServerMetrics({
      registry,
      labels: { names: ["tenant"], fromRequest: (req) => [req.header.get("x-tenant") ?? ""], maxValuesPerLabel: 5 },
    });
    // In memory: the real Connect router and transport, without sockets, for speed.
    const transport = createRouterTransport(routes, { router: { interceptors: [sm.interceptor] } });
    const c = createClient(PingService, transport);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => c.ping({}, { headers: { "x-tenant": `t${i + j}` } })));
    }
    const s = await series(registry, "grpc_server_started_total");
    const tenants = Object.keys(s).map((k) => /tenant="([^"]*)"/.exec(k)?.[1]);
    expect(tenants).to.deep.equal(["t0", "t1", "t2", "t3", "t4", "other"]);
    expect(Object.values(s).reduce((a, b) => a + b, 0)).to.equal(10_000);
    expect(s[key("grpc_server_started_total", { ...ping, tenant: "other" })]).to.equal(9_995);
    expect(Object.keys(await series(registry))).to.have.length(6 * 4);
  });

  it("are checked at construction", () => {
    const r = () => new Registry();
    const fromRequest = () => [];
    expect(() => new ServerMetrics({ registry: r(), labels: { names: [], fromRequest } })).to.throw(/"labels\.names" must be a non-empty array/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["grpc_method"], fromRequest } })).to.throw(/"labels\.names" may not set "grpc_method"/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["a-b"], fromRequest } })).to.throw(/"labels\.names" has the invalid label name "a-b"/);
    expect(() => new ServerMetrics({ registry: r(), constLabels: { app: "x" }, labels: { names: ["app"], fromRequest } })).to.throw(/"labels\.names" has "app", which "constLabels" sets already/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["a", "a"], fromRequest } })).to.throw(/has a name twice/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["a"] } as never })).to.throw(/"labels\.fromRequest" must be a function/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["a"], fromRequest, maxValuesPerLabel: 0 } })).to.throw(/"labels\.maxValuesPerLabel" must be a positive integer, got 0/);
    expect(() => new ServerMetrics({ registry: r(), labels: { names: ["a"], fromRequest, max: 3 } as never })).to.throw(/unknown key "max" in "labels"/);
  });
});

describe("namespace and subsystem", () => {
  it("prefix every metric name", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, namespace: "shop", subsystem: "api", handlingTimeHistogram: true }).initialize(PingService);
    new ClientMetrics({ registry, namespace: "shop" }).initialize(PingService);
    expect(registry.getMetricsAsArray().map((m) => m.name)).to.deep.equal([
      "shop_api_grpc_server_started_total",
      "shop_api_grpc_server_handled_total",
      "shop_api_grpc_server_msg_received_total",
      "shop_api_grpc_server_msg_sent_total",
      "shop_api_grpc_server_handling_seconds",
      "shop_grpc_client_started_total",
      "shop_grpc_client_handled_total",
      "shop_grpc_client_msg_received_total",
      "shop_grpc_client_msg_sent_total",
    ]);
  });

  it("must be valid name parts", () => {
    expect(() => new ServerMetrics({ registry: new Registry(), namespace: "my-shop" })).to.throw(/"namespace" must be letters, digits and underscores/);
    expect(() => new ServerMetrics({ registry: new Registry(), subsystem: "1api" })).to.throw(/"subsystem" must be letters, digits and underscores/);
  });
});

describe("initialize with per-call labels", () => {
  it("creates the zero series for every protocol", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, protocolLabel: true }).initialize(PingService);
    const s = await series(registry, "grpc_server_started_total");
    expect(Object.keys(s)).to.have.length(6 * 3);
    expect(s[key("grpc_server_started_total", { ...ping, rpc_protocol: "grpc_web" })]).to.equal(0);
  });
});
