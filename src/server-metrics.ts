import type { DescService } from "@bufbuild/protobuf";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { streamContextValues } from "./http2-stream.js";
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

  /**
   * contextValues lets the interceptor see a client reset that connect-node
   * hides: a client that cancels a client-streaming or bidi call over HTTP/2
   * while the handler still reads its requests only resets the stream, and
   * the handler sees a clean end of input, so the call would be recorded as
   * OK. Pass it as the server adapter's `contextValues` option, and such
   * calls are recorded as `Canceled` (or `DeadlineExceeded`, for a deadline):
   *
   * ```ts
   * connectNodeAdapter({
   *   routes,
   *   interceptors: [serverMetrics.interceptor],
   *   contextValues: serverMetrics.contextValues,
   *   // or, with context values of your own:
   *   // contextValues: (req) => serverMetrics.contextValues(req, myValues(req)),
   * });
   * ```
   *
   * It works with connect-node, `@connectrpc/connect-fastify` and
   * `@connectrpc/connect-express`. Streaming calls are then recorded when
   * their HTTP/2 stream closes, a moment after the response ends.
   */
  readonly contextValues: (req: unknown, values?: ContextValues) => ContextValues =
    streamContextValues;

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
