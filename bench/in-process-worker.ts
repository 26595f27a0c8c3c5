// Child process of scenarios 1 and 2: the Echo service behind
// createRouterTransport, called in process for each variant, in alternating
// slices. It reports raw per-round times; the parent computes the figures.
import { alternate, type Sample } from "./alternate.js";
import { serve } from "./child-process.js";
import { inProcessClient, streamBatch, unaryBatch, type EchoClient } from "./in-process-client.js";
import { variants, type Variant } from "./variants.js";

/** What the parent asks for. */
export interface InProcessArg {
  /** Rounds at most, and at least; each part stops after its budget. */
  readonly rounds: number;
  readonly minRounds: number;
  /** Time budget of the unary part and of the stream part, each. */
  readonly budgetMs: number;
  readonly slices: number;
  /** Unary calls per slice. */
  readonly unaryBatch: number;
  /** Server-stream calls per slice. */
  readonly streamBatch: number;
  /** Messages per server stream. */
  readonly streamLength: number;
  /** Unary calls per variant before measuring. */
  readonly warmupCalls: number;
}

/** Per round and variant: ns per unary call and ns per streamed message. */
export interface InProcessResult {
  /** By CPU time of the process. */
  readonly unaryCpu: Record<Variant, number>[];
  readonly streamCpu: Record<Variant, number>[];
  /** By wall-clock time. */
  readonly unaryWall: Record<Variant, number>[];
  readonly streamWall: Record<Variant, number>[];
}

/** perUnit turns per-round totals in ms into ns per call or message. */
function perUnit(
  rounds: readonly Record<Variant, Sample>[],
  field: keyof Sample,
  units: number,
): Record<Variant, number>[] {
  return rounds.map(
    (r) => Object.fromEntries(variants.map((v) => [v, (r[v][field] * 1e6) / units])) as Record<Variant, number>,
  );
}

async function run(arg: InProcessArg): Promise<InProcessResult> {
  const clients = Object.fromEntries(variants.map((v) => [v, inProcessClient(v).client])) as Record<
    Variant,
    EchoClient
  >;
  for (const v of variants) {
    await unaryBatch(clients[v], arg.warmupCalls);
    await streamBatch(clients[v], Math.ceil(arg.warmupCalls / arg.streamLength), arg.streamLength);
  }
  const common = { ...arg, variants };
  const unary = await alternate({
    ...common,
    batch: (v) => unaryBatch(clients[v], arg.unaryBatch),
  });
  const stream = await alternate({
    ...common,
    batch: (v) => streamBatch(clients[v], arg.streamBatch, arg.streamLength),
  });
  const calls = arg.slices * arg.unaryBatch;
  const messages = arg.slices * arg.streamBatch * arg.streamLength;
  return {
    unaryCpu: perUnit(unary, "cpuMs", calls),
    streamCpu: perUnit(stream, "cpuMs", messages),
    unaryWall: perUnit(unary, "wallMs", calls),
    streamWall: perUnit(stream, "wallMs", messages),
  };
}

serve(null, { run: (arg: InProcessArg) => run(arg) });
