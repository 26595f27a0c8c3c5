// The fuzzer's PingService for connect-node: each call's handler follows its
// plan (looked up by `x-fuzz-call`) and writes what it pulled, what it handed
// on and how it ended into the ledger.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  PingResponseSchema,
  PingService,
  type PingRequest,
  type PingResponse,
} from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { sleep } from "../support/ping-service.js";
import { callHeader, type Entry, type Ledger, type Thrown } from "./ledger.js";

/** A response message of call `id`, `pad` bytes larger (to fill flow-control windows). */
export function response(id: string, i: number, pad = 0): PingResponse {
  return create(PingResponseSchema, { value: pad > 0 ? id + "x".repeat(pad) : id, counter: i });
}

/** Classifies what a handler threw. */
export function thrownOf(e: unknown): Thrown {
  if (e === undefined) return { kind: "undefined" };
  if (e instanceof ConnectError) return { kind: "connect", code: e.code };
  return { kind: "other" };
}

/** Records the end of a handler, once. */
export function ended(e: Entry, ctx: { signal: AbortSignal }, thrown: Thrown): void {
  if (e.handler.ended) return;
  e.handler.abortedAtEnd = ctx.signal.aborted;
  e.handler.endAt = Math.round(performance.now());
  e.handler.thrown = thrown;
  e.handler.ended = true;
  e.markDone();
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * counted hands on a handler's responses and counts each one the consumer
 * receives: the responses the handler handed on.
 */
export function counted(e: Entry, source: AsyncGenerator<PingResponse>): AsyncIterable<PingResponse> {
  const it: AsyncIterator<PingResponse> = {
    next: () =>
      source.next().then((r) => {
        if (r.done !== true) e.handler.yielded++;
        return r;
      }),
    return: (v?: unknown) => {
      if (!e.handler.ended) e.handler.forced = true;
      return source.return(v as undefined);
    },
    throw: (err?: unknown) => {
      if (!e.handler.ended) e.handler.forced = true;
      return source.throw(err);
    },
  };
  return { [Symbol.asyncIterator]: () => it };
}

/** The end of a handler's plan: a code, a throw, or a hang. */
async function* ending(e: Entry, ctx: HandlerContext): AsyncGenerator<PingResponse> {
  const h = e.call.handler;
  if (h.lateFraction !== undefined && e.call.caller.deadlineMs !== undefined) {
    await sleep(Math.round(h.lateFraction * e.call.caller.deadlineMs), ctx.signal);
  }
  switch (h.end.kind) {
    case "ok":
      return;
    case "code":
      throw new ConnectError(`fuzz: handler fails`, h.end.code as Code);
    case "plain":
      throw new Error("fuzz: plain error");
    case "undefined":
      throw undefined;
    case "hang-honour":
      e.markReady();
      await aborted(ctx.signal);
      throw ctx.signal.reason;
    case "hang-ignore":
      e.markReady();
      await sleep(h.end.ms);
      for (let i = 0; i < h.end.extra; i++) yield response(e.call.id, 1000 + i);
  }
}

/** Runs a generator to its end, recording how it ended. */
async function* tracked(e: Entry, ctx: HandlerContext, body: AsyncGenerator<PingResponse>): AsyncGenerator<PingResponse> {
  let thrown: Thrown = { kind: "returned" };
  try {
    yield* body;
  } catch (err) {
    thrown = thrownOf(err);
    throw err;
  } finally {
    ended(e, ctx, thrown);
  }
}

/** Pulls up to `limit` requests; stops early as `break` would. Marks ready when it waits for more than the caller sends. */
async function pullOne(e: Entry, it: AsyncIterator<PingRequest>): Promise<boolean> {
  if (e.handler.pulled >= e.call.caller.requests) e.markReady();
  let r: IteratorResult<PingRequest>;
  try {
    r = await it.next();
  } catch (err) {
    // The request stream failed (a client hang-up over HTTP/1.1): the handler's end is not its own.
    e.handler.forced = true;
    throw err;
  }
  if (r.done === true) return false;
  e.handler.pulled++;
  return true;
}

async function* clientStream(e: Entry, reqs: AsyncIterable<PingRequest>, ctx: HandlerContext): AsyncGenerator<PingResponse> {
  const it = reqs[Symbol.asyncIterator]();
  let eof = false;
  while (!eof && e.handler.pulled < e.call.handler.pull) eof = !(await pullOne(e, it));
  if (!eof) await it.return?.();
  yield* ending(e, ctx);
  yield response(e.call.id, 0);
}

async function* serverStream(e: Entry, ctx: HandlerContext): AsyncGenerator<PingResponse> {
  const h = e.call.handler;
  for (let i = 0; i < h.yields; i++) {
    await sleep(h.gapMs, ctx.signal);
    yield response(e.call.id, i, h.pad);
  }
  yield* ending(e, ctx);
}

async function* bidi(e: Entry, reqs: AsyncIterable<PingRequest>, ctx: HandlerContext): AsyncGenerator<PingResponse> {
  const h = e.call.handler;
  const it = reqs[Symbol.asyncIterator]();
  let eof = false;
  let i = 0;
  while ((!eof && e.handler.pulled < h.pull) || i < h.yields) {
    if (!eof && e.handler.pulled < h.pull) eof = !(await pullOne(e, it));
    if (i < h.yields) {
      await sleep(h.gapMs, ctx.signal);
      yield response(e.call.id, i++, h.pad);
    }
  }
  if (!eof) await it.return?.();
  yield* ending(e, ctx);
}

/** The single response of a unary or client-stream handler: the last message of its generator. */
async function single(source: AsyncGenerator<PingResponse>): Promise<PingResponse> {
  let last: PingResponse | undefined;
  for await (const m of source) last = m;
  return last ?? response("", 0);
}

/** fuzzRoutes serves PingService with handlers that follow each call's plan. */
export function fuzzRoutes(ledger: Ledger) {
  const begin = (ctx: HandlerContext): Entry => {
    const e = ledger.get(ctx.requestHeader.get(callHeader));
    if (e === undefined) throw new ConnectError("fuzz: unknown call", Code.FailedPrecondition);
    e.entered = true;
    e.handler.startAt ??= performance.now();
    ctx.signal.addEventListener("abort", () => (e.handler.signalAt = Math.round(performance.now())), { once: true });
    return e;
  };
  return (router: ConnectRouter) =>
    router.service(PingService, {
      pingEmpty: async () => response("", 0),
      pingError: async () => ({}),
      async ping(_req, ctx) {
        const e = begin(ctx);
        e.handler.pulled = 1;
        const res = await single(tracked(e, ctx, ending(e, ctx)));
        e.handler.yielded = 1;
        return response(e.call.id, res.counter);
      },
      pingList(_req, ctx) {
        const e = begin(ctx);
        e.handler.pulled = 1;
        return counted(e, tracked(e, ctx, serverStream(e, ctx)));
      },
      async pingClientStream(reqs, ctx) {
        const e = begin(ctx);
        // What it hands on is counted by the server probe (guards.ts).
        return single(tracked(e, ctx, clientStream(e, reqs, ctx)));
      },
      pingStream(reqs, ctx) {
        const e = begin(ctx);
        return counted(e, tracked(e, ctx, bidi(e, reqs, ctx)));
      },
    });
}
