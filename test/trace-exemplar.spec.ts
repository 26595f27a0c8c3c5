// traceExemplar: the W3C traceparent parser against the trace-context
// spec's examples and its test suite's cases, then end to end with a real
// OpenTelemetry tracer and W3C propagator in Connect interceptors on both
// sides: the exemplars in the OpenMetrics exposition must be the spans' ids.
import { ROOT_CONTEXT, SpanKind, trace, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { Code, type Interceptor } from "@connectrpc/connect";
import { expect } from "chai";
import { Registry, type OpenMetricsContentType } from "prom-client";
import { ClientMetrics, ServerMetrics, traceExemplar, type AnyRequest } from "../src/index.js";
import { drain, outcome, requests } from "./support/fixture.js";
import { pingClient, protocols, quiesce, service, startServer, type TestServer } from "./support/harness.js";
import { openMetricsSamples, sampleOf, type OpenMetricsSample } from "./support/openmetrics.js";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const parentId = "00f067aa0ba902b7";

/** traceExemplar of a request whose only header is this traceparent (or, with an array, these). */
function exemplarOf(traceparent: string | string[] | undefined): Record<string, string> | undefined {
  const header = new Headers();
  for (const value of [traceparent ?? []].flat()) header.append("traceparent", value);
  return traceExemplar({ header } as AnyRequest);
}

describe("traceExemplar parses traceparent", () => {
  const ids = (t: string, p: string) => ({ trace_id: t, span_id: p });

  it("returns the trace-id and parent-id of the spec's examples", () => {
    expect(exemplarOf(`00-${traceId}-${parentId}-01`)).to.deep.equal(ids(traceId, parentId));
    expect(exemplarOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).to.deep.equal(
      ids("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
    );
  });

  it("accepts a later version, with or without more fields after a dash", () => {
    const t = "12345678901234567890123456789012";
    const p = "1234567890123456";
    expect(exemplarOf(`cc-${t}-${p}-01`)).to.deep.equal(ids(t, p));
    expect(exemplarOf(`cc-${t}-${p}-01-what-the-future-will-be-like`)).to.deep.equal(ids(t, p));
    expect(exemplarOf(`01-${t}-${p}-09-`)).to.deep.equal(ids(t, p));
  });

  it("reads the header whatever its name's case, without the spaces and tabs around it", () => {
    const header = new Headers({ TrAcEpArEnT: `\t 00-${traceId}-${parentId}-01 \t` });
    expect(traceExemplar({ header } as AnyRequest)).to.deep.equal(ids(traceId, parentId));
  });

  it("gives no exemplar for a missing, empty, malformed or doubled header", () => {
    const t = "12345678901234567890123456789012";
    const p = "1234567890123456";
    const invalid: Record<string, string | string[] | undefined> = {
      missing: undefined,
      empty: "",
      "two headers": [`00-${t.replace(/2$/, "1")}-${p}-01`, `00-${t}-${p}-01`],
      "two future-version headers": [`cc-${t}-${p}-01`, `cc-${t}-${p}-01`],
      "version 00 with a trailing character": `00-${t}-${p}-01.`,
      "version 00 with more fields": `00-${t}-${p}-01-what-the-future-will-be-like`,
      "a later version followed by no dash": `cc-${t}-${p}-01.what-the-future-will-be-like`,
      "version ff": `ff-${t}-${p}-01`,
      "illegal characters in the version": `.0-${t}-${p}-01`,
      "illegal characters in the version (2)": `0.-${t}-${p}-01`,
      "uppercase version": `0A-${t}-${p}-01`,
      "version too long": `000-${t}-${p}-01`,
      "version too long (2)": `0000-${t}-${p}-01`,
      "version too short": `0-${t}-${p}-01`,
      "all-zero trace-id": `00-${"0".repeat(32)}-${p}-01`,
      "illegal characters in the trace-id": `00-.${t.slice(1)}-${p}-01`,
      "illegal characters in the trace-id (2)": `00-${t.slice(0, 31)}.-${p}-01`,
      "uppercase trace-id": `00-4BF92F3577B34DA6A3CE929D0E0E4736-${p}-01`,
      "trace-id too long": `00-${t}3-${p}-01`,
      "trace-id too short": `00-${t.slice(0, 31)}-${p}-01`,
      "all-zero parent-id": `00-${t}-${"0".repeat(16)}-01`,
      "illegal characters in the parent-id": `00-${t}-.${p.slice(1)}-01`,
      "illegal characters in the parent-id (2)": `00-${t}-${p.slice(0, 15)}.-01`,
      "uppercase parent-id": `00-${t}-00F067AA0BA902B7-01`,
      "parent-id too long": `00-${t}-${p}7-01`,
      "parent-id too short": `00-${t}-${p.slice(0, 15)}-01`,
      "illegal characters in the flags": `00-${t}-${p}-.0`,
      "illegal characters in the flags (2)": `00-${t}-${p}-0.`,
      "flags too long": `00-${t}-${p}-001`,
      "flags too short": `00-${t}-${p}-1`,
      "no dashes": `00${t}${p}01`,
      "other separators": `00_${t}_${p}_01`,
      // A valid later-version header after three characters: its dash lands where a later version's is.
      "characters before the version": `xyz01-${t}-${p}-01`,
    };
    const got = Object.fromEntries(Object.entries(invalid).map(([name, h]) => [name, exemplarOf(h)]));
    expect(got).to.deep.equal(Object.fromEntries(Object.keys(invalid).map((name) => [name, undefined])));
  });

  it("gives an exemplar only for a sampled trace: the sampled bit of the flags, whatever the others", () => {
    const flags = ["00", "01", "02", "03", "fe", "ff"];
    expect(flags.map((f) => exemplarOf(`00-${traceId}-${parentId}-${f}`))).to.deep.equal([
      undefined,
      ids(traceId, parentId),
      undefined,
      ids(traceId, parentId),
      undefined,
      ids(traceId, parentId),
    ]);
  });
});

const setter: TextMapSetter<Headers> = { set: (h, k, v) => h.set(k, v) };
const getter: TextMapGetter<Headers> = {
  get: (h, k) => h.get(k) ?? undefined,
  keys: (h) => {
    const names: string[] = [];
    h.forEach((_, name) => names.push(name));
    return names;
  },
};
const propagator = new W3CTraceContextPropagator();

/** The client's tracing: a CLIENT span per call, its traceparent set on the outgoing request. */
function clientTracing(provider: BasicTracerProvider): Interceptor {
  const tracer = provider.getTracer("client");
  return (next) => async (req) => {
    const span = tracer.startSpan(req.method.name, { kind: SpanKind.CLIENT });
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), req.header, setter);
    try {
      return await next(req);
    } finally {
      span.end();
    }
  };
}

