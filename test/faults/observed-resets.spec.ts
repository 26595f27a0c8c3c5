// With `serverMetrics.contextValues` wired into the adapter, the server sees
// what known-limits.spec.ts (a) pins without it: a client that cancels while
// the handler still reads its requests over HTTP/2 resets the stream, and the
// call is recorded as Canceled, not OK. Calls that complete stay OK, and
// deadlines stay DeadlineExceeded.
import { expect } from "chai";
import { protocols } from "../support/harness.js";
import { assertInvariants, requests, rig, settle, Tally, tracedRoutes, until, type HandlerTruth, type Rig } from "./lib.js";

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
      const open = (signal: AbortSignal) => () =>
        new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));

      const ac = new AbortController();
      const done = settle(() =>
        client.pingClientStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }, open(ac.signal)), {
          signal: ac.signal,
          headers: { "x-call": "cs" },
        }),
      );
      await until(() => truth.get("cs")?.pulled === 2);
      ac.abort();
      expect(await done).to.equal("Canceled");
      // The handler still answered (it saw a clean end of input), but the
      // response never reached the client.
      tally.call("PingClientStream", { received: 2, sent: 1, code: "Canceled" }, { sent: 2, received: 0, code: "Canceled" });

      const ac2 = new AbortController();
      let got = 0;
      const done2 = settle(async () => {
        for await (const _ of client.pingStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }, open(ac2.signal)), {
          signal: ac2.signal,
          headers: { "x-call": "bidi" },
        })) {
          if (++got === 2) ac2.abort();
        }
      });
      expect(await done2).to.equal("Canceled");
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
