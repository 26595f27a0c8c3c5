// The recipes of docs/serving-metrics.md, scraped by a real Prometheus. Each
// recipe is a program in examples/, run here as a user runs it (node with
// tsx, PORT and METRICS_PORT set to 0 for free ports); one Prometheus scrapes
// the /metrics port of all three. A known number of calls goes to each API,
// and the scrape stored after them must hold exactly those calls and exactly
// what the program's /metrics shows over HTTP/1.1.
//
// The counter-proof: the same Prometheus also scrapes the two cleartext
// HTTP/2 API ports (connect-node, fastify with `http2: true`). Those targets
// are down: an h2c server cannot answer an HTTP/1.1 scrape, which is why the
// recipes serve /metrics on a port of its own.
//
// Timing: nothing waits for a fixed time; each check waits for a stored
// scrape that began after its calls had returned.
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { expect } from "chai";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { inFlight, service } from "../support/harness.js";
import {
  hostOf,
  parseExposition,
  repoRoot,
  sampleKey,
  startPrometheus,
  waitFor,
  type Prometheus,
} from "../support/prometheus.js";

interface Recipe {
  readonly name: string;
  readonly file: string;
  readonly job: string;
  /** Whether the API is cleartext HTTP/2 only. */
  readonly h2c: boolean;
  transport(baseUrl: string): Transport;
}

const recipes: readonly Recipe[] = [
  {
    name: "connect-node on node:http2",
    file: "examples/connect-node.ts",
    job: "connect-node",
    h2c: true,
    transport: (baseUrl) => createGrpcTransport({ baseUrl }),
  },
  {
    name: "fastify with http2: true",
    file: "examples/fastify.ts",
    job: "fastify",
    h2c: true,
    transport: (baseUrl) => createGrpcTransport({ baseUrl }),
  },
  {
    name: "express",
    file: "examples/express.ts",
    job: "express",
    h2c: false,
    transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  },
];

/** The job that scrapes the h2c API ports themselves. */
const h2cJob = "h2c-api";

/** A recipe's program, running. */
interface Running {
  readonly child: ChildProcess;
  /** The API's base URL. */
  readonly api: string;
  /** The full URL of /metrics. */
  readonly metrics: string;
}

