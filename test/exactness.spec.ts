// Issue 13: the holes where the metrics disagreed with what the caller saw.
// Each test failed on the library before its fix (commit a4b3fa2); the
// closing note of issue 13 lists how each failed there.
import { expect } from "chai";
import * as http2 from "node:http2";
import * as net from "node:net";
import { createFileRegistry, create, toBinary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import {
  file_connectrpc_prometheus_test_v1_ping,
  PingRequestSchema,
  PingResponseSchema,
  PingService,
} from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics, type AnyRequest } from "../src/index.js";
import { resetWaitMs } from "../src/server-interceptor.js";
import { counters } from "./support/expect.js";
import { drain, outcome, requests } from "./support/fixture.js";
import { key, pingClient, protocols, quiesce, series, service, startServer } from "./support/harness.js";
import { envelope } from "./support/raw-http2.js";
import { startRawGrpcServer, type RawAnswer } from "./support/raw-grpc-server.js";
import { delay, rig } from "./faults/lib.js";

const grpc = protocols[0];
const connectH1 = protocols[4];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A guard interceptor that throws synchronously, as auth guards often do. */
const syncGuard: Interceptor = () => () => {
  throw new ConnectError("no entry", Code.PermissionDenied);
};

describe("exactness: hole 1, the server's deadline guess never overrides the handler's code", () => {
  for (const p of [grpc, connectH1]) {
    it(`${p.name}: PermissionDenied in the last 20% of a 1 s deadline stays PermissionDenied`, async () => {
      const r = await rig();
      closers.push(r.close);
      const c = r.client(p);
      expect(
        await outcome(() => c.pingError({ errorCodeReturned: Code.PermissionDenied, sleepTimeMs: 820 }, { timeoutMs: 1000 })),
      ).to.equal("PermissionDenied");
      expect(await r.counters()).to.deep.equal({
        ...counters("server", [{ type: "unary", method: "PingError", started: 1, received: 1, sent: 0, handled: { PermissionDenied: 1 } }]),
        ...counters("client", [{ type: "unary", method: "PingError", started: 1, received: 0, sent: 1, handled: { PermissionDenied: 1 } }]),
      });
    });
  }

  it("NotFound in the last 20% of a deadline stays NotFound", async () => {
    const r = await rig();
    closers.push(r.close);
    const c = r.client(grpc);
    expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound, sleepTimeMs: 430 }, { timeoutMs: 500 }))).to.equal("NotFound");
    const s = await r.counters();
    expect(s[`grpc_server_handled_total{grpc_code="NotFound",grpc_method="PingError",grpc_service="${service}",grpc_type="unary"}`]).to.equal(1);
    expect(s[`grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="PingError",grpc_service="${service}",grpc_type="unary"}`]).to.equal(undefined);
  });

  it("HTTP/2: a caller's cancel in the last 20% of its deadline is Canceled, as its RST_STREAM says", async () => {
    const r = await rig();
    closers.push(r.close);
    const c = r.client(grpc);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 900);
    expect(await outcome(() => c.ping({ waitForCancel: true }, { timeoutMs: 1000, signal: ac.signal }))).to.equal("Canceled");
    const s = await r.counters();
    expect(s[`grpc_server_handled_total{grpc_code="Canceled",grpc_method="Ping",grpc_service="${service}",grpc_type="unary"}`]).to.equal(1);
    expect(s[`grpc_client_handled_total{grpc_code="Canceled",grpc_method="Ping",grpc_service="${service}",grpc_type="unary"}`]).to.equal(1);
  });
});

