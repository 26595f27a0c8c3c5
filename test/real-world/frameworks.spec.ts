// Every Connect server: connect-fastify (Fastify 5) and connect-express
// (Express 5) with the same ServerMetrics give the same series as
// connect-node for the same traffic, all four RPC kinds included.
import type { MessageInitShape } from "@bufbuild/protobuf";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { expect } from "chai";
import express from "express";
import { fastify } from "fastify";
import { Registry } from "prom-client";
import { PingService, type PingRequestSchema } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ServerMetrics } from "../../src/index.js";
import { counters, only, type MethodCounts } from "../support/expect.js";
import { protocols, quiesce, series, startServer, type Protocol } from "../support/harness.js";
import { routes } from "../support/ping-service.js";
import { codeAndCount as outcome } from "../support/fixture.js";

type Ping = Client<typeof PingService>;
type Req = MessageInitShape<typeof PingRequestSchema>;

/** A server under test: where it listens, and how to stop it. */
interface Served {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Fastify 5 over h2c, with connect-fastify. */
async function startFastify(interceptors: Interceptor[]): Promise<Served> {
  const app = fastify({ http2: true });
  const sessions = new Set<http2.ServerHttp2Session>();
  app.server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await app.register(fastifyConnectPlugin, { routes, interceptors });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sessions) s.destroy();
      await app.close();
    },
  };
}

/**
 * Express 5 over HTTP/1.1, with connect-express. Express cannot run on
 * node:http2 (it swaps the request's prototype for http.IncomingMessage's),
 * so it serves gRPC-Web and Connect over HTTP/1.1 only.
 */
