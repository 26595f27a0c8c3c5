import { replayAlone } from "./batch.js";
import type { Call, EnvOptions } from "./plan.js";
Error.stackTraceLimit = 0;
const o: EnvOptions = { load: process.argv.includes("--load"), contextValues: process.argv.includes("--cv"), perCall: true, tenantLabel: false, constLabels: false, codeLabelOnHistograms: false, protocolLabel: false, exemplars: false, customBuckets: false, guards: true };
const base: Call = { id: "x", kind: "server_stream", proto: "connect", http: "2", client: "connect-node", server: "connect-node", clientGuard: "none", serverGuard: "none", guardCode: 8, guardYields: 0, tenant: "a",
  handler: { pull: Infinity, yields: 2, gapMs: 0, end: { kind: "code", code: 8 } }, caller: { requests: 1, holdOpen: false, act: { kind: "read" } } };
const variants: Partial<Call>[] = JSON.parse(process.argv[2] ?? "[{}]");
for (const [i, v] of variants.entries()) {
  const calls = Array.from({ length: 20 }, (_, j) => ({ ...base, ...v, id: `v${i}c${j}` }) as Call);
  let fails = 0; let first = "";
  for (const c of calls) { const r = await replayAlone(o, [c]); if (r[0].failed) { fails++; first ||= r[0].lines.join("\n  ") + "\n  truth " + JSON.stringify(r[0].entry.caller) + JSON.stringify(r[0].entry.handler); } }
  console.log(JSON.stringify(v), `${fails}/20 fail`, first ? "\n  " + first : "");
}
process.exit(0);
