// Shared helpers of the fault tests: a fresh registry and server per test,
// expected series built from per-call tallies, the invariants of issue 3, and
// a PingService whose handlers report what they really pulled and produced.
import { EventEmitter } from "node:events";
import { expect } from "chai";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  PingRequestSchema,
  PingResponseSchema,
  PingService,
  ThrowKind,
  type PingRequest,
  type PingResponse,
} from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { counters, type MethodCounts } from "../support/expect.js";
import {
  pingClient,
  quiesce,
  series,
  startServer,
  type Protocol,
  type TestServer,
} from "../support/harness.js";
import { pingService, sleep } from "../support/ping-service.js";

export type Side = "server" | "client";
export type MethodName =
  | "PingEmpty"
  | "Ping"
  | "PingError"
  | "PingList"
  | "PingClientStream"
  | "PingStream";

export const methodTypes: Readonly<Record<MethodName, MethodCounts["type"]>> = {
  PingEmpty: "unary",
  Ping: "unary",
  PingError: "unary",
  PingList: "server_stream",
  PingClientStream: "client_stream",
  PingStream: "bidi_stream",
};

/** The 17 code names, indexed by number. */
export const codeNames = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
  "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
  "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
  "Unauthenticated",
] as const;
export type CodeName = (typeof codeNames)[number];

/** What one side did in one call (or in many, summed). */
export interface CallCounts {
  received: number;
  sent: number;
  code: CodeName;
}

/**
 * Tally adds up calls per side and method into the exact series `counters()`
 * renders, so a test can state each call and compare the whole registry.
 */
export class Tally {
  private readonly sides: Record<Side, Map<MethodName, { started: number; received: number; sent: number; handled: Record<string, number> }>> = {
    server: new Map(),
    client: new Map(),
  };

  add(side: Side, method: MethodName, c: CallCounts): this {
    let m = this.sides[side].get(method);
    if (!m) {
      m = { started: 0, received: 0, sent: 0, handled: {} };
      this.sides[side].set(method, m);
    }
    m.started++;
    m.received += c.received;
    m.sent += c.sent;
    m.handled[c.code] = (m.handled[c.code] ?? 0) + 1;
    return this;
  }

  /** One call seen from both sides. */
  call(method: MethodName, server: CallCounts | undefined, client: CallCounts | undefined): this {
    if (server) this.add("server", method, server);
    if (client) this.add("client", method, client);
    return this;
  }

  series(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const side of ["server", "client"] as const) {
      const methods: MethodCounts[] = [...this.sides[side]].map(([method, m]) => ({
        type: methodTypes[method],
        method,
        ...m,
      }));
      Object.assign(out, counters(side, methods));
    }
    return out;
  }
}

/** The four counters of both sides (no histograms). */
export function counterSeries(s: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(s).filter(([k]) =>
      /^grpc_(server|client)_(started|handled|msg_received|msg_sent)_total\{/.test(k),
    ),
  );
}

const labelRe = /^(grpc_\w+?)\{(.*)\}$/;

function parseKey(k: string): { name: string; labels: Record<string, string> } {
  const m = labelRe.exec(k);
  if (!m) return { name: k, labels: {} };
  const labels: Record<string, string> = {};
  for (const part of m[2].match(/\w+="[^"]*"/g) ?? []) {
    const at = part.indexOf("=");
    labels[part.slice(0, at)] = part.slice(at + 2, -1);
  }
  return { name: m[1], labels };
}

/**
 * assertInvariants checks issue 3's structural invariants on a quiesced
 * registry and returns how many checks it made:
 * - started == Σ handled per method and side (exactly once);
 * - every label value is one of the service's methods, types and 17 codes
 *   (bad input creates no new label values);
 * - handled series per side ≤ methods × codes;
 * - in flight is 0.
 */
export function assertInvariants(s: Record<string, number>): number {
  let checks = 0;
  const started = new Map<string, number>();
  const handled = new Map<string, number>();
  const handledSeries: Record<Side, number> = { server: 0, client: 0 };
  for (const [k, v] of Object.entries(s)) {
    const { name, labels } = parseKey(k);
    const side = /^grpc_(server|client)_/.exec(name)?.[1] as Side | undefined;
    if (!side) continue;
    if (labels.grpc_service !== undefined) {
      expect(labels.grpc_service, k).to.equal(PingService.typeName);
      expect(Object.keys(methodTypes), k).to.include(labels.grpc_method);
      expect(labels.grpc_type, k).to.equal(methodTypes[labels.grpc_method as MethodName]);
      checks += 3;
    }
    const id = `${side} ${labels.grpc_method}`;
    if (name.endsWith("_started_total")) {
      started.set(id, (started.get(id) ?? 0) + v);
    } else if (name.endsWith("_handled_total")) {
      expect(codeNames, k).to.include(labels.grpc_code);
      checks++;
      handled.set(id, (handled.get(id) ?? 0) + v);
      handledSeries[side]++;
    }
  }
  for (const id of new Set([...started.keys(), ...handled.keys()])) {
    expect(handled.get(id) ?? 0, `handled exactly once: Σ handled == started for ${id}`).to.equal(
      started.get(id) ?? 0,
    );
    checks++;
  }
  for (const side of ["server", "client"] as const) {
    expect(handledSeries[side]).to.be.at.most(Object.keys(methodTypes).length * codeNames.length);
    checks++;
  }
  return checks;
}