describe("exactness: hole 2, an interceptor after ours that throws synchronously", () => {
  const kinds = [
    ["server_stream", "PingList", (c: ReturnType<typeof pingClient>) => drain(c.pingList({ responseCount: 2 }))],
    ["client_stream", "PingClientStream", (c: ReturnType<typeof pingClient>) => c.pingClientStream(requests({}, {}))],
    ["bidi_stream", "PingStream", (c: ReturnType<typeof pingClient>) => drain(c.pingStream(requests({}, {})))],
    ["unary", "Ping", (c: ReturnType<typeof pingClient>) => c.ping({})],
  ] as const;

  it("server: every kind is handled with the guard's code", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    const server = await startServer([sm.interceptor, syncGuard]);
    closers.push(() => server.close());
    const c = pingClient(server, grpc, []);
    for (const [, , call] of kinds) {
      expect(await outcome(() => call(c))).to.equal("PermissionDenied");
    }
    await quiesce(registry);
    expect(await series(registry)).to.deep.equal(
      counters(
        "server",
        kinds.map(([type, method]) => ({ type, method, started: 1, received: type === "unary" ? 1 : 0, sent: 0, handled: { PermissionDenied: 1 } })),
      ),
    );
  });

  it("client: every kind is handled with the guard's code, and the error is thrown as it was", async () => {
    const registry = new Registry();
    const cm = new ClientMetrics({ registry });
    const server = await startServer([]);
    closers.push(() => server.close());
    const c = pingClient(server, grpc, [cm.interceptor, syncGuard]);
    for (const [, , call] of kinds) {
      expect(await outcome(() => call(c))).to.equal("PermissionDenied");
    }
    expect(await series(registry)).to.deep.equal(
      counters(
        "client",
        kinds.map(([type, method]) => ({ type, method, started: 1, received: 0, sent: type === "unary" ? 1 : 0, handled: { PermissionDenied: 1 } })),
      ),
    );
  });
});

describe("exactness: hole 3, the client's receive histogram observes a call that fails before its first message", () => {
  const streaming = (s: DescService) => s.methods.filter((m) => m.methodKind !== "unary");
  const recvCounts = async (registry: Registry) => {
    const s = await series(registry, "grpc_client_msg_recv_handling_seconds_count");
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [/grpc_method="(\w+)"/.exec(k)![1], v]));
  };
  const callAll = async (baseUrl: string, cm: ClientMetrics, timeoutMs?: number) => {
    const c = createClient(PingService, createGrpcTransport({ baseUrl, interceptors: [cm.interceptor] }));
    const opts = timeoutMs === undefined ? {} : { timeoutMs };
    return [
      await outcome(() => drain(c.pingList({ responseCount: 1, sleepTimeMs: 300 }, opts))),
      await outcome(() => c.pingClientStream(requests({}), opts)),
      await outcome(() => drain(c.pingStream(requests({ sleepTimeMs: 300 }), opts))),
    ];
  };
  const cases: [string, RawAnswer, string][] = [
    ["a trailers-only error, as grpc-go and grpc-js send it", { kind: "trailers-only", code: Code.NotFound }, "NotFound"],
    ["a non-200 HTTP status", { kind: "http", status: 503 }, "Unavailable"],
  ];
  for (const [name, answer, code] of cases) {
    it(`${name}: one observation per call`, async () => {
      const raw = await startRawGrpcServer(() => answer);
      closers.push(raw.close);
      const registry = new Registry();
      const cm = new ClientMetrics({ registry, streamReceiveTimeHistogram: true });
      expect(await callAll(raw.url, cm)).to.deep.equal([code, code, code]);
      expect(await recvCounts(registry)).to.deep.equal({ PingList: 1, PingClientStream: 1, PingStream: 1 });
    });
  }

  it("nothing listening: one observation per call", async () => {
    const raw = await startRawGrpcServer(() => ({ kind: "http", status: 200 }));
    await raw.close();
    const registry = new Registry();
    const cm = new ClientMetrics({ registry, streamReceiveTimeHistogram: true });
    expect(await callAll(raw.url, cm)).to.deep.equal(["Unavailable", "Unavailable", "Unavailable"]);
    expect(await recvCounts(registry)).to.deep.equal({ PingList: 1, PingClientStream: 1, PingStream: 1 });
  });

  it("a deadline before the response headers: one observation per call", async () => {
    const registry = new Registry();
    const cm = new ClientMetrics({ registry, streamReceiveTimeHistogram: true });
    // connect-node sends the response headers with the first message, which the handlers delay.
    const server = await startServer([]);
    closers.push(() => server.close());
    const c = createClient(PingService, createGrpcTransport({ baseUrl: server.h2Url, interceptors: [cm.interceptor] }));
    expect(await outcome(() => drain(c.pingList({ responseCount: 1, sleepTimeMs: 400 }, { timeoutMs: 60 })))).to.equal("DeadlineExceeded");
    expect(await outcome(() => drain(c.pingStream(requests({ sleepTimeMs: 400 }), { timeoutMs: 60 })))).to.equal("DeadlineExceeded");
    expect(await recvCounts(registry)).to.deep.equal({ PingList: 1, PingStream: 1 });
    expect(streaming(PingService)).to.have.length(3);
  });
});

