// Malformed requests sent as raw HTTP/2. The server must stay up; where the
// interceptor runs, the call is recorded exactly once with the code on the
// wire; where connect-node rejects before any interceptor, no series appears.
import { create, toBinary } from "@bufbuild/protobuf";
import { expect } from "chai";
import { PingRequestSchema } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { protocols } from "../support/harness.js";
import { badProtobuf, envelope, rawRequest, type RawRequest, type RawResponse } from "../support/raw-http2.js";
import { assertInvariants, requests, rig, settle, Tally, type CallCounts, type MethodName, type Rig } from "./lib.js";

const S = "/connectrpc.prometheus.test.v1.PingService/";
const good = toBinary(PingRequestSchema, create(PingRequestSchema, { value: "ok" }));
const big = toBinary(PingRequestSchema, create(PingRequestSchema, { value: "x".repeat(2000) }));
const grpc = { "content-type": "application/grpc+proto", te: "trailers" };
const grpcWeb = { "content-type": "application/grpc-web+proto" };
const connectUnary = { "content-type": "application/proto" };
const connectStream = { "content-type": "application/connect+proto" };

/** What the wire said: `grpc <status>`, `connect <code>` or `http <status>`. */
function wire(res: RawResponse): string {
  const ct = res.headers["content-type"] ?? "";
  if (ct.startsWith("application/grpc-web")) {
    const m = /grpc-status:\s*(\d+)/.exec(res.body.toString("latin1"));
    return `grpc ${m ? m[1] : "?"}`;
  }
  if (ct.startsWith("application/grpc")) {
    return `grpc ${res.trailers["grpc-status"] ?? res.headers["grpc-status"] ?? "?"}`;
  }
  if (ct.startsWith("application/connect+")) {
    const m = /"code":"(\w+)"/.exec(res.body.toString("latin1"));
    return `connect ${m ? m[1] : "ok"}`;
  }
  if (ct === "application/json" && res.status !== 200) {
    const m = /"code":"(\w+)"/.exec(res.body.toString("utf8"));
    return `http ${res.status} ${m ? m[1] : ""}`.trim();
  }
  return `http ${res.status}`;
}

interface Case {
  name: string;
  req: RawRequest;
  wire: string;
  /** The server's record of the call, or undefined if no interceptor ran. */
  recorded?: [MethodName, CallCounts];
}

