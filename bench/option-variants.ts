// Scenario 6's configurations: the library with default options (and the
// handling-time histogram on), the same with one option of issues 6 and 11
// turned on, and bare as the reference for overheads. Every configuration's
// client sends the same `x-tenant` and `traceparent` headers, so that only
// the option differs.
import { createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { Registry, type RegistryContentType } from "prom-client";
import { EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions } from "../src/index.js";
import { echoRoutes } from "./echo-routes.js";
import type { EchoClient } from "./in-process-client.js";
import { traceExemplar, traceparent } from "./trace-exemplar.js";

/** The options measured, one at a time, each on top of the defaults. */
export const options = [
  "protocolLabel",
  "codeLabelOnHistograms",
  "exemplars",
  "labels",
  "namespace",
  "filter",
  "messageSizeHistogram",
] as const;
export type OptionName = (typeof options)[number];

/** bare: no interceptor; defaults: every option off; or one option on. */
export type OptionVariant = "bare" | "defaults" | OptionName;
export const optionVariants: readonly OptionVariant[] = ["bare", "defaults", ...options];

/**
 * The `x-tenant` values the client cycles through: five short ones, and one
 * longer than `maxValueLength`, which the library records as `other`.
 */
export const tenants = ["t0", "t1", "t2", "t3", "t4", "tenant-0123456789-0123456789"] as const;
export const maxValueLength = 16;

/** What one option adds to the defaults (shared by server and client). */
function extra(name: OptionName): ClientMetricsOptions {
  switch (name) {
    case "protocolLabel":
      return { protocolLabel: true };
    case "codeLabelOnHistograms":
      return { codeLabelOnHistograms: true };
    case "exemplars":
      return { exemplars: traceExemplar };
    case "labels":
      return { labels: { names: ["tenant"], fromRequest: (req) => [req.header.get("x-tenant") ?? ""], maxValueLength } };
    case "namespace":
      return { namespace: "shop", subsystem: "api" };
    case "filter":
      return { filter: (m) => m.name !== "EchoStream" };
    case "messageSizeHistogram":
      return { messageSizeHistogram: true };
  }
}

/**
 * What the exposition shows when the option took effect, so that a figure
 * can never come from a configuration that ignored its option.
 */
export const evidence: Record<OptionName, (text: string) => boolean> = {
  protocolLabel: (t) => /^grpc_server_handled_total\{[^}]*rpc_protocol="/m.test(t),
  codeLabelOnHistograms: (t) => /^grpc_server_handling_seconds_bucket\{[^}]*grpc_code="OK"/m.test(t),
  exemplars: (t) => /# \{[^}]*trace_id="4bf92f3577b34da6a3ce929d0e0e4736"/.test(t),
  labels: (t) => /^grpc_server_handled_total\{[^}]*tenant="t4"/m.test(t) && /^grpc_server_handled_total\{[^}]*tenant="other"/m.test(t),
  namespace: (t) => /^shop_api_grpc_server_handled_total\{/m.test(t),
  // initialize() made the series of every method the filter keeps.
  filter: (t) => /grpc_method="Echo"/.test(t) && !/grpc_method="EchoStream"/.test(t),
  messageSizeHistogram: (t) =>
    /^grpc_server_msg_received_bytes_bucket\{/m.test(t) && /^grpc_client_msg_received_bytes_bucket\{/m.test(t),
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
    const serverMetrics = new ServerMetrics(opts);
    const clientMetrics = new ClientMetrics(opts);
    if (v === "filter") {
      serverMetrics.initialize(EchoService);
      clientMetrics.initialize(EchoService);
    }
    server = [serverMetrics.interceptor];
    client = [clientMetrics.interceptor];
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
    await client.echo({ text: "hello" }, { headers: { "x-tenant": tenants[i % tenants.length], traceparent } });
  }
}

/**
 * sizeStreamLength is the number of messages per stream of a payload in the
 * size part: as many as make `batchBytes`, at most 1000.
 */
export function sizeStreamLength(batchBytes: number, payload: number): number {
  return Math.min(1000, Math.ceil(batchBytes / payload));
}