async function startExpress(interceptors: Interceptor[]): Promise<Served> {
  const app = express();
  app.use(expressConnectMiddleware({ routes, interceptors }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function client(baseUrl: string, p: Protocol): Ping {
  switch (p.protocol) {
    case "grpc":
      return createClient(PingService, createGrpcTransport({ baseUrl }));
    case "grpc-web":
      return createClient(PingService, createGrpcWebTransport({ baseUrl, httpVersion: p.httpVersion }));
    case "connect":
      return createClient(PingService, createConnectTransport({ baseUrl, httpVersion: p.httpVersion }));
  }
}

async function* messages(reqs: Req[]): AsyncGenerator<Req> {
  yield* reqs;
}


/** The same traffic for every server: what the caller saw of each call. */
async function traffic(c: Ping, bidi: boolean): Promise<Record<string, [string, number]>> {
  const seen: Record<string, [string, number]> = {};
  // unary: two OK, one failure.
  seen.ping1 = await outcome(() => c.ping({ value: "a" }));
  seen.ping2 = await outcome(() => c.ping({ value: "b" }));
  seen.pingError = await outcome(() => c.pingError({ value: "e", errorCodeReturned: Code.NotFound }));
  // client stream: three requests, then two where the last one fails.
  seen.clientStream = await outcome(() => c.pingClientStream(messages([{ value: "1" }, { value: "2" }, { value: "3" }])));
  seen.clientStreamError = await outcome(() =>
    c.pingClientStream(messages([{ value: "1" }, { value: "2", errorCodeReturned: Code.FailedPrecondition }])),
  );
  // server stream: three responses; two then a failure; one then an abort.
  seen.list = await outcome(() => c.pingList({ value: "l", responseCount: 3 }));
  seen.listError = await outcome(() => c.pingList({ value: "l", responseCount: 2, errorCodeReturned: Code.Aborted }));
  const abort = new AbortController();
  seen.listAborted = await outcome(async function* () {
    for await (const res of c.pingList({ value: "l", responseCount: 1, waitForCancel: true }, { signal: abort.signal })) {
      yield res;
      abort.abort();
    }
  });
  // bidi: three each way; two in, one out, then a failure.
  const bidiCalls = async () => {
    seen.bidi = await outcome(() => c.pingStream(messages([{ value: "1" }, { value: "2" }, { value: "3" }])));
    seen.bidiError = await outcome(() =>
      c.pingStream(messages([{ value: "1" }, { value: "2", errorCodeReturned: Code.PermissionDenied }])),
    );
  };
  if (bidi) {
    await bidiCalls();
  } else {
    // Over HTTP/1.1 the server refuses bidi with HTTP 505 before any
    // interceptor runs (a Connect limitation): nothing is recorded.
    seen.bidiRefused = await outcome(() => c.pingStream(messages([{ value: "1" }])));
  }
  return seen;
}

function expectedSeen(bidi: boolean): Record<string, [string, number]> {
  return {
    ping1: ["OK", 1],
    ping2: ["OK", 1],
    pingError: ["NotFound", 0],
    clientStream: ["OK", 1],
    clientStreamError: ["FailedPrecondition", 0],
    list: ["OK", 3],
    listError: ["Aborted", 2],
    listAborted: ["Canceled", 1],
    ...(bidi ? { bidi: ["OK", 3], bidiError: ["PermissionDenied", 1] } : { bidiRefused: ["Unknown", 0] }),
  } as Record<string, [string, number]>;
}

/** What a server records for `traffic()` sent over `n` protocols. */
function expectedSeries(n: number, bidi: boolean): Record<string, number> {
  const methods: MethodCounts[] = [
    { type: "unary", method: "Ping", started: 2 * n, received: 2 * n, sent: 2 * n, handled: { OK: 2 * n } },
    { type: "unary", method: "PingError", started: n, received: n, sent: 0, handled: { NotFound: n } },
    {
      type: "client_stream",
      method: "PingClientStream",
      started: 2 * n,
      received: 5 * n,
      sent: n,
      handled: { OK: n, FailedPrecondition: n },
    },
    {
      type: "server_stream",
      method: "PingList",
      started: 3 * n,
      received: 3 * n,
      sent: 6 * n,
      handled: { OK: n, Aborted: n, Canceled: n },
    },
  ];
  if (bidi) {
    methods.push({
      type: "bidi_stream",
      method: "PingStream",
      started: 2 * n,
      received: 5 * n,
      sent: 4 * n,
      handled: { OK: n, PermissionDenied: n },
    });
  }
  return counters("server", methods);
}

/** Sends the traffic over each protocol to a server, and returns its series. */
async function run(
  start: (interceptors: Interceptor[]) => Promise<Served>,
  over: readonly Protocol[],
  bidi: boolean,
): Promise<Record<string, number>> {
  const registry = new Registry();
  const sm = new ServerMetrics({ registry, handlingTimeHistogram: true });
  const served = await start([sm.interceptor]);
  try {
    for (const p of over) {
      expect(await traffic(client(served.baseUrl, p), bidi), p.name).to.deep.equal(expectedSeen(bidi));
    }
    await quiesce(registry);
    const s = await series(registry);
    // Every call once in the histogram, as in handled.
    const count = Object.values(only(s, /^grpc_server_handling_seconds_count\{/)).reduce((a, b) => a + b, 0);
    const handled = Object.values(only(s, /^grpc_server_handled_total\{/)).reduce((a, b) => a + b, 0);
    expect(count).to.equal(handled);
    return only(s, /_total\{/);
  } finally {
    await served.close();
  }
}

/** connect-node itself, on the listener of the protocols' HTTP version. */
function connectNode(httpVersion: "1.1" | "2") {
  return async (interceptors: Interceptor[]): Promise<Served> => {
    const server = await startServer(interceptors);
    return { baseUrl: httpVersion === "2" ? server.h2Url : server.h1Url, close: () => server.close() };
  };
}

describe("real world: every Connect server", function () {
  this.timeout(30_000);
  const h2 = protocols.filter((p) => p.httpVersion === "2");
  const h1 = protocols.filter((p) => p.httpVersion === "1.1");

  it(`connect-fastify (Fastify 5, h2c) records what connect-node records: all four kinds over ${h2.map((p) => p.name).join(", ")}`, async () => {
    const viaFastify = await run(startFastify, h2, true);
    const viaNode = await run(connectNode("2"), h2, true);
    expect(viaFastify).to.deep.equal(expectedSeries(h2.length, true));
    expect(viaFastify).to.deep.equal(viaNode);
  });

  it(`connect-express (Express 5, HTTP/1.1) records what connect-node records: unary, client and server streams over ${h1.map((p) => p.name).join(", ")}, and bidi refused (HTTP 505) unrecorded`, async () => {
    const viaExpress = await run(startExpress, h1, false);
    const viaNode = await run(connectNode("1.1"), h1, false);
    expect(viaExpress).to.deep.equal(expectedSeries(h1.length, false));
    expect(viaExpress).to.deep.equal(viaNode);
  });
});
