import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { ThrowKind } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { counters } from "./support/expect.js";
import { outcome, requests, useFixture } from "./support/fixture.js";
import { protocols } from "./support/harness.js";

const cs = { type: "client_stream", method: "PingClientStream" } as const;

for (const p of protocols) {
  describe(`client_stream over ${p.name}`, () => {
    const f = useFixture();

    describe("server", () => {
      it("counts each request pulled, the one response, and OK", async () => {
        const res = await f.client(p).pingClientStream(requests({ value: "a" }, { value: "b" }, { value: "c" }));
        expect(res.counter).to.equal(3);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...cs, started: 1, received: 3, sent: 1, handled: { OK: 1 } }]),
        );
      });

      it("counts only the requests the handler pulled when it stops reading early", async () => {
        const res = await f.client(p).pingClientStream(requests({ readLimit: 2 }, { value: "b" }, { value: "c" }, { value: "d" }));
        expect(res.counter).to.equal(2);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...cs, started: 1, received: 2, sent: 1, handled: { OK: 1 } }]),
        );
      });

      it("records the error's code and sends nothing on failure", async () => {
        const c = f.client(p);
        expect(await outcome(() => c.pingClientStream(requests({}, { errorCodeReturned: Code.OutOfRange })))).to.equal("OutOfRange");
        expect(await outcome(() => c.pingClientStream(requests({ errorCodeReturned: 9, throwKind: ThrowKind.STRING })))).to.equal("Internal");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...cs, started: 2, received: 3, sent: 0, handled: { OutOfRange: 1, Internal: 1 } }]),
        );
      });
    });

    describe("client", () => {
      it("counts each request the transport pulled, the response, and OK", async () => {
        await f.client(p).pingClientStream(requests({ value: "a" }, { value: "b" }, { value: "c" }));
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...cs, started: 1, received: 1, sent: 3, handled: { OK: 1 } }]),
        );
      });

      it("records the code it saw on failure, with no response received", async () => {
        expect(
          await outcome(() => f.client(p).pingClientStream(requests({}, { errorCodeReturned: Code.AlreadyExists }))),
        ).to.equal("AlreadyExists");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...cs, started: 1, received: 0, sent: 2, handled: { AlreadyExists: 1 } }]),
        );
      });

      it("records Canceled when the caller aborts while still sending", async () => {
        const ac = new AbortController();
        async function* slow() {
          yield { value: "a" };
          yield { value: "b" };
          ac.abort();
        }
        expect(await outcome(() => f.client(p).pingClientStream(slow(), { signal: ac.signal }))).to.equal("Canceled");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...cs, started: 1, received: 0, sent: 2, handled: { Canceled: 1 } }]),
        );
      });
    });
  });
}
