// The library with @prometheus-io/client, prom-client's successor (0.16,
// Node >= 22), instead of prom-client 15. Run by scripts/test-compat.sh
// under Node 22, after it installs the package in its copy of the repo;
// the main run's glob (test/**/*.spec.ts) leaves this file out.
//
// Real traffic over HTTP/2 on both sides, with the library registered in
// an @prometheus-io/client registry and, for reference, in a prom-client 15
// registry that sees the same calls: the two expositions must be the same
// text but for the measured seconds. Then OpenMetrics with a trace
// exemplar, the registry calls the library and users make, aggregation of
// registries' JSON, node:cluster workers with ClusterRegistry, a worker
// thread with WorkerRegistry, and the types.
import { execFile } from "node:child_process";
import type { Worker as ClusterWorker } from "node:cluster";
import { rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { expect } from "chai";
import { AggregatorRegistry, Registry, type RegistryContentType } from "prom-client";
import { ClientMetrics, ServerMetrics, traceExemplar, type MetricsOptions } from "../../src/index.js";
import { clientPerWorker, forkWorker, setupClusterWorkers, stopWorker, workerSeries } from "../support/cluster.js";
import { drain, outcome, requests } from "../support/fixture.js";
import { key, pingClient, protocols, quiesce, service, startServer, type TestServer } from "../support/harness.js";
import { openMetricsSamples, sampleOf } from "../support/openmetrics.js";
import { parseExposition, promtool, repoRoot } from "../support/prometheus.js";
import { asRegistry, loadIo } from "./prometheus-io.js";
import type { WorkerThreadMessage } from "./worker-thread.js";

const io = await loadIo();
const grpc = protocols[0];
const run = promisify(execFile);
type Series = Record<string, number>;

/** The exposition with every measured value (`_sum`, exemplar value and timestamp) replaced by `X`. */
function unmeasured(text: string): string {
  return text
    .replace(/^(\S+_sum(?:\{[^}]*\})?) \S+/gm, "$1 X")
    .replace(/ # (\{[^}]*\}) (\S+) (\S+)$/gm, (_, labels: string, value: string) =>
      value === "1" ? ` # ${labels} 1 X` : ` # ${labels} X X`,
    );
}

/** ServerMetrics and ClientMetrics on an @prometheus-io/client and a prom-client registry, same options. */
function twins(options: MetricsOptions, openMetrics = false) {
  const ioRegistry = new io.Registry(openMetrics ? io.Registry.OPENMETRICS_CONTENT_TYPE : undefined);
  const pcRegistry = new Registry<RegistryContentType>();
  if (openMetrics) pcRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const on = (registry: MetricsOptions["registry"]) => ({
    server: new ServerMetrics({ ...options, registry }),
    client: new ClientMetrics({ ...options, registry }),
  });
  const a = on(asRegistry(ioRegistry));
  const b = on(pcRegistry);
  return {
    ioRegistry,
    pcRegistry,
    io: a,
    serverInterceptors: [a.server.interceptor, b.server.interceptor] as Interceptor[],
    clientInterceptors: [a.client.interceptor, b.client.interceptor] as Interceptor[],
    async settle() {
      await quiesce(asRegistry(ioRegistry));
      await quiesce(pcRegistry);
    },
  };
}

/** One call of every kind, one of them failing, over gRPC on HTTP/2. */
async function everyKind(server: TestServer, interceptors: Interceptor[]): Promise<void> {
  const c = pingClient(server, grpc, interceptors);
  await c.ping({ value: "a" });
  await c.ping({ value: "b" });
  expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
  expect(await drain(c.pingList({ responseCount: 3 }))).to.equal(3);
  expect((await c.pingClientStream(requests({ value: "x" }, { value: "y" }))).counter).to.equal(2);
  expect(await drain(c.pingStream(requests({ value: "x" }, { value: "y" })))).to.equal(2);
}

