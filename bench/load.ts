// The network client's load: a closed loop with a fixed number of calls in
// flight, for a fixed time. Shared by the Connect and nice-grpc clients so
// that both are driven the same way.

/** What a network client is asked to do for one measurement. */
export interface LoadArg {
  /** Which call: a unary Echo, or an EchoStream of `streamLength` messages. */
  readonly kind: "unary" | "stream";
  /** The wire protocol; only Connect clients can speak "connect". */
  readonly protocol: "grpc" | "connect";
  readonly inFlight: number;
  readonly durationMs: number;
  /** Start no more calls than this; the warm-up is counted in calls. */
  readonly maxCalls?: number;
  readonly streamLength: number;
}

/** What one measurement found, in the client process. */
export interface LoadResult {
  readonly calls: number;
  /** Messages received: one per unary call, `streamLength` per stream. */
  readonly messages: number;
  readonly elapsedMs: number;
  /** User and system CPU time of the client process, in µs. */
  readonly cpuUs: number;
}

/**
 * closedLoop keeps `arg.inFlight` calls going until `arg.durationMs` have
 * passed or `arg.maxCalls` have started, then lets the calls in flight
 * finish. `call` resolves with the number of messages it received. A failed
 * call fails the measurement.
 */
export async function closedLoop(call: () => Promise<number>, arg: LoadArg): Promise<LoadResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + arg.durationMs;
  const maxCalls = arg.maxCalls ?? Infinity;
  let started = 0;
  let calls = 0;
  let messages = 0;
  const worker = async () => {
    while (started < maxCalls && performance.now() < deadline) {
      started++;
      const received = await call();
      messages += received;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: arg.inFlight }, worker));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { calls, messages, elapsedMs, cpuUs: cpu.user + cpu.system };
}

/** cpuUs is the process's total CPU time so far, in µs. */
export function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
