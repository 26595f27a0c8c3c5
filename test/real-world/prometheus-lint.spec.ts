// `promtool check metrics` finds nothing to complain about in our
// exposition: server and client, go-grpc-prometheus names and legacy names,
// every histogram on, after real calls of every RPC kind (so that every
// series has been written to, not only initialized).
import { Code, type Interceptor } from "@connectrpc/connect";
import { expect } from "chai";
import { Registry } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { pingClient, protocols, quiesce, startServer } from "../support/harness.js";
import { promtool } from "../support/prometheus.js";

type Side = "server" | "client";

/** Metric families that each variant must expose, so the lint is not vacuous. */
const families: Record<Side, Record<"normal" | "legacy", string[]>> = {
  server: {
    normal: [
      "grpc_server_started_total",
      "grpc_server_handled_total",
      "grpc_server_msg_received_total",
      "grpc_server_msg_sent_total",
      "grpc_server_handling_seconds",
    ],
    legacy: [
      "grpc_server_started_total",
      "grpc_server_handled_total",
      "grpc_server_msg_received_total",
      "grpc_server_msg_sent_total",
      "grpc_server_handled_latency_seconds",
    ],
  },
  client: {
    normal: [
      "grpc_client_started_total",
      "grpc_client_handled_total",
      "grpc_client_msg_received_total",
      "grpc_client_msg_sent_total",
      "grpc_client_handling_seconds",
      "grpc_client_msg_recv_handling_seconds",
      "grpc_client_msg_send_handling_seconds",
    ],
    legacy: [
      "grpc_client_started_total",
      "grpc_client_completed_total",
      "grpc_client_msg_received_total",
      "grpc_client_msg_sent_total",
      "grpc_client_completed_latency_seconds",
    ],
  },
};

async function exposition(side: Side, legacy: boolean): Promise<string> {
  const registry = new Registry();
  let serverInterceptors: Interceptor[] = [];
  let clientInterceptors: Interceptor[] = [];
  if (side === "server") {
    const m = new ServerMetrics({ registry, legacy, handlingTimeHistogram: true });
    m.initialize(PingService);
    serverInterceptors = [m.interceptor];
  } else {
    const m = new ClientMetrics({
      registry,
      legacy,
      handlingTimeHistogram: true,
      // Legacy mode has no per-message histograms (it ignores these options).
      ...(legacy ? {} : { streamReceiveTimeHistogram: true, streamSendTimeHistogram: true }),
    });
    m.initialize(PingService);
    clientInterceptors = [m.interceptor];
  }
  const server = await startServer(serverInterceptors);
  try {
    const client = pingClient(server, protocols[0], clientInterceptors);
    const stream = async function* (n: number) {
      for (let i = 0; i < n; i++) yield { value: `m${i}` };
    };
    await client.pingEmpty({});
    await client.ping({ value: "x" });
    await client.pingError({ value: "x", errorCodeReturned: Code.NotFound }).catch(() => {});
    for await (const _ of client.pingList({ value: "x", responseCount: 3 }));
    await client.pingClientStream(stream(2));
    for await (const _ of client.pingStream(stream(2)));
    await quiesce(registry);
    return await registry.metrics();
  } finally {
    await server.close();
  }
}

describe("promtool check metrics on the exposition", () => {
  for (const side of ["server", "client"] as const) {
    for (const mode of ["normal", "legacy"] as const) {
      it(`${side}, ${mode} names`, async () => {
        const text = await exposition(side, mode === "legacy");
        const typed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
        expect(typed).to.deep.equal(families[side][mode]);
        const r = await promtool(["check", "metrics"], text);
        expect(r).to.deep.equal({ code: 0, stdout: "", stderr: "" });
      });
    }
  }
});
