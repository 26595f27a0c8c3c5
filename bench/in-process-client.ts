// An Echo client wired to its server in process with createRouterTransport,
// instrumented as one variant on both sides, and the call loops that the
// in-process and memory scenarios run.
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { echoRoutes } from "./echo-routes.js";
import type { PassThroughCounts } from "./pass-through.js";
import { instrument, type Variant } from "./variants.js";

/** An Echo client. */
export type EchoClient = Client<typeof EchoService>;

/** An in-process client of one variant, and what it records into. */
export interface InProcessClient {
  readonly client: EchoClient;
  /** The registry that both sides record into. */
  readonly registry: Registry;
  /** The pass-through's counts, for that variant. */
  readonly passThrough?: { readonly server: PassThroughCounts; readonly client: PassThroughCounts };
}

/** inProcessClient makes an in-process client and server of a variant. */
export function inProcessClient(variant: Variant): InProcessClient {
  const { server, client, registry, passThrough } = instrument(variant);
  const transport = createRouterTransport(echoRoutes, {
    router: { interceptors: server },
    transport: { interceptors: client },
  });
  return { client: createClient(EchoService, transport), registry, passThrough };
}

/** unaryBatch makes `n` unary calls one after another. */
export async function unaryBatch(client: EchoClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.echo({ text: "hello" });
  }
}

/**
 * streamBatch makes `n` server-stream calls of `length` messages each; every
 * message carries `text`.
 */
export async function streamBatch(client: EchoClient, n: number, length: number, text = "hello"): Promise<void> {
  for (let i = 0; i < n; i++) {
    let got = 0;
    for await (const _ of client.echoStream({ text, count: length })) {
      got++;
    }
    if (got !== length) {
      throw new Error(`stream delivered ${got} of ${length} messages`);
    }
  }
}
