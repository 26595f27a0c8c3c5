// Child process of scenario 7: each side's interceptor alone (see
// interceptor-alone.ts), every variant, timed in alternating slices as in
// scenario 1: unary calls, then server streams. It reports raw ns per call
// or message, and the calls each interceptor counted.
import { alternate, type Sample, type Slice } from "./alternate.js";
import { serve } from "./child-process.js";
import {
  aloneInterceptor,
  aloneUnary,
  aloneVariants,
  answerStream,
  streamCalls,
  unaryCalls,
  unaryRequest,
  sides,
  type Alone,
  type AloneVariant,
  type Config,
  type Side,
} from "./interceptor-alone.js";

/** What the parent asks for. */
export interface InterceptorArg {
  readonly rounds: number;
  readonly minRounds: number;
  /** Time budget of the unary part and of the stream part, each. */
  readonly budgetMs: number;
  readonly slices: number;
  /** Unary calls per batch. */
  readonly unaryBatch: number;
  /** Server-stream calls per batch, and messages per stream. */
  readonly streamBatch: number;
  readonly streamLength: number;
  /** Unary calls, and streams, per configuration before measuring. */
  readonly warmupCalls: number;
  readonly warmupStreams: number;
}

const configs: readonly Config[] = sides.flatMap((side) => aloneVariants.map((v) => `${side} ${v}` as const));

/** One slice: per configuration, CPU and wall-clock ns per call or message. */
export type ConfigSlice = Record<Config, { readonly cpuNs: number; readonly wallNs: number }>;

/** The timings by round and slice; the calls counted against the calls made. */
export interface InterceptorResult {
  readonly unary: ConfigSlice[][];
  readonly stream: ConfigSlice[][];
  readonly counted: Partial<Record<Config, number>>;
  readonly calls: number;
}

function perUnit(rounds: readonly Slice<Config>[][], units: number): ConfigSlice[][] {
  const one = (x: Sample) => ({ cpuNs: (x.cpuMs * 1e6) / units, wallNs: (x.wallMs * 1e6) / units });
  return rounds.map((slices) =>
    slices.map((s) => Object.fromEntries(configs.map((c) => [c, one(s[c])])) as ConfigSlice),
  );
}

async function run(arg: InterceptorArg): Promise<InterceptorResult> {
  const built = new Map<Config, Alone>();
  for (const c of configs) {
    const [side, v] = c.split(" ") as [Side, AloneVariant];
    built.set(c, aloneInterceptor(side, v));
  }
  const interceptor = (c: Config) => built.get(c)!.interceptor;
  const unary = new Map(configs.map((c) => [c, aloneUnary(interceptor(c))]));
  const stream = new Map(
    configs.map((c) => {
      const next = answerStream(arg.streamLength);
      const i = interceptor(c);
      return [c, i === undefined ? next : i(next)];
    }),
  );
  const req = unaryRequest();
  for (const c of configs) {
    await unaryCalls(unary.get(c)!, req, arg.warmupCalls);
    await streamCalls(stream.get(c)!, arg.warmupStreams, arg.streamLength);
  }
  // Each batch starts with an empty young generation, so that none pays for
  // the garbage of the batch before it, which is always the same variant.
  const gc = (globalThis as { gc?: (o: { type: "minor" }) => void }).gc;
  const common = { ...arg, variants: configs, beforeBatch: gc && (() => gc({ type: "minor" })) };
  const unaryRounds = await alternate({ ...common, batch: (c) => unaryCalls(unary.get(c)!, req, arg.unaryBatch) });
  const streamRounds = await alternate({
    ...common,
    batch: (c) => streamCalls(stream.get(c)!, arg.streamBatch, arg.streamLength),
  });
  const counted: Partial<Record<Config, number>> = {};
  for (const c of configs) {
    if (!c.endsWith(" bare")) {
      counted[c] = await built.get(c)!.counted();
    }
  }
  return {
    unary: perUnit(unaryRounds, arg.unaryBatch),
    stream: perUnit(streamRounds, arg.streamBatch * arg.streamLength),
    counted,
    calls:
      arg.warmupCalls +
      arg.warmupStreams +
      unaryRounds.length * arg.slices * arg.unaryBatch +
      streamRounds.length * arg.slices * arg.streamBatch,
  };
}

serve(null, { run: (arg: InterceptorArg) => run(arg) });
