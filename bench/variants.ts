// The instrumentation variants that every scenario compares, and the
// interceptors each one puts on a server and on a client.
import type { Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { floorInterceptors } from "./floor-metrics.js";
import { PassThroughCounts, passThroughInterceptor } from "./pass-through.js";

/**
 * - bare: no interceptor at all.
 * - pass-through: the physical limit, an interceptor that wraps the streams
 *   and counts in one `.then` per message (pass-through.ts).
 * - floor: the hand-written prom-client minimum (floor-metrics.ts).
 * - defaults: ServerMetrics and ClientMetrics with default options, which
 *   is every histogram off.
 * - library: ServerMetrics and ClientMetrics with every time histogram on
 *   (handling time on both sides, the client's stream receive and send).
 */
export type Variant = "bare" | "pass-through" | "floor" | "defaults" | "library";

export const variants: readonly Variant[] = ["bare", "pass-through", "floor", "defaults", "library"];

/** The variants that bench/profile.ts compares. */
export const profiledVariants = ["bare", "floor", "library"] as const;
export type ProfiledVariant = (typeof profiledVariants)[number];

/** The interceptors of one variant, and the registry they record into. */
export interface Instrumentation {
  readonly registry: Registry;
  readonly server: Interceptor[];
  readonly client: Interceptor[];
  /** What the pass-through counted, server and client, for that variant. */
  readonly passThrough?: { readonly server: PassThroughCounts; readonly client: PassThroughCounts };
}

/** The options of the "library" variant: every time histogram on. */
export const allHistograms = {
  server: { handlingTimeHistogram: true },
  client: { handlingTimeHistogram: true, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true },
} as const;

/** instrument builds a variant's interceptors with a fresh registry. */
export function instrument(variant: Variant): Instrumentation {
  const registry = new Registry();
  switch (variant) {
    case "bare":
      return { registry, server: [], client: [] };
    case "pass-through": {
      const passThrough = { server: new PassThroughCounts(), client: new PassThroughCounts() };
      return {
        registry,
        server: [passThroughInterceptor(passThrough.server)],
        client: [passThroughInterceptor(passThrough.client)],
        passThrough,
      };
    }
    case "floor": {
      const floor = floorInterceptors(registry);
      return { registry, server: [floor.server], client: [floor.client] };
    }
    case "defaults": {
      const server = new ServerMetrics({ registry });
      const client = new ClientMetrics({ registry });
      return { registry, server: [server.interceptor], client: [client.interceptor] };
    }
    case "library": {
      const server = new ServerMetrics({ registry, ...allHistograms.server });
      const client = new ClientMetrics({ registry, ...allHistograms.client });
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
