// /metrics next to connect-node on node:http2. gRPC needs HTTP/2, and this
// server speaks only cleartext HTTP/2 (h2c); Prometheus scrapes over
// HTTP/1.1. So /metrics gets a plain HTTP/1.1 server on a port of its own.
//
//   npx tsx examples/connect-node.ts    # API on :8080, /metrics on :9464
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import { ServerMetrics } from "connectrpc-prometheus";
import { PingService, announce, host, metricsPort, port, routes } from "./service.js";

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
serverMetrics.initialize(PingService);

// The API: gRPC, gRPC-Web and Connect over cleartext HTTP/2.
const api = http2.createServer(connectNodeAdapter({ routes, interceptors: [serverMetrics.interceptor] }));
api.listen(port, host);

// /metrics: node:http, which speaks HTTP/1.1.
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
metrics.listen(metricsPort, host);

await Promise.all([once(api, "listening"), once(metrics, "listening")]);
announce((api.address() as AddressInfo).port, (metrics.address() as AddressInfo).port);
