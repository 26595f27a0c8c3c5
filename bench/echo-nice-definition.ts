// EchoService for the nice-grpc peer, loaded from the same .proto file with
// @grpc/proto-loader (protobufjs), as a typed nice-grpc service definition.
import { fileURLToPath } from "node:url";
import { loadSync, type MethodDefinition as LoaderMethod } from "@grpc/proto-loader";
import type { MethodDefinition } from "nice-grpc";

/** EchoRequest as proto-loader decodes it (with defaults). */
export interface EchoRequest {
  text: string;
  count: number;
}

/** EchoResponse as proto-loader decodes it (with defaults). */
export interface EchoResponse {
  text: string;
  index: number;
}

const protoFile = fileURLToPath(
  new URL("../proto/connectrpc/prometheus/bench/v1/echo.proto", import.meta.url),
);
const pkg = loadSync(protoFile, { defaults: true });
const service = pkg["connectrpc.prometheus.bench.v1.EchoService"] as Record<
  string,
  LoaderMethod<object, object>
>;

/**
 * One method. grpc-js hands deserializers Buffers, so the bytes are passed on
 * as they are, without the copy that nice-grpc's own grpc-js adapter makes.
 */
function method<RS extends boolean>(
  name: string,
  responseStream: RS,
): MethodDefinition<EchoRequest, EchoRequest, EchoResponse, EchoResponse, false, RS> {
  const m = service[name];
  return {
    path: m.path,
    requestStream: false,
    responseStream,
    requestSerialize: (v) => m.requestSerialize(v),
    requestDeserialize: (bytes) => m.requestDeserialize(bytes as Buffer) as EchoRequest,
    responseSerialize: (v) => m.responseSerialize(v),
    responseDeserialize: (bytes) => m.responseDeserialize(bytes as Buffer) as EchoResponse,
    options: {},
  };
}

/** EchoDefinition is EchoService as a nice-grpc service definition. */
export const EchoDefinition = {
  echo: method("Echo", false),
  echoStream: method("EchoStream", true),
} as const;
