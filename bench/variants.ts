// The instrumentation variants that every scenario compares, and the
// interceptors each one puts on a server and on a client.
import type { Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { floorInterceptors } from "./floor-metrics.js";

/**
 * - bare: no interceptor at all.
 * - floor: the hand-written minimum (floor-metrics.ts).
 * - library: ServerMetrics and ClientMetrics with every histogram on.
 */
export type Variant = "bare" | "floor" | "library";

export const variants: readonly Variant[] = ["bare", "floor", "library"];

/** The interceptors of one variant, and the registry they record into. */
export interface Instrumentation {
  readonly registry: Registry;
  readonly server: Interceptor[];
  readonly client: Interceptor[];
}

/** instrument builds a variant's interceptors with a fresh registry. */
export function instrument(variant: Variant): Instrumentation {
  const registry = new Registry();
  switch (variant) {
    case "bare":
      return { registry, server: [], client: [] };
    case "floor": {
      const floor = floorInterceptors(registry);
      return { registry, server: [floor.server], client: [floor.client] };
    }
    case "library": {
      const server = new ServerMetrics({ registry, handlingTimeHistogram: true });
      const client = new ClientMetrics({
        registry,
        handlingTimeHistogram: true,
        streamReceiveTimeHistogram: true,
        streamSendTimeHistogram: true,
      });
      return { registry, server: [server.interceptor], client: [client.interceptor] };
    }
  }
}

/** isVariant checks a variant name from a command line or a message. */
export function isVariant(name: unknown): name is Variant {
  return typeof name === "string" && (variants as readonly string[]).includes(name);
}

/** counterTotal sums a counter's series, e.g. `grpc_server_handled_total`. */
export async function counterTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) {
    return NaN;
  }
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}
