// Invariant 4, property style: the same seeded random call plans, run once
// through instrumented server and client and once through bare ones, must
// produce the same messages, errors (code and message), response headers and
// trailers. Replay a failure with OUTCOME_SEED=<seed>.
import { expect } from "chai";
import { ConnectError } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { ThrowKind } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { pingClient, protocols, startServer, type Protocol, type TestServer } from "../support/harness.js";
import { assertInvariants, counterSeries, prng, type PingInit } from "./lib.js";
import { quiesce, series } from "../support/harness.js";


type Plan =
  | { kind: "unary"; method: "ping" | "pingError" | "pingEmpty"; req: PingInit; timeoutMs?: number }
  | { kind: "list"; req: PingInit; timeoutMs?: number; abortAfter?: number }
  | { kind: "cs"; reqs: PingInit[]; timeoutMs?: number }
  | { kind: "bidi"; reqs: PingInit[]; timeoutMs?: number; abortAfter?: number };

function makePlan(rand: () => number, h2: boolean, i: number): Plan {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const fail = (): PingInit =>
    rand() < 0.5
      ? {}
      : { errorCodeReturned: int(1, 16), throwKind: [ThrowKind.CONNECT_ERROR, ThrowKind.PLAIN_ERROR, ThrowKind.STRING, ThrowKind.UNDEFINED][int(0, 3)] };
  // A deadline only on handlers that wait for it, after at most one response
  // (which arrives long before 400 ms): the outcome is then fixed.
  const deadline = rand() < 0.1;
  const value = `v${i}-${int(0, 999)}`;
  const kinds = h2 ? ["unary", "list", "cs", "bidi"] : ["unary", "list", "cs"];
  switch (kinds[int(0, kinds.length - 1)]) {
    case "unary": {
      const method = (["ping", "pingError", "pingEmpty"] as const)[int(0, 2)];
      return deadline
        ? { kind: "unary", method: "ping", req: { value, waitForCancel: true }, timeoutMs: 400 }
        : { kind: "unary", method, req: { value, ...fail() } };
    }
    case "list": {
      const responseCount = int(0, 4);
      if (deadline) return { kind: "list", req: { value, responseCount: Math.min(responseCount, 1), waitForCancel: true }, timeoutMs: 400 };
      if (rand() < 0.15 && responseCount > 0)
        return { kind: "list", req: { value, responseCount, waitForCancel: true }, abortAfter: int(1, responseCount) };
      return { kind: "list", req: { value, responseCount, ...fail() } };
    }
    case "cs": {
      const reqs: PingInit[] = Array.from({ length: int(1, 4) }, (_, j) => ({ value: `${value}.${j}` }));
      if (rand() < 0.3) reqs[0].readLimit = int(1, reqs.length);
      Object.assign(reqs[reqs.length - 1], deadline ? { waitForCancel: true } : fail());
      return deadline ? { kind: "cs", reqs, timeoutMs: 400 } : { kind: "cs", reqs };
    }
    default: {
      const reqs: PingInit[] = Array.from({ length: int(1, 4) }, (_, j) => ({ value: `${value}.${j}` }));
      if (rand() < 0.3) reqs[0].readLimit = int(1, reqs.length);
      if (deadline) {
        reqs[0].waitForCancel = true;
        return { kind: "bidi", reqs, timeoutMs: 400 };
      }
      Object.assign(reqs[int(0, reqs.length - 1)], fail());
      return { kind: "bidi", reqs };
    }
  }
}

interface Outcome {
  messages: unknown[];
  error?: { code: number; rawMessage: string };
  header?: Record<string, string>;
  trailer?: Record<string, string>;
}

/** Headers that differ between any two responses. */
const volatile = new Set(["date"]);
function plain(h: Headers): Record<string, string> {
  const out: [string, string][] = [];
  h.forEach((v, k) => {
    if (!volatile.has(k)) out.push([k, v]);
  });
  return Object.fromEntries(out.sort(([a], [b]) => a.localeCompare(b)));
}

async function runPlan(server: TestServer, p: Protocol, metrics: ClientMetrics | undefined, plan: Plan): Promise<Outcome> {
  const client = pingClient(server, p, metrics ? [metrics.interceptor] : []);
  const out: Outcome = { messages: [] };
  const ac = new AbortController();
  const opts = {
    signal: ac.signal,
    timeoutMs: plan.timeoutMs,
    onHeader: (h: Headers) => (out.header = plain(h)),
    onTrailer: (t: Headers) => (out.trailer = plain(t)),
  };
  const strip = (m: { value: string; counter: number }) => ({ value: m.value, counter: m.counter });
  async function* gen(reqs: PingInit[]) {
    yield* reqs;
  }
  try {
    switch (plan.kind) {
      case "unary":
        if (plan.method === "pingEmpty") out.messages.push(strip(await client.pingEmpty({}, opts)));
        else if (plan.method === "ping") out.messages.push(strip(await client.ping(plan.req, opts)));
        else out.messages.push(await client.pingError(plan.req, opts));
        break;
      case "list":
        for await (const m of client.pingList(plan.req, opts)) {
          out.messages.push(strip(m));
          if (out.messages.length === plan.abortAfter) ac.abort();
        }
        break;
      case "cs":
        out.messages.push(strip(await client.pingClientStream(gen(plan.reqs), opts)));
        break;
      case "bidi":
        for await (const m of client.pingStream(gen(plan.reqs), opts)) out.messages.push(strip(m));
        break;
    }
  } catch (e) {
    const ce = ConnectError.from(e);
    out.error = { code: ce.code, rawMessage: ce.rawMessage };
  }
  return out;
}

describe("faults: outcome unchanged by the interceptors (seeded random plans)", function () {
  this.timeout(60_000);
  const seed = Number(process.env.OUTCOME_SEED ?? 424242);
  let bare: TestServer;
  let instrumented: TestServer;
  let registry: Registry;
  let cm: ClientMetrics;
  before(async () => {
    registry = new Registry();
    const sm = new ServerMetrics({ registry });
    cm = new ClientMetrics({ registry });
    bare = await startServer([]);
    instrumented = await startServer([sm.interceptor]);
  });
  after(async () => {
    await Promise.all([bare.close(), instrumented.close()]);
  });

  for (const p of protocols) {
    it(`${p.name}: 60 plans, seed ${seed}`, async () => {
      const rand = prng(seed + p.name.length * 7919 + (p.httpVersion === "2" ? 1 : 0));
      const plans = Array.from({ length: 60 }, (_, i) => makePlan(rand, p.httpVersion === "2", i));
      // Both ways concurrently, plan by plan in batches of 10.
      for (let i = 0; i < plans.length; i += 10) {
        const batch = plans.slice(i, i + 10);
        const [withMetrics, without] = await Promise.all([
          Promise.all(batch.map((plan) => runPlan(instrumented, p, cm, plan))),
          Promise.all(batch.map((plan) => runPlan(bare, p, undefined, plan))),
        ]);
        batch.forEach((plan, j) => {
          expect(withMetrics[j], `plan ${i + j} (seed ${seed}): ${JSON.stringify(plan)}`).to.deep.equal(without[j]);
        });
      }
      await quiesce(registry);
      assertInvariants(counterSeries(await series(registry)));
    });
  }
});
