// Issue 13: the tests that kill the mutants StrykerJS found alive in src/
// (`npm run mutate`; docs/mutation.md lists every survivor and what became of
// it). One describe per source file; each test states the behaviour that the
// mutant broke, with a fresh Registry, real servers on 127.0.0.1 and exact
// values.
import { expect } from "chai";
import { createConnectRouter } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { kHttp2Stream } from "../src/http2-stream.js";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions, type ServerMetricsOptions } from "../src/index.js";
import { formatBound } from "../src/number-format.js";
import { outcome } from "./support/fixture.js";
import { key, pingClient, protocols, quiesce, series, service, startServer, type TestServer } from "./support/harness.js";

const grpc = protocols[0];
const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };
const list = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };

/** A fresh registry, both sides' metrics with the options, and a real server. */
async function setup(server: ServerMetricsOptions = {}, client: ClientMetricsOptions = {}) {
  const registry = new Registry();
  const sm = new ServerMetrics({ registry, ...server });
  const cm = new ClientMetrics({ registry, ...client });
  const srv: TestServer = await startServer([sm.interceptor]);
  return {
    registry,
    sm,
    cm,
    server: srv,
    client: (p = grpc) => pingClient(srv, p, [cm.interceptor]),
    close: () => srv.close(),
  };
}

