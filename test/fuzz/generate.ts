// The seeded generator: environments and calls over every combination of the
// issue's dimensions. Combinations that would race by construction (a caller
// aborting as the handler finishes) are generated away: a caller aborts only a
// handler that hangs, or one that is still streaming slowly.
import { prng } from "../faults/lib.js";
import { kinds, type Call, type CallerPlan, type End, type EnvOptions, type Guard, type HandlerPlan, type Kind, type Proto, type Http, type RawPlan } from "./plan.js";

/** Rand is a seeded PRNG: a number in [0, 1) per call. */
export type Rand = () => number;
export { prng };

/** tools makes the draws the generator uses from a PRNG. */
export function tools(rand: Rand) {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chance = (p: number) => rand() < p;
  const weighted = <T extends string>(w: Readonly<Record<T, number>>): T => {
    const total = Object.values<number>(w).reduce((a, b) => a + b, 0);
    let x = rand() * total;
    for (const [k, v] of Object.entries<number>(w)) if ((x -= v) < 0) return k as T;
    return Object.keys(w)[0] as T;
  };
  return { int, pick, chance, weighted };
}

/** generateEnv picks a combination of options for one batch. */
export function generateEnv(rand: Rand, perCall: boolean, load: boolean): EnvOptions {
  const { chance } = tools(rand);
  return {
    contextValues: chance(0.5),
    perCall,
    tenantLabel: !perCall && chance(0.5),
    constLabels: chance(0.5),
    codeLabelOnHistograms: chance(0.5),
    protocolLabel: chance(0.5),
    exemplars: chance(0.4),
    customBuckets: chance(0.3),
    guards: chance(0.7),
    load,
  };
}

const transports: readonly [Proto, Http][] = [["grpc", "2"], ["grpc-web", "2"], ["connect", "2"], ["grpc-web", "1.1"], ["connect", "1.1"]];
const single = (k: Kind) => k === "unary" || k === "client_stream";
const streamsOut = (k: Kind) => k === "server_stream" || k === "bidi";
const streamsIn = (k: Kind) => k === "client_stream" || k === "bidi";

