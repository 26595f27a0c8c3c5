// A raw HTTP/2 server that answers every request the way the test asks, for
// what connect-node never sends: trailers-only gRPC errors (grpc-go and
// grpc-js send an error without messages in one HEADERS frame with
// END_STREAM), HTTP errors, and messages followed by an error status.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";

/** How the server answers. */
export type RawAnswer =
  /** One HEADERS frame with END_STREAM: :status 200, grpc-status, grpc-message. */
  | { readonly kind: "trailers-only"; readonly code: number }
  /** An HTTP status other than 200, with no gRPC status. */
  | { readonly kind: "http"; readonly status: number }
  /** The given gRPC messages (already encoded protobuf), then a trailer status. */
  | { readonly kind: "messages"; readonly messages: readonly Uint8Array[]; readonly code: number };

export interface RawGrpcServer {
  readonly url: string;
  close(): Promise<void>;
}

/** startRawGrpcServer serves h2c on 127.0.0.1, answering as `answer` says, after reading the request. */
export async function startRawGrpcServer(answer: () => RawAnswer): Promise<RawGrpcServer> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.resume();
    stream.on("end", () => {
      const a = answer();
      if (stream.destroyed) return;
      switch (a.kind) {
        case "trailers-only":
          stream.respond(
            { ":status": 200, "content-type": "application/grpc+proto", "grpc-status": String(a.code), "grpc-message": "raw" },
            { endStream: true },
          );
          return;
        case "http":
          stream.respond({ ":status": a.status }, { endStream: true });
          return;
        case "messages":
          stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(a.code), "grpc-message": "raw" }));
          for (const m of a.messages) stream.write(envelope(m));
          stream.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A gRPC length-prefixed message: flag 0, big-endian length, bytes. */
function envelope(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}
