// Child process of scenario 8, run with --expose-gc: server metrics of 10,
// 100 and 1,000 methods, one call each through the interceptor (driven
// directly, around a `next` that answers at once), with the handling-time
// histogram on, in three implementations: today's library, the library at
// an earlier commit (prom-client's own histograms), and the floor's
// prom-client instruments. It measures the heap each keeps per method, and
// times `await registry.metrics()`, all configurations in alternating slices.
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { ServerMetrics } from "../src/index.js";
import { alternate } from "./alternate.js";
import { loadBaseline, type BaselineLibrary } from "./baseline-library.js";
import { serve } from "./child-process.js";
import { floorServerInterceptor } from "./floor-metrics.js";
import { answerUnary, unaryRequest } from "./interceptor-alone.js";
import { manyMethods } from "./many-methods.js";
import { spread } from "./stats.js";

/** The implementations compared. */
export const scrapeImpls = ["library", "baseline", "prom-client"] as const;
export type ScrapeImpl = (typeof scrapeImpls)[number];

/** What the parent asks for. */
export interface ScrapeArg {
  /** Method counts, e.g. 10, 100, 1000. */
  readonly sizes: readonly number[];
  /** The commit of the baseline library. */
  readonly baselineCommit: string;
  readonly rounds: number;
  readonly minRounds: number;
  readonly budgetMs: number;
  readonly slices: number;
  /** Methods read per batch: a batch scrapes max(1, methodsPerBatch / size) times. */
  readonly methodsPerBatch: number;
  /** Methods per heap reading: at small sizes, as many registries as it takes. */
  readonly heapMethods: number;
}

/** One configuration's findings. */
export interface ScrapeConfigResult {
  readonly impl: ScrapeImpl;
  readonly size: number;
  /** Heap kept per method, after forced GCs: registry, metrics and one call each. */
  readonly heapPerMethod: number;
  /** Sample lines (not comments) of the exposition. */
  readonly samples: number;
  /** Per round, the median over slices of CPU and wall ms per scrape. */
  readonly cpuMs: number[];
  readonly wallMs: number[];
}

/** The findings, and why the baseline is missing if it is. */
export interface ScrapeResult {
  readonly configs: ScrapeConfigResult[];
  readonly baselineMissing: string | undefined;
}

const t0 = performance.now();
/** With BENCH_DEBUG set, prints how long the phases take. */
function debug(what: string): void {
  if (process.env.BENCH_DEBUG !== undefined) {
    console.error(`scrape-worker: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

async function heapAfterGc(): Promise<number> {
  if (gc === undefined) {
    throw new Error("scrape-worker needs --expose-gc");
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** build makes one implementation's server metrics and calls each method once. */
async function build(impl: ScrapeImpl, baseline: BaselineLibrary | undefined, methods: readonly DescMethod[]): Promise<Registry> {
  const registry = new Registry();
  let interceptor: Interceptor;
  switch (impl) {
    case "library":
      interceptor = new ServerMetrics({ registry, handlingTimeHistogram: true }).interceptor;
      break;
    case "baseline":
      interceptor = new baseline!.ServerMetrics({ registry, handlingTimeHistogram: true }).interceptor;
      break;
    case "prom-client":
      interceptor = floorServerInterceptor(registry);
      break;
  }
  const call = interceptor(answerUnary);
  for (const m of methods) {
    await call(unaryRequest(m, m.parent));
  }
  return registry;
}

/**
 * measureHeap builds as many registries of one implementation as it takes to
 * span `heapMethods` methods, and reads the heap they keep per method. It is
 * a function of its own so that no register of a suspended async frame keeps
 * a registry alive into the next reading.
 */
async function measureHeap(
  impl: ScrapeImpl,
  baseline: BaselineLibrary | undefined,
  methods: readonly DescMethod[],
  heapMethods: number,
): Promise<{ perMethod: number; registry: Registry }> {
  const copies = Math.max(1, Math.ceil(heapMethods / methods.length));
  const kept: Registry[] = [];
  const before = await heapAfterGc();
  for (let i = 0; i < copies; i++) {
    const registry = await build(impl, baseline, methods);
    await registry.metrics();
    kept.push(registry);
  }
  const perMethod = ((await heapAfterGc()) - before) / (methods.length * copies);
  debug(`${impl} ${methods.length}: ${perMethod.toFixed(0)} B per method`);
  return { perMethod, registry: kept[0] };
}

const median = (xs: readonly number[]) => spread(xs).median;

async function run(arg: ScrapeArg): Promise<ScrapeResult> {
  const loaded = await loadBaseline(arg.baselineCommit);
  const baseline = typeof loaded === "string" ? undefined : loaded;
  const impls = scrapeImpls.filter((i) => i !== "baseline" || baseline !== undefined);
  const methods = new Map(arg.sizes.map((n) => [n, manyMethods(n)]));
  // Warm-up: build and read each implementation once, so that the heap
  // figures leave out compiled code and one-off caches.
  for (const impl of impls) {
    const r = await build(impl, baseline, manyMethods(10));
    await r.metrics();
  }
  type Key = `${ScrapeImpl} ${number}`;
  const registries = new Map<Key, Registry>();
  const heap = new Map<Key, number>();
  for (const size of arg.sizes) {
    for (const impl of impls) {
      const m = await measureHeap(impl, baseline, methods.get(size)!, arg.heapMethods);
      heap.set(`${impl} ${size}`, m.perMethod);
      registries.set(`${impl} ${size}`, m.registry);
    }
  }
  debug("built");
  const keys = [...registries.keys()];
  const scrapes = (key: Key) => Math.max(1, Math.round(arg.methodsPerBatch / Number(key.split(" ")[1])));
  for (const key of keys) {
    for (let i = 0; i < scrapes(key); i++) await registries.get(key)!.metrics();
  }
  debug("warmed up");
  const rounds = await alternate({
    ...arg,
    variants: keys,
    batch: async (key) => {
      const registry = registries.get(key)!;
      for (let i = scrapes(key); i > 0; i--) await registry.metrics();
    },
  });
  debug("timed");
  const configs: ScrapeConfigResult[] = [];
  for (const key of keys) {
    const [impl, size] = key.split(" ") as [ScrapeImpl, string];
    const text = await registries.get(key)!.metrics();
    const k = scrapes(key);
    configs.push({
      impl,
      size: Number(size),
      heapPerMethod: heap.get(key)!,
      samples: text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length,
      cpuMs: rounds.map((slices) => median(slices.map((s) => s[key].cpuMs / k))),
      wallMs: rounds.map((slices) => median(slices.map((s) => s[key].wallMs / k))),
    });
  }
  return { configs, baselineMissing: typeof loaded === "string" ? loaded : undefined };
}

serve(null, { run: (arg: ScrapeArg) => run(arg) });
