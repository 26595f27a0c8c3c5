import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { legacyServerMetricDefs, serverMetricDefs } from "./constants.js";
import { resolveOptions, type ServerMetricsOptions } from "./options.js";
import { Reporter } from "./reporter.js";
import { serverInterceptor } from "./server-interceptor.js";

/**
 * ServerMetrics records go-grpc-prometheus's `grpc_server_*` metrics for every
 * call a Connect server handles, on the gRPC, gRPC-Web and Connect protocols.
 * It registers its metrics once, at construction; a second ServerMetrics on
 * the same registry throws.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { connectNodeAdapter } from "@connectrpc/connect-node";
 * import { ServerMetrics } from "connectrpc-prometheus";
 *
 * const registry = new Registry();
 * const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
 * const handler = connectNodeAdapter({
 *   routes,
 *   interceptors: [serverMetrics.interceptor], // first: the outermost
 * });
 * serverMetrics.initialize(ElizaService);
 * ```
 */
export class ServerMetrics {
  /**
   * interceptor is the Connect interceptor to put in the server's
   * `interceptors`. Put it first so that it sees what the client sees.
   */
  readonly interceptor: Interceptor;
  private readonly reporter: Reporter;

  constructor(options?: ServerMetricsOptions) {
    this.reporter = new Reporter(
      resolveOptions("ServerMetrics", options, serverMetricDefs, legacyServerMetricDefs),
    );
    this.interceptor = serverInterceptor(this.reporter);
  }

  /**
   * initialize creates every series of the services' methods at zero,
   * `grpc_server_handled_total` for all 17 codes included, like Go's
   * `InitializeMetrics`. Then rates and alerts have data before the first
   * call.
   *
   * ```ts
   * serverMetrics.initialize(PingService, HealthService);
   * ```
   */
  initialize(...services: DescService[]): void {
    this.reporter.initialize(services);
  }
}
