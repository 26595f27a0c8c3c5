// A raw HTTP/2 gRPC and gRPC-Web server, for answers no connect-node server
// gives: trailers-only errors (an error with no messages in one HEADERS frame
// with END_STREAM, as grpc-go and grpc-js send them), messages followed by an
// error, non-200 answers, and silence.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { toBinary } from "@bufbuild/protobuf";
import { PingResponseSchema } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { envelope } from "../support/raw-http2.js";
import { response } from "./handlers.js";
import { callHeader, type Ledger } from "./ledger.js";

/** RawServer is a running raw HTTP/2 server. */
export interface RawServer {
  readonly url: string;
  close(): Promise<void>;
}

function trailerFrame(code: number): Buffer {
  const text = Buffer.from(`grpc-status: ${code}\r\ngrpc-message: raw\r\n`);
  return envelope(text, 0x80);
}

/** startRawServer answers each call as its raw plan says. */
export async function startRawServer(ledger: Ledger): Promise<RawServer> {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => undefined);
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    const e = ledger.get(String(headers[callHeader] ?? ""));
    const plan = e?.call.raw ?? { kind: "http", status: 400 };
    const web = String(headers["content-type"] ?? "").startsWith("application/grpc-web");
    const ct = web ? "application/grpc-web+proto" : "application/grpc+proto";
    stream.resume();
    e?.markReady();
    switch (plan.kind) {
      case "hang":
        return;
      case "http":
        stream.respond({ ":status": plan.status, "content-type": "text/plain" });
        stream.end("raw");
        return;
      case "trailers-only":
        stream.respond(
          { ":status": 200, "content-type": ct, "grpc-status": String(plan.code), "grpc-message": "raw" },
          { endStream: true },
        );
        return;
      case "messages": {
        const { n, code } = plan;
        stream.on("end", () => {
          if (stream.destroyed) return;
          const id = e?.call.id ?? "";
          const body = Array.from({ length: n }, (_, i) => envelope(toBinary(PingResponseSchema, response(id, i))));
          if (web) {
            stream.respond({ ":status": 200, "content-type": ct });
            stream.end(Buffer.concat([...body, trailerFrame(code)]));
          } else {
            stream.respond({ ":status": 200, "content-type": ct }, { waitForTrailers: true });
            stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(code), "grpc-message": "raw" }));
            stream.end(Buffer.concat(body));
          }
        });
      }
    }
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
