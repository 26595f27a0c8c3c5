// The PingService handlers the tests run: each request says how to behave.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  PingResponseSchema,
  PingService,
  ThrowKind,
  type PingRequest,
  type PingResponse,
} from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";

/** routes registers PingService on a Connect router. */
export function routes(router: ConnectRouter): void {
  router.service(PingService, pingService);
}

export const pingService = {
  async pingEmpty() {
    return { value: "empty", counter: 1 };
  },
  async ping(req: PingRequest, ctx: HandlerContext) {
    await behave(req, ctx);
    return { value: req.value, counter: 1 };
  },
  async pingError(req: PingRequest, ctx: HandlerContext) {
    await behave(req, ctx);
    throw failure({ ...req, errorCodeReturned: req.errorCodeReturned || Code.Unknown });
  },
  async *pingList(req: PingRequest, ctx: HandlerContext): AsyncGenerator<PingResponse> {
    for (let i = 0; i < req.responseCount; i++) {
      await sleep(req.sleepTimeMs, ctx.signal);
      yield create(PingResponseSchema, { value: req.value, counter: i });
    }
    await behave({ ...req, sleepTimeMs: 0 }, ctx);
  },
  async pingClientStream(reqs: AsyncIterable<PingRequest>, ctx: HandlerContext) {
    let count = 0;
    let limit = 0;
    let last: PingRequest | undefined;
    for await (const req of reqs) {
      count++;
      last = req;
      if (count === 1) limit = req.readLimit;
      if (limit > 0 && count >= limit) break;
    }
    if (last) await behave(last, ctx);
    return { value: last?.value ?? "", counter: count };
  },
  async *pingStream(reqs: AsyncIterable<PingRequest>, ctx: HandlerContext): AsyncGenerator<PingResponse> {
    let count = 0;
    let limit = 0;
    for await (const req of reqs) {
      count++;
      if (count === 1) limit = req.readLimit;
      if (req.errorCodeReturned !== 0 || req.waitForCancel || req.ignoreCancel) {
        await behave(req, ctx);
      }
      await sleep(req.sleepTimeMs, ctx.signal);
      yield create(PingResponseSchema, { value: req.value, counter: count });
      if (limit > 0 && count >= limit) break;
    }
  },
};

/** behave waits and fails as the request asks. */
async function behave(req: PingRequest, ctx: HandlerContext): Promise<void> {
  if (req.waitForCancel) {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    throw ctx.signal.reason;
  }
  if (req.ignoreCancel) {
    await sleep(req.sleepTimeMs);
  } else if (req.sleepTimeMs > 0) {
    await sleep(req.sleepTimeMs, ctx.signal);
  }
  if (req.errorCodeReturned !== 0) {
    throw failure(req);
  }
}

function failure(req: PingRequest): unknown {
  switch (req.throwKind) {
    case ThrowKind.PLAIN_ERROR:
      return new Error(`plain error for ${req.value}`);
    case ThrowKind.STRING:
      return `string thrown for ${req.value}`;
    case ThrowKind.UNDEFINED:
      return undefined;
    default:
      return new ConnectError(`failing with ${req.errorCodeReturned}`, req.errorCodeReturned as Code);
  }
}

/** Sleeps `ms`; with a signal, rejects with its reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