/** Starts a recipe's program and waits for the two lines that say where it listens. */
function start(file: string): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: repoRoot,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const api = /^API: (\S+)$/m.exec(out)?.[1];
      const metrics = /^metrics: (\S+)$/m.exec(out)?.[1];
      if (api && metrics) {
        child.stdout!.off("data", onData);
        resolve({ child, api, metrics });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code} before listening:\n${out}`)));
  });
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  children.delete(child);
}

/** A GET over HTTP/1.1 with node:http, as Prometheus scrapes. */
function get(url: string): Promise<{ httpVersion: string; status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({
            httpVersion: res.httpVersion,
            status: res.statusCode ?? 0,
            contentType: res.headers["content-type"] ?? "",
            body,
          }),
        );
      })
      .on("error", reject);
  });
}

const calls = { ping: 3, pingError: 2 };

/** The grpc_*_total series the recipes' service must show after `calls`. */
function expectedCounters(): Record<string, number> {
  const l = (method: string) => ({ grpc_method: method, grpc_service: service, grpc_type: "unary" });
  return {
    [sampleKey("grpc_server_started_total", l("Ping"))]: calls.ping,
    [sampleKey("grpc_server_started_total", l("PingError"))]: calls.pingError,
    [sampleKey("grpc_server_handled_total", { ...l("Ping"), grpc_code: "OK" })]: calls.ping,
    [sampleKey("grpc_server_handled_total", { ...l("PingError"), grpc_code: "NotFound" })]: calls.pingError,
    [sampleKey("grpc_server_msg_received_total", l("Ping"))]: calls.ping,
    [sampleKey("grpc_server_msg_received_total", l("PingError"))]: calls.pingError,
    [sampleKey("grpc_server_msg_sent_total", l("Ping"))]: calls.ping,
  };
}

describe("real world: serving /metrics (docs/serving-metrics.md), scraped by a real Prometheus", function () {
  this.timeout(30_000);
  const running = new Map<string, Running>();
  let prom: Prometheus | undefined;

  before(async function () {
    this.timeout(90_000);
    const started = await Promise.all(recipes.map((r) => start(r.file)));
    recipes.forEach((r, i) => running.set(r.job, started[i]));
    prom = await startPrometheus({
      jobs: [
        ...recipes.map((r) => ({ job: r.job, targets: [hostOf(running.get(r.job)!.metrics)] })),
        { job: h2cJob, targets: recipes.filter((r) => r.h2c).map((r) => hostOf(running.get(r.job)!.api)) },
      ],
    });
  });

  after(async function () {
    this.timeout(30_000);
    await prom?.stop();
    await Promise.all([...running.values()].map((r) => stop(r.child)));
  });

  for (const r of recipes) {
    it(`${r.name} (${r.file}): Prometheus scrapes /metrics over HTTP/1.1 and stores exactly the calls made`, async () => {
      const { api, metrics } = running.get(r.job)!;
      // A scrape before any call: initialize() put every series at zero.
      const zero = [...(await prom!.waitForScrapes(r.job, 1, 0)).values()][0];
      const before = await prom!.query(`sum(grpc_server_handled_total{job="${r.job}"})`, zero / 1000);
      expect(before.map((s) => s.value)).to.deep.equal([0]);

      const client = createClient(PingService, r.transport(api));
      for (let i = 0; i < calls.ping; i++) {
        expect((await client.ping({ value: `v${i}` })).value).to.equal(`v${i}`);
      }
      for (let i = 0; i < calls.pingError; i++) {
        const err = await client.pingError({}).then(() => undefined, (e: unknown) => e);
        expect(ConnectError.from(err).code).to.equal(Code.NotFound);
      }
      // The server records a call when its handler ends, which can be a
      // moment after the client saw the response: wait until it has.
      await waitFor("the server to record every call", async () =>
        inFlight(parseExposition((await get(metrics)).body)) === 0 ? true : undefined,
      );
      const trafficEnd = Date.now();
      const scrape = [...(await prom!.waitForScrapes(r.job, 1, trafficEnd)).values()][0];

      const up = await prom!.query(`up{job="${r.job}"}`, scrape / 1000);
      expect(up.map((s) => s.value), "up").to.deep.equal([1]);
      const stored: Record<string, number> = {};
      for (const s of await prom!.query(`{job="${r.job}",__name__=~"grpc_.+"}`, scrape / 1000)) {
        stored[sampleKey(s.metric.__name__, s.metric)] = s.value;
      }
      const totals = Object.fromEntries(Object.entries(stored).filter(([k, v]) => /_total\{/.test(k) && v !== 0));
      expect(totals).to.deep.equal(expectedCounters());
      expect(stored[sampleKey("grpc_server_handling_seconds_count", { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" })]).to.equal(calls.ping);

      // What the program serves, read as Prometheus reads it: the same series.
      const res = await get(metrics);
      expect([res.httpVersion, res.status, res.contentType]).to.deep.equal([
        "1.1",
        200,
        "text/plain; version=0.0.4; charset=utf-8",
      ]);
      expect(parseExposition(res.body)).to.deep.equal(stored);
    });
  }

  it("the h2c API ports themselves cannot be scraped: those targets are down", async () => {
    interface Target {
      labels: { job: string; instance: string };
      health: string;
      lastError: string;
    }
    const h2cPorts = recipes.filter((r) => r.h2c).map((r) => hostOf(running.get(r.job)!.api));
    const targets = await waitFor("a scrape of each h2c API port", async () => {
      const data = (await prom!.api("/api/v1/targets?state=active")) as { activeTargets: Target[] };
      const t = data.activeTargets.filter((x) => x.labels.job === h2cJob);
      return t.length === h2cPorts.length && t.every((x) => x.health !== "unknown") ? t : undefined;
    });
    expect(targets.map((t) => t.labels.instance).sort()).to.deep.equal([...h2cPorts].sort());
    for (const t of targets) {
      expect(t.health, t.labels.instance).to.equal("down");
      expect(t.lastError, t.labels.instance).to.match(/malformed HTTP response/);
    }
  });

  it("node:http2's cleartext server answers no HTTP/1.1 request, even with allowHTTP1", async () => {
    // Node's types allow allowHTTP1 on secure servers only; pass it anyway.
    const options: http2.ServerOptions & { allowHTTP1?: boolean } = { allowHTTP1: true };
    const server = http2.createServer(options, (_req, res) => res.end("served"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      const err = await get(url).then(
        (res) => new Error(`answered HTTP/${res.httpVersion} ${res.status}`),
        (e: unknown) => e,
      );
      expect(err).to.have.property("code", "HPE_INVALID_CONSTANT");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
