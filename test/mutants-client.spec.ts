// Issue 13: the tests that kill the mutants StrykerJS found alive in
// src/client-interceptor.ts, src/code.ts, src/trace-exemplar.ts,
// src/http2-stream.ts and src/series.ts (`npm run mutate`; docs/mutation.md
// lists every survivor and what became of it). One describe per source file;
// each test states the behaviour that the mutant broke, with a fresh
// Registry, real servers on 127.0.0.1 and exact values.
import { expect } from "chai";
import { getEventListeners } from "node:events";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { setClock } from "../src/clock.js";
import { callCode, requestTimeoutMs } from "../src/code.js";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions } from "../src/index.js";
import { drain, outcome } from "./support/fixture.js";
import { key, pingClient, protocols, series, service, startServer, type TestServer } from "./support/harness.js";

const grpc = protocols[0];
const list = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };
const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  setClock();
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A fresh registry, ClientMetrics with the options, and a real server without metrics. */
async function setup(options: ClientMetricsOptions = {}) {
  const registry = new Registry();
  const cm = new ClientMetrics({ registry, ...options });
  const server: TestServer = await startServer([]);
  closers.push(() => server.close());
  return { registry, cm, server };
}

/**
 * Runs a PingList call whose response stream `use` gets first, as an
 * interceptor outside ClientMetrics' sees it: ClientMetrics' wrapper itself,
 * whose `return()` and `throw()` Connect-ES's client never calls. Returns the
 * code the caller then sees.
 */
async function withResponses(t: Awaited<ReturnType<typeof setup>>, use: (it: AsyncIterator<unknown>) => Promise<void>) {
  const outer: Interceptor = (next) => async (req) => {
    const res = await next(req);
    if (res.stream) await use(res.message[Symbol.asyncIterator]());
    return res;
  };
  const c = pingClient(t.server, grpc, [outer, t.cm.interceptor]);
  return outcome(() => drain(c.pingList({ responseCount: 2 })));
}

describe("mutants: client-interceptor.ts", () => {
  it("a stream that fails before its response stream: the one receive wait lasts from the call's start, in seconds", async () => {
    const t = await setup({ streamReceiveTimeHistogram: { buckets: [0.25, 1] } });
    let clock = 1000;
    setClock(() => clock);
    // An interceptor after ours that fails the call 250 ms (by the clock) after it started.
    const guard: Interceptor = () => () => {
      clock = 1250;
      throw new ConnectError("no entry", Code.PermissionDenied);
    };
    const c = pingClient(t.server, grpc, [t.cm.interceptor, guard]);
    expect(await outcome(() => drain(c.pingList({ responseCount: 1 })))).to.equal("PermissionDenied");
    expect(await series(t.registry, "grpc_client_msg_recv_handling_seconds")).to.deep.equal({
      [`grpc_client_msg_recv_handling_seconds_bucket{le="0.25",${key("", list).slice(1)}`]: 1,
      [`grpc_client_msg_recv_handling_seconds_bucket{le="1",${key("", list).slice(1)}`]: 1,
      [`grpc_client_msg_recv_handling_seconds_bucket{le="+Inf",${key("", list).slice(1)}`]: 1,
      [key("grpc_client_msg_recv_handling_seconds_sum", list)]: 0.25,
      [key("grpc_client_msg_recv_handling_seconds_count", list)]: 1,
    });
  });

  it("return() on the response stream ends the call Canceled", async () => {
    const t = await setup();
    await withResponses(t, async (it) => {
      expect((await it.next()).done).to.equal(false);
      await it.return!();
    });
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...list, grpc_code: "Canceled" })]: 1,
    });
  });

  it("throw(error) on the response stream ends the call with the error's code", async () => {
    const t = await setup();
    await withResponses(t, async (it) => {
      expect((await it.next()).done).to.equal(false);
      expect(await outcome(() => it.throw!(new ConnectError("gave up", Code.Aborted)))).to.equal("Aborted");
    });
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...list, grpc_code: "Aborted" })]: 1,
    });
  });

  it("a first read that begins after the call ended (return() first) is not timed", async () => {
    const t = await setup({ streamReceiveTimeHistogram: true });
    await withResponses(t, async (it) => {
      await it.return!();
      await outcome(() => it.next());
    });
    expect(await series(t.registry, "grpc_client_msg_recv_handling_seconds_count")).to.deep.equal({});
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...list, grpc_code: "Canceled" })]: 1,
    });
  });

  it("a stream call that ended leaves no abort listener on the call's signal", async () => {
    const t = await setup();
    const seen: [AbortSignal, unknown[]][] = [];
    // An interceptor before ours: it sees the signal ours listens to, and its listeners before ours adds one.
    const spy: Interceptor = (next) => (req) => {
      seen.push([req.signal, getEventListeners(req.signal, "abort")]);
      return next(req);
    };
    const c = pingClient(t.server, grpc, [spy, t.cm.interceptor]);
    expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
    expect(seen).to.have.length(1);
    const [signal, before] = seen[0];
    // Connect-ES's own listeners come and go; none that ours added stays.
    expect(getEventListeners(signal, "abort").filter((l) => !before.includes(l))).to.deep.equal([]);
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...list, grpc_code: "OK" })]: 1,
    });
  });
});

