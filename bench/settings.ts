// How much work each scenario does: the full run (about 6 minutes on a busy
// 2-core machine) and `--quick` (about a minute, gRPC only on the network,
// for a first look). Rounds stop early when a scenario's budget is spent.
import type { InProcessArg } from "./in-process-worker.js";
import type { InterceptorArg } from "./interceptor-worker.js";
import type { MemoryArg } from "./memory-worker.js";
import type { OptionsArg } from "./options-worker.js";
import type { ScrapeArg } from "./scrape-worker.js";

/** The network scenarios' settings. */
export interface NetworkSettings {
  /** Rounds at most, and at least; no round starts after the budget. */
  readonly rounds: number;
  readonly minRounds: number;
  readonly budgetMs: number;
  /** Length of one measurement of one pair. */
  readonly durationMs: number;
  /**
   * Each pair's warm-up, per kind of call and protocol: this many unary
   * calls or streams, or `warmupCapMs`, whichever comes first.
   */
  readonly warmupCalls: number;
  readonly warmupStreams: number;
  readonly warmupCapMs: number;
  /** Also measure the Connect protocol, not only gRPC. */
  readonly connectProtocol: boolean;
  readonly unaryInFlight: number;
  readonly streamInFlight: number;
  readonly streamLength: number;
}

/** Every scenario's settings. */
export interface Settings {
  readonly quick: boolean;
  readonly inProcess: InProcessArg;
  readonly network: NetworkSettings;
  readonly memory: MemoryArg;
  /** Scenario 6; undefined where the run leaves it out. */
  readonly options: OptionsArg | undefined;
  /** Scenario 7: each side's interceptor alone. */
  readonly interceptor: InterceptorArg;
  /** Scenario 8: scrape time and heap per method. */
  readonly scrape: ScrapeArg;
}

const full: Settings = {
  quick: false,
  inProcess: {
    rounds: 20,
    minRounds: 5,
    budgetMs: 18_000,
    slices: 10,
    unaryBatch: 200,
    streamBatch: 2,
    streamLength: 1000,
    warmupCalls: 5000,
  },
  network: {
    rounds: 16,
    minRounds: 3,
    budgetMs: 80_000,
    durationMs: 700,
    warmupCalls: 1000,
    warmupStreams: 8,
    warmupCapMs: 2500,
    connectProtocol: true,
    unaryInFlight: 64,
    streamInFlight: 8,
    streamLength: 1000,
  },
  memory: { calls: 200_000, streamEvery: 100, failEvery: 50, streamLength: 10, warmupCalls: 10_000 },
  options: {
    rounds: 20,
    minRounds: 5,
    budgetMs: 20_000,
    slices: 10,
    unaryBatch: 200,
    warmupCalls: 3000,
    payloads: [16, 1024, 16_384],
    sizeBudgetMs: 10_000,
    sizeBatchBytes: 4 * 1024 * 1024,
  },
  interceptor: {
    rounds: 30,
    minRounds: 5,
    budgetMs: 7000,
    slices: 10,
    unaryBatch: 50_000,
    streamBatch: 50,
    streamLength: 1000,
    warmupCalls: 50_000,
    warmupStreams: 50,
  },
  scrape: {
    sizes: [10, 100, 1000],
    baselineCommit: "a4b3fa2",
    rounds: 10,
    minRounds: 3,
    budgetMs: 10_000,
    slices: 6,
    methodsPerBatch: 1000,
    heapMethods: 2000,
  },
};

const quick: Settings = {
  quick: true,
  inProcess: {
    ...full.inProcess,
    rounds: 5,
    minRounds: 3,
    budgetMs: 3000,
    slices: 6,
    unaryBatch: 200,
    streamBatch: 2,
    warmupCalls: 2000,
  },
  network: {
    ...full.network,
    rounds: 2,
    minRounds: 2,
    budgetMs: 0,
    durationMs: 500,
    warmupCalls: 400,
    warmupStreams: 3,
    warmupCapMs: 1000,
    connectProtocol: false,
  },
  memory: { ...full.memory, calls: 10_000, warmupCalls: 3_000 },
  options: {
    ...full.options!,
    rounds: 3,
    minRounds: 3,
    budgetMs: 0,
    slices: 4,
    unaryBatch: 100,
    warmupCalls: 1000,
    sizeBudgetMs: 0,
  },
  interceptor: { ...full.interceptor, rounds: 3, minRounds: 3, budgetMs: 0, slices: 6 },
  scrape: { ...full.scrape, rounds: 2, minRounds: 2, budgetMs: 0, slices: 4, heapMethods: 1000 },
};

/** settings picks the full or the quick settings. */
export function settings(isQuick: boolean): Settings {
  return isQuick ? quick : full;
}
