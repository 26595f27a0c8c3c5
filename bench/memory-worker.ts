// Child process of scenario 5, run with --expose-gc: many in-process calls of
// one variant, the heap measured after full collections before and after
// them, and the handled counters checked against the number of calls.
import { childArg, serve } from "./child-process.js";
import { inProcessClient, streamBatch, unaryBatch, type EchoClient } from "./in-process-client.js";
import { counterTotal, type Variant } from "./variants.js";

/** How many calls to make. */
export interface MemoryArg {
  /** Calls measured, unary and server-stream together. */
  readonly calls: number;
  /** One call in `streamEvery` is a server stream; the rest are unary. */
  readonly streamEvery: number;
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
  /** Sums of the counters over all series (NaN for bare). */
  readonly serverStarted: number;
  readonly serverHandled: number;
  readonly clientStarted: number;
  readonly clientHandled: number;
  /** Series of the `handled` counters, server and client. */
  readonly handledSeries: number;
}

/** Heap readings after the warm-up, evenly spread over the calls. */
const checkpoints = 8;

/** slope fits y = a + b·x by least squares and returns b. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return num / den;
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

/** calls makes `n` calls from 8 concurrent loops, one in `streamEvery` a stream. */
async function calls(client: EchoClient, n: number, arg: MemoryArg): Promise<void> {
  const loops = 8;
  let next = 0;
  const loop = async () => {
    while (next < n) {
      const i = next++;
      if (i % arg.streamEvery === arg.streamEvery - 1) {
        await streamBatch(client, 1, arg.streamLength);
      } else {
        await unaryBatch(client, 1);
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
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
  const series = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values.length ?? 0;
  return {
    calls: arg.warmupCalls + arg.calls,
    retainedBytesPerCall: slope(points),
    serverStarted: await counterTotal(registry, "grpc_server_started_total"),
    serverHandled: await counterTotal(registry, "grpc_server_handled_total"),
    clientStarted: await counterTotal(registry, "grpc_client_started_total"),
    clientHandled: await counterTotal(registry, "grpc_client_handled_total"),
    handledSeries:
      (await series("grpc_server_handled_total")) + (await series("grpc_client_handled_total")),
  };
}

const { variant } = childArg<{ variant: Variant }>();
serve(null, { run: (arg: MemoryArg) => run(variant, arg) });