/** The `name{labels} value` lines of one metric in the exposition, in order. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe("mutants: call-labels.ts", () => {
  const tenant = (values: (req: { header: Headers }) => unknown, more: object = {}) => ({
    names: ["tenant"],
    fromRequest: values as never,
    ...more,
  });

  it("protocolLabel alone: initialize() and a call share one series per protocol", async () => {
    const t = await setup({ protocolLabel: true });
    try {
      t.sm.initialize(PingService);
      await t.client().ping({});
      await quiesce(t.registry);
      const kinds = { PingEmpty: "unary", Ping: "unary", PingError: "unary", PingList: "server_stream", PingClientStream: "client_stream", PingStream: "bidi_stream" };
      // initialize() creates the series method by method, each for the three protocols; the call adds none.
      expect(await lines(t.registry, "grpc_server_started_total")).to.deep.equal(
        Object.entries(kinds).flatMap(([m, type]) =>
          ["grpc", "grpc_web", "connect"].map(
            (p) => `${key("grpc_server_started_total", { grpc_method: m, grpc_service: service, grpc_type: type, rpc_protocol: p })} ${m === "Ping" && p === "grpc" ? 1 : 0}`,
          ),
        ),
      );
    } finally {
      await t.close();
    }
  });

  it("initialize() with request labels creates the series with \"\" for them, per protocol or alone", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, labels: tenant(() => ["a"]) }).initialize(PingService);
    const s = await series(registry, "grpc_server_started_total");
    expect(Object.keys(s)).to.have.length(6);
    expect(s[key("grpc_server_started_total", { ...ping, tenant: "" })]).to.equal(0);
    const both = new Registry();
    new ClientMetrics({ registry: both, protocolLabel: true, labels: tenant(() => ["a"]) }).initialize(PingService);
    const b = await series(both, "grpc_client_started_total");
    expect(Object.keys(b)).to.have.length(18);
    for (const p of ["grpc", "grpc_web", "connect"]) {
      expect(b[key("grpc_client_started_total", { ...ping, rpc_protocol: p, tenant: "" })], p).to.equal(0);
    }
  });

  it("a fromRequest that returns the right number of values is never reported to onError", async () => {
    const errors: unknown[] = [];
    const t = await setup({ labels: tenant(() => ["a"]), onError: (e) => errors.push(e) });
    try {
      await t.client().ping({});
      await quiesce(t.registry);
      expect(errors).to.deep.equal([]);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, tenant: "a" })]: 1,
      });
    } finally {
      await t.close();
    }
  });

  it("a fromRequest that returns no array records \"\" and tells onError what it got", async () => {
    const errors: unknown[] = [];
    const t = await setup({ labels: tenant(() => "a"), onError: (e) => errors.push(e) });
    try {
      await t.client().ping({});
      await quiesce(t.registry);
      expect(errors.map(String)).to.deep.equal([
        'TypeError: connectrpc-prometheus: labels.fromRequest returned string for the 1 names tenant; the missing ones are recorded as "".',
      ]);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, tenant: "" })]: 1,
      });
    } finally {
      await t.close();
    }
  });

  it("null and undefined values are \"\"; other values are strings", async () => {
    const values: unknown[][] = [[null], [undefined], [7]];
    const t = await setup({ labels: tenant(() => values.shift()) });
    try {
      for (let i = 0; i < 3; i++) await t.client().ping({});
      await quiesce(t.registry);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, tenant: "" })]: 2,
        [key("grpc_server_started_total", { ...ping, tenant: "7" })]: 1,
      });
    } finally {
      await t.close();
    }
  });

  it("a value seen before keeps its series after the label is full", async () => {
    const values = ["a", "b", "a", "c", "b"];
    const t = await setup({ labels: tenant(() => [values.shift()], { maxValuesPerLabel: 2 }) });
    try {
      for (let i = 0; i < 5; i++) await t.client().ping({});
      await quiesce(t.registry);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, tenant: "a" })]: 2,
        [key("grpc_server_started_total", { ...ping, tenant: "b" })]: 2,
        [key("grpc_server_started_total", { ...ping, tenant: "other" })]: 1,
      });
    } finally {
      await t.close();
    }
  });
});

describe("mutants: constants.ts", () => {
  it("the four size histograms have the HELP texts of the docs/metrics.md table", () => {
    const registry = new Registry();
    new ServerMetrics({ registry, messageSizeHistogram: true });
    new ClientMetrics({ registry, messageSizeHistogram: true });
    const help = Object.fromEntries(
      registry.getMetricsAsArray().filter((m) => m.name.endsWith("_bytes")).map((m) => [m.name, (m as unknown as { help: string }).help]),
    );
    expect(help).to.deep.equal({
      grpc_server_msg_received_bytes:
        "Histogram of the size in bytes of RPC messages received on the server, as encoded in binary protobuf.",
      grpc_server_msg_sent_bytes: "Histogram of the size in bytes of RPC messages sent by the server, as encoded in binary protobuf.",
      grpc_client_msg_received_bytes:
        "Histogram of the size in bytes of RPC messages received by the client, as encoded in binary protobuf.",
      grpc_client_msg_sent_bytes: "Histogram of the size in bytes of RPC messages sent by the client, as encoded in binary protobuf.",
    });
  });

  for (const flavor of ["go", "python", "java"] as const) {
    it(`the ${flavor} flavor has no handling-time histogram unless asked for`, () => {
      const registry = new Registry();
      new ServerMetrics({ registry, flavor });
      new ClientMetrics({ registry, flavor });
      expect(registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.includes("seconds"))).to.deep.equal([]);
    });
  }
});

describe("mutants: histogram-data.ts", () => {
  it("a call in flight has no handling-time series yet", async () => {
    const t = await setup({ handlingTimeHistogram: true }, { handlingTimeHistogram: true });
    const ac = new AbortController();
    try {
      const it = t.client().pingList({ responseCount: 1, waitForCancel: true }, { signal: ac.signal })[Symbol.asyncIterator]();
      expect((await it.next()).done).to.equal(false);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", list)]: 1,
      });
      expect(await series(t.registry, "grpc_server_handling_seconds")).to.deep.equal({});
      expect(await series(t.registry, "grpc_client_handling_seconds")).to.deep.equal({});
      ac.abort();
      await quiesce(t.registry);
      expect(await series(t.registry, "grpc_server_handling_seconds_count")).to.deep.equal({
        [key("grpc_server_handling_seconds_count", list)]: 1,
      });
    } finally {
      await t.close();
    }
  });
});

describe("mutants: http2-stream.ts", () => {
  const once = () => undefined;
  const sm = new ServerMetrics({ registry: new Registry() });

  it("contextValues takes an HTTP/2 stream from req.stream or req.raw.stream", () => {
    const stream = { closed: false, once };
    expect(sm.contextValues({ stream }).get(kHttp2Stream)).to.equal(stream);
    expect(sm.contextValues({ raw: { stream } }).get(kHttp2Stream)).to.equal(stream);
  });

  it("contextValues adds nothing for what is no stream", () => {
    for (const stream of [
      undefined,
      null,
      "stream",
      { closed: "no", once },
      { closed: false },
      { closed: false, once: "no" },
      Object.assign(() => undefined, { closed: false, once }),
    ]) {
      for (const req of [{ stream }, { raw: { stream } }]) {
        expect(sm.contextValues(req).get(kHttp2Stream), JSON.stringify(req)).to.equal(undefined);
      }
    }
  });

  it("its context key says what it holds", () => {
    expect(kHttp2Stream.id.toString()).to.equal("Symbol(connectrpc-prometheus: the call's HTTP/2 stream)");
  });
});

describe("mutants: methods-of.ts", () => {
  const sm = new ServerMetrics({ registry: new Registry() });
  const cm = new ClientMetrics({ registry: new Registry() });
  const server = "connectrpc-prometheus: ServerMetrics.initialize() takes service descriptors or a ConnectRouter, such as PingService from your generated *_pb.js file; argument 1 is";
  const client = "connectrpc-prometheus: ClientMetrics.initialize() takes service descriptors, such as PingService from your generated *_pb.js file; argument 1 is";

  it("says what it got: null, an object, a number, a descriptor of another kind", () => {
    const cases: [unknown, string][] = [
      [null, "null."],
      [{}, "an object that is neither."],
      [{ methods: [] }, "an object that is neither."],
      [{ kind: "message", methods: [] }, 'a descriptor of kind "message".'],
      [{ handlers: [] }, "an object that is neither."],
      [42, "a number."],
    ];
    for (const [arg, what] of cases) {
      expect(() => sm.initialize(arg as never), String(what)).to.throw(`${server} ${what}`).with.property("message", `${server} ${what}`);
      expect(() => cm.initialize(arg as never), String(what)).to.throw(`${client} ${what}`).with.property("message", `${client} ${what}`);
    }
  });

  it("takes a router on the server", async () => {
    const registry = new Registry();
    const router = createConnectRouter();
    router.rpc(PingService.method.ping, async () => ({}));
    new ServerMetrics({ registry }).initialize(router);
    expect(await series(registry, "grpc_server_started_total")).to.deep.equal({ [key("grpc_server_started_total", ping)]: 0 });
  });
});

describe("mutants: number-format.ts", () => {
  it("NaN prints as NaN in every flavor", () => {
    expect(["go", "python", "java"].map((f) => formatBound(NaN, f as "go"))).to.deep.equal(["NaN", "NaN", "NaN"]);
  });

  it("a number with integer and fraction digits", () => {
    expect(["go", "python", "java"].map((f) => formatBound(12.5, f as "go"))).to.deep.equal(["12.5", "12.5", "12.5"]);
    expect(["go", "python", "java"].map((f) => formatBound(-123.25, f as "go"))).to.deep.equal(["-123.25", "-123.25", "-123.25"]);
  });

  it("two-digit exponents: Go and Python print no leading zero", () => {
    expect([1e10, 1e-10, 2.5e-12].map((n) => formatBound(n, "go"))).to.deep.equal(["1e+10", "1e-10", "2.5e-12"]);
    expect([1e-10, 2.5e-12, 1e20].map((n) => formatBound(n, "python"))).to.deep.equal(["1e-10", "2.5e-12", "1e+20"]);
  });

  it("Python: negative numbers from 1e16 on in exponent form, as repr() prints them", () => {
    expect([-1e16, -1.5e17, -1e15].map((n) => formatBound(n, "python"))).to.deep.equal(["-1e+16", "-1.5e+17", "-1000000000000000.0"]);
  });
});

describe("mutants: message-size.ts", () => {
  it("a message that cannot be encoded is reported to onError and not observed; the call goes on", async () => {
    const errors: unknown[] = [];
    const t = await setup({}, { messageSizeHistogram: true, onError: (e) => errors.push(e) });
    try {
      expect(await outcome(() => t.client().ping({ responseCount: 1.5 as never }))).to.equal("Internal");
      await quiesce(t.registry);
      expect(errors.map(String)).to.deep.equal([
        "Error: cannot encode field connectrpc.prometheus.test.v1.PingRequest.response_count to binary: invalid int32: 1.5",
      ]);
      expect(await series(t.registry, "grpc_client_msg_sent_bytes")).to.deep.equal({});
      expect(await series(t.registry, "grpc_client_msg_sent_total")).to.deep.equal({
        [key("grpc_client_msg_sent_total", ping)]: 1,
      });
    } finally {
      await t.close();
    }
  });
});
