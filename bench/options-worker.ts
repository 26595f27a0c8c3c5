// Child process of scenario 6: every configuration of option-variants.ts
// behind createRouterTransport, timed in alternating slices of unary calls
// as in scenario 1; then the defaults against messageSizeHistogram on server
// streams with messages of several sizes. It reports raw ns per call or per
// message; the parent computes figures.
import { alternate, type Sample, type Slice } from "./alternate.js";
import { serve } from "./child-process.js";
import { streamBatch, type EchoClient } from "./in-process-client.js";
import type { InProcessArg } from "./in-process-worker.js";
import {
  evidence,
  optionClient,
  optionVariants,
  options,
  sizeStreamLength,
  tenantBatch,
  type OptionName,
  type OptionVariant,
} from "./option-variants.js";

/** What the parent asks for: scenario 1's settings, less the streams', and the size part's. */
export interface OptionsArg extends Pick<InProcessArg, "rounds" | "minRounds" | "budgetMs" | "slices" | "unaryBatch" | "warmupCalls"> {
  /** Message payloads of the size part, in bytes of text, e.g. 16, 1024, 16384. */
  readonly payloads: readonly number[];
  /** Time budget of the size part. */
  readonly sizeBudgetMs: number;
  /** A size batch is one stream of min(1000, sizeBatchBytes / payload) messages. */
  readonly sizeBatchBytes: number;
}

type Timing = { readonly cpuNs: number; readonly wallNs: number };

/** One slice: per configuration, CPU and wall-clock ns per unary call. */
export type OptionSlice = Record<OptionVariant, Timing>;

/** The size part's configurations: defaults or messageSizeHistogram, and a payload. */
export type SizeConfig = `${"defaults" | "messageSizeHistogram"} ${number}`;

/** One slice of the size part: per configuration, ns per streamed message. */
export type SizeSlice = Record<SizeConfig, Timing>;

/** The timings by round and slice, and the options whose effect was missing. */
export interface OptionsResult {
  readonly unary: OptionSlice[][];
  readonly sizes: SizeSlice[][];
  readonly missing: OptionName[];
}

function perUnit<V extends string>(rounds: readonly Slice<V>[][], keys: readonly V[], units: (v: V) => number): Record<V, Timing>[][] {
  const one = (x: Sample, n: number) => ({ cpuNs: (x.cpuMs * 1e6) / n, wallNs: (x.wallMs * 1e6) / n });
  return rounds.map((slices) =>
    slices.map((s) => Object.fromEntries(keys.map((v) => [v, one(s[v], units(v))])) as Record<V, Timing>),
  );
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
  const unary = perUnit(rounds, optionVariants, () => arg.unaryBatch);

  const sizeConfigs = arg.payloads.flatMap((p) => [`defaults ${p}`, `messageSizeHistogram ${p}`] as SizeConfig[]);
  const texts = new Map(arg.payloads.map((p) => [p, "x".repeat(p)]));
  const parse = (c: SizeConfig) => {
    const [v, p] = c.split(" ") as ["defaults" | "messageSizeHistogram", string];
    return { v, payload: Number(p) };
  };
  const sizeBatch = (c: SizeConfig) => {
    const { v, payload } = parse(c);
    return streamBatch(client(v), 1, sizeStreamLength(arg.sizeBatchBytes, payload), texts.get(payload));
  };
  for (const c of sizeConfigs) {
    await sizeBatch(c);
  }
  const sizeRounds = await alternate({
    ...arg,
    budgetMs: arg.sizeBudgetMs,
    variants: sizeConfigs,
    batch: sizeBatch,
  });
  const sizes = perUnit(sizeRounds, sizeConfigs, (c) => sizeStreamLength(arg.sizeBatchBytes, parse(c).payload));

  const missing: OptionName[] = [];
  for (const o of options) {
    if (!evidence[o](await built[o].registry.metrics())) {
      missing.push(o);
    }
  }
  return { unary, sizes, missing };
}

serve(null, { run: (arg: OptionsArg) => run(arg) });
