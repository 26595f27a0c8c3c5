// Child process: the peer. The Echo service on nice-grpc (grpc-js) over
// HTTP/2 cleartext on 127.0.0.1, bare or with nice-grpc-prometheus's server
// middleware. Same commands as connect-server.ts.
import { createServer, type ServiceImplementation } from "nice-grpc";
import { prometheusServerMiddleware, registry } from "nice-grpc-prometheus";
import { childArg, serve } from "./child-process.js";
import { EchoDefinition } from "./echo-nice-definition.js";
import { cpuUs } from "./load.js";
import type { ServerReady } from "./connect-server.js";
import { counterTotal } from "./variants.js";

/** The peer's variants: bare, or instrumented with nice-grpc-prometheus. */
export type PeerVariant = "nice-bare" | "nice-prometheus";

const { variant } = childArg<{ variant: PeerVariant }>();

const impl: ServiceImplementation<typeof EchoDefinition> = {
  async echo(req) {
    return { text: req.text, index: 0 };
  },
  async *echoStream(req) {
    for (let i = 0; i < req.count; i++) {
      yield { text: req.text, index: i };
    }
  },
};

const server =
  variant === "nice-prometheus" ? createServer().use(prometheusServerMiddleware()) : createServer();
server.add(EchoDefinition, impl);
const port = await server.listen("127.0.0.1:0");
const ready: ServerReady = { port };
serve(ready, {
  cpu: () => cpuUs(),
  handled: () => counterTotal(registry, "grpc_server_handled_total"),
});
