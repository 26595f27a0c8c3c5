// Scenario 6's configurations: the library with default options (and the
// handling-time histogram on), the same with one option of issue 6 turned
// on, and bare as the reference for overheads. Every configuration's client
// sends the same `x-tenant` header, so that only the option differs.
import { createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { Registry, type RegistryContentType } from "prom-client";
import { EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions } from "../src/index.js";
import { echoRoutes } from "./echo-routes.js";
import type { EchoClient } from "./in-process-client.js";

/** The options measured, one at a time, each on top of the defaults. */
export const options = ["protocolLabel", "codeLabelOnHistograms", "exemplars", "labels", "namespace"] as const;
export type OptionName = (typeof options)[number];

/** bare: no interceptor; defaults: every option off; or one option on. */
export type OptionVariant = "bare" | "defaults" | OptionName;
export const optionVariants: readonly OptionVariant[] = ["bare", "defaults", ...options];

/** The `x-tenant` values the client cycles through. */
export const tenants = ["t0", "t1", "t2", "t3", "t4"] as const;

/** What one option adds to the defaults (shared by server and client). */
function extra(name: OptionName): ClientMetricsOptions {
  switch (name) {
    case "protocolLabel":
      return { protocolLabel: true };
    case "codeLabelOnHistograms":
      return { codeLabelOnHistograms: true };
    case "exemplars":
      return { exemplars: () => ({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" }) };
    case "labels":
      return { labels: { names: ["tenant"], fromRequest: (req) => [req.header.get("x-tenant") ?? ""] } };
    case "namespace":
      return { namespace: "shop", subsystem: "api" };
  }
}

/**
 * A line of the exposition that shows the option took effect, so that a
 * figure can never come from a configuration that ignored its option.
 */
export const evidence: Record<OptionName, RegExp> = {
  protocolLabel: /^grpc_server_handled_total\{[^}]*rpc_protocol="/m,
  codeLabelOnHistograms: /^grpc_server_handling_seconds_bucket\{[^}]*grpc_code="OK"/m,
  exemplars: /# \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\}/,
  labels: /^grpc_server_handled_total\{[^}]*tenant="t4"/m,
  namespace: /^shop_api_grpc_server_handled_total\{/m,
};

/** optionClient wires an in-process Echo client and server of a variant. */
export function optionClient(v: OptionVariant): { client: EchoClient; registry: Registry<RegistryContentType> } {
  const registry = new Registry<RegistryContentType>();
  if (v === "exemplars") {
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  }
  let server: Interceptor[] = [];
  let client: Interceptor[] = [];
  if (v !== "bare") {
    const opts = { registry, handlingTimeHistogram: true, ...(v === "defaults" ? {} : extra(v)) };
    server = [new ServerMetrics(opts).interceptor];
    client = [new ClientMetrics(opts).interceptor];
  }
  const transport = createRouterTransport(echoRoutes, {
    router: { interceptors: server },
    transport: { interceptors: client },
  });
  return { client: createClient(EchoService, transport), registry };
}

/** tenantBatch makes `n` unary calls, each with the next `x-tenant` value. */
export async function tenantBatch(client: EchoClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.echo({ text: "hello" }, { headers: { "x-tenant": tenants[i % tenants.length] } });
  }
}
