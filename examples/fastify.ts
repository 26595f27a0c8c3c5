// /metrics next to fastify with `http2: true`. That instance speaks only
// cleartext HTTP/2 (h2c), so a /metrics route on it cannot be scraped:
// Prometheus scrapes over HTTP/1.1 (and curl says "Received HTTP/0.9"). A
// second fastify instance, on HTTP/1.1 (fastify's default), serves /metrics
// on a port of its own.
//
//   npx tsx examples/fastify.ts    # API on :8080, /metrics on :9464
import type { AddressInfo } from "node:net";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { fastify } from "fastify";
import { Registry } from "prom-client";
import { ServerMetrics } from "connectrpc-prometheus";
import { PingService, announce, host, metricsPort, port, routes } from "./service.js";

const registry = new Registry();
const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
serverMetrics.initialize(PingService);

// The API: gRPC, gRPC-Web and Connect over cleartext HTTP/2.
const api = fastify({ http2: true });
await api.register(fastifyConnectPlugin, { routes, interceptors: [serverMetrics.interceptor] });
await api.listen({ host, port });

// /metrics: a second instance, on HTTP/1.1.
const metrics = fastify();
metrics.get("/metrics", async (_req, reply) => {
  reply.type(registry.contentType);
  return registry.metrics();
});
await metrics.listen({ host, port: metricsPort });

announce((api.server.address() as AddressInfo).port, (metrics.server.address() as AddressInfo).port);
