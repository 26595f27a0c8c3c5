// The process that `bench/profile.ts` runs under `node --cpu-prof`: warm-up,
// then a measured stretch of in-process unary calls of one variant. It prints
// the measured stretch's bounds on V8's monotonic clock (µs), so that the
// profile summary can leave out start-up and warm-up.
import { inProcessClient, unaryBatch } from "./in-process-client.js";
import { isVariant } from "./variants.js";

const [variant = "library", callsArg = "100000"] = process.argv.slice(2);
if (!isVariant(variant)) {
  throw new Error(`unknown variant ${variant}`);
}
const calls = Number(callsArg);
const { client } = inProcessClient(variant);
await unaryBatch(client, Math.min(20_000, calls / 5));
const startUs = Number(process.hrtime.bigint() / 1000n);
await unaryBatch(client, calls);
const endUs = Number(process.hrtime.bigint() / 1000n);
console.log(JSON.stringify({ variant, calls, startUs, endUs }));