describe("exactness: the send histogram observes every request sent (found by the fuzzer)", () => {
  it("a client stream that fails while its request is still being written: one send observation per request taken", async () => {
    // A server that lets the client send nothing (flow-control window 0) and answers trailers-only.
    const server = http2.createServer({ settings: { initialWindowSize: 0 } });
    server.on("stream", (stream) => {
      stream.on("error", () => {});
      setTimeout(() => {
        if (!stream.destroyed) {
          stream.respond({ ":status": 200, "content-type": "application/grpc+proto", "grpc-status": "5" }, { endStream: true });
        }
      }, 100);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (s) => sessions.add(s));
    closers.push(async () => sessions.forEach((s) => s.destroy()));
    const registry = new Registry();
    const cm = new ClientMetrics({ registry, streamSendTimeHistogram: true });
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const c = createClient(PingService, createGrpcTransport({ baseUrl: url, interceptors: [cm.interceptor] }));
    expect(await outcome(() => c.pingClientStream(requests({ value: "a" }, { value: "b" })))).to.equal("NotFound");
    const s = await series(registry);
    const labels = `grpc_method="PingClientStream",grpc_service="${service}",grpc_type="client_stream"`;
    const sent = s[`grpc_client_msg_sent_total{${labels}}`];
    expect(sent).to.be.oneOf([1, 2]);
    expect(s[`grpc_client_msg_send_handling_seconds_count{${labels}}`]).to.equal(sent);
  });
});

describe("exactness: hole 4, a client stream's response counts only when the call succeeds", () => {
  /** A server interceptor, inside ours, that changes what a client stream answers. */
  const answering = (tail: (res: StreamResponse) => AsyncIterable<unknown>): Interceptor => (next) => async (req) => {
    const res = await next(req);
    return req.method.methodKind === "client_streaming" && res.stream
      ? ({ ...res, message: tail(res) } as StreamResponse)
      : res;
  };
  const cases: [string, Interceptor, number | undefined, string][] = [
    ["an error in the trailers after the message", answering((res) => (async function* () {
      yield* res.message;
      throw new ConnectError("late", Code.DataLoss);
    })()), undefined, "DataLoss"],
    ["a second response message", answering((res) => (async function* () {
      yield* res.message;
      yield create(PingResponseSchema, { value: "again" });
    })()), undefined, "Unimplemented"],
    ["a deadline between the message and the trailers", answering((res) => (async function* () {
      yield* res.message;
      await delay(400);
    })()), 100, "DeadlineExceeded"],
  ];
  for (const [name, inner, timeoutMs, code] of cases) {
    it(`${name}: received 0, handled ${code}`, async () => {
      const registry = new Registry();
      const cm = new ClientMetrics({ registry });
      const server = await startServer([inner]);
      closers.push(() => server.close());
      const c = pingClient(server, grpc, [cm.interceptor]);
      expect(await outcome(() => c.pingClientStream(requests({}, {}), timeoutMs === undefined ? {} : { timeoutMs }))).to.equal(code);
      expect(await series(registry)).to.deep.equal(
        counters("client", [{ type: "client_stream", method: "PingClientStream", started: 1, received: 0, sent: 2, handled: { [code]: 1 } }]),
      );
    });
  }
});

describe("exactness: hole 5, contextValues never holds a record back", () => {
  for (const p of [grpc, protocols[1], protocols[2]]) {
    it(`${p.name}: a client-stream handler that returns while its client still sends is recorded at once`, async () => {
      const r = await rig({ observeResets: true });
      closers.push(r.close);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      closers.push(async () => release());
      const call = r.client(p).pingClientStream(
        (async function* () {
          yield { readLimit: 1 };
          await held;
        })(),
      );
      const key = `grpc_server_handled_total{grpc_code="OK",grpc_method="PingClientStream",grpc_service="${service}",grpc_type="client_stream"}`;
      const deadline = Date.now() + 3000;
      let handled: number | undefined;
      while (handled === undefined && Date.now() < deadline) {
        handled = (await series(r.registry))[key];
        await delay(5);
      }
      expect(handled).to.equal(1);
      release();
      expect((await call).counter).to.equal(1);
    });
  }
});

describe("exactness: hole 5, the wait for the stream to close is bounded", () => {
  it("a client stream whose client cannot take its response (flow-control window 0) is recorded about a second after it ended", async () => {
    const r = await rig({ observeResets: true });
    closers.push(r.close);
    const session = http2.connect(r.server.h2Url, { settings: { initialWindowSize: 0 } });
    session.on("error", () => {});
    closers.push(async () => void session.destroy());
    const stream = session.request({
      ":method": "POST",
      ":path": "/connectrpc.prometheus.test.v1.PingService/PingClientStream",
      "content-type": "application/grpc+proto",
      te: "trailers",
    });
    stream.on("error", () => {});
    stream.end(envelope(toBinary(PingRequestSchema, create(PingRequestSchema, { value: "held" }))));
    const began = Date.now();
    const key = `grpc_server_handled_total{grpc_code="OK",grpc_method="PingClientStream",grpc_service="${service}",grpc_type="client_stream"}`;
    let handled: number | undefined;
    while (handled === undefined && Date.now() - began < 5000) {
      handled = (await series(r.registry))[key];
      await delay(20);
    }
    expect(handled).to.equal(1);
    // Recorded by the bound (resetWaitMs), not by the stream closing: it is still open.
    expect(Date.now() - began).to.be.at.least(resetWaitMs - 50);
    expect(stream.closed).to.equal(false);
  });
});

describe("exactness: hole 7, a reset starts every metric from zero, all together", () => {
  it("registry.resetMetrics() clears counters and histograms alike; the next call counts 1", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: true });
    const server = await startServer([sm.interceptor]);
    closers.push(() => server.close());
    const c = pingClient(server, grpc, []);
    await c.ping({});
    await c.ping({});
    registry.resetMetrics();
    expect(await series(registry)).to.deep.equal({});
    await c.ping({});
    await quiesce(registry);
    const s = await series(registry);
    const labels = `grpc_method="Ping",grpc_service="${service}",grpc_type="unary"`;
    expect(s[`grpc_server_started_total{${labels}}`]).to.equal(1);
    expect(s[`grpc_server_handled_total{grpc_code="OK",${labels}}`]).to.equal(1);
    expect(s[`grpc_server_handling_seconds_count{${labels}}`]).to.equal(1);
    expect(s[`grpc_server_handling_seconds_bucket{le="+Inf",${labels}}`]).to.equal(1);
  });

  it("one counter's reset() clears that counter only", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    const server = await startServer([sm.interceptor]);
    closers.push(() => server.close());
    await pingClient(server, grpc, []).ping({});
    (registry.getSingleMetric("grpc_server_started_total") as unknown as { reset(): void }).reset();
    await quiesce(registry, 0);
    expect(await series(registry)).to.deep.equal(
      counters("server", [{ type: "unary", method: "Ping", started: 0, received: 1, sent: 1, handled: { OK: 1 } }]),
    );
  });
});

