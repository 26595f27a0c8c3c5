// Scenario 5, the parent's side: one --expose-gc child per variant, bare as
// the noise reference. Checks that every call is counted exactly once.
import { Child } from "./child-process.js";
import type { MemoryArg, MemoryResult } from "./memory-worker.js";
import type { Report } from "./report.js";
import type { Variant } from "./variants.js";

/**
 * Bytes per call above bare that count as retained: 2 B (any leaked object
 * is bigger), or twice the noise of the two slopes if the heap was noisier.
 */
function leakThreshold(bare: MemoryResult, lib: MemoryResult): number {
  return Math.max(2, 2 * Math.hypot(bare.retainedStdErr, lib.retainedStdErr));
}

/** memory runs scenario 5 and reports its figures and checks. */
export async function memory(arg: MemoryArg, report: Report): Promise<void> {
  const scenario = "5 memory";
  report.note(
    scenario,
    `${arg.calls} calls (1 in ${arg.streamEvery} a ${arg.streamLength}-message server stream, ` +
      `1 in ${arg.failEvery} a unary call failing with codes 1-16 in turn) ` +
      `after ${arg.warmupCalls} warm-up calls, in process, heap read after forced GCs at 8 checkpoints`,
  );
  const run = async (variant: Variant) => {
    const child = await Child.start("./memory-worker.ts", { variant }, { exposeGc: true, nodeFlags: ["--no-flush-bytecode"], timeoutMs: 300_000 });
    const result = await child.call<MemoryResult>("run", arg);
    await child.stop();
    return result;
  };
  const [bare, lib] = await Promise.all([run("bare"), run("library")]);
  const fmt = (r: MemoryResult) => `${r.retainedBytesPerCall.toFixed(2)} ± ${r.retainedStdErr.toFixed(2)} B/call`;
  report.add({ scenario, name: "retained heap, bare (noise reference)", value: fmt(bare) });
  const extra = lib.retainedBytesPerCall - bare.retainedBytesPerCall;
  const threshold = leakThreshold(bare, lib);
  report.add({
    scenario,
    name: "retained heap, library",
    value: `${fmt(lib)} (${extra >= 0 ? "+" : ""}${extra.toFixed(2)} vs bare)`,
    target: `< ${threshold.toFixed(1)} B/call above bare`,
    met: extra < threshold,
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
  for (const [side, failed] of [["server", lib.serverFailed], ["client", lib.clientFailed]] as const) {
    if (failed === lib.failedCalls) {
      report.note(scenario, `ok: grpc_${side}_handled_total has ${failed} non-OK calls, the number that failed`);
    } else {
      report.fail(scenario, `grpc_${side}_handled_total has ${failed} non-OK calls, but ${lib.failedCalls} failed`);
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
