// Reads a V8 .cpuprofile and sums self time by function and by where the
// code comes from: this library, prom-client, Connect, protobuf-es, Node and
// V8 themselves (GC included), or the benchmark's own code.

/** The parts of the .cpuprofile format that the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function's code lives. */
export type Origin = "library" | "prom-client" | "connect" | "protobuf" | "node/v8" | "gc" | "bench" | "other";

/** Self time of one function. */
export interface FunctionTime {
  readonly name: string;
  readonly origin: Origin;
  readonly location: string;
  readonly selfUs: number;
}

/** A profile's self time, within a window, by function and by origin. */
export interface ProfileSummary {
  readonly totalUs: number;
  readonly byOrigin: Record<Origin, number>;
  readonly functions: readonly FunctionTime[];
}

/** origin classifies a function by its script URL and name. */
export function origin(url: string, name: string): Origin {
  if (name === "(garbage collector)") return "gc";
  if (url.includes("/node_modules/prom-client/")) return "prom-client";
  if (url.includes("/node_modules/@connectrpc/")) return "connect";
  if (url.includes("/node_modules/@bufbuild/")) return "protobuf";
  if (url.includes("/src/")) return "library";
  if (url.includes("/bench/") || url.includes("/gen/")) return "bench";
  if (url === "" || url.startsWith("node:")) return "node/v8";
  return "other";
}

/**
 * where names a function's file briefly. TypeScript run through tsx has no
 * useful line numbers (one transpiled line), so only the file is given.
 */
function where(url: string, line: number): string {
  if (url === "") {
    return "";
  }
  const file = url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/(src|bench|gen)\//, "$1/");
  return file.endsWith(".ts") ? file : `${file}:${line + 1}`;
}

/**
 * summarise sums the self time of the samples taken within the windows
 * (V8 monotonic clock, µs, sorted and not overlapping).
 */
export function summarise(p: CpuProfile, windows: readonly [number, number][]): ProfileSummary {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const byKey = new Map<string, FunctionTime>();
  const byOrigin: Record<Origin, number> = {
    library: 0, "prom-client": 0, connect: 0, protobuf: 0, "node/v8": 0, gc: 0, bench: 0, other: 0,
  };
  let t = p.startTime;
  let totalUs = 0;
  let w = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    // A sample stands for the time until the next one.
    const dt = p.timeDeltas[i + 1] ?? 0;
    while (w < windows.length && windows[w][1] < t) {
      w++;
    }
    const frame = frames.get(p.samples[i]);
    const inside = w < windows.length && windows[w][0] <= t;
    if (!inside || frame === undefined || frame.functionName === "(idle)") {
      continue;
    }
    const o = origin(frame.url, frame.functionName);
    const location = where(frame.url, frame.lineNumber);
    const name = frame.functionName || "(anonymous)";
    const key = `${name}@${location}`;
    const prev = byKey.get(key);
    byKey.set(key, { name, origin: o, location, selfUs: (prev?.selfUs ?? 0) + dt });
    byOrigin[o] += dt;
    totalUs += dt;
  }
  const functions = [...byKey.values()].sort((a, b) => b.selfUs - a.selfUs);
  return { totalUs, byOrigin, functions };
}
