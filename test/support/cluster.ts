// The primary's side of test/fixtures/cluster-worker.ts: fork workers, find
// which worker each HTTP/2 connection reached, read a worker's own
// exposition, stop a worker. Shared by test/real-world/cluster.spec.ts
// (prom-client's AggregatorRegistry) and the compat run's
// @prometheus-io/client ClusterRegistry test.
import cluster, { type ClusterSettings, type Worker } from "node:cluster";
import * as path from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import type { ClusterWorkerMessage } from "../fixtures/cluster-worker.js";
import { parseExposition, repoRoot } from "./prometheus.js";

type Series = Record<string, number>;

/** Points node:cluster's forks at the worker fixture; returns a function that undoes it. */
export function setupClusterWorkers(): () => void {
  const saved: ClusterSettings = { ...cluster.settings };
  cluster.setupPrimary({
    exec: path.join(repoRoot, "test/fixtures/cluster-worker.ts"),
    execArgv: ["--import", "tsx"],
    cwd: repoRoot,
    args: [],
  });
  return () =>
    cluster.setupPrimary({
      exec: saved.exec ?? process.argv[1],
      execArgv: saved.execArgv ?? process.execArgv,
      args: saved.args ?? process.argv.slice(2),
      cwd: saved.cwd,
    });
}

/** Forks a worker (env: e.g. CLUSTER_METRICS_CLIENT) and waits until it listens. */
export function forkWorker(env: Record<string, string> = {}): Promise<{ worker: Worker; port: number }> {
  const worker = cluster.fork(env);
  return new Promise((resolve, reject) => {
    worker.once("exit", (code) => reject(new Error(`worker exited with ${String(code)}`)));
    worker.on("message", (m: ClusterWorkerMessage) => {
      if (m.type === "cluster-worker:listening") resolve({ worker, port: m.port });
    });
  });
}

/** A worker's own exposition, once it has no call in flight. */
export function workerSeries(worker: Worker): Promise<Series> {
  return new Promise((resolve) => {
    const onMessage = (m: ClusterWorkerMessage) => {
      if (m.type === "cluster-worker:exposition" && m.text !== undefined) {
        worker.off("message", onMessage);
        resolve(parseExposition(m.text));
      }
    };
    worker.on("message", onMessage);
    worker.send({ type: "cluster-worker:exposition" } satisfies ClusterWorkerMessage);
  });
}

/** Stops a worker: SIGTERM (SIGKILL after 5 s), or "graceful" (its registry's shutdown() first). */
export function stopWorker(worker: Worker, how: "kill" | "graceful" = "kill"): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill("SIGKILL"), 5000);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (how === "graceful") {
      worker.send({ type: "cluster-worker:shutdown" } satisfies ClusterWorkerMessage);
    } else {
      worker.process.kill("SIGTERM");
    }
  });
}

/**
 * Opens HTTP/2 connections to the shared port until `count` workers have one
 * (the primary hands each new connection to the next worker). Returns a
 * client per worker id, in the order found, and the PingEmpty probes that
 * landed on each worker.
 */
export async function clientPerWorker(
  port: number,
  count: number,
  sessions: Http2SessionManager[],
): Promise<{ clients: Map<string, Client<typeof PingService>>; probes: Map<string, number> }> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const clients = new Map<string, Client<typeof PingService>>();
  const probes = new Map<string, number>();
  for (let i = 0; i < 40 && clients.size < count; i++) {
    const sessionManager = new Http2SessionManager(baseUrl);
    sessions.push(sessionManager);
    const client = createClient(PingService, createGrpcTransport({ baseUrl, sessionManager }));
    const { value: id } = await client.pingEmpty({});
    probes.set(id, (probes.get(id) ?? 0) + 1);
    if (!clients.has(id)) clients.set(id, client);
  }
  return { clients, probes };
}
