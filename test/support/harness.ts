// Real servers on 127.0.0.1 and the real connect-node transports, plus helpers
// that read a registry's exposition.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor, Transport } from "@connectrpc/connect";
import { createClient, type Client } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import type { Registry, RegistryContentType } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { routes as pingRoutes } from "./ping-service.js";

export const service = "connectrpc.prometheus.test.v1.PingService";

/** A protocol and HTTP version that a connect-node transport speaks. */
export interface Protocol {
  readonly name: string;
  readonly protocol: "grpc" | "grpc-web" | "connect";
  readonly httpVersion: "1.1" | "2";
}

/** Every transport: the three protocols over HTTP/2, two over HTTP/1.1. */
export const protocols: readonly Protocol[] = [
  { name: "gRPC over HTTP/2", protocol: "grpc", httpVersion: "2" },
  { name: "gRPC-Web over HTTP/2", protocol: "grpc-web", httpVersion: "2" },
  { name: "Connect over HTTP/2", protocol: "connect", httpVersion: "2" },
  { name: "gRPC-Web over HTTP/1.1", protocol: "grpc-web", httpVersion: "1.1" },
  { name: "Connect over HTTP/1.1", protocol: "connect", httpVersion: "1.1" },
];

/** A running server: HTTP/2 (h2c) and HTTP/1.1 listeners on 127.0.0.1. */
export interface TestServer {
  readonly h2Url: string;
  readonly h1Url: string;
  readonly h2: http2.Http2Server;
  readonly h1: http.Server;
  close(): Promise<void>;
}

/** startServer serves the routes on both listeners with the interceptors. */
export async function startServer(
  interceptors: Interceptor[],
  routes: (router: ConnectRouter) => void = pingRoutes,
  extra: Partial<Parameters<typeof connectNodeAdapter>[0]> = {},
): Promise<TestServer> {
  const handler = connectNodeAdapter({ routes, interceptors, ...extra });
  const h2 = http2.createServer(handler);
  const h1 = http.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await Promise.all([listen(h2), listen(h1)]);
  return {
    h2Url: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`,
    h1Url: `http://127.0.0.1:${(h1.address() as AddressInfo).port}`,
    h2,
    h1,
    async close() {
      for (const s of sessions) s.destroy();
      h1.closeAllConnections();
      await Promise.all([
        new Promise((r) => h2.close(r)),
        new Promise((r) => h1.close(r)),
      ]);
    },
  };
}

function listen(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}

/** transportFor makes the connect-node transport of a protocol. */
export function transportFor(
  server: TestServer,
  p: Protocol,
  interceptors: Interceptor[],
): Transport {
  const baseUrl = p.httpVersion === "2" ? server.h2Url : server.h1Url;
  switch (p.protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: p.httpVersion, interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: p.httpVersion, interceptors });
  }
}

/** pingClient is a PingService client over a protocol. */
export function pingClient(
  server: TestServer,
  p: Protocol,
  interceptors: Interceptor[],
): Client<typeof PingService> {
  return createClient(PingService, transportFor(server, p, interceptors));
}

/**
 * series reads the registry's exposition and returns every sample whose name
 * starts with `prefix`, as `name{labels}` → value.
 */
export async function series(
  registry: Registry<RegistryContentType>,
  prefix = "grpc_",
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await registry.metrics()).split("\n")) {
    if (line.startsWith(prefix)) {
      // OpenMetrics may follow the value with an exemplar: ` # {labels} value timestamp`.
      const exemplar = line.indexOf(" # ");
      const sample = exemplar >= 0 ? line.slice(0, exemplar) : line;
      const at = sample.lastIndexOf(" ");
      out[sample.slice(0, at)] = Number(sample.slice(at + 1));
    }
  }
  return out;
}

/** The sample of one series, or undefined. */
export async function value(
  registry: Registry<RegistryContentType>,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  return (await series(registry, name))[key(name, labels)];
}

/** key renders `name{labels}` with the labels sorted, as the library prints them. */
export function key(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/**
 * quiesce waits until every started call has been handled, on both sides:
 * a server records a call when its handler finishes, which can be a moment
 * after the client has seen the end. Gives up after `ms` and returns anyway;
 * the exact assertions that follow then fail with the real numbers.
 */
export async function quiesce(registry: Registry<RegistryContentType>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await series(registry);
    if (inFlight(s) === 0 || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** started minus handled, summed over every method and side. */
export function inFlight(s: Record<string, number>): number {
  let n = 0;
  for (const [k, v] of Object.entries(s)) {
    if (/^grpc_(server|client)_started_total\{/.test(k)) n += v;
    if (/^grpc_(server_handled|client_handled|client_completed)_total\{/.test(k)) n -= v;
  }
  return n;
}
