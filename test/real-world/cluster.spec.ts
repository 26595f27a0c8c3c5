// node:cluster: real workers (test/fixtures/cluster-worker.ts) share one
// port and each record ServerMetrics in their own registry; the primary —
// this test process — serves their sum through prom-client's
// AggregatorRegistry, as docs/cluster.md shows. Counters must sum and
// histograms merge bucket by bucket, exactly.
import * as http from "node:http";
import type { Worker } from "node:cluster";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { expect } from "chai";
import { AggregatorRegistry } from "prom-client";
import { clientPerWorker, forkWorker, setupClusterWorkers, stopWorker, workerSeries } from "../support/cluster.js";
import { key, service } from "../support/harness.js";
import { parseExposition, promtool } from "../support/prometheus.js";

type Series = Record<string, number>;

const labels = (method: string, type: string) => ({
  grpc_method: method,
  grpc_service: service,
  grpc_type: type,
});

describe("node:cluster workers aggregated by AggregatorRegistry", function () {
  let restore: () => void;
  const workers: Worker[] = [];
  const sessions: Http2SessionManager[] = [];
  let metricsServer: http.Server | undefined;
  let metricsUrl = "";
  /** Worker ids in the order the probes found them: a and b. */
  let ids: string[] = [];
  /** PingEmpty probes that landed on each worker. */
  let probes = new Map<string, number>();
  let perWorker: Series[] = [];
  let aggregated = "";

  before(async function () {
    this.timeout(60_000);
    restore = setupClusterWorkers();
    const forked = await Promise.all([forkWorker(), forkWorker()]);
    workers.push(...forked.map((f) => f.worker));
    expect(forked[0].port, "workers share one port").to.equal(forked[1].port);

    // The recipe's primary: the sum of the workers on its own port.
    const aggregator = new AggregatorRegistry();
    metricsServer = http.createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      aggregator.clusterMetrics().then(
        (text) => res.writeHead(200, { "content-type": aggregator.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((r) => metricsServer!.listen(0, "127.0.0.1", r));
    metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`;

    // Each new HTTP/2 connection goes to one worker (round-robin in the
    // primary). Open connections until both workers have one.
    const found = await clientPerWorker(forked[0].port, 2, sessions);
    const clients = found.clients;
    probes = found.probes;
    ids = [...clients.keys()];
    expect(ids, "connections reached both workers").to.have.length(2);
    const [a, b] = ids.map((id) => clients.get(id)!);
    const stream = async function* (n: number) {
      for (let i = 0; i < n; i++) yield { value: `m${i}` };
    };
    // Worker a: fast calls, Internal errors, a server stream.
    for (let i = 0; i < 6; i++) await a.ping({ value: "a" });
    for (let i = 0; i < 2; i++) {
      await a.pingError({ value: "a", errorCodeReturned: Code.Internal }).catch(() => {});
    }
    for await (const _ of a.pingList({ value: "a", responseCount: 3 }));
    // Worker b: calls that sleep 300 ms, a NotFound, a client and a bidi stream.
    await Promise.all(Array.from({ length: 4 }, () => b.ping({ value: "b", sleepTimeMs: 300 })));
    await b.pingError({ value: "b", errorCodeReturned: Code.NotFound }).catch(() => {});
    await b.pingClientStream(stream(2));
    for await (const _ of b.pingStream(stream(2)));

    const byId = new Map(workers.map((w) => [String(w.id), w]));
    perWorker = await Promise.all(ids.map((id) => workerSeries(byId.get(id)!)));
    const res = await fetch(metricsUrl);
    expect(res.headers.get("content-type")).to.equal(aggregator.contentType);
    aggregated = await res.text();
  });

  after(async function () {
    this.timeout(30_000);
    for (const s of sessions) s.abort();
    await Promise.all(workers.map((w) => stopWorker(w)));
    await new Promise((r) => (metricsServer ? metricsServer.close(r) : r(undefined)));
    // Back to what the next fork in this process would otherwise use.
    restore();
  });

  it("gives every series of the primary as the sum of the workers' series", () => {
    const [a, b] = perWorker;
    expect(Object.keys(a).sort(), "both workers expose the same series").to.deep.equal(Object.keys(b).sort());
    const sum: Series = {};
    for (const k of Object.keys(a)) sum[k] = a[k] + b[k];
    expect(parseExposition(aggregated)).to.deep.equal(sum);
  });

  it("sums counters: each worker's calls, and all of them in the primary", () => {
    const total = parseExposition(aggregated);
    const [a, b] = perWorker;
    const started = (method: string, type: string) => key("grpc_server_started_total", labels(method, type));
    const handled = (method: string, type: string, code: string) =>
      key("grpc_server_handled_total", { ...labels(method, type), grpc_code: code });
    const sent = (method: string, type: string) => key("grpc_server_msg_sent_total", labels(method, type));
    const received = (method: string, type: string) =>
      key("grpc_server_msg_received_total", labels(method, type));
    const rows = [
      [started("PingEmpty", "unary"), probes.get(ids[0]), probes.get(ids[1])],
      [started("Ping", "unary"), 6, 4],
      [handled("Ping", "unary", "OK"), 6, 4],
      [handled("PingError", "unary", "Internal"), 2, 0],
      [handled("PingError", "unary", "NotFound"), 0, 1],
      [sent("PingList", "server_stream"), 3, 0],
      [received("PingClientStream", "client_stream"), 0, 2],
      [sent("PingStream", "bidi_stream"), 0, 2],
      [received("PingStream", "bidi_stream"), 0, 2],
    ] as const;
    expect(rows.map(([k]) => [k, a[k], b[k], total[k]])).to.deep.equal(
      rows.map(([k, x, y]) => [k, x, y, x! + y!]),
    );
  });

  it("merges histograms bucket by bucket", () => {
    const total = parseExposition(aggregated);
    const [a, b] = perWorker;
    const ping = labels("Ping", "unary");
    const bucket = (le: string) => key("grpc_server_handling_seconds_bucket", { ...ping, le });
    const count = key("grpc_server_handling_seconds_count", ping);
    const sum = key("grpc_server_handling_seconds_sum", ping);
    // Worker b's calls all slept 300 ms: none is at or under 0.25 s.
    expect([b[bucket("0.25")], b[bucket("+Inf")], a[bucket("+Inf")]]).to.deep.equal([0, 4, 6]);
    expect(total[bucket("0.25")]).to.equal(a[bucket("0.25")]);
    expect([total[bucket("+Inf")], total[count]]).to.deep.equal([10, 10]);
    expect(total[bucket("0.5")]).to.equal(a[bucket("0.5")] + b[bucket("0.5")]);
    expect(total[sum]).to.equal(a[sum] + b[sum]);
    expect(b[sum]).to.be.above(4 * 0.25);
  });

  it("gives an exposition that promtool check metrics accepts", async () => {
    const r = await promtool(["check", "metrics"], aggregated);
    expect(r).to.deep.equal({ code: 0, stdout: "", stderr: "" });
  });

  it("drops a worker's counts from the sum when it exits", async function () {
    this.timeout(30_000);
    const [ida, idb] = ids;
    const b = workers.find((w) => String(w.id) === idb)!;
    await stopWorker(b);
    const a = workers.find((w) => String(w.id) === ida)!;
    const only = await workerSeries(a);
    const text = await (await fetch(metricsUrl)).text();
    // The sum goes down: Prometheus reads that as a counter reset.
    expect(parseExposition(text)).to.deep.equal(only);
  });
});
