// Child process of scenarios 1 and 2: the Echo service behind
// createRouterTransport, called in process for each variant, in alternating
// slices. It reports the raw times of every slice; the parent computes the
// figures.
import { alternate, type Sample, type Slice } from "./alternate.js";
import { serve } from "./child-process.js";
import { inProcessClient, streamBatch, unaryBatch, type InProcessClient } from "./in-process-client.js";
import type { PassThroughCounts } from "./pass-through.js";
import { variants, type Variant } from "./variants.js";

/** What the parent asks for. */
export interface InProcessArg {
  /** Rounds at most, and at least; each part stops after its budget. */
  readonly rounds: number;
  readonly minRounds: number;
  /** Time budget of the unary part and of the stream part, each. */
  readonly budgetMs: number;
  /** Slices per round: each runs one batch of every variant. */
  readonly slices: number;
  /** Unary calls per batch. */
  readonly unaryBatch: number;
  /** Server-stream calls per batch. */
  readonly streamBatch: number;
  /** Messages per server stream. */
  readonly streamLength: number;
  /** Unary calls per variant before measuring. */
  readonly warmupCalls: number;
}

/** One slice: per variant, ns per unary call or per streamed message. */
export type UnitSlice = Record<Variant, { readonly cpuNs: number; readonly wallNs: number }>;

/** The timings, by round and slice, and what the pass-through counted. */
export interface InProcessResult {
  readonly unary: UnitSlice[][];
  readonly stream: UnitSlice[][];
  /** Per side, the pass-through's counts and what they should be. */
  readonly passThrough: readonly PassThroughCheck[];
}

/** One side's pass-through counts against the calls made. */
export interface PassThroughCheck {
  readonly side: "server" | "client";
  readonly counted: { readonly calls: number; readonly ok: number; readonly messages: number };
  readonly expected: { readonly calls: number; readonly ok: number; readonly messages: number };
}

/** perUnit turns batch times in ms into ns per call or message. */
function perUnit(rounds: readonly Slice<Variant>[][], units: number): UnitSlice[][] {
  const one = (x: Sample) => ({ cpuNs: (x.cpuMs * 1e6) / units, wallNs: (x.wallMs * 1e6) / units });
  return rounds.map((slices) =>
    slices.map((s) => Object.fromEntries(variants.map((v) => [v, one(s[v])])) as UnitSlice),
  );
}

async function run(arg: InProcessArg): Promise<InProcessResult> {
  const built = Object.fromEntries(variants.map((v) => [v, inProcessClient(v)])) as Record<Variant, InProcessClient>;
  const clients = (v: Variant) => built[v].client;
  const warmupStreams = Math.ceil(arg.warmupCalls / arg.streamLength);
  for (const v of variants) {
    await unaryBatch(clients(v), arg.warmupCalls);
    await streamBatch(clients(v), warmupStreams, arg.streamLength);
  }
  const common = { ...arg, variants };
  const unary = await alternate({
    ...common,
    batch: (v) => unaryBatch(clients(v), arg.unaryBatch),
  });
  const stream = await alternate({
    ...common,
    batch: (v) => streamBatch(clients(v), arg.streamBatch, arg.streamLength),
  });
  const unaryCalls = arg.warmupCalls + unary.length * arg.slices * arg.unaryBatch;
  const streams = warmupStreams + stream.length * arg.slices * arg.streamBatch;
  // Each server stream has one request message and streamLength responses.
  const expected = { calls: unaryCalls + streams, ok: unaryCalls, messages: streams * (1 + arg.streamLength) };
  const counts = built["pass-through"].passThrough;
  const check = (side: "server" | "client", c: PassThroughCounts | undefined): PassThroughCheck => ({
    side,
    counted: { calls: c?.calls ?? NaN, ok: c?.ok ?? NaN, messages: c?.messages ?? NaN },
    expected,
  });
  return {
    unary: perUnit(unary, arg.unaryBatch),
    stream: perUnit(stream, arg.streamBatch * arg.streamLength),
    passThrough: [check("server", counts?.server), check("client", counts?.client)],
  };
}

serve(null, { run: (arg: InProcessArg) => run(arg) });