describe("mutants: code.ts", () => {
  it("client: an error named TimeoutError, thrown after ours, is Canceled, as the caller sees it", async () => {
    const t = await setup();
    const guard: Interceptor = () => () => {
      throw new DOMException("timed out", "TimeoutError");
    };
    const c = pingClient(t.server, grpc, [t.cm.interceptor, guard]);
    expect(await outcome(() => c.ping({}))).to.equal("Canceled");
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...ping, grpc_code: "Canceled" })]: 1,
    });
    expect(callCode(false, true, new DOMException("t", "TimeoutError"), { stream: false, signal: new AbortController().signal, header: new Headers() }, 0)).to.equal(Code.Canceled);
  });

  it("a timeout header with trailing garbage is no deadline, as grpc-go and Connect refuse it", () => {
    const t = (h: Record<string, string>) => requestTimeoutMs(new Headers(h));
    expect([t({ "grpc-timeout": "5Sx" }), t({ "grpc-timeout": "5S " + "1" })]).to.deep.equal([undefined, undefined]);
    expect([t({ "connect-timeout-ms": "100junk" }), t({ "connect-timeout-ms": "12345678901" })]).to.deep.equal([undefined, undefined]);
  });

  it("server: a lost connection of a call whose timeout header has trailing garbage is Canceled, not DeadlineExceeded", () => {
    const req = (h: Record<string, string>) => ({ stream: false, signal: new AbortController().signal, header: new Headers(h) });
    // An HTTP/2 INTERNAL_ERROR reset: DeadlineExceeded only for a call with a deadline.
    expect(callCode(true, false, undefined, req({ "grpc-timeout": "5S" }), 0, 2)).to.equal(Code.DeadlineExceeded);
    expect(callCode(true, false, undefined, req({ "grpc-timeout": "5Sx" }), 0, 2)).to.equal(Code.Canceled);
    expect(callCode(true, false, undefined, req({ "connect-timeout-ms": "100" }), 0, 2)).to.equal(Code.DeadlineExceeded);
    expect(callCode(true, false, undefined, req({ "connect-timeout-ms": "100junk" }), 0, 2)).to.equal(Code.Canceled);
  });
});

describe("mutants: http2-stream.ts", () => {
  it("contextValues' entry says what it holds, to a debugger", () => {
    const sm = new ServerMetrics({ registry: new Registry() });
    const values = sm.contextValues({ stream: { closed: false, once: () => undefined } });
    expect(Object.getOwnPropertySymbols(values).map((s) => s.description)).to.deep.equal(["connectrpc-prometheus: the call's HTTP/2 stream"]);
  });
});

describe("mutants: series.ts", () => {
  it("without a handling-time histogram a call reads the clock once, at its start", async () => {
    const t = await setup();
    let reads = 0;
    setClock(() => ++reads);
    const c = pingClient(t.server, grpc, [t.cm.interceptor]);
    await c.ping({});
    expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
    setClock();
    expect(reads).to.equal(2);
    expect(await series(t.registry, "grpc_client_handled_total")).to.deep.equal({
      [key("grpc_client_handled_total", { ...ping, grpc_code: "OK" })]: 1,
      [key("grpc_client_handled_total", { ...list, grpc_code: "OK" })]: 1,
    });
  });
});
