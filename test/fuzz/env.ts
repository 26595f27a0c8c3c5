// One environment: a fresh registry with ServerMetrics and ClientMetrics built
// from the batch's options, our connect-node server, a grpc-js server, a raw
// HTTP/2 server, a port where nothing listens, and the clients that call them.
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { Registry, type RegistryContentType } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions, type ServerMetricsOptions } from "../../src/index.js";
import { loadPing, startGrpcJsServer, type GrpcJsServer } from "../fixtures/grpcjs-ping.js";
import { startServer, transportFor, type TestServer } from "../support/harness.js";
import { callConnect } from "./callers.js";
import { callGrpcJs, type GrpcPing } from "./grpcjs-caller.js";
import { guard, probe, serverProbe } from "./guards.js";
import { fuzzRoutes } from "./handlers.js";
import { callHeader, Ledger, tenantHeader, type Entry } from "./ledger.js";
import type { Call, EnvOptions } from "./plan.js";
import { startRawServer, type RawServer } from "./raw-server.js";

/** Env is one batch's environment. */
export interface Env {
  readonly options: EnvOptions;
  readonly registry: Registry<RegistryContentType>;
  readonly ledger: Ledger;
  readonly errors: unknown[];
  /** Runs one call and records its truth. */
  run(call: Call): Promise<Entry>;
  close(): Promise<void>;
}

/** fuzzConstLabels are the const labels of an environment with `constLabels`. */
export const fuzzConstLabels = { fuzz_env: "fuzz" };
/** fuzzBuckets are the buckets of an environment with `customBuckets`. */
export const fuzzBuckets = [0.001, 0.01, 0.1, 1, 10];

/** The metrics options of a side, from the environment's options. */
export function metricsOptions(o: EnvOptions, registry: Registry<RegistryContentType>, onError: (e: unknown) => void) {
  const names = [...(o.perCall ? ["fuzz_call"] : []), ...(o.tenantLabel ? ["fuzz_tenant"] : [])];
  const hist = o.customBuckets ? { buckets: fuzzBuckets } : true;
  const opts: ServerMetricsOptions & ClientMetricsOptions = {
    registry: registry as Registry,
    onError,
    handlingTimeHistogram: hist,
    ...(o.constLabels ? { constLabels: fuzzConstLabels } : {}),
    ...(o.codeLabelOnHistograms ? { codeLabelOnHistograms: true } : {}),
    ...(o.protocolLabel ? { protocolLabel: true } : {}),
    ...(o.exemplars ? { exemplars: (req: { header: Headers }) => ({ trace_id: req.header.get(callHeader) ?? "" }) } : {}),
    ...(names.length
      ? {
          labels: {
            names,
            fromRequest: (req: { header: Headers }) => [
              ...(o.perCall ? [req.header.get(callHeader) ?? ""] : []),
              ...(o.tenantLabel ? [req.header.get(tenantHeader) ?? ""] : []),
            ],
            maxValuesPerLabel: 1e9,
          },
        }
      : {}),
  };
  return { server: opts as ServerMetricsOptions, client: { ...opts, streamReceiveTimeHistogram: hist, streamSendTimeHistogram: hist } as ClientMetricsOptions };
}

/** A port on 127.0.0.1 where nothing listens. */
export async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** startEnv builds an environment for a batch. */
export async function startEnv(options: EnvOptions): Promise<Env> {
  const registry: Registry<RegistryContentType> = new Registry();
  if (options.exemplars) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  const errors: unknown[] = [];
  const ledger = new Ledger();
  const m = metricsOptions(options, registry, (e) => errors.push(e));
  const serverMetrics = new ServerMetrics(m.server);
  const clientMetrics = new ClientMetrics(m.client);
  const server: TestServer = await startServer(
    [serverMetrics.interceptor, ...(options.guards ? [guard(ledger, "server")] : []), serverProbe(ledger)],
    fuzzRoutes(ledger),
    options.contextValues ? { contextValues: serverMetrics.contextValues } : {},
  );
  const grpcJs: GrpcJsServer = await startGrpcJsServer();
  const raw: RawServer = await startRawServer(ledger);
  const dead = `http://127.0.0.1:${await deadPort()}`;
  const urls: Record<Call["server"], { h2Url: string; h1Url: string }> = {
    "connect-node": server,
    "grpc-js": { h2Url: grpcJs.baseUrl, h1Url: grpcJs.baseUrl },
    raw: { h2Url: raw.url, h1Url: raw.url },
    nothing: { h2Url: dead, h1Url: dead },
  };
  const interceptors: Interceptor[] = [clientMetrics.interceptor, ...(options.guards ? [guard(ledger, "client")] : []), probe(ledger)];
  const clients = new Map<string, Client<typeof PingService>>();
  const clientFor = (c: Call) => {
    const k = `${c.server} ${c.proto} ${c.http}`;
    let client = clients.get(k);
    if (client === undefined) {
      const p = { name: k, protocol: c.proto, httpVersion: c.http };
      client = createClient(PingService, transportFor(urls[c.server] as TestServer, p, interceptors));
      clients.set(k, client);
    }
    return client;
  };
  const { Client } = loadPing();
  const grpcClient = new Client(server.h2Url.replace("http://", ""), grpc.credentials.createInsecure());
  return {
    options,
    registry,
    ledger,
    errors,
    async run(call) {
      const e = ledger.open(call);
      if (call.client === "grpc-js") await callGrpcJs(grpcClient as unknown as GrpcPing, e);
      else await callConnect(clientFor(call), e);
      return e;
    },
    async close() {
      ledger.releaseAll();
      grpcClient.close();
      grpcJs.close();
      await Promise.all([server.close(), raw.close()]);
    },
  };
}
