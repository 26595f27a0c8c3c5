// Child process: a nice-grpc client, bare or with nice-grpc-prometheus's
// client middleware, that puts load on a nice-grpc server. gRPC only.
import { createChannel, createClientFactory } from "nice-grpc";
import { prometheusClientMiddleware, registry } from "nice-grpc-prometheus";
import { childArg, serve } from "./child-process.js";
import { EchoDefinition } from "./echo-nice-definition.js";
import { closedLoop, type LoadArg } from "./load.js";
import type { PeerVariant } from "./nice-server.js";
import { counterTotal } from "./variants.js";

const { variant, port } = childArg<{ variant: PeerVariant; port: number }>();
const factory =
  variant === "nice-prometheus"
    ? createClientFactory().use(prometheusClientMiddleware())
    : createClientFactory();
const client = factory.create(EchoDefinition, createChannel(`127.0.0.1:${port}`));

function load(arg: LoadArg) {
  if (arg.protocol !== "grpc") {
    throw new Error("nice-grpc speaks gRPC only");
  }
  const call =
    arg.kind === "unary"
      ? async () => {
          await client.echo({ text: "hello", count: 0 });
          return 1;
        }
      : async () => {
          let n = 0;
          for await (const _ of client.echoStream({ text: "hello", count: arg.streamLength })) {
            n++;
          }
          return n;
        };
  return closedLoop(call, arg);
}

serve(null, {
  load: (arg: LoadArg) => load(arg),
  handled: () => counterTotal(registry, "grpc_client_handled_total"),
});
