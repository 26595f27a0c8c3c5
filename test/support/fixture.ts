// One fresh registry, ServerMetrics, ClientMetrics and server per test.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { Registry } from "prom-client";
import {
  ClientMetrics,
  ServerMetrics,
  type ClientMetricsOptions,
  type ServerMetricsOptions,
} from "../../src/index.js";
import type { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { pingClient, quiesce, series, startServer, type Protocol, type TestServer } from "./harness.js";

export interface Fixture {
  registry: Registry;
  serverMetrics: ServerMetrics;
  clientMetrics: ClientMetrics;
  server: TestServer;
  /** An instrumented PingService client over a protocol. */
  client(p: Protocol): Client<typeof PingService>;
  /** Waits until every call is handled, then reads the series of a side. */
  settled(prefix: string): Promise<Record<string, number>>;
}

/**
 * useFixture registers beforeEach/afterEach hooks that give every test its
 * own registry, metrics and server, with both interceptors first in line.
 */
export function useFixture(
  options: { server?: ServerMetricsOptions; client?: ClientMetricsOptions } = {},
): Fixture {
  const f = {} as Fixture;
  beforeEach(async () => {
    f.registry = new Registry();
    f.serverMetrics = new ServerMetrics({ registry: f.registry, ...options.server });
    f.clientMetrics = new ClientMetrics({ registry: f.registry, ...options.client });
    f.server = await startServer([f.serverMetrics.interceptor]);
    f.client = (p) => pingClient(f.server, p, [f.clientMetrics.interceptor]);
    f.settled = async (prefix) => {
      await quiesce(f.registry);
      return series(f.registry, prefix);
    };
  });
  afterEach(async () => {
    await f.server.close();
  });
  return f;
}

/** Runs `fn` and returns the Connect code name it failed with, or "OK". */
export async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "OK";
  } catch (e) {
    return Code[ConnectError.from(e).code];
  }
}

/**
 * Runs a call (a promise, or a response stream it reads to the end) and
 * returns the Connect code name it ended with, or "OK", and how many
 * messages it delivered.
 */
export async function codeAndCount(
  fn: () => Promise<unknown> | AsyncIterable<unknown>,
): Promise<[string, number]> {
  let n = 0;
  try {
    const r = fn();
    if (Symbol.asyncIterator in r) {
      for await (const _ of r) n++;
    } else {
      await r;
      n = 1;
    }
    return ["OK", n];
  } catch (e) {
    return [Code[ConnectError.from(e).code], n];
  }
}

/** Reads a whole response stream, returning how many messages arrived. */
export async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

/** An async iterable of the given requests. */
export async function* requests<T>(...items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
