// Issue 13: the tests that kill the mutants StrykerJS found alive in
// src/server-interceptor.ts (`npm run mutate`; docs/mutation.md lists every
// survivor and what became of it). Most of them sit on the
// `ServerMetrics.contextValues` path: the HTTP/2 stream's reset code, the
// bounded wait for it to close (`resetWaitMs`), the end of the requests and
// the call's signal. Raw node:http2 clients drive it: they end their requests
// or not, read nothing (flow-control window 0, so the server's answer stays
// queued and its stream open), and reset the stream with a chosen code at a
// chosen moment: a hook in the server (a handler, or an interceptor outside
// the metrics one) tells the client when, so no test sleeps. A reset that must
// reach a call waiting for its stream to close is sent within milliseconds of
// the wait's start, over loopback; the wait lasts resetWaitMs (1 s). Each test
// uses a fresh Registry, a real server on 127.0.0.1 and exact values.
import { getEventListeners } from "node:events";
import * as http2 from "node:http2";
import { expect } from "chai";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingRequestSchema, PingResponseSchema, PingService, type PingRequest } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { setClock } from "../src/clock.js";
import { ServerMetrics } from "../src/index.js";
import { outcome } from "./support/fixture.js";
import { key, pingClient, protocols, quiesce, series, service, startServer, type TestServer } from "./support/harness.js";
import { pingService } from "./support/ping-service.js";
import { envelope } from "./support/raw-http2.js";

const grpc = protocols[0];
const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_STREAM_CLOSED } = http2.constants;

type Method = "PingList" | "PingClientStream" | "PingStream";

/** The handled series of one method: code name → count. */
async function handled(registry: Registry, method: Method): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const prefix = `grpc_server_handled_total{grpc_code="`;
  for (const [k, v] of Object.entries(await series(registry, "grpc_server_handled_total"))) {
    if (k.includes(`grpc_method="${method}"`)) out[k.slice(prefix.length, k.indexOf('"', prefix.length))] = v;
  }
  return out;
}

/** Hooks the test's handlers call, set per call. */
interface Hooks {
  /** The handler has seen what it waits for (its requests' end, or it is about to wait for its signal). */
  ready?: () => void;
  /** The handler saw its signal abort (after the interceptor did: its listener came first). */
  aborted?: () => void;
  /** The metrics interceptor has seen the response stream end. */
  answered?: () => void;
}

/**
 * An interceptor outside the metrics one: it sees the response stream end
 * after the metrics interceptor has (it reads the same promise, later).
 */
const whenAnswered =
  (hooks: Hooks): Interceptor =>
  (next) =>
  async (req) => {
    const res = await next(req);
    if (!res.stream) return res;
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        yield* inner;
        hooks.answered?.();
      })(),
    };
  };

/** A fresh registry, ServerMetrics wired in with contextValues, and a server; each HTTP/2 stream is kept. */
async function setup(
  impl: Partial<typeof pingService>,
  outer: Interceptor[] = [],
  adapter: { shutdownSignal?: AbortSignal } = {},
) {
  const registry = new Registry();
  const sm = new ServerMetrics({ registry });
  /** Each server-side HTTP/2 stream, and a promise that it closed. */
  const streams: { stream: http2.ServerHttp2Stream; closed: Promise<unknown> }[] = [];
  const server: TestServer = await startServer(
    [...outer, sm.interceptor],
    (router) => router.service(PingService, { ...pingService, ...impl }),
    {
      ...adapter,
      contextValues: (req) => {
        const stream = (req as http2.Http2ServerRequest).stream;
        streams.push({ stream, closed: new Promise((resolve) => stream.once("close", resolve)) });
        return sm.contextValues(req);
      },
    },
  );
  return { registry, server, streams };
}

/**
 * A raw gRPC request over its own HTTP/2 session, whose flow-control window
 * is 0: the client reads nothing, so the server's DATA (and the trailers
 * behind it) stay queued, and the stream stays open until the client resets
 * it. The request ends (END_STREAM) after the messages if `end`.
 */
function rawCall(
  server: TestServer,
  method: Method,
  messages: MessageInitShape<typeof PingRequestSchema>[],
  opts: { end: boolean; headers?: Record<string, string> },
) {
  const session = http2.connect(server.h2Url, { settings: { initialWindowSize: 0 } });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": `/${service}/${method}`,
    "content-type": "application/grpc+proto",
    te: "trailers",
    ...opts.headers,
  });
  stream.on("error", () => {});
  for (const m of messages) stream.write(envelope(toBinary(PingRequestSchema, create(PingRequestSchema, m))));
  if (opts.end) stream.end();
  return {
    stream,
    /** Resets the stream with `code`, as a client does. */
    reset: (code: number) => stream.close(code),
    close: () => session.destroy(),
  };
}