describe("exactness: hole 8, descriptors rebuilt at run time share their series", () => {
  it("200 calls through 200 rebuilt PingService descriptors are one series, not 200", async () => {
    const registry = new Registry();
    const cm = new ClientMetrics({ registry });
    const server = await startServer([]);
    closers.push(() => server.close());
    const transport = createGrpcTransport({ baseUrl: server.h2Url, interceptors: [cm.interceptor] });
    for (let i = 0; i < 200; i++) {
      const files = createFileRegistry(file_connectrpc_prometheus_test_v1_ping.proto, () => undefined);
      const rebuilt = files.getService("connectrpc.prometheus.test.v1.PingService")!;
      expect(rebuilt).not.to.equal(PingService);
      await createClient(rebuilt as typeof PingService, transport).pingEmpty({});
    }
    expect(await series(registry)).to.deep.equal(
      counters("client", [{ type: "unary", method: "PingEmpty", started: 200, received: 200, sent: 200, handled: { OK: 200 } }]),
    );
    const reporter = (cm as unknown as { reporter: { all: unknown[] } }).reporter;
    expect(reporter.all).to.have.length(1);
  });
});

describe("exactness: hole 10, the types of the options' callbacks are exported", () => {
  it("a named callback typed with AnyRequest compiles and is called with the request", async () => {
    const seen: string[] = [];
    const tenant = (req: AnyRequest): string[] => {
      seen.push(req.method.name);
      return [req.header.get("x-tenant") ?? "none"];
    };
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, labels: { names: ["tenant"], fromRequest: tenant } });
    const server = await startServer([sm.interceptor]);
    closers.push(() => server.close());
    await pingClient(server, grpc, []).ping({}, { headers: { "x-tenant": "acme" } });
    expect(seen).to.deep.equal(["Ping"]);
    expect(Object.keys(await series(registry, "grpc_server_started_total"))).to.deep.equal([
      `grpc_server_started_total{grpc_method="Ping",grpc_service="${service}",grpc_type="unary",tenant="acme"}`,
    ]);
  });
});


