import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { streamContextValues } from "./http2-stream.js";
import { methodsOf } from "./methods-of.js";
import type { ServerMetricsOptions } from "./options.js";
import { Reporter } from "./reporter.js";
import { resolveOptions } from "./resolve-options.js";
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
   * `interceptors`. Put it first so that it sees what the client sees. Note
   * that `router.service(desc, impl, { interceptors })` replaces the router's
   * interceptors for that service: list it there too.
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
   * `@connectrpc/connect-express`. A client-streaming or bidi call whose
   * handler saw its requests end is then recorded when its HTTP/2 stream
   * closes, a moment after the response ends (at most one second later).
   */
  readonly contextValues: (req: unknown, values?: ContextValues) => ContextValues = streamContextValues;

  private readonly reporter: Reporter;

  constructor(options?: ServerMetricsOptions) {
    this.reporter = new Reporter(resolveOptions("ServerMetrics", options));
    this.interceptor = serverInterceptor(this.reporter);
  }

  /**
   * initialize creates every series of the given services' methods at zero,
   * `grpc_server_handled_total` for all 17 codes included, like Go's
   * `InitializeMetrics`. Then rates and alerts have data before the first
   * call. A `ConnectRouter` stands for every method registered on it. Series
   * that already have data keep it.
   *
   * ```ts
   * serverMetrics.initialize(PingService, HealthService);
   * // or, in connectNodeAdapter's `routes`, after registering the services:
   * // routes: (router) => { router.service(PingService, impl); serverMetrics.initialize(router); }
   * ```
   */
  initialize(...services: (DescService | ConnectRouter)[]): void {
    this.reporter.initialize(methodsOf("ServerMetrics", services, true));
  }

  /**
   * unregister takes this object's metrics out of its registry, for tests
   * and hot reloads: a new ServerMetrics can then register there. The
   * interceptor keeps working, but what it records is no longer read.
   *
   * ```ts
   * serverMetrics.unregister();
   * serverMetrics = new ServerMetrics({ registry });
   * ```
   */
  unregister(): void {
    this.reporter.unregister();
  }
}
