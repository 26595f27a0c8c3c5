// Child process of scenario 6: every configuration of option-variants.ts
// behind createRouterTransport, timed in alternating slices of unary calls
// as in scenario 1. It reports raw ns per call; the parent computes figures.
import { alternate, type Sample } from "./alternate.js";
import { serve } from "./child-process.js";
import type { EchoClient } from "./in-process-client.js";
import type { InProcessArg } from "./in-process-worker.js";
import { evidence, optionClient, optionVariants, options, tenantBatch, type OptionName, type OptionVariant } from "./option-variants.js";

/** What the parent asks for: scenario 1's settings, less the streams'. */
export type OptionsArg = Pick<InProcessArg, "rounds" | "minRounds" | "budgetMs" | "slices" | "unaryBatch" | "warmupCalls">;

/** One slice: per configuration, CPU and wall-clock ns per unary call. */
export type OptionSlice = Record<OptionVariant, { readonly cpuNs: number; readonly wallNs: number }>;

/** The timings by round and slice, and the options whose effect was missing. */
export interface OptionsResult {
  readonly unary: OptionSlice[][];
  readonly missing: OptionName[];
}

async function run(arg: OptionsArg): Promise<OptionsResult> {
  const built = Object.fromEntries(optionVariants.map((v) => [v, optionClient(v)]));
  const client = (v: OptionVariant): EchoClient => built[v].client;
  for (const v of optionVariants) {
    await tenantBatch(client(v), arg.warmupCalls);
  }
  const rounds = await alternate({
    ...arg,
    variants: optionVariants,
    batch: (v) => tenantBatch(client(v), arg.unaryBatch),
  });
  const one = (x: Sample) => ({ cpuNs: (x.cpuMs * 1e6) / arg.unaryBatch, wallNs: (x.wallMs * 1e6) / arg.unaryBatch });
  const unary = rounds.map((slices) =>
    slices.map((s) => Object.fromEntries(optionVariants.map((v) => [v, one(s[v])])) as OptionSlice),
  );
  const missing: OptionName[] = [];
  for (const o of options) {
    if (!evidence[o].test(await built[o].registry.metrics())) {
      missing.push(o);
    }
  }
  return { unary, missing };
}

serve(null, { run: (arg: OptionsArg) => run(arg) });
