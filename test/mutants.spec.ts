// Issue 13: the tests that kill the mutants StrykerJS found alive in src/
// (`npm run mutate`; docs/mutation.md lists every survivor and what became of
// it). One describe per source file; each test states the behaviour that the
// mutant broke, with a fresh Registry, real servers on 127.0.0.1 and exact
// values.
import { expect } from "chai";
import { createConnectRouter } from "@connectrpc/connect";
import { Registry, register as globalRegistry } from "prom-client";
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

describe("mutants: resolve-options.ts", () => {
  const grpcNames = () => globalRegistry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith("grpc_"));
  // A mistake that is not caught registers on the global registry: take that out again.
  afterEach(() => {
    for (const n of grpcNames()) globalRegistry.removeSingleMetric(n);
  });

  const fn = () => undefined;
  const registryWithout = (missing: string) =>
    Object.fromEntries(["getSingleMetric", "registerMetric", "removeSingleMetric"].filter((m) => m !== missing).map((m) => [m, fn]));
  const shared =
    "registry, handlingTimeHistogram, flavor, legacy, constLabels, onError, protocolLabel, codeLabelOnHistograms, exemplars, labels, namespace, subsystem, filter, messageSizeHistogram";
  const reserved = "grpc_type, grpc_service, grpc_method, grpc_code, code, rpc_protocol, le";
  const labelKeys = "names, fromRequest, maxValuesPerLabel, maxValueLength";
  const cases: [string, unknown, string][] = [
    ["options that are no object", 42, "options must be an object, got number."],
    ["options that are a string", "go", "options must be an object, got string."],
    ["an unknown key, with the server's options", { histogram: true }, `unknown option "histogram". Known options: ${shared}.`],
    ["a registry without getSingleMetric", { registry: registryWithout("getSingleMetric") }, `"registry" must be a prom-client Registry.`],
    ["a registry without registerMetric", { registry: registryWithout("registerMetric") }, `"registry" must be a prom-client Registry.`],
    ["a registry without removeSingleMetric", { registry: registryWithout("removeSingleMetric") }, `"registry" must be a prom-client Registry.`],
    ["a registry that is a function", { registry: Object.assign(() => undefined, registryWithout("")) }, `"registry" must be a prom-client Registry.`],
    ["a reserved const label", { constLabels: { le: "x" } }, `"constLabels" may not set "le": the library sets it. Reserved: ${reserved}.`],
    ["an invalid const label name", { constLabels: { "a-b": "x" } }, `"constLabels" has the invalid label name "a-b". Use letters, digits and underscores, not starting with a digit or "__".`],
    ["const labels that are a string", { constLabels: "app=x" }, `"constLabels" must be an object of label names to string values.`],
    ["const labels that are null", { constLabels: null }, `"constLabels" must be an object of label names to string values.`],
    ["const labels that are an array", { constLabels: ["app"] }, `"constLabels" must be an object of label names to string values.`],
    ["a request label name that is undefined", { labels: { names: [undefined], fromRequest: fn } }, `"labels.names" has the invalid label name "undefined". Use letters, digits and underscores, not starting with a digit or "__".`],
    ["a request label name that is null", { labels: { names: [null], fromRequest: fn } }, `"labels.names" has the invalid label name "null". Use letters, digits and underscores, not starting with a digit or "__".`],
    ["labels that are a string", { labels: "tenant" }, `"labels" must be { names: string[], fromRequest: (req) => string[] }.`],
    ["labels that are null", { labels: null }, `"labels" must be { names: string[], fromRequest: (req) => string[] }.`],
    ["an unknown key in labels", { labels: { names: ["a"], fromRequest: fn, max: 1 } }, `unknown key "max" in "labels". Known keys: ${labelKeys}.`],
    ["a histogram option that is null", { handlingTimeHistogram: null }, `"handlingTimeHistogram" must be true, false or { buckets: number[] }.`],
    ["a size histogram option of the wrong type", { messageSizeHistogram: "yes" }, `"messageSizeHistogram" must be true, false or { buckets: number[] }.`],
    ["a namespace that is null", { namespace: null }, `"namespace" must be letters, digits and underscores, not starting with a digit; got "null".`],
    ["a subsystem that is a number", { subsystem: 5 }, `"subsystem" must be letters, digits and underscores, not starting with a digit; got "5".`],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name}: "${message.slice(0, 40)}…"`, () => {
      expect(() => new ServerMetrics(options as never)).to.throw(Error).with.property("message", `connectrpc-prometheus: ServerMetrics: ${message}`);
      expect(grpcNames()).to.deep.equal([]);
    });
  }

  it("the client's unknown-option message lists its own options too", () => {
    expect(() => new ClientMetrics({ registry: new Registry(), histogram: true } as never)).to.throw(Error).with.property(
      "message",
      `connectrpc-prometheus: ClientMetrics: unknown option "histogram". Known options: ${shared}, streamReceiveTimeHistogram, streamSendTimeHistogram.`,
    );
    expect(() => new ClientMetrics({ registry: new Registry(), streamReceiveTimeHistogram: 1 } as never)).to.throw(Error).with.property(
      "message",
      `connectrpc-prometheus: ClientMetrics: "streamReceiveTimeHistogram" must be true, false or { buckets: number[] }.`,
    );
  });

  it("accepts what the options allow: histograms false or {}, legacy with its own flavor, an empty namespace, a label of one value", async () => {
    const names = (registry: Registry) => registry.getMetricsAsArray().map((m) => m.name);
    const off = new Registry();
    new ServerMetrics({ registry: off, handlingTimeHistogram: false, messageSizeHistogram: false });
    expect(names(off)).to.deep.equal(["grpc_server_started_total", "grpc_server_handled_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total"]);
    const defaults = new Registry();
    new ServerMetrics({ registry: defaults, handlingTimeHistogram: {}, namespace: "", subsystem: "" });
    const before = (await defaults.getSingleMetric("grpc_server_handling_seconds")!.get()).values;
    expect(before).to.deep.equal([]);
    expect(names(defaults)).to.include("grpc_server_handling_seconds");
    const legacy = new Registry();
    new ClientMetrics({ registry: legacy, flavor: "python-legacy", legacy: true });
    expect(names(legacy)).to.include("grpc_client_completed_total");
    const t = await setup({ handlingTimeHistogram: {}, labels: { names: ["tenant"], fromRequest: () => ["a"], maxValuesPerLabel: 1 } });
    try {
      await t.client().ping({});
      await quiesce(t.registry);
      const text = await t.registry.metrics();
      expect(text.split("\n").filter((l) => l.startsWith("grpc_server_handling_seconds_bucket")).map((l) => /le="([^"]+)"/.exec(l)![1])).to.deep.equal(
        ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"],
      );
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, tenant: "a" })]: 1,
      });
    } finally {
      await t.close();
    }
  });

  it("the default onError warns once, with what to do", async () => {
    const t = await setup({ labels: { names: ["tenant"], fromRequest: () => { throw new Error("boom"); } } });
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      await t.client().ping({});
      await t.client().ping({});
    } finally {
      console.warn = warn;
      await t.close();
    }
    expect(warnings.map((w) => w.map(String))).to.deep.equal([
      [
        "connectrpc-prometheus: a callback of the metrics options failed; calls are not affected, later failures are not reported. Pass `onError` to see each one.",
        "Error: boom",
      ],
    ]);
  });
});

describe("mutants: series.ts and families.ts", () => {
  it("initialize() after calls, and twice, prints each handled series once: the call's codes first, then Go's order", async () => {
    const t = await setup();
    try {
      await t.client().ping({});
      await quiesce(t.registry);
      t.sm.initialize(PingService);
      t.sm.initialize(PingService);
      const codes = (await lines(t.registry, "grpc_server_handled_total"))
        .filter((l) => l.includes('grpc_method="Ping",'))
        .map((l) => /grpc_code="(\w+)"/.exec(l)![1] + " " + l.split(" ")[1]);
      expect(codes).to.deep.equal([
        "OK 1", "Canceled 0", "Unknown 0", "InvalidArgument 0", "DeadlineExceeded 0", "NotFound 0", "AlreadyExists 0",
        "PermissionDenied 0", "Unauthenticated 0", "ResourceExhausted 0", "FailedPrecondition 0", "Aborted 0", "OutOfRange 0",
        "Unimplemented 0", "Internal 0", "Unavailable 0", "DataLoss 0",
      ]);
    } finally {
      await t.close();
    }
  });

  it("initialize() with codeLabelOnHistograms creates the handling-time series of every code", async () => {
    const registry = new Registry();
    new ServerMetrics({ registry, handlingTimeHistogram: true, codeLabelOnHistograms: true }).initialize(PingService);
    const s = await series(registry, "grpc_server_handling_seconds_count");
    expect(Object.keys(s)).to.have.length(6 * 17);
    expect(s[key("grpc_server_handling_seconds_count", { ...ping, grpc_code: "Unauthenticated" })]).to.equal(0);
  });

  it("registry.resetMetrics() takes the series of initialize() away too", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: true, messageSizeHistogram: true });
    const cm = new ClientMetrics({ registry, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true });
    sm.initialize(PingService);
    cm.initialize(PingService);
    expect(Object.keys(await series(registry))).to.have.length.above(100);
    registry.resetMetrics();
    expect(await series(registry)).to.deep.equal({});
  });

  it("one counter's reset() takes only that counter's initialize() series away", async () => {
    for (const name of ["grpc_server_started_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total"]) {
      const registry = new Registry();
      new ServerMetrics({ registry }).initialize(PingService);
      (registry.getSingleMetric(name) as unknown as { reset(): void }).reset();
      const s = await series(registry);
      expect(Object.keys(s).filter((k) => k.startsWith(`${name}{`)), name).to.deep.equal([]);
      const others = ["grpc_server_started_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total"].filter((n) => n !== name);
      for (const other of others) {
        expect(Object.keys(s).filter((k) => k.startsWith(`${other}{`)), `${name} leaves ${other}`).to.have.length(6);
      }
    }
  });
});

describe("mutants: reporter.ts", () => {
  it("request label values never run together: (ab, \"\") and (a, b) are two series", async () => {
    const values = [["ab", ""], ["a", "b"]];
    const t = await setup({ labels: { names: ["x", "y"], fromRequest: () => values.shift()! } });
    try {
      await t.client().ping({});
      await t.client().ping({});
      await quiesce(t.registry);
      expect(await series(t.registry, "grpc_server_started_total")).to.deep.equal({
        [key("grpc_server_started_total", { ...ping, x: "ab", y: "" })]: 1,
        [key("grpc_server_started_total", { ...ping, x: "a", y: "b" })]: 1,
      });
    } finally {
      await t.close();
    }
  });

  it("unregister() leaves a metric that took its name in the meantime", async () => {
    const { Counter } = await import("prom-client");
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    registry.removeSingleMetric("grpc_server_started_total");
    const mine = new Counter({ name: "grpc_server_started_total", help: "mine", registers: [registry] });
    sm.unregister();
    expect(registry.getMetricsAsArray()).to.deep.equal([mine]);
  });

  it("a second ServerMetrics on a registry says what to do instead", () => {
    const registry = new Registry();
    new ServerMetrics({ registry });
    expect(() => new ServerMetrics({ registry })).to.throw(Error).with.property(
      "message",
      "connectrpc-prometheus: the metric grpc_server_started_total is already registered in this registry. " +
        "Create one ServerMetrics and one ClientMetrics per registry and share them, call unregister() on the old one, or pass another `registry` option.",
    );
  });

  it("exemplars: a non-string value goes to onError, an empty label set is no exemplar", async () => {
    const registry = new Registry();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    const errors: string[] = [];
    const returned: Record<string, unknown>[] = [{ trace_id: 7 }, {}];
    const sm = new ServerMetrics({
      registry,
      handlingTimeHistogram: true,
      onError: (e) => errors.push(String(e)),
      exemplars: () => returned.shift() as Record<string, string>,
    });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, grpc, []);
      expect(await outcome(() => c.ping({}))).to.equal("OK");
      expect(await outcome(() => c.ping({}))).to.equal("OK");
      await quiesce(registry);
    } finally {
      await server.close();
    }
    expect(errors).to.deep.equal(['TypeError: connectrpc-prometheus: exemplar label "trace_id" must be a string; exemplar dropped.']);
    const text = await registry.metrics();
    expect(text).to.include(`${key("grpc_server_handled_total", { ...ping, grpc_code: "OK" })} 2\n`);
    expect(text).not.to.include(" # {");
  });
});

/** The `_bucket` lines of `name` after one unary call to a server with these metrics. */
async function bucketsAfterOneCall(registry: Registry, sm: ServerMetrics, name: string): Promise<string[]> {
  const server = await startServer([sm.interceptor]);
  try {
    await pingClient(server, grpc, []).ping({});
    await quiesce(registry);
  } finally {
    await server.close();
  }
  return (await registry.metrics()).split("\n").filter((l) => l.startsWith(`${name}_bucket`));
}

describe("mutants: metric-family.ts", () => {
  it("with the registry's default labels, bucket lines print as prom-client prints its own histograms", async () => {
    const { Histogram } = await import("prom-client");
    const registry = new Registry();
    registry.setDefaultLabels({ app: "x" });
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: { buckets: [1] } });
    const own = new Histogram({ name: "own_seconds", help: "h", labelNames: ["grpc_method", "grpc_service", "grpc_type"], buckets: [1], registers: [registry] });
    own.observe({ grpc_method: "Ping", grpc_service: service, grpc_type: "unary" }, 0);
    const ours = (await bucketsAfterOneCall(registry, sm, "grpc_server_handling_seconds")).map((l) => l.replace(/ \S+$/, ""));
    const theirs = (await registry.metrics()).split("\n").filter((l) => l.startsWith("own_seconds_bucket")).map((l) => l.replace(/ \S+$/, "").replace("own_seconds", "grpc_server_handling_seconds"));
    expect(ours).to.deep.equal(theirs);
    expect(ours[0]).to.equal(`grpc_server_handling_seconds_bucket{le="1",app="x",grpc_method="Ping",grpc_service="${service}",grpc_type="unary"}`);
  });

  it("python: le goes in name order among the labels, before rpc_protocol and a const label after it", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, flavor: "python", handlingTimeHistogram: { buckets: [1] }, protocolLabel: true, constLabels: { zone: "z", app: "a" } });
    const buckets = await bucketsAfterOneCall(registry, sm, "grpc_server_handling_seconds");
    const l = `app="a",grpc_method="Ping",grpc_service="${service}",grpc_type="UNARY"`;
    expect(buckets).to.deep.equal([
      `grpc_server_handling_seconds_bucket{${l},le="1.0",rpc_protocol="grpc",zone="z"} 1`,
      `grpc_server_handling_seconds_bucket{${l},le="+Inf",rpc_protocol="grpc",zone="z"} 1`,
    ]);
  });

  it("java: le goes last", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, flavor: "java", handlingTimeHistogram: { buckets: [1] }, constLabels: { app: "a" } });
    const buckets = await bucketsAfterOneCall(registry, sm, "grpc_server_handled_latency_seconds");
    const l = `grpc_type="UNARY",grpc_service="${service}",grpc_method="Ping",app="a"`;
    expect(buckets).to.deep.equal([
      `grpc_server_handled_latency_seconds_bucket{${l},le="1.0"} 1`,
      `grpc_server_handled_latency_seconds_bucket{${l},le="+Inf"} 1`,
    ]);
  });
});
