// Every expected count comes from the test's own traffic: the requests the
// transport pulled from the caller's iterable, the responses the caller got,
// the code it saw.
import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PingRequestSchema } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { counters } from "./support/expect.js";
import { codeAndCount, useFixture } from "./support/fixture.js";
import { protocols } from "./support/harness.js";

const bidi = { type: "bidi_stream", method: "PingStream" } as const;

type PingInit = MessageInitShape<typeof PingRequestSchema>;

/** The requests of one call, counting how many the transport pulled. */
function counted(...items: PingInit[]): AsyncIterable<PingInit> & { pulled: number } {
  const out = {
    pulled: 0,
    async *[Symbol.asyncIterator]() {
      for (const item of items) {
        out.pulled++;
        yield item;
      }
    },
  };
  return out;
}

for (const p of protocols.filter((p) => p.httpVersion === "2")) {
  describe(`bidi_stream over ${p.name}`, () => {
    const f = useFixture();

    describe("server", () => {
      it("counts each message both ways and OK at the end", async () => {
        // The handler echoes each request, and reads them all.
        const reqs = counted({ value: "a" }, { value: "b" }, { value: "c" });
        const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs));
        expect([code, reqs.pulled, got]).to.deep.equal(["OK", 3, 3]);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: reqs.pulled, sent: got, handled: { [code]: 1 } }]),
        );
      });

      it("counts the messages before an error, and its code", async () => {
        // The handler echoes the first request and fails on the second.
        const reqs = counted({ value: "a" }, { errorCodeReturned: Code.Unavailable });
        const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs));
        expect([code, reqs.pulled, got]).to.deep.equal(["Unavailable", 2, 1]);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: reqs.pulled, sent: got, handled: { [code]: 1 } }]),
        );
      });

      it("records Canceled when the client cancels mid-stream", async () => {
        // The handler echoes the first request, then waits on the second
        // until the client cancels, once it has the first response.
        const ac = new AbortController();
        const reqs = counted({ value: "a" }, { waitForCancel: true });
        let got = 0;
        const [code] = await codeAndCount(async () => {
          for await (const _ of f.client(p).pingStream(reqs, { signal: ac.signal })) {
            got++;
            ac.abort();
          }
        });
        expect([code, reqs.pulled, got]).to.deep.equal(["Canceled", 2, 1]);
        expect(await f.settled("grpc_server_")).to.deep.equal(
          counters("server", [{ ...bidi, started: 1, received: reqs.pulled, sent: got, handled: { [code]: 1 } }]),
        );
      });
    });

    describe("client", () => {
      it("counts each message both ways and OK at the end", async () => {
        const reqs = counted({ value: "a" }, { value: "b" });
        const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs));
        expect([code, reqs.pulled, got]).to.deep.equal(["OK", 2, 2]);
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: got, sent: reqs.pulled, handled: { [code]: 1 } }]),
        );
      });

      it("records the code it saw, after the messages it received", async () => {
        const reqs = counted({ value: "a" }, { value: "b" }, { errorCodeReturned: Code.Unimplemented });
        const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs));
        expect([code, reqs.pulled, got]).to.deep.equal(["Unimplemented", 3, 2]);
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: got, sent: reqs.pulled, handled: { [code]: 1 } }]),
        );
      });

      it("records Canceled for a stream that is aborted and never read again", async () => {
        const ac = new AbortController();
        const reqs = counted({ value: "a" }, { waitForCancel: true });
        const it = f.client(p).pingStream(reqs, { signal: ac.signal })[Symbol.asyncIterator]();
        expect((await it.next()).done).to.equal(false);
        ac.abort();
        const s = await f.settled("grpc_client_");
        // Read after the call ended: the transport pulls nothing more then.
        expect(s).to.deep.equal(counters("client", [{ ...bidi, started: 1, received: 1, sent: reqs.pulled, handled: { Canceled: 1 } }]));
        expect(reqs.pulled).to.be.within(1, 2);
      });

      it("records DeadlineExceeded when its deadline passes", async () => {
        const reqs = counted({ value: "a" }, { waitForCancel: true });
        const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs, { timeoutMs: 150 }));
        expect([code, got]).to.deep.equal(["DeadlineExceeded", 1]);
        expect(reqs.pulled).to.be.within(1, 2);
        expect(await f.settled("grpc_client_")).to.deep.equal(
          counters("client", [{ ...bidi, started: 1, received: got, sent: reqs.pulled, handled: { [code]: 1 } }]),
        );
      });
    });
  });
}

for (const p of protocols.filter((p) => p.httpVersion === "1.1")) {
  describe(`bidi_stream over ${p.name}`, () => {
    const f = useFixture();

    it("is refused by the server before any interceptor: only the client records it, as Unknown", async () => {
      const reqs = counted({ value: "a" });
      const [code, got] = await codeAndCount(() => f.client(p).pingStream(reqs));
      expect([code, got]).to.deep.equal(["Unknown", 0]);
      expect(await f.settled("grpc_server_")).to.deep.equal({});
      // The request may or may not have been pulled before the 505 arrived:
      // sent is what the transport pulled.
      expect(await f.settled("grpc_client_")).to.deep.equal(
        counters("client", [{ ...bidi, started: 1, received: got, sent: reqs.pulled, handled: { [code]: 1 } }]),
      );
    });
  });
}
