// The grpc-js caller: a plain @grpc/grpc-js client calls our connect-node
// server as the plan says, and writes what it saw into the ledger.
import * as grpc from "@grpc/grpc-js";
import { readAll, type GrpcPingRequest, type GrpcPingResponse } from "../fixtures/grpcjs-ping.js";
import { requestFor } from "./callers.js";
import { callHeader, tenantHeader, type Entry } from "./ledger.js";
import { codeName } from "./plan.js";

/** The methods of proto-loader's untyped PingService client that the fuzzer calls. */
export interface GrpcPing {
  Ping(req: Partial<GrpcPingRequest>, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<GrpcPingResponse>): grpc.ClientUnaryCall;
  PingList(req: Partial<GrpcPingRequest>, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<GrpcPingResponse>;
  PingClientStream(md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<GrpcPingResponse>): grpc.ClientWritableStream<Partial<GrpcPingRequest>>;
  PingStream(md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientDuplexStream<Partial<GrpcPingRequest>, GrpcPingResponse>;
}

/** callGrpcJs runs a call through a grpc-js client; "stop reading" is a cancel here. */
export async function callGrpcJs(client: GrpcPing, e: Entry): Promise<void> {
  const c = e.call;
  const t = e.caller;
  const md = new grpc.Metadata();
  md.set(callHeader, c.id);
  md.set(tenantHeader, c.tenant);
  const opts: grpc.CallOptions = c.caller.deadlineMs !== undefined ? { deadline: Date.now() + c.caller.deadlineMs } : {};
  const act = c.caller.act;
  t.startAt = performance.now();
  const at = act.kind === "read" ? -1 : act.at;
  let over = false;
  let call: grpc.ClientUnaryCall | grpc.ClientReadableStream<GrpcPingResponse> | undefined;
  const cancel = () => {
    if (over || call === undefined) return;
    t.gaveUp = "abort";
    t.abortedAt = Math.round(performance.now());
    call.cancel();
  };
  const write = (w: grpc.ClientWritableStream<Partial<GrpcPingRequest>>) => {
    for (let i = 0; i < c.caller.requests; i++) w.write(requestFor(c, i, i === c.caller.requests - 1));
    if (!c.caller.holdOpen) w.end();
    else void e.release.then(() => w.end());
  };
  const unaryDone = (cb: (r: grpc.requestCallback<GrpcPingResponse>) => void) =>
    new Promise<number>((resolve) => cb((err) => resolve(err ? (err.code ?? 2) : 0)));
  const stream = (s: grpc.ClientReadableStream<GrpcPingResponse>) => {
    call = s;
    return readAll(s, (n) => n === at && cancel()).then((o) => {
      t.received = o.messages;
      return o.code;
    });
  };
  let code: number;
  if (at === 0) void e.ready.then(cancel);
  switch (c.kind) {
    case "unary":
      code = await unaryDone((cb) => (call = client.Ping(requestFor(c, 0, true), md, opts, cb)));
      break;
    case "client_stream":
      code = await unaryDone((cb) => {
        const w = client.PingClientStream(md, opts, cb);
        call = w as unknown as grpc.ClientUnaryCall;
        write(w);
      });
      break;
    case "server_stream":
      code = await stream(client.PingList(requestFor(c, 0, true), md, opts));
      break;
    case "bidi": {
      const d = client.PingStream(md, opts);
      const done = stream(d);
      write(d as unknown as grpc.ClientWritableStream<Partial<GrpcPingRequest>>);
      code = await done;
    }
  }
  over = true;
  t.code = codeName(code);
  if (c.kind === "unary" || c.kind === "client_stream") t.received = code === 0 ? 1 : 0;
  if (t.gaveUp === undefined && code === grpc.status.DEADLINE_EXCEEDED && c.caller.deadlineMs !== undefined) t.gaveUp = "deadline";
}
