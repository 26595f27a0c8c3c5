// npm run demo [-- --port 8080] [-- --metrics-port 9464] [-- --once]
//
// Serves PingService on gRPC, gRPC-Web and Connect over cleartext HTTP/2 with
// ServerMetrics, and /metrics over HTTP/1.1 on a port of its own, as
// docs/serving-metrics.md recommends; drives a little traffic of every kind
// through clients with ClientMetrics; scrapes its own /metrics as Prometheus
// would and prints the grpc_* series; then keeps serving until Ctrl-C (or
// exits with --once). Port 0 takes any free port.
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "connectrpc-prometheus";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { routes } from "../test/support/ping-service.js";

const args = process.argv.slice(2);
const runOnce = args.includes("--once");
const arg = (name: string, fallback: string | undefined, dflt: number) => {
  const i = args.indexOf(name);
  return Number(i >= 0 ? args[i + 1] : (fallback ?? dflt));
};
const port = arg("--port", process.env.PORT, 8080);
const metricsPort = arg("--metrics-port", process.env.METRICS_PORT, 9464);

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
const clientMetrics = new ClientMetrics({
  registry,
  handlingTimeHistogram: true,
  streamReceiveTimeHistogram: true,
  streamSendTimeHistogram: true,
});
serverMetrics.initialize(PingService);

// The API: gRPC, gRPC-Web and Connect over cleartext HTTP/2.
const api = http2.createServer(connectNodeAdapter({ routes, interceptors: [serverMetrics.interceptor] }));
api.listen(port, "127.0.0.1");
// /metrics over HTTP/1.1, which is what Prometheus scrapes.
const metrics = http.createServer((req, res) => {
  if (req.url !== "/metrics") {
    res.writeHead(404).end();
    return;
  }
  registry.metrics().then(
    (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
    (err: unknown) => res.writeHead(500).end(String(err)),
  );
});
metrics.listen(metricsPort, "127.0.0.1");
await Promise.all([once(api, "listening"), once(metrics, "listening")]);
const baseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
const metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
console.log(`PingService on ${baseUrl} (gRPC, gRPC-Web and Connect over HTTP/2); metrics on ${metricsUrl} (HTTP/1.1)`);

const interceptors = [clientMetrics.interceptor];
const transports: Record<string, Transport> = {
  gRPC: createGrpcTransport({ baseUrl, interceptors }),
  "gRPC-Web": createGrpcWebTransport({ baseUrl, httpVersion: "2", interceptors }),
  Connect: createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
};

async function* requests(n: number) {
  for (let i = 0; i < n; i++) yield { value: `m${i}` };
}

async function traffic(name: string, client: Client<typeof PingService>) {
  await client.ping({ value: "hello" });
  await client.pingError({ errorCodeReturned: Code.NotFound }).catch(() => {});
  for await (const _ of client.pingList({ value: "list", responseCount: 3 }));
  await client.pingClientStream(requests(3));
  for await (const _ of client.pingStream(requests(2)));
  // A caller that gives up: recorded as Canceled on both sides.
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await client.ping({ waitForCancel: true }, { signal: ac.signal }).catch((e) => {
    if (ConnectError.from(e).code !== Code.Canceled) throw e;
  });
  console.log(`  drove unary, error, server stream, client stream, bidi and a cancel over ${name}`);
}

for (const [name, transport] of Object.entries(transports)) {
  await traffic(name, createClient(PingService, transport));
}
// The server records a call when its handler ends; give the last one a moment.
await new Promise((r) => setTimeout(r, 50));

// Read /metrics as Prometheus does: a GET over HTTP/1.1.
const scrape = await new Promise<{ version: string; status: number; body: string }>((resolve, reject) => {
  http
    .get(metricsUrl, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ version: res.httpVersion, status: res.statusCode ?? 0, body }));
    })
    .on("error", reject);
});
console.log(`\nGET ${metricsUrl}: HTTP/${scrape.version} ${scrape.status}. Its grpc_* series (zeros and buckets left out):\n`);
for (const line of scrape.body.split("\n")) {
  if (line.startsWith("grpc_") && !line.includes("_bucket{") && !line.endsWith(" 0")) {
    console.log(line);
  }
}

const close = () => {
  metrics.close();
  process.exit(0); // the clients' HTTP/2 sessions would keep the API server open for a while
};
if (runOnce) {
  close();
}
console.log(`\nStill serving: try curl ${metricsUrl}. Ctrl-C to stop.`);
process.on("SIGINT", close);
