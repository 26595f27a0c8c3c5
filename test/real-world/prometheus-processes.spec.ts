// Several processes, one Prometheus: two server processes (each with its own
// ServerMetrics and /metrics) are targets of one scrape job, and PromQL adds
// them up. Each process is a real child process (test/fixtures/prom-server.ts).
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { expect } from "chai";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import type { PromServerMessage } from "../fixtures/prom-server.js";
import { service } from "../support/harness.js";
import {
  hostOf,
  parseExposition,
  repoRoot,
  sampleKey,
  startPrometheus,
  type Prometheus,
} from "../support/prometheus.js";

const job = "fleet";
const fixture = path.join(repoRoot, "test/fixtures/prom-server.ts");

/** A server process started from the fixture. */
interface ServerProcess {
  readonly child: ChildProcess;
  readonly h1Url: string;
  readonly h2Url: string;
}

function startProcess(children: ChildProcess[]): Promise<ServerProcess> {
  const child = fork(fixture, { cwd: repoRoot, execArgv: ["--import", "tsx"], stdio: "inherit" });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server process exited with ${String(code)}`)));
    child.on("message", (m: PromServerMessage) => {
      if (m.type === "prom-server:ready") resolve({ child, h1Url: m.h1Url, h2Url: m.h2Url });
    });
  });
}

/** Waits until the process has no call in flight; returns its exposition. */
function finalExposition(p: ServerProcess): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    const onMessage = (m: PromServerMessage) => {
      if (m.type === "prom-server:exposition") {
        p.child.off("message", onMessage);
        resolve(parseExposition(m.text));
      }
    };
    p.child.on("message", onMessage);
    p.child.send({ type: "prom-server:quiesce" } satisfies PromServerMessage);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

describe("two server processes scraped by one Prometheus", function () {
  const children: ChildProcess[] = [];
  let prom: Prometheus | undefined;
  let a: ServerProcess;
  let b: ServerProcess;
  /** Each process's exposition after the traffic, by scrape instance. */
  const expositions = new Map<string, Record<string, number>>();
  const sent = { a: 0, b: 0 };

  before(async function () {
    this.timeout(90_000);
    [a, b] = await Promise.all([startProcess(children), startProcess(children)]);
    prom = await startPrometheus({ jobs: [{ job, targets: [hostOf(a.h1Url), hostOf(b.h1Url)] }] });
    await prom.waitForScrapes(job, 2, 0);

    const clientOf = (p: ServerProcess) =>
      createClient(PingService, createGrpcTransport({ baseUrl: p.h2Url }));
    const stream = async function* (n: number) {
      for (let i = 0; i < n; i++) yield { value: `m${i}` };
    };
    const ca = clientOf(a);
    for (let i = 0; i < 5; i++) await ca.ping({ value: "a" });
    for (let i = 0; i < 2; i++) {
      await ca.pingError({ value: "a", errorCodeReturned: Code.Internal }).catch(() => {});
    }
    for await (const _ of ca.pingList({ value: "a", responseCount: 3 }));
    sent.a = 5 + 2 + 1;
    const cb = clientOf(b);
    for (let i = 0; i < 7; i++) await cb.ping({ value: "b" });
    await cb.pingError({ value: "b", errorCodeReturned: Code.NotFound }).catch(() => {});
    await cb.pingClientStream(stream(2));
    for await (const _ of cb.pingStream(stream(2)));
    sent.b = 7 + 1 + 1 + 1;

    const [ea, eb] = await Promise.all([finalExposition(a), finalExposition(b)]);
    expositions.set(hostOf(a.h1Url), ea);
    expositions.set(hostOf(b.h1Url), eb);
    await prom.waitForScrapes(job, 2, Date.now());
  });

  after(async function () {
    this.timeout(30_000);
    await prom?.stop();
    await Promise.all(children.map(stopProcess));
  });

  it("sum by (grpc_service) (grpc_server_handled_total) is every call sent to both", async () => {
    const r = await prom!.query("sum by (grpc_service) (grpc_server_handled_total)");
    expect(r).to.deep.equal([{ metric: { grpc_service: service }, value: sent.a + sent.b }]);
  });

  it("each process's share is its own calls", async () => {
    const r = await prom!.query("sum by (instance) (grpc_server_handled_total)");
    const byInstance = Object.fromEntries(r.map((s) => [s.metric.instance, s.value]));
    expect(byInstance).to.deep.equal({ [hostOf(a.h1Url)]: sent.a, [hostOf(b.h1Url)]: sent.b });
  });

  it("stored exactly each process's exposition", async () => {
    const stored = new Map<string, Record<string, number>>();
    for (const s of await prom!.query(`{job="${job}",__name__=~"grpc_.+"}`)) {
      const mine = stored.get(s.metric.instance) ?? {};
      mine[sampleKey(s.metric.__name__, s.metric)] = s.value;
      stored.set(s.metric.instance, mine);
    }
    expect(stored).to.deep.equal(expositions);
  });
});
