import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { drain, outcome, requests, useFixture } from "./support/fixture.js";
import { key, protocols, service } from "./support/harness.js";

const grpc = protocols[0];

/** `_count` and `_sum` of one histogram for one method. */
function histogram(s: Record<string, number>, name: string, type: string, method: string) {
  const labels = { grpc_method: method, grpc_service: service, grpc_type: type };
  return { count: s[key(`${name}_count`, labels)], sum: s[key(`${name}_sum`, labels)] };
}

/** The `le` bounds of one histogram's buckets, in exposition order. */
function bounds(s: Record<string, number>, name: string): string[] {
  const out: string[] = [];
  for (const k of Object.keys(s)) {
    // prom-client prints `le` first.
    const m = new RegExp(`^${name}_bucket\\{le="([^"]+)",grpc_method="Ping",`).exec(k);
    if (m) out.push(m[1]);
  }
  return out;
}

describe("histograms", () => {
  describe("with every histogram on", () => {
    const f = useFixture({
      server: { handlingTimeHistogram: true },
      client: { handlingTimeHistogram: true, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true },
    });

    it("observe each call once, and each stream message wait and send once", async () => {
      const began = performance.now();
      const c = f.client(grpc);
      await c.ping({});
      await c.ping({});
      expect(await drain(c.pingList({ responseCount: 3 }))).to.equal(3);
      expect(await outcome(() => drain(c.pingList({ errorCodeReturned: Code.Internal })))).to.equal("Internal");
      await c.pingClientStream(requests({}, {}));
      expect(await drain(c.pingStream(requests({}, {})))).to.equal(2);
      const s = await f.settled("grpc_");
      const wall = (performance.now() - began) / 1000;

      const handled = (side: string, type: string, method: string) =>
        histogram(s, `grpc_${side}_handling_seconds`, type, method);
      for (const side of ["server", "client"]) {
        expect(handled(side, "unary", "Ping").count, side).to.equal(2);
        expect(handled(side, "server_stream", "PingList").count, side).to.equal(2);
        expect(handled(side, "client_stream", "PingClientStream").count, side).to.equal(1);
        expect(handled(side, "bidi_stream", "PingStream").count, side).to.equal(1);
      }

      const recv = (type: string, method: string) =>
        histogram(s, "grpc_client_msg_recv_handling_seconds", type, method);
      // Never for unary calls.
      expect(recv("unary", "Ping")).to.deep.equal({ count: undefined, sum: undefined });
      // 3 messages + the wait that ends the stream, plus 1 for the stream that failed at once.
      expect(recv("server_stream", "PingList").count).to.equal(5);
      expect(recv("client_stream", "PingClientStream").count).to.equal(1);
      expect(recv("bidi_stream", "PingStream").count).to.equal(3);

      const send = (type: string, method: string) =>
        histogram(s, "grpc_client_msg_send_handling_seconds", type, method);
      expect(send("unary", "Ping")).to.deep.equal({ count: undefined, sum: undefined });
      // The single request of each server stream.
      expect(send("server_stream", "PingList").count).to.equal(2);
      expect(send("client_stream", "PingClientStream").count).to.equal(2);
      expect(send("bidi_stream", "PingStream").count).to.equal(2);

      // Sums are durations: positive, and no more than the whole test took.
      for (const [k, v] of Object.entries(s)) {
        if (k.includes("_sum{")) {
          expect(v, k).to.be.greaterThan(0);
          expect(v, k).to.be.at.most(wall);
        }
      }
    });

    it("time no read that begins after the caller aborted: it waits for nothing", async () => {
      const ac = new AbortController();
      const it = f.client(grpc).pingList({ responseCount: 1, waitForCancel: true }, { signal: ac.signal })[Symbol.asyncIterator]();
      expect((await it.next()).done).to.equal(false);
      ac.abort();
      // Connect-ES 2.2 rejects these with Canceled before any interceptor;
      // 2.1 passes them through, and its stream answers done.
      const after = [await outcome(() => it.next()), await outcome(() => it.next())];
      expect(after).to.satisfy((a: string[]) => a.every((o) => o === "Canceled" || o === "OK"));
      const s = await f.settled("grpc_client_");
      const recv = histogram(s, "grpc_client_msg_recv_handling_seconds", "server_stream", "PingList");
      // The one wait that got the first message.
      expect(recv.count).to.equal(1);
      expect(s[key("grpc_client_handled_total", { grpc_code: "Canceled", grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" })]).to.equal(1);
    });

    it("use Go's default buckets", async () => {
      await f.client(grpc).ping({});
      const s = await f.settled("grpc_");
      const go = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
      expect(bounds(s, "grpc_server_handling_seconds")).to.deep.equal(go);
      expect(bounds(s, "grpc_client_handling_seconds")).to.deep.equal(go);
    });

    it("time a handler's sleep into the right bucket", async () => {
      await f.client(grpc).ping({ sleepTimeMs: 300 });
      const s = await f.settled("grpc_server_handling_seconds_bucket");
      const bucket = (le: string) =>
        s[`grpc_server_handling_seconds_bucket{le="${le}",grpc_method="Ping",grpc_service="${service}",grpc_type="unary"}`];
      // It slept 300 ms: above the 0.25 bound, so buckets are cumulative from 0.5 up.
      expect(bucket("0.25")).to.equal(0);
      expect(bucket("+Inf")).to.equal(1);
    });
  });

  describe("with custom buckets", () => {
    const f = useFixture({
      server: { handlingTimeHistogram: { buckets: [0.001, 0.1, 60] } },
      client: { handlingTimeHistogram: { buckets: [1, 2] } },
    });

    it("use them", async () => {
      await f.client(grpc).ping({});
      const s = await f.settled("grpc_");
      expect(bounds(s, "grpc_server_handling_seconds")).to.deep.equal(["0.001", "0.1", "60", "+Inf"]);
      expect(bounds(s, "grpc_client_handling_seconds")).to.deep.equal(["1", "2", "+Inf"]);
    });
  });

  describe("off by default", () => {
    const f = useFixture();

    it("record no histogram", async () => {
      await f.client(grpc).ping({});
      await drain(f.client(grpc).pingList({ responseCount: 2 }));
      const text = await f.registry.metrics();
      expect(text).not.to.match(/_seconds/);
    });
  });
});
