// The floor: the cheapest instrumentation with prom-client that still counts
// what go-grpc-prometheus counts. It binds label children once per method and
// per call only increments counters, reads the clock twice and observes one
// histogram; per message it only increments a counter. It has none of the
// library's edge cases (codes from deadlines, aborted streams, per-message
// timings), so the library can only come close to it, never below.
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { Counter, Histogram, type Registry } from "prom-client";

type Child = Counter.Internal;
type Timer = Histogram.Internal<string>;

const kinds: Readonly<Record<string, string>> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/** The bound children of one method. */
class FloorMethod {
  readonly started: Child;
  readonly received: Child;
  readonly sent: Child;
  readonly handling: Timer;
  /** `handled` children by code number, bound on first use. */
  private readonly handled: Child[] = [];
  private readonly labels: Record<string, string>;

  constructor(
    private readonly m: FloorMetricSet,
    method: DescMethod,
  ) {
    this.labels = {
      grpc_type: kinds[method.methodKind],
      grpc_service: method.parent.typeName,
      grpc_method: method.name,
    };
    this.started = m.started.labels(this.labels);
    this.received = m.received.labels(this.labels);
    this.sent = m.sent.labels(this.labels);
    this.handling = m.handling.labels(this.labels);
  }

  /** Records the end of a call with `code` (0 = OK), started at `start`. */
  done(code: number, start: number): void {
    let child = this.handled[code];
    if (child === undefined) {
      const name = code === 0 ? "OK" : String(code);
      child = this.m.handledCounter.labels({ ...this.labels, grpc_code: name });
      this.handled[code] = child;
    }
    child.inc();
    this.handling.observe((performance.now() - start) / 1000);
  }
}

/** The instruments of one side, registered once. */
class FloorMetricSet {
  readonly started: Counter<string>;
  readonly handledCounter: Counter<string>;
  readonly received: Counter<string>;
  readonly sent: Counter<string>;
  readonly handling: Histogram<string>;
  private readonly methods = new WeakMap<DescMethod, FloorMethod>();

  constructor(registry: Registry, side: "server" | "client") {
    const labelNames = ["grpc_type", "grpc_service", "grpc_method"];
    const counter = (name: string, names = labelNames) =>
      new Counter({ name: `grpc_${side}_${name}`, help: name, labelNames: names, registers: [registry] });
    this.started = counter("started_total");
    this.handledCounter = counter("handled_total", [...labelNames, "grpc_code"]);
    this.received = counter("msg_received_total");
    this.sent = counter("msg_sent_total");
    this.handling = new Histogram({
      name: `grpc_${side}_handling_seconds`,
      help: "handling",
      labelNames,
      registers: [registry],
    });
  }

  method(method: DescMethod): FloorMethod {
    let m = this.methods.get(method);
    if (m === undefined) {
      m = new FloorMethod(this, method);
      this.methods.set(method, m);
    }
    return m;
  }
}

/**
 * floorInterceptors makes the floor's server and client interceptors, with
 * their metrics in `registry`.
 */
export function floorInterceptors(registry: Registry): {
  server: Interceptor;
  client: Interceptor;
} {
  return {
    server: floorInterceptor(new FloorMetricSet(registry, "server"), "server"),
    client: floorInterceptor(new FloorMetricSet(registry, "client"), "client"),
  };
}

/**
 * floorServerInterceptor makes the floor's server interceptor alone, with its
 * metrics in `registry`: the scrape scenario's prom-client reference.
 */
export function floorServerInterceptor(registry: Registry): Interceptor {
  return floorInterceptor(new FloorMetricSet(registry, "server"), "server");
}

/**
 * One side's interceptor. The request direction counts as `received` on the
 * server and `sent` on the client, and the response direction the other way.
 */
function floorInterceptor(set: FloorMetricSet, side: "server" | "client"): Interceptor {
  return (next) => async (req) => {
    const m = set.method(req.method);
    const start = performance.now();
    m.started.inc();
    const inbound = side === "server" ? m.received : m.sent;
    const outbound = side === "server" ? m.sent : m.received;
    if (!req.stream) {
      inbound.inc();
      try {
        const res = await next(req);
        outbound.inc();
        m.done(0, start);
        return res;
      } catch (e) {
        m.done(ConnectError.from(e).code, start);
        throw e;
      }
    }
    let res: StreamResponse;
    try {
      res = (await next({ ...req, message: new Counted(req.message, inbound, undefined) })) as StreamResponse;
    } catch (e) {
      m.done(ConnectError.from(e).code, start);
      throw e;
    }
    return { ...res, message: new Counted(res.message, outbound, (code) => m.done(code, start)) };
  };
}

/**
 * Counted is the smallest async iterator wrapper that counts messages and
 * reports the end of the stream. (A wrapper may end a call twice, on return()
 * then on a thrown error; the floor does not guard against it, the benchmark's
 * calls never do either.)
 */
class Counted<T> implements AsyncIterableIterator<T> {
  private readonly it: AsyncIterator<T>;

  constructor(
    source: AsyncIterable<T>,
    private readonly counter: Child,
    private readonly onEnd: ((code: number) => void) | undefined,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().then(this.step, this.fail);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.onEnd?.(1);
    return this.it.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
  }

  /** Connect aborts a stream through throw(), so it must be there. */
  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.onEnd?.(ConnectError.from(error).code);
    return this.it.throw?.(error) ?? Promise.reject(error);
  }

  private readonly step = (r: IteratorResult<T>): IteratorResult<T> => {
    if (r.done !== true) {
      this.counter.inc();
    } else {
      this.onEnd?.(0);
    }
    return r;
  };

  private readonly fail = (e: unknown): never => {
    this.onEnd?.(ConnectError.from(e).code);
    throw e;
  };
}
