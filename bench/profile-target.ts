// The process that `bench/profile.ts` runs under `node --cpu-prof`: after a
// warm-up, batches of in-process unary calls of each variant, alternating.
// It prints each variant's time windows on V8's monotonic clock (µs), so that
// the profile summary can attribute every sample to a variant and leave out
// start-up and warm-up.
import { inProcessClient, unaryBatch } from "./in-process-client.js";
import { profiledVariants as variants, type ProfiledVariant as Variant } from "./variants.js";

/** What the target prints as its last line. */
export interface TargetWindows {
  /** Calls per variant, over all its windows. */
  readonly calls: number;
  readonly windows: Record<Variant, [number, number][]>;
}

const calls = Number(process.argv[2] ?? "60000");
const batch = 1000;
const clients = variants.map((v) => [v, inProcessClient(v).client] as const);
for (const [, client] of clients) {
  await unaryBatch(client, 5000);
}
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const windows = Object.fromEntries(variants.map((v) => [v, []])) as unknown as TargetWindows["windows"];
let done = 0;
for (let round = 0; done < calls; round++, done += batch) {
  for (let i = 0; i < clients.length; i++) {
    const [variant, client] = clients[(i + round) % clients.length];
    const start = nowUs();
    await unaryBatch(client, batch);
    windows[variant].push([start, nowUs()]);
  }
}
const out: TargetWindows = { calls: done, windows };
console.log(JSON.stringify(out));
