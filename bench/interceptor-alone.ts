// The interceptor alone: one side's interceptor called around a `next` that
// answers at once, with no transport, router or serialization. What it costs
// is then all that is measured, a fraction of a µs, where a call through a
// transport costs tens of µs and varies by more than that.
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import {
  createContextValues,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { Registry } from "prom-client";
import { EchoRequestSchema, EchoResponseSchema, EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { PassThroughCounts, passThroughInterceptor } from "./pass-through.js";
import { allHistograms, counterTotal } from "./variants.js";

/** The variants measured alone: no floor, which has no per-side meaning here. */
export const aloneVariants = ["bare", "pass-through", "defaults", "library"] as const;
export type AloneVariant = (typeof aloneVariants)[number];
export type Side = "server" | "client";
export const sides: readonly Side[] = ["server", "client"];

/** A configuration of scenario 7: one side and one variant. */
export type Config = `${Side} ${AloneVariant}`;

/** The `next` that an interceptor wraps. */
type AnyFn = Parameters<Interceptor>[0];

/** One side's interceptor of a variant, and what it records into. */
export interface Alone {
  /** Undefined for bare. */
  readonly interceptor: Interceptor | undefined;
  /** The calls it counted (`handled_total`, or the pass-through's count); NaN for bare. */
  readonly counted: () => Promise<number>;
}

/** aloneInterceptor makes one side's interceptor of a variant, with its own registry. */
export function aloneInterceptor(side: Side, v: AloneVariant): Alone {
  const registry = new Registry();
  const handled = () => counterTotal(registry, `grpc_${side}_handled_total`);
  switch (v) {
    case "bare":
      return { interceptor: undefined, counted: () => Promise.resolve(NaN) };
    case "pass-through": {
      const counts = new PassThroughCounts();
      return { interceptor: passThroughInterceptor(counts), counted: () => Promise.resolve(counts.calls) };
    }
    case "defaults": {
      const m = side === "server" ? new ServerMetrics({ registry }) : new ClientMetrics({ registry });
      return { interceptor: m.interceptor, counted: handled };
    }
    case "library": {
      const m =
        side === "server"
          ? new ServerMetrics({ registry, ...allHistograms.server })
          : new ClientMetrics({ registry, ...allHistograms.client });
      return { interceptor: m.interceptor, counted: handled };
    }
  }
}

const header = new Headers({ "content-type": "application/proto" });
const trailer = new Headers();
const signal = new AbortController().signal;

/** requestCommon is what every request of a method has. */
function requestCommon(service: DescService, method: DescMethod) {
  return {
    service,
    requestMethod: "POST",
    url: `http://127.0.0.1/${service.typeName}/${method.name}`,
    signal,
    header,
    contextValues: createContextValues(),
  };
}

/** A unary Echo request, and the response that `next` answers at once. */
export function unaryRequest(method: DescMethod = EchoService.method.echo, service: DescService = EchoService): UnaryRequest {
  return {
    ...requestCommon(service, method),
    stream: false,
    method: method as UnaryRequest["method"],
    message: create(EchoRequestSchema, { text: "hello" }),
  };
}

const echoResponse = create(EchoResponseSchema, { text: "hello" });

/** answerUnary is a `next` that answers a unary call at once. */
export const answerUnary: AnyFn = (req) =>
  Promise.resolve<UnaryResponse>({
    stream: false,
    service: req.service,
    method: req.method as UnaryResponse["method"],
    header,
    trailer,
    message: echoResponse,
  });

/** aloneUnary wraps `answerUnary` in an interceptor, or not for bare. */
export function aloneUnary(i: Interceptor | undefined): AnyFn {
  return i === undefined ? answerUnary : i(answerUnary);
}

/** unaryCalls makes `n` calls of `f` one after another. */
export async function unaryCalls(f: AnyFn, req: UnaryRequest, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await f(req);
  }
}

async function* one<T>(m: T): AsyncGenerator<T> {
  yield m;
}

async function* many<T>(m: T, n: number): AsyncGenerator<T> {
  for (let i = 0; i < n; i++) {
    yield m;
  }
}

/**
 * answerStream is a `next` for server-stream calls: it reads the request
 * stream, then answers with a stream of `length` messages, each one ready
 * as soon as it is asked for.
 */
export function answerStream(length: number): AnyFn {
  return async (req) => {
    for await (const _ of req.message as AsyncIterable<unknown>) {
      // The single request message.
    }
    const res: StreamResponse = {
      stream: true,
      service: req.service,
      method: req.method as StreamResponse["method"],
      header,
      trailer,
      message: many(echoResponse, length),
    };
    return res;
  };
}

/** A server-stream EchoStream request with one request message. */
export function streamRequest(): StreamRequest {
  const method = EchoService.method.echoStream;
  return {
    ...requestCommon(EchoService, method),
    stream: true,
    method: method as StreamRequest["method"],
    message: one(create(EchoRequestSchema, { text: "hello", count: 0 })),
  };
}

/** streamCalls makes `n` server-stream calls of `f` and reads every message. */
export async function streamCalls(f: AnyFn, n: number, length: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = (await f(streamRequest())) as StreamResponse;
    let got = 0;
    for await (const _ of res.message) {
      got++;
    }
    if (got !== length) {
      throw new Error(`stream delivered ${got} of ${length} messages`);
    }
  }
}
