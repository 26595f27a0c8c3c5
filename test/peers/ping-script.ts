// A fixed list of PingService calls that either client can make: the grpc-go
// ping-client (-script, see test/peers/go/src/pingpeer/cmd/ping-client/script.go)
// or a Connect-ES client on createGrpcTransport. Both make the calls one after
// the other and report each call's code and how many messages it read.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PingRequestSchema, PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { runGoClient } from "./go-peers.js";

/** ScriptRequest is the fields of a PingRequest, as both clients take them. */
export type ScriptRequest = MessageInitShape<typeof PingRequestSchema>;

/** ScriptCall is one call: the method and its requests (see script.go for how each kind sends them). */
export interface ScriptCall {
  readonly method: "PingEmpty" | "Ping" | "PingError" | "PingList" | "PingClientStream" | "PingStream";
  readonly requests: readonly ScriptRequest[];
  readonly timeoutMs?: number;
}

/** ScriptResult is what a call ended with: grpc-go's code name ("OK", "NotFound", …) and the messages read. */
export interface ScriptResult {
  readonly code: string;
  readonly messages: number;
}

/** runScriptWithGo makes the calls with the grpc-go ping-client, on one connection. */
export async function runScriptWithGo(addr: string, calls: readonly ScriptCall[]): Promise<ScriptResult[]> {
  const out = await runGoClient([`-addr=${addr}`, "-script"], JSON.stringify(calls));
  return (JSON.parse(out) as { results: ScriptResult[] }).results;
}

/**
 * runScriptWithConnect makes the calls with a Connect-ES client on
 * createGrpcTransport (HTTP/2). Client and bidi streams send all their
 * requests from one async iterable.
 */
export async function runScriptWithConnect(baseUrl: string, calls: readonly ScriptCall[]): Promise<ScriptResult[]> {
  const client = createClient(PingService, createGrpcTransport({ baseUrl }));
  const results: ScriptResult[] = [];
  for (const c of calls) {
    const opts = c.timeoutMs ? { timeoutMs: c.timeoutMs } : {};
    const first = create(PingRequestSchema, c.requests[0] ?? {});
    const all = async function* () {
      for (const r of c.requests) yield create(PingRequestSchema, r);
    };
    let n = 0;
    try {
      switch (c.method) {
        case "PingEmpty":
          await client.pingEmpty({}, opts);
          n = 1;
          break;
        case "Ping":
          await client.ping(first, opts);
          n = 1;
          break;
        case "PingError":
          await client.pingError(first, opts);
          n = 1;
          break;
        case "PingList":
          for await (const _ of client.pingList(first, opts)) n++;
          break;
        case "PingClientStream":
          await client.pingClientStream(all(), opts);
          n = 1;
          break;
        case "PingStream":
          for await (const _ of client.pingStream(all(), opts)) n++;
          break;
      }
      results.push({ code: "OK", messages: n });
    } catch (e) {
      results.push({ code: Code[ConnectError.from(e).code], messages: n });
    }
  }
  return results;
}
