// Scenario 5, the parent's side: one --expose-gc child per variant, bare as
// the noise reference. Checks that every call is counted exactly once.
import { Child } from "./child-process.js";
import type { MemoryArg, MemoryResult } from "./memory-worker.js";
import type { Report } from "./report.js";
import type { Variant } from "./variants.js";

/** Bytes per call above bare that a real leak cannot stay under. */
const leakThreshold = 2;

/** memory runs scenario 5 and reports its figures and checks. */
export async function memory(arg: MemoryArg, report: Report): Promise<void> {
  const scenario = "5 memory";
  report.note(
    scenario,
    `${arg.calls} calls (1 in ${arg.streamEvery} a ${arg.streamLength}-message server stream) ` +
      `after ${arg.warmupCalls} warm-up calls, in process, heap read after forced GCs at 8 checkpoints`,
  );
  const run = async (variant: Variant) => {
    const child = await Child.start("./memory-worker.ts", { variant }, { exposeGc: true, nodeFlags: ["--no-flush-bytecode"], timeoutMs: 300_000 });
    const result = await child.call<MemoryResult>("run", arg);
    await child.stop();
    return result;
  };
  const [bare, lib] = await Promise.all([run("bare"), run("library")]);
  report.add({ scenario, name: "retained heap, bare (noise reference)", value: `${bare.retainedBytesPerCall.toFixed(2)} B/call` });
  const extra = lib.retainedBytesPerCall - bare.retainedBytesPerCall;
  report.add({
    scenario,
    name: "retained heap, library",
    value: `${lib.retainedBytesPerCall.toFixed(2)} B/call (${extra >= 0 ? "+" : ""}${extra.toFixed(2)} vs bare)`,
    target: `< ${leakThreshold} B/call above bare`,
    met: extra < leakThreshold,
  });
  const counts: [string, number][] = [
    ["grpc_server_started_total", lib.serverStarted],
    ["grpc_server_handled_total", lib.serverHandled],
    ["grpc_client_started_total", lib.clientStarted],
    ["grpc_client_handled_total", lib.clientHandled],
  ];
  for (const [name, total] of counts) {
    if (total === lib.calls) {
      report.note(scenario, `ok: ${name} sums to ${total}, the number of calls`);
    } else {
      report.fail(scenario, `${name} sums to ${total}, but ${lib.calls} calls were made`);
    }
  }
  const maxSeries = 2 * 2 * 17;
  report.add({
    scenario,
    name: "handled series, server+client",
    value: String(lib.handledSeries),
    target: `≤ ${maxSeries} (2 methods × 17 codes × 2 sides)`,
    met: lib.handledSeries <= maxSeries,
  });
}
