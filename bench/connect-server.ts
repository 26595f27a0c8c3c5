// Child process: the Echo service on connect-node over HTTP/2 cleartext on
// 127.0.0.1, instrumented as one variant. It serves gRPC, gRPC-Web and
// Connect on one port, and reports its CPU time on request.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { childArg, serve } from "./child-process.js";
import { echoRoutes } from "./echo-routes.js";
import { cpuUs } from "./load.js";
import { counterTotal, instrument, type Variant } from "./variants.js";

/** What the parent passes: which variant to serve. */
export interface ServerArg {
  readonly variant: Variant;
}

/** What a network server reports when ready. */
export interface ServerReady {
  readonly port: number;
}

const { variant } = childArg<ServerArg>();
const { server: interceptors, registry } = instrument(variant);
const server = http2.createServer(connectNodeAdapter({ routes: echoRoutes, interceptors }));
server.listen(0, "127.0.0.1", () => {
  const ready: ServerReady = { port: (server.address() as AddressInfo).port };
  serve(ready, {
    cpu: () => cpuUs(),
    handled: () => counterTotal(registry, "grpc_server_handled_total"),
  });
});