describe("exactness: hole 9, a client that cancels and whose connection is lost is Canceled, not Internal", () => {
  /**
   * Opens a gRPC server stream with a raw HTTP/2 client over a socket of our
   * own, reads `messages` DATA frames' worth of responses (or none), then
   * ends the way a grpc-go client that exits right after `cancel()` does:
   * the kernel resets the TCP connection. Node reports that as an HTTP/2
   * INTERNAL_ERROR, which connect-node hands the server as Internal.
   */
  async function lostAfter(url: string, request: Uint8Array, readBytes: number): Promise<void> {
    const { hostname, port } = new URL(url);
    let socket!: net.Socket;
    const session = http2.connect(url, {
      createConnection: () => (socket = net.connect(Number(port), hostname)),
    });
    session.on("error", () => {});
    const stream = session.request({
      ":method": "POST",
      ":path": "/connectrpc.prometheus.test.v1.PingService/PingList",
      "content-type": "application/grpc+proto",
      te: "trailers",
    });
    stream.on("error", () => {});
    stream.end(envelope(request));
    await new Promise<void>((resolve) => {
      let got = 0;
      if (readBytes === 0) stream.once("response", () => resolve());
      stream.on("data", (chunk: Buffer) => {
        got += chunk.length;
        if (got >= readBytes) resolve();
      });
      if (readBytes === 0) stream.pause();
    });
    socket.resetAndDestroy();
  }

  for (const observe of [false, true]) {
    it(`a server stream whose client resets the connection after three messages${observe ? ", with contextValues" : ""}`, async () => {
      const r = await rig({ observeResets: observe });
      closers.push(r.close);
      const request = toBinary(PingRequestSchema, create(PingRequestSchema, { responseCount: 100, sleepTimeMs: 20 }));
      const one = 5 + toBinary(PingResponseSchema, create(PingResponseSchema, { counter: 10 })).length;
      await lostAfter(r.server.h2Url, request, 3 * one);
      const s = await r.counters();
      const labels = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };
      expect(s[key("grpc_server_started_total", labels)]).to.equal(1);
      expect(s[key("grpc_server_handled_total", { ...labels, grpc_code: "Canceled" })]).to.equal(1);
      expect(Object.keys(s).filter((k) => k.startsWith("grpc_server_handled_total"))).to.have.length(1);
    });
  }

  it("a server stream whose handler waits to write when its client resets: recorded at once, not never", async () => {
    const r = await rig();
    closers.push(r.close);
    // 50 responses of 100 KB fill the flow-control window of a client that reads nothing.
    const request = toBinary(
      PingRequestSchema,
      create(PingRequestSchema, { value: "x".repeat(100_000), responseCount: 50, ignoreCancel: true }),
    );
    await lostAfter(r.server.h2Url, request, 0);
    const s = await r.counters();
    const labels = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };
    expect(s[key("grpc_server_started_total", labels)]).to.equal(1);
    expect(s[key("grpc_server_handled_total", { ...labels, grpc_code: "Canceled" })]).to.equal(1);
  });
});
