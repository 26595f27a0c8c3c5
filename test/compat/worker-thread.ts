// A worker thread for the WorkerRegistry test in
// prometheus-io-client.compat.ts, in the shape of docs/cluster.md's worker
// threads recipe: a connect-node server of its own, ServerMetrics on the
// thread's own @prometheus-io/client Registry, that registry handed to
// WorkerRegistry so that the main thread can collect it. Messages from the
// main thread: "exposition" asks for the thread's own exposition once no
// call is in flight; "shutdown" closes the server, hands the counts to the
// main thread with WorkerRegistry's shutdown(), and ends the thread.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { parentPort } from "node:worker_threads";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ServerMetrics } from "../../src/index.js";
import { quiesce } from "../support/harness.js";
import { routes } from "../support/ping-service.js";
import { asRegistry, loadIo } from "./prometheus-io.js";

/** Messages between the main thread and the worker thread. */
export type WorkerThreadMessage =
  | { type: "listening"; port: number }
  | { type: "exposition"; text?: string }
  | { type: "shutdown" };

const port = parentPort!;
const { Registry, WorkerRegistry } = await loadIo();

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry: asRegistry(registry), handlingTimeHistogram: true });
// Constructing a WorkerRegistry is what makes the thread answer the main
// thread; setRegistries says which registry to send.
const workerRegistry = new WorkerRegistry();
WorkerRegistry.setRegistries(registry);

const server = http2.createServer(connectNodeAdapter({ routes, interceptors: [serverMetrics.interceptor] }));
server.listen(0, "127.0.0.1", () => {
  port.postMessage({ type: "listening", port: (server.address() as AddressInfo).port } satisfies WorkerThreadMessage);
});
port.on("message", (m: WorkerThreadMessage) => {
  if (m.type === "exposition") {
    void quiesce(asRegistry(registry))
      .then(() => registry.metrics())
      .then((text) => port.postMessage({ type: "exposition", text } satisfies WorkerThreadMessage));
  } else if (m.type === "shutdown") {
    server.close();
    void workerRegistry.shutdown().then(() => process.exit(0));
  }
});