/** generateCall makes one call for an environment. */
export function generateCall(rand: Rand, id: string, env: EnvOptions): Call {
  const { int, pick, chance, weighted } = tools(rand);
  const kind = pick(kinds);
  const client = chance(0.15) ? "grpc-js" : "connect-node";
  const server = client === "grpc-js" ? "connect-node" : weighted({ "connect-node": 70, "grpc-js": 10, raw: 12, nothing: 8 });
  const [proto, http]: [Proto, Http] =
    client === "grpc-js" || server === "grpc-js" ? ["grpc", "2"] : server === "raw" ? pick(transports.slice(0, 2)) : pick(transports);
  const guardOf = (): Guard => (env.guards ? weighted({ none: 60, throw: 10, reject: 10, answer: 10, wrap: 10 }) : "none");
  const clientGuard = client === "connect-node" ? guardOf() : "none";
  const serverGuard = server === "connect-node" ? guardOf() : "none";
  const requests = streamsIn(kind) ? int(0, 3) : 1;
  const base = {
    id, kind, proto, http, client, server, clientGuard, serverGuard,
    guardCode: int(1, 16),
    guardYields: single(kind) ? (clientGuard === "answer" && kind === "client_stream" ? int(0, 2) : 1) : int(0, 3),
    tenant: pick(["a", "b", "c"]),
  } as const;
  const read = (extra: Partial<CallerPlan> = {}): CallerPlan => ({ requests, holdOpen: false, act: { kind: "read" }, ...extra });
  const handler = (extra: Partial<HandlerPlan> = {}): HandlerPlan => ({ pull: Infinity, yields: 0, gapMs: 0, end: { kind: "ok" }, ...extra });
  const deadline = () => pick([120, 200, 300]);
  /** A caller that gives up on a handler that has sent `yields` messages and waits. */
  const givesUp = (yields: number, canHold: boolean): CallerPlan => {
    const holdOpen = canHold && streamsIn(kind) && chance(0.3);
    const act = weighted({ abort: 45, stop: holdOpen || !streamsOut(kind) || yields === 0 ? 0 : 20, deadline: 35 });
    if (act === "deadline") return { requests, holdOpen, act: { kind: "read" }, deadlineMs: deadline() };
    const at = holdOpen ? 0 : act === "stop" ? int(1, yields) : streamsOut(kind) ? int(0, yields) : 0;
    return { requests, holdOpen, act: { kind: act, at } };
  };

  // The caller's own guard answers or fails: the server is never reached.
  const shortCircuit = (g: Guard) => g === "throw" || g === "reject" || g === "answer";
  if (shortCircuit(clientGuard) || server === "nothing" || (server === "connect-node" && shortCircuit(serverGuard)) || (kind === "bidi" && http === "1.1")) {
    return { ...base, handler: handler(), caller: read() };
  }
  if (server === "raw") {
    const rk = weighted<RawPlan["kind"]>({ "trailers-only": 35, messages: 35, http: 15, hang: 15 });
    const raw: RawPlan =
      rk === "trailers-only" ? { kind: rk, code: int(1, 16) }
      : rk === "messages" ? { kind: rk, n: int(0, 3), code: chance(0.4) ? 0 : int(1, 16) }
      : rk === "http" ? { kind: rk, status: pick([400, 401, 403, 404, 429, 500, 502, 503, 504]) }
      : { kind: rk };
    const caller = raw.kind === "hang" ? (chance(0.5) ? read({ deadlineMs: deadline() }) : read({ act: { kind: "abort", at: 0 } })) : read();
    return { ...base, handler: handler(), raw, caller };
  }
  if (server === "grpc-js") {
    const end: End = weighted({ ok: 40, code: 40, hang: 20 }) === "ok" ? { kind: "ok" } : chance(0.67) ? { kind: "code", code: int(1, 16) } : { kind: "hang-honour" };
    const yields = streamsOut(kind) ? int(0, 3) : 0;
    const h = handler({ yields, end });
    const r = kind === "bidi" ? yields + (end.kind === "ok" ? 0 : 1) : requests;
    const caller = end.kind === "hang-honour" ? givesUp(yields, false) : read();
    return { ...base, handler: h, caller: { ...caller, requests: kind === "client_stream" ? Math.max(1, r) : r } };
  }

  // Our connect-node server and its handler.
  const endOf = (): End => {
    const k = weighted({ ok: 35, code: 35, plain: 15, undefined: 15 });
    return k === "code" ? { kind: "code", code: int(1, 16) } : ({ kind: k } as End);
  };
  const pull = () => (streamsIn(kind) && chance(0.3) ? int(0, requests) : Infinity);
  const scenario = weighted({ complete: 45, hang: 30, midstream: streamsOut(kind) ? 15 : 0, late: 6 });
  if (scenario === "complete") {
    const p = pull();
    const h = handler({ pull: p, yields: streamsOut(kind) ? int(0, 4) : 0, gapMs: chance(0.2) ? int(1, 3) : 0, end: endOf() });
    const holdOpen = p < requests && chance(0.4);
    return { ...base, handler: h, caller: read({ holdOpen, deadlineMs: chance(0.15) ? 5000 : undefined }) };
  }
  if (scenario === "hang") {
    const yields = streamsOut(kind) ? int(0, 3) : 0;
    const caller = givesUp(yields, true);
    const ignoreMs = (caller.deadlineMs ?? 0) + int(200, 400);
    // A held-open request stream is read to its end: the handler waits for
    // more input, and then hangs, or answers at once (the documented HTTP/2
    // limit: connect-node shows it a clean end of input before the reset).
    const end: End =
      caller.holdOpen && chance(0.5) ? endOf()
      : chance(0.6) ? { kind: "hang-honour" }
      : { kind: "hang-ignore", ms: ignoreMs, extra: streamsOut(kind) ? int(0, 2) : 0 };
    return { ...base, handler: handler({ pull: caller.holdOpen ? Infinity : pull(), yields: caller.holdOpen ? 0 : yields, end }), caller };
  }
  if (scenario === "midstream") {
    // Slowly, or a flood that fills the flow-control window (backpressure).
    // slow: at least 60 ms of messages left when the caller gives up.
    const flood = chance(0.4);
    const at = int(1, 3);
    const pad = flood ? pick([100, 1024]) : 0;
    const yields = flood ? (pad > 100 ? int(200, 400) : int(2000, 3000)) : at + int(6, 10);
    const end = endOf();
    return {
      ...base,
      handler: handler({ yields, pad, gapMs: flood ? 0 : int(10, 15), end }),
      caller: { requests, holdOpen: false, act: { kind: chance(0.6) ? "abort" : "stop", at } },
    };
  }
  const end: End = weighted({ ok: 25, code: 60, plain: 15 }) === "code" ? { kind: "code", code: int(1, 16) } : chance(0.6) ? { kind: "ok" } : { kind: "plain" };
  return {
    ...base,
    handler: handler({ yields: streamsOut(kind) ? int(0, 2) : 0, lateFraction: 0.81 + rand() * 0.04, end }),
    caller: read({ deadlineMs: pick([700, 1000]) }),
  };
}
