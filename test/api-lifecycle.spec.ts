// Issues 10 and 11: filter, initialize() with a ConnectRouter and its errors,
// unregister(), and the length guard of request labels.
import { expect } from "chai";
import type { DescMethod } from "@bufbuild/protobuf";
import { createClient, createConnectRouter, createRouterTransport } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { file_connectrpc_prometheus_test_v1_ping, PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { counters } from "./support/expect.js";
import { outcome, useFixture } from "./support/fixture.js";
import { key, protocols, series, service } from "./support/harness.js";
import { pingService, routes } from "./support/ping-service.js";

const grpc = protocols[0];

describe("filter", () => {
  const asked: string[] = [];
  const f = useFixture({
    server: {
      filter: (m: DescMethod) => {
        asked.push(`server ${m.name}`);
        return m.name !== "PingEmpty";
      },
      handlingTimeHistogram: true,
    },
    client: {
      filter: (m: DescMethod) => {
        asked.push(`client ${m.name}`);
        return m.methodKind !== "unary";
      },
    },
  });
  beforeEach(() => (asked.length = 0));

  it("leaves a method out entirely, on each side; it is asked once per method", async () => {
    const c = f.client(grpc);
    for (let i = 0; i < 3; i++) {
      await c.pingEmpty({});
      await c.ping({});
    }
    const s = await f.settled("grpc_");
    expect(Object.keys(s).filter((k) => k.includes("PingEmpty"))).to.deep.equal([]);
    expect(Object.keys(s).filter((k) => k.startsWith("grpc_client_"))).to.deep.equal([]);
    expect(s[key("grpc_server_handled_total", { grpc_code: "OK", grpc_method: "Ping", grpc_service: service, grpc_type: "unary" })]).to.equal(3);
    expect(asked.sort()).to.deep.equal(["client Ping", "client PingEmpty", "server Ping", "server PingEmpty"]);
  });

  it("applies to initialize() too", async () => {
    f.serverMetrics.initialize(PingService);
    f.clientMetrics.initialize(PingService);
    const s = await series(f.registry, "grpc_");
    const methods = (side: string) =>
      [...new Set(Object.keys(s).filter((k) => k.startsWith(`grpc_${side}_started_total`)).map((k) => /grpc_method="(\w+)"/.exec(k)![1]))];
    expect(methods("server")).to.deep.equal(["Ping", "PingError", "PingList", "PingClientStream", "PingStream"]);
    expect(methods("client")).to.deep.equal(["PingList", "PingClientStream", "PingStream"]);
  });

  it("a filter that throws keeps the method, and onError hears of it", async () => {
    const errors: unknown[] = [];
    const registry = new Registry();
    const sm = new ServerMetrics({
      registry,
      onError: (e) => errors.push(e),
      filter: () => {
        throw new Error("bad filter");
      },
    });
    const c = createClient(PingService, createRouterTransport(routes, { router: { interceptors: [sm.interceptor] } }));
    await c.ping({});
    await c.ping({});
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(["bad filter"]);
    expect(await series(registry)).to.deep.equal(
      counters("server", [{ type: "unary", method: "Ping", started: 2, received: 2, sent: 2, handled: { OK: 2 } }]),
    );
  });

  it("must be a function", () => {
    expect(() => new ServerMetrics({ registry: new Registry(), filter: true as never })).to.throw(/"filter" must be a function/);
  });
});

describe("initialize()", () => {
  it("takes a ConnectRouter: every method registered on it", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    const router = createConnectRouter();
    router.rpc(PingService.method.ping, pingService.ping);
    router.rpc(PingService.method.pingList, pingService.pingList);
    sm.initialize(router);
    const started = Object.keys(await series(registry, "grpc_server_started_total"));
    expect(started).to.deep.equal([
      key("grpc_server_started_total", { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" }),
      key("grpc_server_started_total", { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" }),
    ]);
    expect(Object.keys(await series(registry, "grpc_server_handled_total"))).to.have.length(2 * 17);
  });

  it("says what to pass for anything else", () => {
    const sm = new ServerMetrics({ registry: new Registry() });
    const cm = new ClientMetrics({ registry: new Registry() });
    expect(() => sm.initialize(file_connectrpc_prometheus_test_v1_ping as never)).to.throw(
      'connectrpc-prometheus: ServerMetrics.initialize() takes service descriptors or a ConnectRouter, such as PingService from your generated *_pb.js file; argument 1 is a descriptor of kind "file". For a file descriptor, pass its services: initialize(...file_foo_v1.services).',
    );
    expect(() => sm.initialize(PingService, undefined as never)).to.throw(/; argument 2 is undefined\.$/);
    expect(() => sm.initialize("PingService" as never)).to.throw(/; argument 1 is a string\.$/);
    expect(() => cm.initialize(createConnectRouter() as never)).to.throw(
      /ClientMetrics\.initialize\(\) takes service descriptors, .*A ConnectRouter holds the services this process serves; ClientMetrics counts the services it calls\.$/,
    );
  });
});

describe("unregister()", () => {
  it("takes the metrics out of the registry; a new ServerMetrics and ClientMetrics can then register", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: true, messageSizeHistogram: true });
    const cm = new ClientMetrics({ registry, streamReceiveTimeHistogram: true });
    const own = registry.getMetricsAsArray().length;
    expect(own).to.equal(7 + 5);
    sm.unregister();
    cm.unregister();
    expect(registry.getMetricsAsArray()).to.deep.equal([]);
    const again = new ServerMetrics({ registry });
    const c = createClient(PingService, createRouterTransport(routes, { router: { interceptors: [again.interceptor, sm.interceptor] } }));
    expect(await outcome(() => c.ping({}))).to.equal("OK");
    // The old interceptor still works; what it records is no longer read.
    expect(await series(registry)).to.deep.equal(
      counters("server", [{ type: "unary", method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } }]),
    );
  });

  it("leaves alone a metric of the same name that is no longer its own", () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    sm.unregister();
    const next = new ServerMetrics({ registry });
    sm.unregister();
    expect(registry.getMetricsAsArray()).to.have.length(4);
    next.unregister();
    expect(registry.getMetricsAsArray()).to.have.length(0);
  });

  it("works after an OpenMetrics read renamed the counters", async () => {
    const registry = new Registry();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    const sm = new ServerMetrics({ registry });
    await registry.metrics();
    sm.unregister();
    expect(registry.getMetricsAsArray()).to.deep.equal([]);
  });
});

