// Issue 12: the histograms are kept in plain numbers and handed to the
// registry when it is read. These tests show that every way of reading a
// registry sees every observation, and sees it exactly as prom-client's own
// Histogram and Counter would show the same observations.
import { expect } from "chai";
import {
  AggregatorRegistry,
  Counter,
  Histogram,
  Registry,
  type OpenMetricsContentType,
  type RegistryContentType,
} from "prom-client";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { setClock } from "../src/clock.js";
import { ServerMetrics, type ServerMetricsOptions } from "../src/index.js";
import { pingClient, protocols, quiesce, service, startServer, type TestServer } from "./support/harness.js";

const grpc = protocols[0];
const labels = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };
/** Durations in seconds: below the first bucket, on a bound, between bounds, beyond the last. */
const durations = [0.001, 0.005, 0.0051, 0.3, 1, 2.5, 7, 12, 0.1 + 0.2];
/** A duration as the library computes it from two clock readings, in milliseconds. */
const measured = (d: number) => (1000 + d * 1000 - 1000) / 1000;

/**
 * Drives one unary call per duration through a server whose clock makes
 * each call take exactly that long, and returns its registry.
 */
async function observed(options: ServerMetricsOptions, ds = durations): Promise<Registry<RegistryContentType>> {
  const registry = (options.registry ?? new Registry()) as Registry<RegistryContentType>;
  const sm = new ServerMetrics({ ...options, registry });
  const server: TestServer = await startServer([sm.interceptor]);
  try {
    const c = pingClient(server, grpc, []);
    for (const d of ds) {
      // The server reads the clock twice per call: at the start and at the end.
      let reads = 0;
      setClock(() => (reads++ === 0 ? 1000 : 1000 + d * 1000));
      await c.ping({ value: "x" });
    }
    setClock();
    await quiesce(registry);
  } finally {
    setClock();
    await server.close();
  }
  return registry;
}

/** prom-client's own Histogram, fed the same durations. */
function reference(options: { buckets?: number[]; registry?: Registry<RegistryContentType>; exemplar?: Record<string, string> } = {}) {
  const registry = options.registry ?? new Registry();
  const h = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames: ["grpc_method", "grpc_service", "grpc_type"],
    buckets: options.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry as Registry],
    enableExemplars: options.exemplar !== undefined,
  });
  const c = new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: ["grpc_code", "grpc_method", "grpc_service", "grpc_type"],
    registers: [registry as Registry],
    enableExemplars: options.exemplar !== undefined,
  });
  for (const d of durations.map(measured)) {
    if (options.exemplar) {
      h.observe({ labels, value: d, exemplarLabels: options.exemplar });
      c.inc({ labels: { grpc_code: "OK", ...labels }, value: 1, exemplarLabels: options.exemplar });
    } else {
      h.observe(labels, d);
      c.inc({ grpc_code: "OK", ...labels });
    }
  }
  return registry;
}

const families = ["grpc_server_handling_seconds", "grpc_server_handled_total"];

