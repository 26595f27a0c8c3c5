// Many methods for the scrape scenario: real descriptors, built with
// @bufbuild/protobuf from a FileDescriptorProto that declares services of 10
// unary methods each, on the bench's Echo messages.
import { create, createFileRegistry, type DescMethod } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { file_connectrpc_prometheus_bench_v1_echo } from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";

const perService = 10;

/**
 * manyMethods returns `n` unary methods, in services of 10 methods each
 * (`connectrpc.prometheus.bench.scrape.v1.Service7`, method `Method3`).
 */
export function manyMethods(n: number): DescMethod[] {
  const echo = file_connectrpc_prometheus_bench_v1_echo;
  const pkg = "connectrpc.prometheus.bench.scrape.v1";
  const name = `connectrpc/prometheus/bench/scrape/v1/methods_${n}.proto`;
  const services = Array.from({ length: Math.ceil(n / perService) }, (_, s) => ({
    name: `Service${s}`,
    method: Array.from({ length: Math.min(perService, n - s * perService) }, (_, m) => ({
      name: `Method${m}`,
      inputType: ".connectrpc.prometheus.bench.v1.EchoRequest",
      outputType: ".connectrpc.prometheus.bench.v1.EchoResponse",
    })),
  }));
  const proto = create(FileDescriptorProtoSchema, {
    name,
    package: pkg,
    dependency: [echo.proto.name],
    syntax: "proto3",
    service: services,
  });
  const registry = createFileRegistry(proto, (file) => (file === echo.proto.name ? echo : undefined));
  const file = registry.getFile(name);
  if (file === undefined) {
    throw new Error(`many-methods: ${name} did not build`);
  }
  const methods = file.services.flatMap((s) => s.methods);
  if (methods.length !== n || methods.some((m) => m.methodKind !== "unary")) {
    throw new Error(`many-methods: built ${methods.length} methods, not ${n} unary ones`);
  }
  return methods;
}