describe("labels: hostile values", () => {
  const make = (maxValueLength?: number) => {
    const registry = new Registry();
    const sm = new ServerMetrics({
      registry,
      labels: { names: ["tenant"], fromRequest: (req) => [req.header.get("x-tenant") ?? ""], ...(maxValueLength ? { maxValueLength } : {}) },
    });
    const c = createClient(PingService, createRouterTransport(routes, { router: { interceptors: [sm.interceptor] } }));
    const tenants = async () =>
      Object.keys(await series(registry, "grpc_server_started_total")).map((k) => /tenant="([^"]*)"/.exec(k)![1]);
    return { c, tenants };
  };

  it("a value longer than 128 characters counts as other", async () => {
    const { c, tenants } = make();
    await c.ping({}, { headers: { "x-tenant": "a".repeat(128) } });
    await c.ping({}, { headers: { "x-tenant": "b".repeat(129) } });
    await c.ping({}, { headers: { "x-tenant": "x".repeat(5000) } });
    expect(await tenants()).to.deep.equal(["a".repeat(128), "other"]);
  });

  it("maxValueLength sets the bound, and is checked", async () => {
    const { c, tenants } = make(3);
    await c.ping({}, { headers: { "x-tenant": "abc" } });
    await c.ping({}, { headers: { "x-tenant": "abcd" } });
    expect(await tenants()).to.deep.equal(["abc", "other"]);
    expect(() => new ServerMetrics({ registry: new Registry(), labels: { names: ["a"], fromRequest: () => [], maxValueLength: 0 } })).to.throw(
      /"labels\.maxValueLength" must be a positive integer, got 0/,
    );
  });
});
