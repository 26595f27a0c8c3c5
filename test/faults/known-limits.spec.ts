// Known connect-node limits, pinned as they behave today (see the report for
// the proposals):
// (a) a client that cancels while the server still reads a client stream or
//     bidi request over HTTP/2: the server's request iterable just ends, the
//     handler returns, and the server records OK. The reset is observable
//     afterwards on the Node HTTP/2 stream (rstCode CANCEL) through the
//     adapter's `contextValues`, which this file also pins.
// (b) a caller that breaks out of `for await` without aborting: Connect-ES
//     tells no interceptor, so the client call stays in flight.
import type * as http2 from "node:http2";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import { expect } from "chai";
import { key, protocols, series, service } from "../support/harness.js";
import {
  assertInvariants,
  cancelWhileSending,
  delay,
  inFlightOf,
  requests,
  rig,
  Tally,
  tracedRoutes,
  until,
  type HandlerTruth,
  type Rig,
} from "./lib.js";

const kNodeStream = createContextKey<http2.ServerHttp2Stream | undefined>(undefined, {
  description: "the request's HTTP/2 stream",
});

describe("known limits", () => {
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  /** rstCode of each call's HTTP/2 stream when it closed, by x-call. */
  let rst: Map<string, number>;
  beforeEach(async () => {
    truth = new Map();
    rst = new Map();
    r = await rig({
      routes: tracedRoutes(truth),
      adapter: {
        contextValues(req) {
          const values = createContextValues();
          const stream = (req as { stream?: http2.ServerHttp2Stream }).stream;
          if (stream) {
            values.set(kNodeStream, stream);
            const id = String(req.headers["x-call"] ?? "");
            stream.once("close", () => rst.set(id, stream.rstCode ?? -1));
          }
          return values;
        },
      },
    });
  });
  afterEach(() => r.close());

  for (const p of protocols.filter((p) => p.httpVersion === "2")) {
    it(`(a) ${p.name}: cancel while the server reads the requests → server OK (pinned), client Canceled; the stream closes with rstCode CANCEL`, async () => {
      const client = r.client(p);
      const tally = new Tally();
      await cancelWhileSending(client, truth);
      // The handlers saw a clean end of their requests and answered.
      tally.call("PingClientStream", { received: 2, sent: 1, code: "OK" }, { sent: 2, received: 0, code: "Canceled" });
      tally.call("PingStream", { received: 2, sent: 2, code: "OK" }, { sent: 2, received: 2, code: "Canceled" });

      // A call that really completes, for contrast.
      await client.pingClientStream(requests([{ value: "a" }], { n: 0 }), { headers: { "x-call": "ok" } });
      tally.call("PingClientStream", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });

      await until(() => rst.size === 3, 5000, "three streams closed");
      const s = await r.counters();
      expect(s).to.deep.equal(tally.series());
      assertInvariants(s);
      // What the proposal builds on: NGHTTP2_CANCEL (8) for the two
      // cancelled calls, NO_ERROR (0) for the completed one.
      expect(Object.fromEntries(rst)).to.deep.equal({ cs: 8, bidi: 8, ok: 0 });
    });
  }

  for (const p of protocols) {
    it(`(b) ${p.name}: break out of for await without aborting → the client call stays in flight (pinned)`, async () => {
      const client = r.client(p);
      for await (const _ of client.pingList({ value: "x", responseCount: 3 }, { headers: { "x-call": "brk" } })) {
        break;
      }
      // The server is unaffected: the transport reads on and it finishes OK.
      await until(() => truth.get("brk")?.done === true);
      await delay(50);
      const s = await series(r.registry);
      expect(inFlightOf(s, "client")).to.equal(1);
      expect(inFlightOf(s, "server")).to.equal(0);
      const tally = new Tally().add("server", "PingList", { received: 1, sent: 3, code: "OK" });
      const want = tally.series();
      for (const [k, v] of Object.entries(want)) expect(s[k], k).to.equal(v);
      const labels = { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" };
      expect(s[key("grpc_client_started_total", labels)]).to.equal(1);
      expect(s[key("grpc_client_msg_received_total", labels)]).to.equal(1);
    });
  }
});