const cases: Case[] = [
  // Unary requests are parsed before any interceptor runs.
  { name: "gRPC unary, bad protobuf", req: { path: S + "Ping", headers: grpc, body: [envelope(badProtobuf)] }, wire: "grpc 13" },
  { name: "gRPC-Web unary, bad protobuf", req: { path: S + "Ping", headers: grpcWeb, body: [envelope(badProtobuf)] }, wire: "grpc 13" },
  { name: "Connect unary, bad protobuf", req: { path: S + "Ping", headers: connectUnary, body: [badProtobuf] }, wire: "http 500 internal" },
  { name: "gRPC unary, truncated envelope", req: { path: S + "Ping", headers: grpc, body: [envelope(good, 0, 100)] }, wire: "grpc 3" },
  { name: "gRPC unary, message > readMaxBytes", req: { path: S + "Ping", headers: grpc, body: [envelope(big)] }, wire: "grpc 8" },
  { name: "Connect unary, message > readMaxBytes", req: { path: S + "Ping", headers: connectUnary, body: [big] }, wire: "http 429 resource_exhausted" },
  { name: "gRPC unary, invalid grpc-timeout", req: { path: S + "Ping", headers: { ...grpc, "grpc-timeout": "abc" }, body: [envelope(good)] }, wire: "grpc 3" },
  { name: "gRPC unary, grpc-timeout of 9 digits", req: { path: S + "Ping", headers: { ...grpc, "grpc-timeout": "999999999S" }, body: [envelope(good)] }, wire: "grpc 3" },
  { name: "Connect unary, invalid connect-timeout-ms", req: { path: S + "Ping", headers: { ...connectUnary, "connect-timeout-ms": "abc" }, body: [good] }, wire: "http 400 invalid_argument" },
  // Rejected by the router or the protocol negotiation.
  { name: "wrong content-type", req: { path: S + "Ping", headers: { "content-type": "text/plain" }, body: [good] }, wire: "http 415" },
  { name: "gRPC-Web text", req: { path: S + "Ping", headers: { "content-type": "application/grpc-web-text" }, body: [good] }, wire: "http 415" },
  { name: "GET of a gRPC method", req: { path: S + "Ping", method: "GET" }, wire: "http 405" },
  { name: "unknown method", req: { path: S + "Nope", headers: grpc, body: [envelope(good)] }, wire: "http 404" },
  { name: "unknown service, 11 kB path", req: { path: "/" + "a.".repeat(3000) + "Svc/" + "b".repeat(5000), headers: grpc, body: [envelope(good)] }, wire: "http 404" },
  { name: "odd path: emoji, NUL, query", req: { path: "/%F0%9F%92%A5.Svc/M%00e%C3%A9?x=1", headers: grpc, body: [envelope(good)] }, wire: "http 404" },
  { name: "method path in the wrong case", req: { path: "/connectrpc.prometheus.test.v1.pingservice/ping", headers: grpc, body: [envelope(good)] }, wire: "http 404" },
  // Streams: the interceptor runs; the bad input surfaces while the call
  // reads its request stream.
  { name: "gRPC server stream, bad protobuf", req: { path: S + "PingList", headers: grpc, body: [envelope(badProtobuf)] }, wire: "grpc 13", recorded: ["PingList", { received: 0, sent: 0, code: "Internal" }] },
  { name: "Connect server stream, bad protobuf", req: { path: S + "PingList", headers: connectStream, body: [envelope(badProtobuf)] }, wire: "connect internal", recorded: ["PingList", { received: 0, sent: 0, code: "Internal" }] },
  { name: "gRPC server stream, message > readMaxBytes", req: { path: S + "PingList", headers: grpc, body: [envelope(big)] }, wire: "grpc 8", recorded: ["PingList", { received: 0, sent: 0, code: "ResourceExhausted" }] },
  { name: "gRPC server stream, invalid grpc-timeout", req: { path: S + "PingList", headers: { ...grpc, "grpc-timeout": "abc" }, body: [envelope(good)] }, wire: "grpc 3", recorded: ["PingList", { received: 0, sent: 0, code: "InvalidArgument" }] },
  { name: "gRPC client stream, good then bad protobuf", req: { path: S + "PingClientStream", headers: grpc, body: [envelope(good), envelope(badProtobuf)] }, wire: "grpc 13", recorded: ["PingClientStream", { received: 1, sent: 0, code: "Internal" }] },
  { name: "gRPC-Web client stream, good then bad protobuf", req: { path: S + "PingClientStream", headers: grpcWeb, body: [envelope(good), envelope(badProtobuf)] }, wire: "grpc 13", recorded: ["PingClientStream", { received: 1, sent: 0, code: "Internal" }] },
  { name: "Connect client stream, good then bad protobuf", req: { path: S + "PingClientStream", headers: connectStream, body: [envelope(good), envelope(badProtobuf)] }, wire: "connect internal", recorded: ["PingClientStream", { received: 1, sent: 0, code: "Internal" }] },
  { name: "gRPC client stream, good then truncated envelope", req: { path: S + "PingClientStream", headers: grpc, body: [envelope(good), envelope(good, 0, 100)] }, wire: "grpc 3", recorded: ["PingClientStream", { received: 1, sent: 0, code: "InvalidArgument" }] },
  { name: "gRPC client stream, good then > readMaxBytes", req: { path: S + "PingClientStream", headers: grpc, body: [Buffer.concat([envelope(good), envelope(big)])] }, wire: "grpc 8", recorded: ["PingClientStream", { received: 0, sent: 0, code: "ResourceExhausted" }] },
  // (received 0 above: both envelopes arrive in one chunk, and the envelope
  // splitter fails on the size before it hands the first message on.)
  { name: "gRPC client stream, invalid grpc-timeout", req: { path: S + "PingClientStream", headers: { ...grpc, "grpc-timeout": "abc" }, body: [envelope(good)] }, wire: "grpc 3", recorded: ["PingClientStream", { received: 0, sent: 0, code: "InvalidArgument" }] },
  { name: "Connect client stream, invalid connect-timeout-ms", req: { path: S + "PingClientStream", headers: { ...connectStream, "connect-timeout-ms": "abc" }, body: [envelope(good)] }, wire: "connect invalid_argument", recorded: ["PingClientStream", { received: 0, sent: 0, code: "InvalidArgument" }] },
  { name: "gRPC bidi, good then bad protobuf", req: { path: S + "PingStream", headers: grpc, body: [envelope(good), envelope(badProtobuf)] }, wire: "grpc 13", recorded: ["PingStream", { received: 1, sent: 1, code: "Internal" }] },
  { name: "gRPC bidi, good then truncated envelope", req: { path: S + "PingStream", headers: grpc, body: [envelope(good), envelope(good, 0, 100)] }, wire: "grpc 3", recorded: ["PingStream", { received: 1, sent: 1, code: "InvalidArgument" }] },
  { name: "gRPC bidi, grpc-timeout -1m", req: { path: S + "PingStream", headers: { ...grpc, "grpc-timeout": "-1m" }, body: [envelope(good)] }, wire: "grpc 3", recorded: ["PingStream", { received: 0, sent: 0, code: "InvalidArgument" }] },
];

