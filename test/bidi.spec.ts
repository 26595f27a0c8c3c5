import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { counters } from "./support/expect.js";
import { drain, outcome, requests, useFixture } from "./support/fixture.js";
import { protocols } from "./support/harness.js";

const bidi = { type: "bidi_stream", method: "PingStream" } as const;

for (const p of protocols.filter((p) => p.httpVersion === "2")) {
  describe(`bidi_stream over ${p.name}`, () => {
    const f = useFixture();

    describe("server", () => {
      it("counts each message both ways and OK at the end", async () => {
        expect(await drain(f.client(p).pingStream(requests({ value: "a" }, { value: "b" }, { value: "c" })))).to.equal(3);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: 3, sent: 3, handled: { OK: 1 } }]),
        );
      });

      it("counts the messages before an error, and its code", async () => {
        const call = f.client(p).pingStream(requests({ value: "a" }, { errorCodeReturned: Code.Unavailable }));
        expect(await outcome(() => drain(call))).to.equal("Unavailable");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: 2, sent: 1, handled: { Unavailable: 1 } }]),
        );
      });

      it("records Canceled when the client cancels mid-stream", async () => {
        const ac = new AbortController();
        const result = await outcome(async () => {
          for await (const _ of f.client(p).pingStream(requests({ value: "a" }, { waitForCancel: true }), { signal: ac.signal })) {
            ac.abort();
          }
        });
        expect(result).to.equal("Canceled");
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: 2, sent: 1, handled: { Canceled: 1 } }]),
        );
      });
    });

    describe("client", () => {
      it("counts each message both ways and OK at the end", async () => {
        expect(await drain(f.client(p).pingStream(requests({ value: "a" }, { value: "b" })))).to.equal(2);
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: 2, sent: 2, handled: { OK: 1 } }]),
        );
      });

      it("records the code it saw, after the messages it received", async () => {
        const call = f.client(p).pingStream(requests({ value: "a" }, { value: "b" }, { errorCodeReturned: Code.Unimplemented }));
        expect(await outcome(() => drain(call))).to.equal("Unimplemented");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: 2, sent: 3, handled: { Unimplemented: 1 } }]),
        );
      });

      it("records Canceled for a stream that is aborted and never read again", async () => {
        const ac = new AbortController();
        const it = f.client(p).pingStream(requests({ value: "a" }, { waitForCancel: true }), { signal: ac.signal })[Symbol.asyncIterator]();
        expect((await it.next()).done).to.equal(false);
        ac.abort();
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: 1, sent: 2, handled: { Canceled: 1 } }]),
        );
      });

      it("records DeadlineExceeded when its deadline passes", async () => {
        const call = f.client(p).pingStream(requests({ value: "a" }, { waitForCancel: true }), { timeoutMs: 150 });
        expect(await outcome(() => drain(call))).to.equal("DeadlineExceeded");
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: 1, sent: 2, handled: { DeadlineExceeded: 1 } }]),
        );
      });
    });
  });
}

for (const p of protocols.filter((p) => p.httpVersion === "1.1")) {
  describe(`bidi_stream over ${p.name}`, () => {
    const f = useFixture();

    it("is refused by the server before any interceptor: only the client records it, as Unknown", async () => {
      expect(await outcome(() => drain(f.client(p).pingStream(requests({ value: "a" }))))).to.equal("Unknown");
      expect(await f.settled("grpc_server_")).to.deep.equal({});
      const client = await f.settled("grpc_client_");
      // The request may or may not have been pulled before the 505 arrived.
      const sent = client[Object.keys(client).find((k) => k.startsWith("grpc_client_msg_sent_total")) ?? ""] ?? 0;
      expect(client).to.deep.equal(
        counters("client", [{ ...bidi, started: 1, received: 0, sent, handled: { Unknown: 1 } }]),
      );
    });
  });
}
