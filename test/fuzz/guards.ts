// The interceptors the fuzzer puts after ours: a guard per side that, per
// call, does nothing, throws synchronously, rejects, answers without calling
// `next`, or wraps the streams; and, innermost, a transparent probe per side
// that counts what the transport pulls (client requests) or what is handed on
// from a client-stream handler (its response).
import { Code, ConnectError, type Interceptor, type StreamRequest, type StreamResponse, type UnaryRequest } from "@connectrpc/connect";
import type { PingResponse } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { counted, ended, response } from "./handlers.js";
import { callHeader, type Entry, type Ledger } from "./ledger.js";

type AnyRequest = UnaryRequest | StreamRequest;

/** An async-generator pass-through, as a logging interceptor would write it. */
async function* wrap<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const m of source) yield m;
}

async function* answers(e: Entry): AsyncGenerator<PingResponse> {
  try {
    for (let i = 0; i < e.call.guardYields; i++) yield response(e.call.id, i);
  } finally {
    ended(e, { signal: new AbortController().signal }, { kind: "returned" });
  }
}

/** The response a guard answers with, without calling `next`. */
function answer(req: AnyRequest, e: Entry | undefined, n: number) {
  // connect-node replaces its response header with the interceptor's: keep the content type.
  const header = new Headers({ "content-type": req.header.get("content-type") ?? "application/proto" });
  const common = { service: req.service, header, trailer: new Headers() };
  if (!req.stream) {
    return Promise.resolve({ ...common, stream: false as const, method: req.method, message: response(req.header.get(callHeader) ?? "", 0) });
  }
  const message: AsyncIterable<PingResponse> = e
    ? counted(e, answers(e))
    : (async function* () {
        for (let i = 0; i < n; i++) yield response("", i);
      })();
  return Promise.resolve({ ...common, stream: true as const, method: req.method, message } as StreamResponse);
}

/**
 * guard is the interceptor after ours on one side. On the server it records
 * in the ledger that the call reached it, and what it did instead of the
 * handler.
 */
export function guard(ledger: Ledger, side: "server" | "client"): Interceptor {
  return (next) => (req) => {
    const e = ledger.get(req.header.get(callHeader));
    const call = e?.call;
    const g = call ? (side === "server" ? call.serverGuard : call.clientGuard) : "none";
    const onServer = side === "server" && e !== undefined;
    const code = (call?.guardCode ?? Code.Internal) as Code;
    if (onServer && g !== "none" && g !== "wrap") {
      e.entered = true;
      e.handler.startAt = performance.now();
      e.guarded = true;
      if (!req.stream) e.handler.pulled = 1;
      if (g !== "answer") ended(e, req, { kind: "connect", code });
      else if (!req.stream) {
        e.handler.yielded = 1;
        ended(e, req, { kind: "returned" });
      }
    }
    switch (g) {
      case "none":
        return next(req);
      case "throw":
        throw new ConnectError("fuzz: guard throws", code);
      case "reject":
        return Promise.reject(new ConnectError("fuzz: guard rejects", code));
      case "answer":
        return answer(req, onServer ? e : undefined, call?.guardYields ?? 0);
      case "wrap":
        if (!req.stream) return next(req);
        return next({ ...req, message: wrap(req.message) }).then((res) =>
          res.stream ? { ...res, message: wrap(res.message) } : res,
        );
    }
  };
}

/** A transparent iterator that counts each value its consumer receives. */
function countPulls<T>(source: AsyncIterable<T>, onValue: () => void): AsyncIterable<T> {
  const inner = source[Symbol.asyncIterator]();
  const it: AsyncIterator<T> = {
    next: () =>
      inner.next().then((r) => {
        if (r.done !== true) onValue();
        return r;
      }),
  };
  if (inner.return) it.return = (v?: unknown) => inner.return!(v);
  if (inner.throw) it.throw = (err?: unknown) => inner.throw!(err);
  return { [Symbol.asyncIterator]: () => it };
}

/**
 * probe is the innermost client interceptor, right before the transport: it
 * counts the request messages the transport pulls. It changes nothing else.
 */
export function probe(ledger: Ledger): Interceptor {
  return (next) => (req) => {
    const e = ledger.get(req.header.get(callHeader));
    if (!req.stream || e === undefined) return next(req);
    return next({ ...req, message: countPulls(req.message, () => e.caller.pulled++) });
  };
}

/**
 * serverProbe is the innermost server interceptor, right before the handler:
 * it counts the response a client-stream handler hands on (connect-node
 * wraps it in a stream that it may never pull once the client has gone). It
 * changes nothing else.
 */
export function serverProbe(ledger: Ledger): Interceptor {
  return (next) => (req) => {
    const e = ledger.get(req.header.get(callHeader));
    if (e !== undefined) e.probed = true;
    if (e === undefined || req.method.methodKind !== "client_streaming") return next(req);
    return next(req).then((res) =>
      res.stream ? { ...res, message: countPulls(res.message, () => e.handler.yielded++) } : res,
    );
  };
}