describe("readers: buffered histograms read as prom-client's own", () => {
  it("registry.metrics() prints, line for line, what prom-client's Histogram and Counter print", async () => {
    const ours = await observed({ handlingTimeHistogram: true });
    const theirs = reference();
    for (const name of families) {
      expect(await ours.getSingleMetricAsString(name)).to.equal(await theirs.getSingleMetricAsString(name));
    }
  });

  it("with custom buckets too", async () => {
    const buckets = [0.001, 0.3, 3];
    const ours = await observed({ handlingTimeHistogram: { buckets } });
    const theirs = reference({ buckets });
    expect(await ours.getSingleMetricAsString(families[0])).to.equal(await theirs.getSingleMetricAsString(families[0]));
  });

  it("getMetricsAsJSON() and getSingleMetric(name).get() give prom-client's objects", async () => {
    const ours = await observed({ handlingTimeHistogram: true });
    const theirs = reference();
    const pick = (json: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
      json
        .filter((m) => families.includes(m.name))
        .sort((x, y) => x.name.localeCompare(y.name))
        .map((m) => ({ ...m, values: m.values.map((v) => ({ ...v })) }));
    expect(pick(await ours.getMetricsAsJSON())).to.deep.equal(pick(await theirs.getMetricsAsJSON()));
    for (const name of families) {
      const a = await ours.getSingleMetric(name)!.get();
      const b = await theirs.getSingleMetric(name)!.get();
      expect(JSON.parse(JSON.stringify(a))).to.deep.equal(JSON.parse(JSON.stringify(b)));
    }
  });

  it("OpenMetrics with exemplars: the same lines as prom-client's, timestamps aside", async () => {
    const make = () => {
      const r = new Registry<OpenMetricsContentType>();
      r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      return r as unknown as Registry<RegistryContentType>;
    };
    const exemplar = { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" };
    const ours = await observed({ registry: make(), handlingTimeHistogram: true, exemplars: () => exemplar });
    const theirs = reference({ registry: make(), exemplar });
    const masked = async (r: Registry<RegistryContentType>) =>
      (await r.metrics()).split("\n").filter((l) => l.startsWith("grpc_server_handl")).map((l) => l.replace(/ \d+(\.\d+)?$/, " <ts>")).sort();
    const got = await masked(ours);
    expect(got).to.deep.equal(await masked(theirs));
    expect(got.filter((l) => l.includes(' # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"}'))).to.have.length(8);
  });

  it("Registry.merge() and the cluster's AggregatorRegistry see every observation of every registry", async () => {
    const a = await observed({ handlingTimeHistogram: true });
    const b = await observed({ handlingTimeHistogram: true }, [0.2, 20]);
    const merged = Registry.merge([a as unknown as Registry, new Registry()]);
    expect(await merged.getSingleMetricAsString(families[0])).to.equal(await a.getSingleMetricAsString(families[0]));
    const aggregated = AggregatorRegistry.aggregate([await a.getMetricsAsJSON(), await b.getMetricsAsJSON()]);
    const all = reference();
    (all.getSingleMetric(families[0]) as Histogram).observe(labels, measured(0.2));
    (all.getSingleMetric(families[0]) as Histogram).observe(labels, measured(20));
    (all.getSingleMetric(families[1]) as Counter).inc({ grpc_code: "OK", ...labels }, 2);
    const lines = async (r: Registry<RegistryContentType>) => (await r.getSingleMetricAsString(families[0])).split("\n").sort();
    expect(await lines(aggregated)).to.deep.equal(await lines(all));
    expect(await aggregated.getSingleMetricAsString(families[1])).to.equal(await all.getSingleMetricAsString(families[1]));
  });

  it("initialize(), codeLabelOnHistograms and labels: every series, read as prom-client would print it", async () => {
    const ours = await observed({
      handlingTimeHistogram: { buckets: [1] },
      codeLabelOnHistograms: true,
      labels: { names: ["tenant"], fromRequest: () => ["acme"] },
    });
    const sm = new ServerMetrics({ registry: new Registry(), handlingTimeHistogram: { buckets: [1] }, codeLabelOnHistograms: true });
    sm.initialize(PingService);
    const text = await ours.getSingleMetricAsString(families[0]);
    const l = `grpc_code="OK",grpc_method="Ping",grpc_service="${service}",grpc_type="unary",tenant="acme"`;
    expect(text.split("\n").slice(2)).to.deep.equal([
      `grpc_server_handling_seconds_bucket{le="1",${l}} 6`,
      `grpc_server_handling_seconds_bucket{le="+Inf",${l}} 9`,
      `grpc_server_handling_seconds_sum{${l}} ${durations.map(measured).reduce((s, d) => s + d, 0)}`,
      `grpc_server_handling_seconds_count{${l}} 9`,
    ]);
  });
});
