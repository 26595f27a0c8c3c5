// How much work each scenario does: the full run (about 4 minutes on a
// 2-core machine) and `--quick` (under a minute, for a first look).
import type { InProcessArg } from "./in-process-worker.js";
import type { MemoryArg } from "./memory-worker.js";

/** The network scenarios' settings. */
export interface NetworkSettings {
  readonly rounds: number;
  /** Length of one measurement of one pair. */
  readonly durationMs: number;
  /** Calls in each pair's warm-up, per protocol: unary, then streams. */
  readonly warmupCalls: number;
  readonly warmupStreams: number;
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
}

const full: Settings = {
  quick: false,
  inProcess: {
    rounds: 10,
    slices: 6,
    unaryBatch: 1000,
    streamBatch: 1,
    streamLength: 1000,
    warmupCalls: 5000,
  },
  network: {
    rounds: 8,
    durationMs: 800,
    warmupCalls: 5000,
    warmupStreams: 40,
    unaryInFlight: 64,
    streamInFlight: 8,
    streamLength: 1000,
  },
  memory: { calls: 200_000, streamEvery: 100, streamLength: 10, warmupCalls: 20_000 },
};

const quick: Settings = {
  quick: true,
  inProcess: { ...full.inProcess, rounds: 5, slices: 3, warmupCalls: 2000 },
  network: { ...full.network, rounds: 3, durationMs: 300, warmupCalls: 2500, warmupStreams: 20 },
  memory: { ...full.memory, calls: 40_000, warmupCalls: 10_000 },
};

/** settings picks the full or the quick settings. */
export function settings(isQuick: boolean): Settings {
  return isQuick ? quick : full;
}
