// A client that goes away over HTTP/1.1 while the server still reads (or
// after it read) a client stream: connect-node aborts the call's signal with
// ConnectError(Aborted, "aborted") whose cause is Node's ECONNRESET. Issue 2:
// "a client reset is Canceled". connect-node reports it as Aborted; the server records Canceled.
import { expect } from "chai";
import { protocols } from "../support/harness.js";
import { assertInvariants, requests, rig, settle, Tally, tracedRoutes, until, type HandlerTruth, type Rig } from "./lib.js";

describe("client reset over HTTP/1.1 is Canceled on the server", () => {
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  beforeEach(async () => {
    truth = new Map();
    r = await rig({ routes: tracedRoutes(truth) });
  });
  afterEach(() => r.close());

  for (const p of protocols.filter((p) => p.httpVersion === "1.1")) {
    it(`${p.name}: client stream aborted while the handler works, and while the client still streams`, async () => {
      const client = r.client(p);
      // 1. The handler read its one request and waits for the cancel.
      const ac = new AbortController();
      const done = settle(() =>
        client.pingClientStream(requests([{ value: "a", readLimit: 1, waitForCancel: true }], { n: 0 }), {
          signal: ac.signal,
          headers: { "x-call": "cs" },
        }),
      );
      await until(() => truth.has("cs"));
      ac.abort();
      expect(await done).to.equal("Canceled");
      // 2. The client aborts while it still streams requests.
      const ac2 = new AbortController();
      const done2 = settle(() =>
        client.pingClientStream(
          requests([{ value: "a" }, { value: "b" }], { n: 0 }, () => new Promise((res) => ac2.signal.addEventListener("abort", () => res()))),
          { signal: ac2.signal, headers: { "x-call": "cs2" } },
        ),
      );
      await until(() => truth.get("cs2")?.pulled === 2);
      ac2.abort();
      expect(await done2).to.equal("Canceled");
      await until(() => truth.get("cs")?.done === true && truth.get("cs2")?.done === true);
      const s = await r.counters();
      expect(s).to.deep.equal(
        new Tally()
          .call("PingClientStream", { received: 1, sent: 0, code: "Canceled" }, { sent: 1, received: 0, code: "Canceled" })
          .call("PingClientStream", { received: 2, sent: 0, code: "Canceled" }, { sent: 2, received: 0, code: "Canceled" })
          .series(),
      );
      assertInvariants(s);
    });
  }
});
