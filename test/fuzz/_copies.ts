import { replayCopies } from "./batch.js";
import type { Call, EnvOptions } from "./plan.js";
Error.stackTraceLimit = 0;
const o: EnvOptions = { load: process.argv.includes("--load"), contextValues: process.argv.includes("--cv"), perCall: true, tenantLabel: false, constLabels: false, codeLabelOnHistograms: false, protocolLabel: false, exemplars: false, customBuckets: false, guards: false };
const base: Call = { id: "x", kind: "server_stream", proto: "connect", http: "2", client: "connect-node", server: "connect-node", clientGuard: "none", serverGuard: "none", guardCode: 8, guardYields: 0, tenant: "a",
  handler: { pull: Infinity, yields: 0, gapMs: 0, end: { kind: "code", code: 5 } }, caller: { requests: 1, holdOpen: false, act: { kind: "read" } } };
const n = Number(process.argv[3] ?? 10);
for (const v of JSON.parse(process.argv[2]) as Partial<Call>[]) {
  let fails = 0; for (let i = 0; i < 5; i++) fails += await replayCopies(o, { ...base, ...v, id: `r${i}` } as Call, n);
  console.log(JSON.stringify(v), `${fails}/${5 * n} fail`);
}
process.exit(0);