/** The server's tracing: a SERVER span per call, child of the incoming traceparent's context. */
function serverTracing(provider: BasicTracerProvider, seen: Map<string, (string | null)[]>): Interceptor {
  const tracer = provider.getTracer("server");
  return (next) => async (req) => {
    seen.set(req.method.name, [...(seen.get(req.method.name) ?? []), req.header.get("traceparent")]);
    const parent = propagator.extract(ROOT_CONTEXT, req.header, getter);
    const span = tracer.startSpan(req.method.name, { kind: SpanKind.SERVER }, parent);
    try {
      return await next(req);
    } finally {
      span.end();
    }
  };
}

describe("traceExemplar with a real OpenTelemetry tracer and W3C propagator", () => {
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let registry: Registry<OpenMetricsContentType>;
  let server: TestServer;
  let cm: ClientMetrics;
  /** The traceparent each call brought to the server, by method. */
  let seen: Map<string, (string | null)[]>;

  beforeEach(async () => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const options = { registry, handlingTimeHistogram: { buckets: [60] }, exemplars: traceExemplar };
    const sm = new ServerMetrics(options);
    cm = new ClientMetrics(options);
    seen = new Map();
    server = await startServer([serverTracing(provider, seen), sm.interceptor]);
  });

  afterEach(async () => {
    await server.close();
    await provider.shutdown();
  });

  /** The finished span of a method on one side; exactly one. */
  function spanOf(method: string, kind: SpanKind): ReadableSpan {
    const found = exporter.getFinishedSpans().filter((s) => s.name === method && s.kind === kind);
    expect(found, `${SpanKind[kind]} spans of ${method}`).to.have.length(1);
    return found[0];
  }

  /** The exposition's exemplars of one method on one side: handled, and the two buckets. */
  async function exemplars(side: "server" | "client", method: string, type: string, code: string) {
    const samples = openMetricsSamples(await registry.metrics());
    const labels = { grpc_method: method, grpc_service: service, grpc_type: type };
    const seconds = `grpc_${side}_handling_seconds`;
    const sum = sampleOf(samples, `${seconds}_sum`, labels).value;
    const pick = (s: OpenMetricsSample) => s.exemplar && { labels: s.exemplar.labels, value: s.exemplar.value };
    return {
      handled: pick(sampleOf(samples, `grpc_${side}_handled_total`, { ...labels, grpc_code: code })),
      bucket60: pick(sampleOf(samples, `${seconds}_bucket`, { ...labels, le: "60" })),
      bucketInf: pick(sampleOf(samples, `${seconds}_bucket`, { ...labels, le: "+Inf" })),
      sum,
    };
  }

  it("puts the client span's trace and span ids on both sides' handled and handling-time samples, for every RPC kind", async () => {
    const c = pingClient(server, protocols[0], [clientTracing(provider), cm.interceptor]);
    const before = Date.now() / 1000;
    await c.ping({ value: "x" });
    expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
    expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
    await c.pingClientStream(requests({ value: "a" }, { value: "b" }));
    expect(await drain(c.pingStream(requests({ value: "a" }, { value: "b" })))).to.equal(2);
    await quiesce(registry);
    const after = Date.now() / 1000;

    const calls = [
      ["Ping", "unary", "OK"],
      ["PingError", "unary", "NotFound"],
      ["PingList", "server_stream", "OK"],
      ["PingClientStream", "client_stream", "OK"],
      ["PingStream", "bidi_stream", "OK"],
    ] as const;
    for (const [method, type, code] of calls) {
      const client = spanOf(method, SpanKind.CLIENT).spanContext();
      const serverSpan = spanOf(method, SpanKind.SERVER);
      // The propagation really happened: the server span is the client span's child.
      expect([serverSpan.spanContext().traceId, serverSpan.parentSpanContext?.spanId], method).to.deep.equal([
        client.traceId,
        client.spanId,
      ]);
      expect(seen.get(method), method).to.deep.equal([`00-${client.traceId}-${client.spanId}-01`]);
      const want = { trace_id: client.traceId, span_id: client.spanId };
      for (const side of ["client", "server"] as const) {
        const got = await exemplars(side, method, type, code);
        // One call per series: the bucket's exemplar value is the one observation, the _sum.
        expect(got, `${side} ${method}`).to.deep.equal({
          handled: { labels: want, value: 1 },
          bucket60: { labels: want, value: got.sum },
          bucketInf: undefined,
          sum: got.sum,
        });
      }
    }
    const stamps = openMetricsSamples(await registry.metrics()).flatMap((s) => (s.exemplar ? [s.exemplar.timestamp] : []));
    expect(stamps).to.have.length(calls.length * 2 * 2);
    expect(stamps.filter((t) => !(t >= before - 0.001 && t <= after + 0.001))).to.deep.equal([]);
  });

  it("follows each call over every protocol: the exemplar is the latest call's span", async () => {
    for (const p of protocols) {
      const c = pingClient(server, p, [clientTracing(provider), cm.interceptor]);
      exporter.reset();
      await c.ping({ value: p.name });
      await quiesce(registry);
      const client = spanOf("Ping", SpanKind.CLIENT).spanContext();
      const want = { labels: { trace_id: client.traceId, span_id: client.spanId }, value: 1 };
      for (const side of ["client", "server"] as const) {
        expect((await exemplars(side, "Ping", "unary", "OK")).handled, `${side} ${p.name}`).to.deep.equal(want);
      }
    }
  });

  it("gives no exemplar for an unsampled trace or a call without traceparent, and keeps the last sampled one", async () => {
    const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
    const traced = pingClient(server, protocols[0], [clientTracing(provider), cm.interceptor]);
    const untraced = pingClient(server, protocols[0], [clientTracing(unsampled), cm.interceptor]);
    const plain = pingClient(server, protocols[0], [cm.interceptor]);
    await traced.ping({});
    await untraced.ping({});
    await plain.ping({});
    await untraced.pingEmpty({});
    await plain.pingEmpty({});
    await quiesce(registry);

    // The unsampled calls carried a well-formed traceparent with the sampled flag off.
    const incoming = [...(seen.get("Ping") ?? []), ...(seen.get("PingEmpty") ?? [])];
    expect(incoming.map((h) => h && /^00-[0-9a-f]{32}-[0-9a-f]{16}-(0[01])$/.exec(h)?.[1])).to.deep.equal([
      "01",
      "00",
      null,
      "00",
      null,
    ]);
    const client = spanOf("Ping", SpanKind.CLIENT).spanContext();
    const want = { trace_id: client.traceId, span_id: client.spanId };
    const samples = openMetricsSamples(await registry.metrics());
    const empty = { grpc_method: "PingEmpty", grpc_service: service, grpc_type: "unary", grpc_code: "OK" };
    const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary", grpc_code: "OK" };
    for (const side of ["client", "server"] as const) {
      const got = await exemplars(side, "Ping", "unary", "OK");
      expect([got.handled, got.bucket60?.labels], side).to.deep.equal([{ labels: want, value: 1 }, want]);
      expect(sampleOf(samples, `grpc_${side}_handled_total`, ping).value, side).to.equal(3);
      expect(sampleOf(samples, `grpc_${side}_handled_total`, empty), side).to.deep.equal({
        name: `grpc_${side}_handled_total`,
        labels: empty,
        value: 2,
      });
    }
    expect(samples.filter((s) => s.labels.grpc_method === "PingEmpty" && s.exemplar)).to.deep.equal([]);
    await unsampled.shutdown();
  });
});