describe("faults: malformed requests (raw HTTP/2, readMaxBytes 1024)", () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig({ adapter: { readMaxBytes: 1024 } });
  });
  afterEach(() => r.close());

  for (const c of cases) {
    it(`${c.name}: ${c.wire}, ${c.recorded ? `recorded ${c.recorded[1].code}` : "no series"}`, async () => {
      const res = await rawRequest(r.server.h2Url, c.req);
      expect(wire(res)).to.equal(c.wire);
      const s = await r.counters();
      const tally = new Tally();
      if (c.recorded) tally.add("server", ...c.recorded);
      expect(s).to.deep.equal(tally.series());
      assertInvariants(s);
    });
  }

  for (const p of protocols.filter((p) => p.httpVersion === "1.1")) {
    it(`bidi over HTTP/1.1 (${p.name}): HTTP 505, the client records Unknown, no server series`, async () => {
      const client = r.client(p);
      const pulled = { n: 0 };
      let got = 0;
      const code = await settle(async () => {
        for await (const _ of client.pingStream(requests([{ value: "a" }], pulled))) got++;
      });
      expect([code, got]).to.deep.equal(["Unknown", 0]);
      const s = await r.counters();
      expect(s).to.deep.equal(new Tally().add("client", "PingStream", { sent: pulled.n, received: 0, code: "Unknown" }).series());
      assertInvariants(s);
    });
  }

  it("all of them at once, then real calls on every protocol: the server stays up, no new label values", async () => {
    const results = await Promise.all(cases.map((c) => rawRequest(r.server.h2Url, c.req)));
    expect(results.map(wire)).to.deep.equal(cases.map((c) => c.wire));
    const tally = new Tally();
    for (const c of cases) if (c.recorded) tally.add("server", ...c.recorded);
    for (const p of protocols) {
      const res = await r.client(p).ping({ value: "alive" });
      expect(res.value).to.equal("alive");
      tally.call("Ping", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });
    }
    const s = await r.counters();
    expect(s).to.deep.equal(tally.series());
    assertInvariants(s);
  });
});
