// With `serverMetrics.contextValues` wired into the adapter, the server sees
// what known-limits.spec.ts (a) pins without it: a client that cancels while
// the handler still reads its requests over HTTP/2 resets the stream, and the
// call is recorded as Canceled, not OK. Calls that complete stay OK, and
// deadlines stay DeadlineExceeded.
import { expect } from "chai";
import { protocols } from "../support/harness.js";
import { assertInvariants, cancelWhileSending, requests, rig, settle, Tally, tracedRoutes, type HandlerTruth, type Rig } from "./lib.js";

describe("observed resets (serverMetrics.contextValues)", () => {
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  beforeEach(async () => {
    truth = new Map();
    r = await rig({ routes: tracedRoutes(truth), observeResets: true });
  });
  afterEach(() => r.close());

  for (const p of protocols.filter((p) => p.httpVersion === "2")) {
    it(`${p.name}: cancel while the server reads the requests → Canceled on both sides`, async () => {
      const client = r.client(p);
      const tally = new Tally();
      await cancelWhileSending(client, truth);
      // The handlers still answered (they saw a clean end of input), but the
      // responses never reached the client.
      tally.call("PingClientStream", { received: 2, sent: 1, code: "Canceled" }, { sent: 2, received: 0, code: "Canceled" });
      tally.call("PingStream", { received: 2, sent: 2, code: "Canceled" }, { sent: 2, received: 2, code: "Canceled" });

      // Completed calls of every streaming kind stay OK.
      await client.pingClientStream(requests([{ value: "a" }], { n: 0 }));
      tally.call("PingClientStream", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });
      for await (const _ of client.pingList({ responseCount: 2 }));
      tally.call("PingList", { received: 1, sent: 2, code: "OK" }, { sent: 1, received: 2, code: "OK" });
      for await (const _ of client.pingStream(requests([{ value: "a" }], { n: 0 })));
      tally.call("PingStream", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });

      // A client deadline while the handler reads: DeadlineExceeded.
      const late = await settle(() =>
        client.pingClientStream(requests([{ value: "a" }], { n: 0 }, () => new Promise(() => {})), { timeoutMs: 300 }),
      );
      expect(late).to.equal("DeadlineExceeded");
      // connect-node again shows the handler a clean end of input: it answers.
      tally.call("PingClientStream", { received: 1, sent: 1, code: "DeadlineExceeded" }, { sent: 1, received: 0, code: "DeadlineExceeded" });

      const s = await r.counters();
      expect(s).to.deep.equal(tally.series());
      assertInvariants(s);
      expect(r.errors).to.deep.equal([]);
    });
  }

  for (const p of protocols.filter((p) => p.httpVersion === "1.1")) {
    it(`${p.name}: over HTTP/1.1 there is no stream, and nothing changes`, async () => {
      const client = r.client(p);
      await client.pingClientStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }));
      const s = await r.counters();
      expect(s).to.deep.equal(
        new Tally().call("PingClientStream", { received: 2, sent: 1, code: "OK" }, { sent: 2, received: 1, code: "OK" }).series(),
      );
    });
  }
});