const l = (method: string, type: string) => ({ grpc_method: method, grpc_service: service, grpc_type: type });
/**
 * Every counter series of everyKind(), on one side, as go-grpc-prometheus
 * counts it: a message counter that was never incremented has no series.
 */
function everyKindCounters(side: "server" | "client"): Series {
  const rows = [
    // method, type, code, calls, messages the client sent, messages the server sent
    ["Ping", "unary", "OK", 2, 2, 2],
    ["PingError", "unary", "NotFound", 1, 1, 0],
    ["PingList", "server_stream", "OK", 1, 1, 3],
    ["PingClientStream", "client_stream", "OK", 1, 2, 1],
    ["PingStream", "bidi_stream", "OK", 1, 2, 2],
  ] as const;
  const out: Series = {};
  for (const [method, type, code, calls, fromClient, fromServer] of rows) {
    const labels = l(method, type);
    out[key(`grpc_${side}_started_total`, labels)] = calls;
    out[key(`grpc_${side}_handled_total`, { ...labels, grpc_code: code })] = calls;
    const [received, sent] = side === "server" ? [fromClient, fromServer] : [fromServer, fromClient];
    if (received > 0) out[key(`grpc_${side}_msg_received_total`, labels)] = received;
    if (sent > 0) out[key(`grpc_${side}_msg_sent_total`, labels)] = sent;
  }
  return out;
}

function counters(s: Series): Series {
  return Object.fromEntries(Object.entries(s).filter(([k]) => /_total\{/.test(k)));
}

describe("@prometheus-io/client registry", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("prints the same exposition as prom-client 15 for every RPC kind and an error, both sides", async () => {
    const t = twins({ handlingTimeHistogram: { buckets: [60] } });
    server = await startServer(t.serverInterceptors);
    await everyKind(server, t.clientInterceptors);
    await t.settle();
    const text = await t.ioRegistry.metrics();
    const s = parseExposition(text);
    expect(counters(s)).to.deep.equal({ ...everyKindCounters("server"), ...everyKindCounters("client") });
    // One observation per call in the 60 s bucket, on both sides.
    expect(s[key("grpc_server_handling_seconds_bucket", { ...l("Ping", "unary"), le: "60" })]).to.equal(2);
    expect(s[key("grpc_client_handling_seconds_count", l("PingStream", "bidi_stream"))]).to.equal(1);
    expect(unmeasured(text)).to.equal(unmeasured(await t.pcRegistry.metrics()));
    expect(t.ioRegistry.contentType).to.equal("text/plain; version=0.0.4; charset=utf-8");
  });

  it("prints OpenMetrics: _total on the samples only, the trace exemplar, # EOF", async () => {
    const t = twins({ handlingTimeHistogram: { buckets: [60] }, exemplars: traceExemplar }, true);
    server = await startServer(t.serverInterceptors);
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await pingClient(server, grpc, t.clientInterceptors).ping({}, { headers: { traceparent } });
    await t.settle();
    const text = await t.ioRegistry.metrics();
    expect(unmeasured(text)).to.equal(unmeasured(await t.pcRegistry.metrics()));
    expect(text.endsWith("\n# EOF\n")).to.equal(true);
    expect(text).to.include("# TYPE grpc_server_handled counter\n");
    const samples = openMetricsSamples(text.replace("# EOF\n", ""));
    const ids = { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" };
    for (const side of ["server", "client"]) {
      const handled = sampleOf(samples, `grpc_${side}_handled_total`, { ...l("Ping", "unary"), grpc_code: "OK" });
      const bucket = sampleOf(samples, `grpc_${side}_handling_seconds_bucket`, { ...l("Ping", "unary"), le: "60" });
      const sum = sampleOf(samples, `grpc_${side}_handling_seconds_sum`, l("Ping", "unary"));
      expect([handled.value, handled.exemplar?.labels, handled.exemplar?.value], side).to.deep.equal([1, ids, 1]);
      expect([bucket.value, bucket.exemplar?.labels, bucket.exemplar?.value], side).to.deep.equal([1, ids, sum.value]);
    }
    // prom-client and its successor both rename the counter while printing;
    // the library finds it under its registered name all the same.
    expect(t.ioRegistry.getSingleMetric("grpc_server_handled_total")).to.not.equal(undefined);
    t.io.server.unregister();
    expect(t.ioRegistry.getSingleMetric("grpc_server_handled_total")).to.equal(undefined);
    expect(() => new ServerMetrics({ registry: asRegistry(t.ioRegistry), exemplars: traceExemplar })).to.not.throw();
  });

  it("answers the registry calls as prom-client 15 does: JSON, one metric, reset, a name taken twice", async () => {
    const t = twins({ handlingTimeHistogram: { buckets: [60] } });
    server = await startServer(t.serverInterceptors);
    await everyKind(server, t.clientInterceptors);
    await t.settle();
    const json = await t.ioRegistry.getMetricsAsJSON();
    const sums = (j: unknown) => JSON.stringify(j).replace(/"value":[0-9.e-]+,"labels":\{[^}]*\},"metricName":"\w+_sum"/g, "SUM");
    expect(sums(json)).to.equal(sums(await t.pcRegistry.getMetricsAsJSON()));
    expect(json.map((m) => [m.name, m.type, m.aggregator])).to.deep.equal(
      ["server", "client"].flatMap((side) => [
        [`grpc_${side}_started_total`, "counter", "sum"],
        [`grpc_${side}_handled_total`, "counter", "sum"],
        [`grpc_${side}_msg_received_total`, "counter", "sum"],
        [`grpc_${side}_msg_sent_total`, "counter", "sum"],
        [`grpc_${side}_handling_seconds`, "histogram", "sum"],
      ]),
    );
    // What ClusterRegistry and WorkerRegistry send of a worker that shuts down.
    expect(await t.ioRegistry.getMetricsAsJSON("sum")).to.deep.equal(json);
    expect(await t.ioRegistry.getSingleMetricAsString("grpc_client_started_total")).to.equal(
      await t.pcRegistry.getSingleMetricAsString("grpc_client_started_total"),
    );
    t.ioRegistry.resetMetrics();
    t.pcRegistry.resetMetrics();
    expect(await t.ioRegistry.metrics()).to.equal(await t.pcRegistry.metrics());
    expect(parseExposition(await t.ioRegistry.metrics())).to.deep.equal({});
    expect(() => new ServerMetrics({ registry: asRegistry(t.ioRegistry) })).to.throw(
      /the metric grpc_server_started_total is already registered in this registry/,
    );
  });
});

