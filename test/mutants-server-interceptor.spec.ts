// Issue 13: the tests that kill the mutants StrykerJS found alive in
// src/server-interceptor.ts (`npm run mutate`; docs/mutation.md lists every
// survivor and what became of it). Most of them sit on the
// `ServerMetrics.contextValues` path: the HTTP/2 stream's reset code, the
// bounded wait for it to close (`resetWaitMs`), the end of the requests and
// the call's signal. Raw node:http2 clients drive it: they end their requests
// or not, read nothing (flow-control window 0, so the server's answer stays
// queued and its stream open), and reset the stream with a chosen code at a
// chosen moment. Each test uses a fresh Registry, a real server on 127.0.0.1
// and exact values.
import { getEventListeners } from "node:events";
import * as http2 from "node:http2";
import { expect } from "chai";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingRequestSchema, PingService, type PingRequest } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { setClock } from "../src/clock.js";
import { ServerMetrics } from "../src/index.js";
import { outcome } from "./support/fixture.js";
import { key, pingClient, protocols, quiesce, series, service, startServer, type TestServer } from "./support/harness.js";
import { pingService } from "./support/ping-service.js";
import { envelope } from "./support/raw-http2.js";

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_STREAM_CLOSED } = http2.constants;

type Method = "PingList" | "PingClientStream" | "PingStream";
const types: Record<Method, string> = { PingList: "server_stream", PingClientStream: "client_stream", PingStream: "bidi_stream" };

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
  return { registry, sm, server, streams };
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
    // Calls (a) and (c) see their requests end at clock 0, the call's start;
    // (b) sees them end at 1000 s. The deadline is 100 s.
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
    for (const [value, code, expected] of cases) {
      clock = 0;
      const c = rawCall(t.server, "PingClientStream", [{ value }], { end: true, headers: { "grpc-timeout": "100S" } });
      closers.push(c.close);
      hooks.answered = () => c.reset(code);
      const s = await serverStream(t.streams, Object.keys(want).length === 0 ? 0 : cases.findIndex(([v]) => v === value));
      await s.closed;
      expect(s.stream.rstCode, value).to.equal(code);
      want[expected] = 1;
      expect(await handled(t.registry, "PingClientStream"), value).to.deep.equal(want);
    }
  });
});
