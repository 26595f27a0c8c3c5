import { startEnv } from "./env.js";
import type { Call, EnvOptions } from "./plan.js";
Error.stackTraceLimit = 0;
const o: EnvOptions = { load: false, contextValues: false, perCall: true, tenantLabel: false, constLabels: false, codeLabelOnHistograms: false, protocolLabel: false, exemplars: false, customBuckets: false, guards: false };
const env = await startEnv(o);
const v = JSON.parse(process.argv[2]);
for (let i = 0; i < 6; i++) {
  const c = { id: `c${i}`, kind: "client_stream", proto: "grpc", http: "2", client: "connect-node", server: "connect-node", clientGuard: "none", serverGuard: "none", guardCode: 8, guardYields: 0, tenant: "a",
    handler: { pull: Infinity, yields: 0, gapMs: 0, end: { kind: "hang-ignore", ms: 300, extra: 0 } }, caller: { requests: 0, holdOpen: false, act: { kind: "abort", at: 0 } }, ...v } as Call;
  const e = await env.run(c);
  await e.done;
  console.log(JSON.stringify({ h: e.handler, t: e.caller, code: e.caller.code, sigDelay: (e.handler.signalAt ?? 0) - (e.caller.abortedAt ?? 0), abortedAtEnd: e.handler.abortedAtEnd }));
}
await env.close();
process.exit(0);
