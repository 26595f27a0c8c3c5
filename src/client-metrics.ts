import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { clientInterceptor } from "./client-interceptor.js";
import { methodsOf } from "./methods-of.js";
import type { ClientMetricsOptions } from "./options.js";
import { Reporter } from "./reporter.js";
import { resolveOptions } from "./resolve-options.js";

/**
 * ClientMetrics records go-grpc-prometheus's `grpc_client_*` metrics for every
 * call made through a Connect transport: `createConnectTransport`,
 * `createGrpcTransport` or `createGrpcWebTransport`. It registers its metrics
 * once, at construction; a second ClientMetrics on the same registry throws.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { createGrpcTransport } from "@connectrpc/connect-node";
 * import { ClientMetrics } from "connectrpc-prometheus";
 *
 * const registry = new Registry();
 * const clientMetrics = new ClientMetrics({ registry, handlingTimeHistogram: true });
 * const transport = createGrpcTransport({
 *   baseUrl: "http://127.0.0.1:8080",
 *   interceptors: [clientMetrics.interceptor], // first: the outermost
 * });
 * ```
 *
 * A caller that stops reading a stream should abort the call's
 * `AbortSignal`: Connect-ES does not tell interceptors about a `break` out of
 * `for await`, so the call is recorded when the signal aborts (`Canceled`).
 */
export class ClientMetrics {
  /**
   * interceptor is the Connect interceptor to put in the transport's
   * `interceptors`. Put it first so that it sees what the caller sees.
   */
  readonly interceptor: Interceptor;
  private readonly reporter: Reporter;

  constructor(options?: ClientMetricsOptions) {
    this.reporter = new Reporter(resolveOptions("ClientMetrics", options));
    this.interceptor = clientInterceptor(this.reporter);
  }

  /**
   * initialize creates every series of the methods of the services this
   * client calls at zero, `grpc_client_handled_total` for all 17 codes
   * included. Series that already have data keep it.
   *
   * ```ts
   * clientMetrics.initialize(PingService);
   * ```
   */
  initialize(...services: DescService[]): void {
    this.reporter.initialize(methodsOf("ClientMetrics", services, false));
  }

  /**
   * unregister takes this object's metrics out of its registry, for tests
   * and hot reloads: a new ClientMetrics can then register there.
   *
   * ```ts
   * clientMetrics.unregister();
   * ```
   */
  unregister(): void {
    this.reporter.unregister();
  }
}
