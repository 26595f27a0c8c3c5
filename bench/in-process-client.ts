// An Echo client wired to its server in process with createRouterTransport,
// instrumented as one variant on both sides, and the call loops that the
// in-process and memory scenarios run.
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { echoRoutes } from "./echo-routes.js";
import { instrument, type Variant } from "./variants.js";

/** An Echo client. */
export type EchoClient = Client<typeof EchoService>;

/**
 * inProcessClient makes an in-process client and server of a variant, and
 * returns the client and the registry that both sides record into.
 */
export function inProcessClient(variant: Variant): { client: EchoClient; registry: Registry } {
  const { server, client, registry } = instrument(variant);
  const transport = createRouterTransport(echoRoutes, {
    router: { interceptors: server },
    transport: { interceptors: client },
  });
  return { client: createClient(EchoService, transport), registry };
}

/** unaryBatch makes `n` unary calls one after another. */
export async function unaryBatch(client: EchoClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.echo({ text: "hello" });
  }
}

/** streamBatch makes `n` server-stream calls of `length` messages each. */
export async function streamBatch(client: EchoClient, n: number, length: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    let got = 0;
    for await (const _ of client.echoStream({ text: "hello", count: length })) {
      got++;
    }
    if (got !== length) {
      throw new Error(`stream delivered ${got} of ${length} messages`);
    }
  }
}
