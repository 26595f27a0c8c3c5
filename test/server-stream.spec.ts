import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { ThrowKind } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { counters } from "./support/expect.js";
import { drain, outcome, useFixture } from "./support/fixture.js";
import { protocols } from "./support/harness.js";

const list = { type: "server_stream", method: "PingList" } as const;

for (const p of protocols) {
  describe(`server_stream over ${p.name}`, () => {
    const f = useFixture();

    describe("server", () => {
      it("counts each response sent and handles OK once at the end", async () => {
        expect(await drain(f.client(p).pingList({ value: "a", responseCount: 5 }))).to.equal(5);
        expect(await drain(f.client(p).pingList({ value: "b", responseCount: 0 }))).to.equal(0);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...list, started: 2, received: 2, sent: 5, handled: { OK: 2 } }]),
        );
      });

      it("counts the messages sent before an error, and the error's code", async () => {
        const c = f.client(p);
        expect(await outcome(() => drain(c.pingList({ responseCount: 2, errorCodeReturned: Code.FailedPrecondition })))).to.equal("FailedPrecondition");
        expect(await outcome(() => drain(c.pingList({ responseCount: 0, errorCodeReturned: Code.Aborted })))).to.equal("Aborted");
        expect(await outcome(() => drain(c.pingList({ responseCount: 1, errorCodeReturned: 3, throwKind: ThrowKind.PLAIN_ERROR })))).to.equal("Internal");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [
            { ...list, started: 3, received: 3, sent: 3, handled: { FailedPrecondition: 1, Aborted: 1, Internal: 1 } },
          ]),
        );
      });

      it("records Canceled when the client cancels mid-stream", async () => {
        const ac = new AbortController();
        let n = 0;
        const result = await outcome(async () => {
          for await (const _ of f.client(p).pingList({ responseCount: 2, waitForCancel: true }, { signal: ac.signal })) {
            if (++n === 2) ac.abort();
          }
        });
        expect(result).to.equal("Canceled");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...list, started: 1, received: 1, sent: 2, handled: { Canceled: 1 } }]),
        );
      });

      it("records DeadlineExceeded when the client's deadline passes mid-stream", async () => {
        const c = f.client(p);
        // Connect first: the client's deadline also counts connecting, which the server cannot see.
        await c.pingEmpty({});
        const call = c.pingList({ responseCount: 1, waitForCancel: true }, { timeoutMs: 200 });
        expect(await outcome(() => drain(call))).to.equal("DeadlineExceeded");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [
            { type: "unary", method: "PingEmpty", started: 1, received: 1, sent: 1, handled: { OK: 1 } },
            { ...list, started: 1, received: 1, sent: 1, handled: { DeadlineExceeded: 1 } },
          ]),
        );
      });
    });

    describe("client", () => {
      it("counts the request sent, each response received, and OK once at the end", async () => {
        expect(await drain(f.client(p).pingList({ value: "a", responseCount: 5 }))).to.equal(5);
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...list, started: 1, received: 5, sent: 1, handled: { OK: 1 } }]),
        );
      });

      it("counts the messages received before an error, and its code", async () => {
        const c = f.client(p);
        expect(await outcome(() => drain(c.pingList({ responseCount: 3, errorCodeReturned: Code.DataLoss })))).to.equal("DataLoss");
        expect(await outcome(() => drain(c.pingList({ responseCount: 0, errorCodeReturned: Code.PermissionDenied })))).to.equal("PermissionDenied");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...list, started: 2, received: 3, sent: 2, handled: { DataLoss: 1, PermissionDenied: 1 } }]),
        );
      });

      it("records Canceled when the caller aborts mid-stream", async () => {
        const ac = new AbortController();
        let n = 0;
        const result = await outcome(async () => {
          for await (const _ of f.client(p).pingList({ responseCount: 3, waitForCancel: true }, { signal: ac.signal })) {
            if (++n === 3) ac.abort();
          }
        });
        expect(result).to.equal("Canceled");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...list, started: 1, received: 3, sent: 1, handled: { Canceled: 1 } }]),
        );
      });

      it("records Canceled for a stream that is aborted and never read again", async () => {
        const ac = new AbortController();
        const it = f.client(p).pingList({ responseCount: 1, waitForCancel: true }, { signal: ac.signal })[Symbol.asyncIterator]();
        expect((await it.next()).done).to.equal(false);
        ac.abort();
        // The caller never calls next() again: the abort alone ends the call.
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...list, started: 1, received: 1, sent: 1, handled: { Canceled: 1 } }]),
        );
      });

      it("records DeadlineExceeded when its deadline passes mid-stream", async () => {
        const call = f.client(p).pingList({ responseCount: 1, waitForCancel: true }, { timeoutMs: 150 });
        expect(await outcome(() => drain(call))).to.equal("DeadlineExceeded");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...list, started: 1, received: 1, sent: 1, handled: { DeadlineExceeded: 1 } }]),
        );
      });
    });
  });
}
