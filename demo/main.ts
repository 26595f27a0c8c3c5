// npm run demo [-- --port 8080] [-- --once]
//
// Serves PingService on gRPC, gRPC-Web and Connect with ServerMetrics, and
// /metrics on the same port; drives a little traffic of every kind through
// clients with ClientMetrics; prints the grpc_* series; then keeps serving
// until Ctrl-C (or exits with --once).
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
import { listenOnePort } from "./one-port.js";

const args = process.argv.slice(2);
const once = args.includes("--once");
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT ?? 8080);

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
const clientMetrics = new ClientMetrics({
  registry,
  handlingTimeHistogram: true,
  streamReceiveTimeHistogram: true,
  streamSendTimeHistogram: true,
});
serverMetrics.initialize(PingService);

const handler = connectNodeAdapter({
  routes,
  interceptors: [serverMetrics.interceptor],
  // Everything that is not an RPC: /metrics, for Prometheus.
  fallback(req, res) {
    if (req.url !== "/metrics") {
      res.writeHead(404);
      res.end();
      return;
    }
    void registry.metrics().then((text) => {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(text);
    });
  },
});
const server = await listenOnePort(handler, port);
const baseUrl = `http://127.0.0.1:${server.port}`;
console.log(`PingService on ${baseUrl} (gRPC, gRPC-Web, Connect); metrics on ${baseUrl}/metrics`);

const interceptors = [clientMetrics.interceptor];
const transports: Record<string, Transport> = {
  "gRPC (HTTP/2)": createGrpcTransport({ baseUrl, interceptors }),
  "gRPC-Web (HTTP/2)": createGrpcWebTransport({ baseUrl, httpVersion: "2", interceptors }),
  "gRPC-Web (HTTP/1.1)": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  "Connect (HTTP/2)": createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
  "Connect (HTTP/1.1)": createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
};

async function* requests(n: number) {
  for (let i = 0; i < n; i++) yield { value: `m${i}` };
}

async function traffic(name: string, client: Client<typeof PingService>, http2: boolean) {
  await client.ping({ value: "hello" });
  await client.pingError({ errorCodeReturned: Code.NotFound }).catch(() => {});
  for await (const _ of client.pingList({ value: "list", responseCount: 3 }));
  await client.pingClientStream(requests(3));
  if (http2) {
    for await (const _ of client.pingStream(requests(2)));
  }
  // A caller that gives up: recorded as Canceled on both sides.
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await client.ping({ waitForCancel: true }, { signal: ac.signal }).catch((e) => {
    if (ConnectError.from(e).code !== Code.Canceled) throw e;
  });
  console.log(`  drove unary, error, server stream, client stream${http2 ? ", bidi" : ""} and a cancel over ${name}`);
}

for (const [name, transport] of Object.entries(transports)) {
  await traffic(name, createClient(PingService, transport), !name.includes("1.1"));
}
// The server records a call when its handler ends; give the last one a moment.
await new Promise((r) => setTimeout(r, 50));

console.log("\nThe grpc_* series (zeros and buckets left out; /metrics has them all):\n");
for (const line of (await registry.metrics()).split("\n")) {
  if (line.startsWith("grpc_") && !line.includes("_bucket{") && !line.endsWith(" 0")) {
    console.log(line);
  }
}

if (once) {
  await server.close();
  process.exit(0);
}
console.log(`\nStill serving on ${baseUrl}: try curl ${baseUrl}/metrics. Ctrl-C to stop.`);
process.on("SIGINT", () => {
  void server.close().then(() => process.exit(0));
});
