// @prometheus-io/client (prom-client's successor, 0.16, Node >= 22) is
// installed only in the compat run's copy of the repo (scripts/test-compat.sh),
// so the main typecheck cannot resolve it. This module loads it by a name
// that TypeScript does not follow and describes the part the compat tests
// use. Whether its own types fit the library's options is checked by tsc in
// prometheus-io-client.compat.ts.
import type { Registry as PromClientRegistry, RegistryContentType } from "prom-client";

/** One metric of `getMetricsAsJSON()`. */
export interface IoMetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** The part of @prometheus-io/client's Registry the tests use. */
export interface IoRegistry {
  readonly contentType: string;
  setContentType(type: string): void;
  metrics(): Promise<string>;
  getMetricsAsJSON(aggregator?: string): Promise<IoMetricJson[]>;
  getSingleMetric(name: string): unknown;
  getSingleMetricAsString(name: string): Promise<string>;
  resetMetrics(): void;
}

export interface IoModule {
  Registry: {
    new (contentType?: string): IoRegistry;
    readonly OPENMETRICS_CONTENT_TYPE: string;
    readonly PROMETHEUS_CONTENT_TYPE: string;
    aggregate(metrics: IoMetricJson[][], contentType?: string): IoRegistry;
  };
  ClusterRegistry: {
    new (contentType?: string): IoRegistry & { clusterMetrics(): Promise<string>; shutdown(): Promise<void> };
    aggregate(metrics: IoMetricJson[][], contentType?: string): IoRegistry;
    setRegistries(registries: IoRegistry | IoRegistry[]): void;
  };
  WorkerRegistry: {
    new (contentType?: string): IoRegistry & { workerMetrics(): Promise<string>; shutdown(): Promise<void> };
    setRegistries(registries: IoRegistry | IoRegistry[]): void;
    workerCount(): number;
  };
  AggregatorRegistry: unknown;
}

export const ioName = "@prometheus-io/client";

/** loadIo imports @prometheus-io/client. */
export async function loadIo(): Promise<IoModule> {
  return (await import(ioName)) as IoModule;
}

/**
 * asRegistry hands an @prometheus-io/client registry to the library's
 * `registry` option, whose type names prom-client's Registry.
 */
export function asRegistry(registry: IoRegistry): PromClientRegistry<RegistryContentType> {
  return registry as unknown as PromClientRegistry<RegistryContentType>;
}