/** The `i`th server-side stream, once the server has it. */
async function serverStream<T>(streams: T[], i: number): Promise<T> {
  const until = Date.now() + 5000;
  while (streams.length <= i && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
  expect(streams.length, "server streams").to.be.greaterThan(i);
  return streams[i];
}

describe("mutants: server-interceptor.ts", () => {
  const closers: (() => unknown)[] = [];
  let clock = 0;
  afterEach(async () => {
    setClock();
    for (const c of closers.splice(0).reverse()) await c();
  });

  it("contextValues: the requests end when the handler first sees them end (clock reading 0 included); a second look does not move that", async () => {
    // Each call starts at clock 0 and has a 100 s deadline. "again" and "zero"
    // see their requests end at 0 (the call's start), "late" at 1000 s.
    const hooks: Hooks = {};
    const t = await setup(
      {
        async pingClientStream(reqs: AsyncIterable<PingRequest>) {
          const it = reqs[Symbol.asyncIterator]();
          const first = (await it.next()).value as PingRequest;
          if (first.value === "late") clock = 1_000_000;
          while (!(await it.next()).done);
          if (first.value === "again") {
            clock = 1_000_000;
            expect((await it.next()).done).to.equal(true);
          }
          return { value: first.value, counter: 1 };
        },
      },
      [whenAnswered(hooks)],
    );
    closers.push(t.server.close);
    setClock(() => clock);
    const cases: [string, number, string][] = [
      // Ended at 0, looked again at 1000 s, reset after the answer with INTERNAL_ERROR
      // (as gRPC-Web and Connect clients do): the answer's code, as the requests ended in time.
      ["again", NGHTTP2_INTERNAL_ERROR, "OK"],
      // The same reset after requests that ended at 1000 s: a Connect-ES client's deadline.
      ["late", NGHTTP2_INTERNAL_ERROR, "DeadlineExceeded"],
      // Ended at clock 0, then the client cancelled after the answer: Canceled.
      ["zero", NGHTTP2_CANCEL, "Canceled"],
    ];
    const want: Record<string, number> = {};
    for (const [i, [value, code, expected]] of cases.entries()) {
      clock = 0;
      const c = rawCall(t.server, "PingClientStream", [{ value }], { end: true, headers: { "grpc-timeout": "100S" } });
      closers.push(c.close);
      hooks.answered = () => c.reset(code);
      const s = await serverStream(t.streams, i);
      await s.closed;
      expect(s.stream.rstCode, value).to.equal(code);
      want[expected] = 1;
      expect(await handled(t.registry, "PingClientStream"), value).to.deep.equal(want);
    }
  });

  it("contextValues: a server stream whose handler finished is recorded with its answer at once; a reset after that changes nothing", async () => {
    // Its handler saw the request end too (Connect reads a server stream's
    // request to its end), yet only a client or bidi stream waits for a reset.
    const hooks: Hooks = {};
    const t = await setup({}, [whenAnswered(hooks)]);
    closers.push(t.server.close);
    const c = rawCall(t.server, "PingList", [{ responseCount: 1 }], { end: true });
    closers.push(c.close);
    hooks.answered = () => c.reset(NGHTTP2_CANCEL);
    const s = await serverStream(t.streams, 0);
    await s.closed;
    expect(s.stream.rstCode).to.equal(NGHTTP2_CANCEL);
    expect(await handled(t.registry, "PingList")).to.deep.equal({ OK: 1 });
  });

  it("contextValues: a client stream whose handler returned before its requests ended is recorded at once; a reset after that changes nothing", async () => {
    const hooks: Hooks = {};
    const t = await setup({}, [whenAnswered(hooks)]);
    closers.push(t.server.close);
    // readLimit 1: the handler returns after the first request; the client never ends its requests.
    const c = rawCall(t.server, "PingClientStream", [{ readLimit: 1 }], { end: false });
    closers.push(c.close);
    hooks.answered = () => c.reset(NGHTTP2_CANCEL);
    const s = await serverStream(t.streams, 0);
    await s.closed;
    expect(s.stream.rstCode).to.equal(NGHTTP2_CANCEL);
    expect(await handled(t.registry, "PingClientStream")).to.deep.equal({ OK: 1 });
  });

  it("contextValues: a call whose signal aborts with a code (the server's shutdown) has that code at once, even after its requests ended and a reset follows", async () => {
    const hooks: Hooks = {};
    const shutdown = new AbortController();
    const t = await setup(
      {
        async *pingStream(reqs: AsyncIterable<PingRequest>, ctx: HandlerContext) {
          let n = 0;
          for await (const _ of reqs) n++;
          yield create(PingResponseSchema, { counter: n });
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
            hooks.ready?.();
          });
          hooks.aborted?.();
          throw ctx.signal.reason;
        },
      },
      [],
      { shutdownSignal: shutdown.signal },
    );
    closers.push(t.server.close);
    const c = rawCall(t.server, "PingStream", [{ value: "a" }], { end: true });
    closers.push(c.close);
    hooks.ready = () => shutdown.abort(new ConnectError("shutting down", Code.Unavailable));
    hooks.aborted = () => c.reset(NGHTTP2_CANCEL);
    const s = await serverStream(t.streams, 0);
    await s.closed;
    expect(s.stream.rstCode).to.equal(NGHTTP2_CANCEL);
    expect(await handled(t.registry, "PingStream")).to.deep.equal({ Unavailable: 1 });
  });

  it("contextValues: a reset with a code connect-node names no code for (STREAM_CLOSED) is, as any reset but CANCEL, DeadlineExceeded for a call with a deadline", async () => {
    // connect-node aborts the signal without a reason for it, which alone
    // would be a hang-up: Canceled while the 100 s deadline is far off.
    const hooks: Hooks = {};
    const t = await setup({
      async *pingList(_req: PingRequest, ctx: HandlerContext) {
        await new Promise<void>((resolve) => {
          ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          hooks.ready?.();
        });
        throw ctx.signal.reason;
      },
    });
    closers.push(t.server.close);
    const c = rawCall(t.server, "PingList", [{ value: "a" }], { end: true, headers: { "grpc-timeout": "100S" } });
    closers.push(c.close);
    hooks.ready = () => c.reset(NGHTTP2_STREAM_CLOSED);
    const s = await serverStream(t.streams, 0);
    await s.closed;
    expect(s.stream.rstCode).to.equal(NGHTTP2_STREAM_CLOSED);
    await quiesce(t.registry);
    expect(await handled(t.registry, "PingList")).to.deep.equal({ DeadlineExceeded: 1 });
  });

  it("contextValues: a call recorded at the end of the bounded wait is not recorded again when its stream closes later", async () => {
    const t = await setup({});
    closers.push(t.server.close);
    const c = rawCall(t.server, "PingClientStream", [{ value: "a" }], { end: true });
    closers.push(c.close);
    const until = Date.now() + 5000;
    while ((await handled(t.registry, "PingClientStream")).OK === undefined && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await handled(t.registry, "PingClientStream")).to.deep.equal({ OK: 1 });
    const s = await serverStream(t.streams, 0);
    // Recorded by the bound (resetWaitMs): the stream is still open.
    expect(s.stream.closed).to.equal(false);
    c.reset(NGHTTP2_CANCEL);
    await s.closed;
    expect(s.stream.rstCode).to.equal(NGHTTP2_CANCEL);
    expect(await handled(t.registry, "PingClientStream")).to.deep.equal({ OK: 1 });
  });

  it("a finished stream leaves no abort listener of its own on the call's signal", async () => {
    let before = -1;
    let after = -1;
    const count: Interceptor = (next) => async (req) => {
      before = getEventListeners(req.signal, "abort").length;
      const res = await next(req);
      if (!res.stream) return res;
      const inner = res.message;
      return {
        ...res,
        message: (async function* () {
          yield* inner;
          after = getEventListeners(req.signal, "abort").length;
        })(),
      };
    };
    const t = await setup({}, [count]);
    closers.push(t.server.close);
    const client = pingClient(t.server, grpc, []);
    let n = 0;
    for await (const _ of client.pingList({ responseCount: 2 })) n++;
    expect(n).to.equal(2);
    await quiesce(t.registry);
    expect(await handled(t.registry, "PingList")).to.deep.equal({ OK: 1 });
    expect(before).to.be.greaterThan(-1);
    expect(after).to.equal(before);
  });

  it("a response stream that an outer interceptor throws an error into is recorded with the error's code", async () => {
    // As a wrapper that delegates with `yield*` passes on a throw() into it.
    const budget: Interceptor = (next) => async (req) => {
      const res = await next(req);
      if (!res.stream) return res;
      const it = res.message[Symbol.asyncIterator]();
      return {
        ...res,
        message: (async function* () {
          const first = await it.next();
          if (first.done !== true) yield first.value;
          await it.throw?.(new ConnectError("over budget", Code.ResourceExhausted));
        })(),
      };
    };
    const t = await setup({}, [budget]);
    closers.push(t.server.close);
    const client = pingClient(t.server, grpc, []);
    let n = 0;
    const code = await outcome(async () => {
      for await (const _ of client.pingList({ responseCount: 3 })) n++;
    });
    expect([code, n]).to.deep.equal(["ResourceExhausted", 1]);
    await quiesce(t.registry);
    const labels = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };
    expect((await series(t.registry, "grpc_server_msg_sent_total"))[key("grpc_server_msg_sent_total", labels)]).to.equal(1);
    expect(await handled(t.registry, "PingList")).to.deep.equal({ ResourceExhausted: 1 });
  });
});