/** A registry with both sides' metrics, a server, and clients on demand. */
export interface Rig {
  readonly registry: Registry;
  readonly server: TestServer;
  readonly serverMetrics: ServerMetrics;
  readonly clientMetrics: ClientMetrics;
  readonly errors: unknown[];
  client(p: Protocol, interceptors?: Interceptor[]): ReturnType<typeof pingClient>;
  /** The counter series after quiesce. */
  counters(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface RigOptions {
  routes?: (router: ConnectRouter) => void;
  adapter?: Partial<Parameters<typeof connectNodeAdapter>[0]>;
  /** Put the server interceptor in the chain (default true). */
  instrumentServer?: boolean;
  /** More server interceptors, outside the metrics one. */
  serverInterceptors?: Interceptor[];
  /** Wire `serverMetrics.contextValues` into the adapter, so resets are seen. */
  observeResets?: boolean;
}

export async function rig(opts: RigOptions = {}): Promise<Rig> {
  const registry = new Registry();
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  const serverMetrics = new ServerMetrics({ registry, onError });
  const clientMetrics = new ClientMetrics({ registry, onError });
  const own = opts.adapter?.contextValues;
  const adapter = opts.observeResets
    ? { ...opts.adapter, contextValues: (req: Parameters<typeof serverMetrics.contextValues>[0]) => serverMetrics.contextValues(req, own?.(req as never)) }
    : opts.adapter;
  const server = await startServer(
    [...(opts.serverInterceptors ?? []), ...(opts.instrumentServer === false ? [] : [serverMetrics.interceptor])],
    opts.routes,
    adapter,
  );
  return {
    registry,
    server,
    serverMetrics,
    clientMetrics,
    errors,
    client(p, interceptors = [clientMetrics.interceptor]) {
      return pingClient(server, p, interceptors);
    },
    async counters() {
      await quiesce(registry, 5000);
      return counterSeries(await series(registry));
    },
    close: () => server.close(),
  };
}

/** The code name of whatever a call threw (or OK). */
export function codeOf(e: unknown): CodeName {
  if (e === undefined) return "OK";
  const code = (e as { code?: unknown }).code;
  if (typeof code === "number" && code >= 1 && code <= 16) return codeNames[code];
  throw new Error(`not a ConnectError: ${String(e)}`);
}

/** Runs `fn` and returns the code it ended with. */
export async function settle(fn: () => Promise<unknown>): Promise<CodeName> {
  try {
    await fn();
    return "OK";
  } catch (e) {
    return codeOf(e);
  }
}

/** Resolves after `ms`. */
export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 2 ms, for at most `ms`; throws if it never holds. */
export async function until(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

export type PingInit = MessageInitShape<typeof PingRequestSchema>;

/** A request generator that counts what the transport pulled. */
export function requests(
  msgs: PingInit[],
  pulled: { n: number },
  then?: () => Promise<void>,
): AsyncIterable<PingInit> {
  return (async function* () {
    for (const m of msgs) {
      pulled.n++;
      yield m;
    }
    if (then) await then();
  })();
}

/**
 * Ground truth of the server side: per call id (`x-call` request header),
 * the request messages the handler pulled and the responses it produced.
 */
export interface HandlerTruth {
  pulled: number;
  produced: number;
  done: boolean;
  /** Whether the call's signal had aborted when the handler finished. */
  abortedAtEnd?: boolean;
}

async function* ignoringList(req: PingRequest): AsyncGenerator<PingResponse> {
  for (let i = 0; i < req.responseCount; i++) {
    await sleep(req.sleepTimeMs);
    yield create(PingResponseSchema, { value: req.value, counter: i });
  }
  if (req.errorCodeReturned !== 0) {
    // As the shared handler fails (ping-service.ts failure()).
    if (req.throwKind === ThrowKind.PLAIN_ERROR) throw new Error(`plain error for ${req.value}`);
    if (req.throwKind === ThrowKind.STRING) throw `string thrown for ${req.value}`;
    if (req.throwKind === ThrowKind.UNDEFINED) throw undefined;
    throw new ConnectError(`failing with ${req.errorCodeReturned}`, req.errorCodeReturned as Code);
  }
}

/**
 * truthEvents emits a call's id whenever its HandlerTruth changes state
 * (started, done), so that a load test can wait without polling.
 */
export const truthEvents = new EventEmitter().setMaxListeners(0);

/** Resolves once `cond` holds for `id`'s truth (checked on each change). */
export function whenTruth(
  truth: Map<string, HandlerTruth>,
  id: string,
  cond: (t: HandlerTruth | undefined) => boolean,
  ms = 10000,
): Promise<void> {
  if (cond(truth.get(id))) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (changed: string) => {
      if (changed === id && cond(truth.get(id))) {
        truthEvents.off("change", check);
        clearTimeout(timer);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      truthEvents.off("change", check);
      reject(new Error(`timed out waiting for handler ${id}: ${JSON.stringify(truth.get(id))}`));
    }, ms);
    truthEvents.on("change", check);
  });
}

/**
 * tracedRoutes serves PingService through the shared test handlers, but
 * counts what each call's handler pulls and produces, keyed by `x-call`.
 */
export function tracedRoutes(truth: Map<string, HandlerTruth>) {
  const idOf = (ctx: HandlerContext) => ctx.requestHeader.get("x-call") ?? "";
  const track = (ctx: HandlerContext): HandlerTruth => {
    const id = ctx.requestHeader.get("x-call") ?? `anon-${truth.size}`;
    const t: HandlerTruth = { pulled: 0, produced: 0, done: false };
    // Set `done` last, once the signal's state is read.
    let done = false;
    Object.defineProperty(t, "done", {
      enumerable: true,
      get: () => done,
      set: (v: boolean) => {
        if (v && !done) t.abortedAtEnd = ctx.signal.aborted;
        done = v;
        truthEvents.emit("change", id);
      },
    });
    truth.set(id, t);
    truthEvents.emit("change", id);
    return t;
  };
  async function* pull(t: HandlerTruth, reqs: AsyncIterable<PingRequest>, id: string) {
    for await (const r of reqs) {
      t.pulled++;
      truthEvents.emit("change", id);
      yield r;
    }
  }
  async function* produce(t: HandlerTruth, out: AsyncIterable<PingResponse>) {
    try {
      for await (const r of out) {
        t.produced++;
        yield r;
      }
    } finally {
      t.done = true;
    }
  }
  return (router: ConnectRouter) =>
    router.service(PingService, {
      async pingEmpty() {
        return pingService.pingEmpty();
      },
      async ping(req, ctx) {
        const t = track(ctx);
        t.pulled = 1;
        try {
          const res = await pingService.ping(req, ctx);
          t.produced = 1;
          return res;
        } finally {
          t.done = true;
        }
      },
      async pingError(req, ctx) {
        const t = track(ctx);
        t.pulled = 1;
        try {
          return await pingService.pingError(req, ctx);
        } finally {
          t.done = true;
        }
      },
      pingList(req, ctx) {
        const t = track(ctx);
        t.pulled = 1;
        // ignore_cancel on a server stream: sleep before each response
        // without looking at the signal (the shared handler always looks).
        const source = req.ignoreCancel ? ignoringList(req) : pingService.pingList(req, ctx);
        return produce(t, source);
      },
      async pingClientStream(reqs, ctx) {
        const t = track(ctx);
        try {
          const res = await pingService.pingClientStream(pull(t, reqs, idOf(ctx)), ctx);
          t.produced = 1;
          return res;
        } finally {
          t.done = true;
        }
      },
      pingStream(reqs, ctx) {
        const t = track(ctx);
        return produce(t, pingService.pingStream(pull(t, reqs, idOf(ctx)), ctx));
      },
    });
}

/** started minus handled on one side, over every method. */
export function inFlightOf(s: Record<string, number>, side: Side): number {
  let n = 0;
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith(`grpc_${side}_started_total{`)) n += v;
    if (k.startsWith(`grpc_${side}_handled_total{`)) n -= v;
  }
  return n;
}

/** mulberry32: a small seeded PRNG, so that a failing mix of calls can be replayed. */
export function prng(a: number) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * cancelWhileSending makes the two calls of connect-node's known limit over
 * HTTP/2: a client stream and a bidi stream, each cancelled by its caller
 * while it still has requests to send (the handler has pulled two). Both
 * callers see Canceled; what the server records is up to the test.
 */
export async function cancelWhileSending(
  client: ReturnType<Rig["client"]>,
  truth: Map<string, HandlerTruth>,
): Promise<void> {
  const open = (signal: AbortSignal) => () =>
    new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));

  const ac = new AbortController();
  const done = settle(() =>
    client.pingClientStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }, open(ac.signal)), {
      signal: ac.signal,
      headers: { "x-call": "cs" },
    }),
  );
  await until(() => truth.get("cs")?.pulled === 2);
  ac.abort();
  expect(await done).to.equal("Canceled");

  const ac2 = new AbortController();
  let got = 0;
  const done2 = settle(async () => {
    for await (const _ of client.pingStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }, open(ac2.signal)), {
      signal: ac2.signal,
      headers: { "x-call": "bidi" },
    })) {
      if (++got === 2) ac2.abort();
    }
  });
  expect(await done2).to.equal("Canceled");
}
