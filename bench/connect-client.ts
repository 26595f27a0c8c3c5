// Child process: a connect-node client of one variant that puts load on a
// network server, over gRPC or Connect (binary), HTTP/2 cleartext.
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";
import { childArg, serve } from "./child-process.js";
import { closedLoop, type LoadArg } from "./load.js";
import { counterTotal, instrument, type Variant } from "./variants.js";

/** What the parent passes: the variant, and the server's port. */
export interface ClientArg {
  readonly variant: Variant;
  readonly port: number;
}

const { variant, port } = childArg<ClientArg>();
const { client: interceptors, registry } = instrument(variant);
const baseUrl = `http://127.0.0.1:${port}`;
const transports: Record<LoadArg["protocol"], Transport> = {
  grpc: createGrpcTransport({ baseUrl, interceptors }),
  connect: createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors }),
};
const clients = {
  grpc: createClient(EchoService, transports.grpc),
  connect: createClient(EchoService, transports.connect),
};

function load(arg: LoadArg) {
  const client = clients[arg.protocol];
  const call =
    arg.kind === "unary"
      ? async () => {
          await client.echo({ text: "hello" });
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
