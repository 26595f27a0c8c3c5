// /metrics next to express. Express runs on HTTP/1.1 only (not on
// node:http2), so its API serves gRPC-Web and Connect, not gRPC. /metrics gets
// an express app on a port of its own, which keeps it off the API's port.
//
//   npx tsx examples/express.ts    # API on :8080, /metrics on :9464
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import express from "express";
import { Registry } from "prom-client";
import { ServerMetrics } from "connectrpc-prometheus";
import { PingService, announce, host, metricsPort, port, routes } from "./service.js";

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
serverMetrics.initialize(PingService);

// The API: gRPC-Web and Connect over HTTP/1.1.
const app = express();
app.use(expressConnectMiddleware({ routes, interceptors: [serverMetrics.interceptor] }));
const api = app.listen(port, host);

// /metrics: a second app, on HTTP/1.1 too.
const metricsApp = express();
metricsApp.get("/metrics", async (_req, res) => {
  res.set("content-type", registry.contentType).send(await registry.metrics());
});
const metrics = metricsApp.listen(metricsPort, host);

await Promise.all([once(api, "listening"), once(metrics, "listening")]);
announce((api.address() as AddressInfo).port, (metrics.address() as AddressInfo).port);
