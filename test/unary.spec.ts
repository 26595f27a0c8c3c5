import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { ThrowKind } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { counters } from "./support/expect.js";
import { outcome, useFixture } from "./support/fixture.js";
import { protocols } from "./support/harness.js";

const unary = { type: "unary" } as const;

for (const p of protocols) {
  describe(`unary over ${p.name}`, () => {
    const f = useFixture();

    describe("server", () => {
      it("counts a successful call: received 1, sent 1, handled OK", async () => {
        expect(await outcome(() => f.client(p).ping({ value: "a" }))).to.equal("OK");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...unary, method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } }]),
        );
      });

      it("counts a failed call: received 1, sent 0, handled with the error's code", async () => {
        const c = f.client(p);
        expect(await outcome(() => c.pingError({ errorCodeReturned: Code.NotFound }))).to.equal("NotFound");
        expect(await outcome(() => c.pingError({ errorCodeReturned: Code.ResourceExhausted }))).to.equal("ResourceExhausted");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [
            { ...unary, method: "PingError", started: 2, received: 2, sent: 0, handled: { NotFound: 1, ResourceExhausted: 1 } },
          ]),
        );
      });

      it("records Internal for a handler that throws a plain Error, as on the wire", async () => {
        const c = f.client(p);
        expect(await outcome(() => c.pingError({ errorCodeReturned: 5, throwKind: ThrowKind.PLAIN_ERROR }))).to.equal("Internal");
        expect(await outcome(() => c.pingError({ errorCodeReturned: 5, throwKind: ThrowKind.STRING }))).to.equal("Internal");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...unary, method: "PingError", started: 2, received: 2, sent: 0, handled: { Internal: 2 } }]),
        );
      });

      it("records DeadlineExceeded when the client's deadline passes", async () => {
        const c = f.client(p);
        // Connect first: the client's deadline also counts connecting, which the server cannot see.
        await c.pingEmpty({});
        expect(await outcome(() => c.ping({ value: "slow", waitForCancel: true }, { timeoutMs: 200 }))).to.equal("DeadlineExceeded");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [
            { ...unary, method: "PingEmpty", started: 1, received: 1, sent: 1, handled: { OK: 1 } },
            { ...unary, method: "Ping", started: 1, received: 1, sent: 0, handled: { DeadlineExceeded: 1 } },
          ]),
        );
      });

      it("records Canceled when the client cancels", async () => {
        const ac = new AbortController();
        const call = f.client(p).ping({ value: "wait", waitForCancel: true }, { signal: ac.signal });
        setTimeout(() => ac.abort(), 100);
        expect(await outcome(() => call)).to.equal("Canceled");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...unary, method: "Ping", started: 1, received: 1, sent: 0, handled: { Canceled: 1 } }]),
        );
      });
    });

    describe("client", () => {
      it("counts a successful call: sent 1, received 1, handled OK", async () => {
        const c = f.client(p);
        await c.ping({ value: "a" });
        await c.pingEmpty({});
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [
            { ...unary, method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } },
            { ...unary, method: "PingEmpty", started: 1, received: 1, sent: 1, handled: { OK: 1 } },
          ]),
        );
      });

      it("counts a failed call: sent 1, received 0, handled with the code it saw", async () => {
        const c = f.client(p);
        expect(await outcome(() => c.pingError({ errorCodeReturned: Code.Unauthenticated }))).to.equal("Unauthenticated");
        expect(await outcome(() => c.pingError({ errorCodeReturned: 5, throwKind: ThrowKind.PLAIN_ERROR }))).to.equal("Internal");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [
            { ...unary, method: "PingError", started: 2, received: 0, sent: 2, handled: { Unauthenticated: 1, Internal: 1 } },
          ]),
        );
      });

      it("records DeadlineExceeded when its deadline passes", async () => {
        expect(
          await outcome(() => f.client(p).ping({ value: "slow", waitForCancel: true }, { timeoutMs: 100 })),
        ).to.equal("DeadlineExceeded");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...unary, method: "Ping", started: 1, received: 0, sent: 1, handled: { DeadlineExceeded: 1 } }]),
        );
      });

      it("records Canceled when the caller aborts", async () => {
        const ac = new AbortController();
        const call = f.client(p).ping({ value: "wait", waitForCancel: true }, { signal: ac.signal });
        setTimeout(() => ac.abort(), 50);
        expect(await outcome(() => call)).to.equal("Canceled");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...unary, method: "Ping", started: 1, received: 0, sent: 1, handled: { Canceled: 1 } }]),
        );
      });
    });
  });
}
