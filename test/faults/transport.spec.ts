// Transport failures: the server destroys or gracefully closes its HTTP/2
// sessions, or the whole server closes, with calls in flight; a client
// pointed at a port where nothing listens.
import { deadUrl } from "../support/dead-port.js";
import type * as http2 from "node:http2";
import { expect } from "chai";
import { Registry } from "prom-client";
import { ClientMetrics } from "../../src/index.js";
import { pingClient, protocols, quiesce, series, type TestServer } from "../support/harness.js";
import {
  assertInvariants,
  counterSeries,
  requests,
  rig,
  settle,
  Tally,
  tracedRoutes,
  until,
  type CodeName,
  type HandlerTruth,
  type MethodName,
  type Rig,
} from "./lib.js";

/** Starts one in-flight call of each kind the protocol supports; each
 * handler waits for its signal. Resolves to the codes the caller saw. */
function inFlightCalls(r: Rig, tag: string) {
  const calls: { id: string; method: MethodName; done: Promise<CodeName> }[] = [];
  for (const p of protocols) {
    const client = r.client(p);
    // The deadline is a safety net: over HTTP/2, connect-node's client does
    // not notice a session the server destroyed, and unary and server-stream
    // calls on it would hang (they end DeadlineExceeded instead).
    const h = (k: string) => ({ timeoutMs: 1500, headers: { "x-call": `${tag}-${p.name}-${k}` } });
    calls.push({ id: h("u").headers["x-call"], method: "Ping", done: settle(() => client.ping({ value: "u", waitForCancel: true }, h("u"))) });
    calls.push({
      id: h("ss").headers["x-call"],
      method: "PingList",
      done: settle(async () => {
        for await (const _ of client.pingList({ value: "s", waitForCancel: true }, h("ss")));
      }),
    });
    calls.push({
      id: h("cs").headers["x-call"],
      method: "PingClientStream",
      done: settle(() => client.pingClientStream(requests([{ value: "c", readLimit: 1, waitForCancel: true }], { n: 0 }), h("cs"))),
    });
    if (p.httpVersion === "2") {
      calls.push({
        id: h("b").headers["x-call"],
        method: "PingStream",
        done: settle(async () => {
          for await (const _ of client.pingStream(requests([{ value: "b", waitForCancel: true }], { n: 0 }), h("b")));
        }),
      });
    }
  }
  return calls;
}

describe("faults: transport failures", function () {
  this.timeout(20000);
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  let sessions: Set<http2.ServerHttp2Session>;
  beforeEach(async () => {
    truth = new Map();
    r = await rig({ routes: tracedRoutes(truth) });
    sessions = new Set();
    r.server.h2.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
  });
  afterEach(() => r.close());

  async function expectRecorded(calls: ReturnType<typeof inFlightCalls>, serverCode: (m: MethodName, id: string) => CodeName) {
    const codes = await Promise.all(calls.map((c) => c.done));
    await until(() => calls.every((c) => truth.get(c.id)?.done === true), 5000, "handlers done");
    const tally = new Tally();
    calls.forEach((c, i) => {
      tally.call(
        c.method,
        { received: 1, sent: 0, code: serverCode(c.method, c.id) },
        // The client sent its one request; it received nothing.
        { sent: 1, received: 0, code: codes[i] },
      );
    });
    const s = await r.counters();
    expect(s).to.deep.equal(tally.series());
    assertInvariants(s);
    return codes;
  }

  it("the server destroys its HTTP/2 sessions with calls in flight: exactly once on both sides", async () => {
    const calls = inFlightCalls(r, "destroy");
    await until(() => calls.every((c) => truth.has(c.id)), 5000, "all handlers started");
    for (const s of sessions) s.destroy();
    r.server.h1.closeAllConnections();
    const codes = await expectRecorded(calls, () => "Canceled");
    // What the callers saw: no call may look successful.
    expect(codes.filter((c) => c === "OK")).to.deep.equal([]);
  });

  it("the server closes its HTTP/2 sessions gracefully: calls in flight finish OK", async () => {
    const client = r.client(protocols[0]);
    const jobs = [0, 1, 2].map((i) =>
      settle(() => client.ping({ value: `g${i}`, sleepTimeMs: 150 }, { headers: { "x-call": `g${i}` } })),
    );
    await until(() => [0, 1, 2].every((i) => truth.has(`g${i}`)));
    for (const s of sessions) s.close();
    expect(await Promise.all(jobs)).to.deep.equal(["OK", "OK", "OK"]);
    const tally = new Tally();
    for (let i = 0; i < 3; i++) tally.call("Ping", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });
    const s = await r.counters();
    expect(s).to.deep.equal(tally.series());
    assertInvariants(s);
  });

  it("server.close with calls in flight on every protocol: exactly once on both sides", async () => {
    const calls = inFlightCalls(r, "close");
    await until(() => calls.every((c) => truth.has(c.id)), 5000, "all handlers started");
    await (r.server as TestServer).close();
    const codes = await expectRecorded(calls, () => "Canceled");
    expect(codes.filter((c) => c === "OK")).to.deep.equal([]);
  });
});

describe("faults: nothing listens on the port", () => {
  it("every protocol and kind: the client records Unavailable, exactly once", async () => {
    const dead = { h2Url: deadUrl, h1Url: deadUrl } as TestServer;
    const registry = new Registry();
    const cm = new ClientMetrics({ registry });
    const tally = new Tally();
    for (const p of protocols) {
      const client = pingClient(dead, p, [cm.interceptor]);
      const pulled = { n: 0 };
      const seen = [
        await settle(() => client.ping({ value: "x" })),
        await settle(async () => {
          for await (const _ of client.pingList({ value: "x", responseCount: 1 }));
        }),
        await settle(() => client.pingClientStream(requests([{ value: "x" }], pulled))),
      ];
      expect(seen, p.name).to.deep.equal(["Unavailable", "Unavailable", "Unavailable"]);
      tally.add("client", "Ping", { sent: 1, received: 0, code: "Unavailable" });
      // A stream's request is counted once the transport pulled it.
      tally.add("client", "PingList", { sent: 1, received: 0, code: "Unavailable" });
      tally.add("client", "PingClientStream", { sent: pulled.n, received: 0, code: "Unavailable" });
    }
    await quiesce(registry);
    const s = counterSeries(await series(registry));
    // msg_sent of a server stream depends on whether the transport pulled
    // the request before the connection failed: compare it separately.
    const want = tally.series();
    const listSent = Object.keys(want).find((k) => k.startsWith("grpc_client_msg_sent_total") && k.includes("PingList"))!;
    expect(s[listSent] ?? 0).to.be.within(0, protocols.length);
    delete want[listSent];
    delete s[listSent];
    expect(s).to.deep.equal(want);
    assertInvariants(s);
  });
});