describe("@prometheus-io/client aggregation of registries' JSON", () => {
  it("sums two registries like prom-client's AggregatorRegistry, with each histogram's lines grouped by suffix", async () => {
    const registries = [new io.Registry(), new io.Registry()];
    const servers = await Promise.all(
      registries.map((registry) =>
        startServer([new ServerMetrics({ registry: asRegistry(registry), handlingTimeHistogram: true }).interceptor]),
      ),
    );
    try {
      await everyKind(servers[0], []);
      const c = pingClient(servers[1], grpc, []);
      for (let i = 0; i < 3; i++) await c.ping({ sleepTimeMs: 300 });
      expect(await outcome(() => c.pingError({ errorCodeReturned: Code.Internal }))).to.equal("Internal");
      for (const r of registries) await quiesce(asRegistry(r));
      const [a, b] = await Promise.all(registries.map(async (r) => parseExposition(await r.metrics())));
      const sum: Series = { ...a };
      for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
      const json = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
      const text = await io.ClusterRegistry.aggregate(json).metrics();
      expect(parseExposition(text)).to.deep.equal(sum);
      expect(await io.Registry.aggregate(json).metrics()).to.equal(text);
      const pcText = await AggregatorRegistry.aggregate(json as never).metrics();
      expect(parseExposition(pcText)).to.deep.equal(sum);
      // The difference: prom-client 15 prints each series' buckets, _sum and
      // _count together; its successor all _bucket lines, then all _sum,
      // then all _count. Prometheus reads both.
      const suffixes = (t: string) =>
        t
          .split("\n")
          .filter((line) => line.startsWith("grpc_server_handling_seconds_"))
          .map((line) => /^grpc_server_handling_seconds_(\w+)\{/.exec(line)![1])
          .filter((x, i, all) => i === 0 || all[i - 1] !== x);
      expect(suffixes(text)).to.deep.equal(["bucket", "sum", "count"]);
      expect(suffixes(pcText).slice(0, 4)).to.deep.equal(["bucket", "sum", "count", "bucket"]);
      expect(await promtool(["check", "metrics"], text)).to.deep.equal({ code: 0, stdout: "", stderr: "" });
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});

describe("@prometheus-io/client ClusterRegistry with node:cluster workers", function () {
  let restore: () => void;
  const workers: ClusterWorker[] = [];
  const sessions: Http2SessionManager[] = [];

  after(async function () {
    this.timeout(30_000);
    for (const s of sessions) s.abort();
    await Promise.all(workers.map((w) => stopWorker(w)));
    restore?.();
  });

  it("serves the workers' sum, keeps a worker's counts when it shuts down the orderly way, and loses them when it dies", async function () {
    this.timeout(60_000);
    restore = setupClusterWorkers();
    const clusterRegistry = new io.ClusterRegistry();
    const env = { CLUSTER_METRICS_CLIENT: "@prometheus-io/client" };
    const forked = await Promise.all([forkWorker(env), forkWorker(env)]);
    workers.push(...forked.map((f) => f.worker));
    const { clients } = await clientPerWorker(forked[0].port, 2, sessions);
    const ids = [...clients.keys()];
    expect(ids, "connections reached both workers").to.have.length(2);
    const [a, b] = ids.map((id) => clients.get(id)!);
    for (let i = 0; i < 3; i++) await a.ping({});
    await b.ping({});
    expect(await outcome(() => b.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
    const byId = new Map(workers.map((w) => [String(w.id), w]));
    const [wa, wb] = ids.map((id) => byId.get(id)!);
    const [sa, sb] = await Promise.all([workerSeries(wa), workerSeries(wb)]);
    const sum: Series = {};
    for (const k of Object.keys(sa)) sum[k] = sa[k] + sb[k];
    expect(Object.keys(sa).sort()).to.deep.equal(Object.keys(sb).sort());
    expect([sa[key("grpc_server_handled_total", { ...l("Ping", "unary"), grpc_code: "OK" })], sb[key("grpc_server_handled_total", { ...l("PingError", "unary"), grpc_code: "NotFound" })]]).to.deep.equal([3, 1]);
    const text = await clusterRegistry.clusterMetrics();
    expect(parseExposition(text)).to.deep.equal(sum);
    expect(await promtool(["check", "metrics"], text)).to.deep.equal({ code: 0, stdout: "", stderr: "" });

    // b calls shutdown() before it exits: the primary keeps its counts.
    await stopWorker(wb, "graceful");
    expect(parseExposition(await clusterRegistry.clusterMetrics())).to.deep.equal(sum);
    // a dies without it: its counts go, b's stay.
    await stopWorker(wa);
    expect(parseExposition(await clusterRegistry.clusterMetrics())).to.deep.equal(sb);
  });
});

describe("@prometheus-io/client WorkerRegistry with a worker thread", function () {
  const threadFile = path.join(repoRoot, "test/compat/worker-thread.ts");

  function ask(thread: Worker, m: WorkerThreadMessage, answer: WorkerThreadMessage["type"]): Promise<WorkerThreadMessage> {
    return new Promise((resolve) => {
      const onMessage = (got: WorkerThreadMessage) => {
        if (got.type === answer) {
          thread.off("message", onMessage);
          resolve(got);
        }
      };
      thread.on("message", onMessage);
      if (m.type !== "listening") thread.postMessage(m);
    });
  }

  it("serves the thread's metrics in the main thread, keeps them after shutdown(), and times out on a thread that ended without it", async function () {
    this.timeout(60_000);
    const workerRegistry = new io.WorkerRegistry();
    // The main thread's own registries are not part of workerMetrics().
    const mainRegistry = new io.Registry();
    io.WorkerRegistry.setRegistries(mainRegistry);
    const mainServer = await startServer([new ServerMetrics({ registry: asRegistry(mainRegistry) }).interceptor]);
    const threads: Worker[] = [];
    const start = async () => {
      const thread = new Worker(threadFile, { execArgv: ["--import", "tsx"] });
      threads.push(thread);
      const m = await ask(thread, { type: "listening", port: 0 }, "listening");
      return { thread, port: (m as { port: number }).port };
    };
    try {
      const { thread, port } = await start();
      // The thread announces itself over a BroadcastChannel; wait for it to arrive.
      for (let i = 0; i < 200 && io.WorkerRegistry.workerCount() < 1; i++) await new Promise((r) => setTimeout(r, 10));
      expect(io.WorkerRegistry.workerCount()).to.equal(1);
      const server = { h2Url: `http://127.0.0.1:${port}` } as TestServer;
      await everyKind(server, []);
      await pingClient(mainServer, grpc, []).ping({});
      const own = await ask(thread, { type: "exposition" }, "exposition");
      const threadSeries = parseExposition((own as { text: string }).text);
      expect(counters(threadSeries)).to.deep.equal(everyKindCounters("server"));
      expect(parseExposition(await workerRegistry.workerMetrics())).to.deep.equal(threadSeries);

      // shutdown() hands the counts over; they stay after the thread ends.
      const exited = new Promise((r) => thread.once("exit", r));
      thread.postMessage({ type: "shutdown" } satisfies WorkerThreadMessage);
      expect(await exited).to.equal(0);
      expect(io.WorkerRegistry.workerCount()).to.equal(0);
      expect(parseExposition(await workerRegistry.workerMetrics())).to.deep.equal(threadSeries);

      // A thread that ends without shutdown() stays on the list: every later
      // workerMetrics() waits for its answer and fails after 5 s.
      const second = await start();
      for (let i = 0; i < 200 && io.WorkerRegistry.workerCount() < 1; i++) await new Promise((r) => setTimeout(r, 10));
      await second.thread.terminate();
      expect(io.WorkerRegistry.workerCount()).to.equal(1);
      let failure = "";
      await workerRegistry.workerMetrics().catch((e: Error) => (failure = e.message));
      expect(failure).to.equal("Operation timed out. 1 outstanding responses.");
    } finally {
      await Promise.all(threads.map((t) => t.terminate()));
      await mainServer.close();
    }
  });
});

describe("@prometheus-io/client types", () => {
  it("let its registries be passed as the `registry` option", async function () {
    this.timeout(120_000);
    const file = path.join(repoRoot, ".compat-prometheus-io-types.ts");
    writeFileSync(
      file,
      [
        `import { ClusterRegistry, Registry, WorkerRegistry, type OpenMetricsContentType } from "@prometheus-io/client";`,
        `import { ClientMetrics, ServerMetrics, traceExemplar } from "./src/index.js";`,
        `const registry = new Registry<OpenMetricsContentType>();`,
        `registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);`,
        `new ServerMetrics({ registry, exemplars: traceExemplar });`,
        `new ClientMetrics({ registry: new Registry() });`,
        `new ServerMetrics({ registry: new ClusterRegistry() });`,
        `new ClientMetrics({ registry: new WorkerRegistry() });`,
        ``,
      ].join("\n"),
    );
    try {
      const tsc = path.join(repoRoot, "node_modules/typescript/bin/tsc");
      const args = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext", "--types", "node", file];
      const result = await run(process.execPath, [tsc, ...args], { cwd: repoRoot }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
      expect(result).to.deep.equal({ code: 0, stdout: "" });
    } finally {
      rmSync(file, { force: true });
    }
  });
});
