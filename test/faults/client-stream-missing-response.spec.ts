// A client-streaming call whose response stream ends without a message (the
// handler threw `undefined`, which connect-node ends as OK with no message;
// or any server that answers so): Connect-ES's promise client throws
// ConnectError(Unimplemented, "protocol error: missing response message")
// AFTER the interceptor's response stream ended cleanly. ClientMetrics
// records what the caller sees: Unimplemented.
import { expect } from "chai";
import { ThrowKind } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { protocols } from "../support/harness.js";
import { assertInvariants, requests, rig, settle, Tally, type Rig } from "./lib.js";

describe("client stream without a response message is Unimplemented on the client", () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(() => r.close());

  for (const p of protocols) {
    it(`${p.name}: the client records what the caller saw`, async () => {
      const client = r.client(p);
      const code = await settle(() =>
        client.pingClientStream(requests([{ value: "a" }, { value: "b", errorCodeReturned: 5, throwKind: ThrowKind.UNDEFINED }], { n: 0 })),
      );
      expect(code).to.equal("Unimplemented");
      const s = await r.counters();
      expect(s).to.deep.equal(
        new Tally()
          // The wire said OK (no message); the caller saw Unimplemented.
          .call("PingClientStream", { received: 2, sent: 0, code: "OK" }, { sent: 2, received: 0, code: "Unimplemented" })
          .series(),
      );
      assertInvariants(s);
    });
  }
});
