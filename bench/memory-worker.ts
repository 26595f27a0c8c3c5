// Child process of scenario 5, run with --expose-gc: many in-process calls of
// one variant (unary, server-stream and failing), the heap measured after
// full collections as they go, and the counters summed for the parent to
// check against the number of calls.
import { ConnectError } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { childArg, serve } from "./child-process.js";
import { failText } from "./echo-routes.js";
import { inProcessClient, streamBatch, unaryBatch, type EchoClient } from "./in-process-client.js";
import { counterTotal, type Variant } from "./variants.js";

/** How many calls to make. */
export interface MemoryArg {
  /** Calls measured, unary and server-stream together. */
  readonly calls: number;
  /** One call in `streamEvery` is a server stream; the rest are unary. */
  readonly streamEvery: number;
  /** One call in `failEvery` is a unary call that fails, codes 1-16 in turn. */
  readonly failEvery: number;
  readonly streamLength: number;
  /** Calls before the first heap reading. */
  readonly warmupCalls: number;
}

/** What one variant's run found. */
export interface MemoryResult {
  /** Calls made in all, warm-up included. */
  readonly calls: number;
  /**
   * Heap growth per call: the least-squares slope of the heap, read after
   * full GCs at checkpoints, over the calls made. A slope ignores one-off
   * growth (optimised code, caches) that a single before/after would count.
   */
  readonly retainedBytesPerCall: number;
  /** The slope's standard error, in bytes per call. */
  readonly retainedStdErr: number;
  /** Sums of the counters over all series (NaN for bare). */
  readonly serverStarted: number;
  readonly serverHandled: number;
  readonly clientStarted: number;
  readonly clientHandled: number;
  /** Calls made that failed on purpose, and the non-OK handled sums. */
  readonly failedCalls: number;
  readonly serverFailed: number;
  readonly clientFailed: number;
  /** Series of the `handled` counters, server and client. */
  readonly handledSeries: number;
}

/** Heap readings after the warm-up, evenly spread over the calls. */
const checkpoints = 8;

/**
 * slope fits y = a + b·x by least squares and returns b with its standard
 * error, which measures how far the heap readings stray from a line.
 */
function slope(points: readonly [number, number][]): { b: number; se: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  const b = num / den;
  const a = my - b * mx;
  const sse = points.reduce((s, [x, y]) => s + (y - a - b * x) ** 2, 0);
  return { b, se: Math.sqrt(sse / (n - 2) / den) };
}

const gc = (globalThis as { gc?: () => void }).gc;

/** heapAfterGc collects everything it can, then reads the used heap. */
async function heapAfterGc(): Promise<number> {
  if (gc === undefined) {
    throw new Error("memory-worker needs --expose-gc");
  }
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** failingCall makes a unary call that fails with `code`, and checks that it did. */
let failedCalls = 0;

async function failingCall(client: EchoClient, code: number): Promise<void> {
  try {
    await client.echo({ text: failText, count: code });
  } catch (e) {
    if (ConnectError.from(e).code === code) {
      failedCalls++;
      return;
    }
    throw e;
  }
  throw new Error("the call did not fail");
}

/**
 * calls makes `n` calls from 8 concurrent loops: one in `streamEvery` a
 * stream, one in `failEvery` a failing unary call, the rest successful unary
 * calls.
 */
async function calls(client: EchoClient, n: number, arg: MemoryArg): Promise<void> {
  const loops = 8;
  let next = 0;
  const loop = async () => {
    while (next < n) {
      const i = next++;
      if (i % arg.streamEvery === arg.streamEvery - 1) {
        await streamBatch(client, 1, arg.streamLength);
      } else if (i % arg.failEvery === 0) {
        await failingCall(client, 1 + ((i / arg.failEvery) % 16));
      } else {
        await unaryBatch(client, 1);
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
}

/** notOk sums a handled counter's series whose code is not OK. */
async function notOk(registry: Registry, name: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => v.labels.grpc_code !== "OK").reduce((sum, v) => sum + v.value, 0);
}

async function run(variant: Variant, arg: MemoryArg): Promise<MemoryResult> {
  const { client, registry } = inProcessClient(variant);
  await calls(client, arg.warmupCalls, arg);
  const points: [number, number][] = [[0, await heapAfterGc()]];
  const per = Math.ceil(arg.calls / checkpoints);
  for (let done = 0; done < arg.calls; done += per) {
    await calls(client, Math.min(per, arg.calls - done), arg);
    points.push([Math.min(done + per, arg.calls), await heapAfterGc()]);
  }
  if (process.env.BENCH_DEBUG !== undefined) {
    console.error(variant, points.map(([x, y]) => `${x}:${(y / 1024).toFixed(0)}K`).join(" "));
  }
  const fit = slope(points);
  const series = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values.length ?? 0;
  return {
    calls: arg.warmupCalls + arg.calls,
    retainedBytesPerCall: fit.b,
    retainedStdErr: fit.se,
    serverStarted: await counterTotal(registry, "grpc_server_started_total"),
    serverHandled: await counterTotal(registry, "grpc_server_handled_total"),
    clientStarted: await counterTotal(registry, "grpc_client_started_total"),
    clientHandled: await counterTotal(registry, "grpc_client_handled_total"),
    failedCalls,
    serverFailed: await notOk(registry, "grpc_server_handled_total"),
    clientFailed: await notOk(registry, "grpc_client_handled_total"),
    handledSeries:
      (await series("grpc_server_handled_total")) + (await series("grpc_client_handled_total")),
  };
}

const { variant } = childArg<{ variant: Variant }>();
serve(null, { run: (arg: MemoryArg) => run(variant, arg) });
