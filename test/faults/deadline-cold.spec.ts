// A client deadline is DeadlineExceeded on the server even when the server's
// clock cannot show it: a connect-node client resets an HTTP/2 stream on its
// deadline with INTERNAL_ERROR, and on a cold connection the call reaches the
// server 10-30 ms after the client started its timer.
import { expect } from "chai";
import { protocols } from "../support/harness.js";
import { assertInvariants, requests, rig, settle, Tally, tracedRoutes, until, type HandlerTruth, type Rig } from "./lib.js";

describe("faults: a client deadline is DeadlineExceeded on the server, cold connection, short deadline", () => {
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  beforeEach(async () => {
    truth = new Map();
    r = await rig({ routes: tracedRoutes(truth) });
  });
  afterEach(() => r.close());

  for (const p of protocols.filter((p) => p.httpVersion === "2")) {
    it(`${p.name}: 10 rounds of unary, client-stream and bidi calls with a 200 ms deadline`, async function () {
      this.timeout(30000);
      const tally = new Tally();
      for (let round = 0; round < 10; round++) {
        const client = r.client(p); // a new transport: a new HTTP/2 session
        const opts = (id: string) => ({ timeoutMs: 200, headers: { "x-call": `${id}${round}` } });
        const codes = await Promise.all([
          settle(() => client.ping({ value: "u", sleepTimeMs: 5000 }, opts("u"))),
          settle(() => client.pingClientStream(requests([{ value: "a", sleepTimeMs: 5000 }], { n: 0 }), opts("cs"))),
          settle(async () => {
            for await (const _ of client.pingStream(requests([{ value: "a", sleepTimeMs: 5000 }], { n: 0 }), opts("b")));
          }),
        ]);
        expect(codes).to.deep.equal(["DeadlineExceeded", "DeadlineExceeded", "DeadlineExceeded"]);
        await until(() => ["u", "cs", "b"].every((id) => truth.get(`${id}${round}`)?.done === true));
        const DE = "DeadlineExceeded" as const;
        tally.call("Ping", { received: 1, sent: 0, code: DE }, { sent: 1, received: 0, code: DE });
        tally.call("PingClientStream", { received: 1, sent: 0, code: DE }, { sent: 1, received: 0, code: DE });
        tally.call("PingStream", { received: 1, sent: 0, code: DE }, { sent: 1, received: 0, code: DE });
      }
      const s = await r.counters();
      expect(s).to.deep.equal(tally.series());
      assertInvariants(s);
    });
  }
});
