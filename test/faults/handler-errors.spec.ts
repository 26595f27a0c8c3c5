// Handler failures on every protocol and RPC kind: a ConnectError, a plain
// Error, a thrown string and `throw undefined`, before the first message and
// midway, and a handler that fails after its client has gone.
import { expect } from "chai";
import { ThrowKind } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { protocols, type Protocol } from "../support/harness.js";
import {
  assertInvariants,
  requests,
  rig,
  settle,
  Tally,
  tracedRoutes,
  until,
  type CodeName,
  type HandlerTruth,
  type Rig,
} from "./lib.js";

/**
 * Each way to fail, with the code each side records. `server` is the code
 * connect-node puts on the wire; `client` the code the caller sees. They
 * differ only for `throw undefined`, which connect-node ends as OK (with no
 * message) except on a Connect unary call.
 */
interface ThrowCase {
  name: string;
  kind: ThrowKind;
  wire(method: "unary" | "client" | "stream", p: Protocol): { server: CodeName; client: CodeName };
}
const same = (c: CodeName) => ({ server: c, client: c });
const throwKinds: ThrowCase[] = [
  { name: "ConnectError", kind: ThrowKind.CONNECT_ERROR, wire: () => same("NotFound") },
  { name: "plain Error", kind: ThrowKind.PLAIN_ERROR, wire: () => same("Internal") },
  { name: "string", kind: ThrowKind.STRING, wire: () => same("Internal") },
  {
    name: "undefined",
    kind: ThrowKind.UNDEFINED,
    wire(method, p) {
      if (method === "stream") return same("OK");
      if (method === "unary" && p.protocol === "connect") return same("Internal");
      // grpc-status 0 without a message: the client reports the protocol error.
      return { server: "OK", client: "Unimplemented" };
    },
  },
];

describe("faults: handler failures", function () {
  let r: Rig;
  let truth: Map<string, HandlerTruth>;
  beforeEach(async () => {
    truth = new Map();
    r = await rig({ routes: tracedRoutes(truth) });
  });
  afterEach(async () => {
    await r.close();
  });

  for (const p of protocols) {
    describe(p.name, () => {
      for (const t of throwKinds) {
        it(`${t.name}: unary, server stream before and after messages, client stream${p.httpVersion === "2" ? ", bidi" : ""}`, async () => {
          const client = r.client(p);
          const fail = { errorCodeReturned: 5, throwKind: t.kind };
          const tally = new Tally();
          const unary = t.wire("unary", p);
          const stream = t.wire("stream", p);
          const cstream = t.wire("client", p);

          expect(await settle(() => client.pingError({ value: "u", ...fail }))).to.equal(unary.client);
          tally.call("PingError", { received: 1, sent: 0, code: unary.server }, { sent: 1, received: 0, code: unary.client });

          // Server stream: fails before its first message.
          let got = 0;
          expect(await settle(async () => {
            for await (const _ of client.pingList({ value: "s0", responseCount: 0, ...fail })) got++;
          })).to.equal(stream.client);
          expect(got).to.equal(0);
          tally.call("PingList", { received: 1, sent: 0, code: stream.server }, { sent: 1, received: 0, code: stream.client });

          // Server stream: fails after two messages.
          got = 0;
          expect(await settle(async () => {
            for await (const _ of client.pingList({ value: "s2", responseCount: 2, ...fail })) got++;
          })).to.equal(stream.client);
          expect(got).to.equal(2);
          tally.call("PingList", { received: 1, sent: 2, code: stream.server }, { sent: 1, received: 2, code: stream.client });

          // Client stream: fails after reading all three requests.
          const pulled = { n: 0 };
          expect(await settle(() =>
            client.pingClientStream(requests([{ value: "a" }, { value: "b" }, { value: "c", ...fail }], pulled)),
          )).to.equal(cstream.client);
          expect(pulled.n).to.equal(3);
          tally.call("PingClientStream", { received: 3, sent: 0, code: cstream.server }, { sent: 3, received: 0, code: cstream.client });

          // Client stream: fails after reading one of three (the transport
          // may have pulled more than the handler read).
          const pulled1 = { n: 0 };
          expect(await settle(() =>
            client.pingClientStream(
              requests([{ value: "a", readLimit: 1, ...fail }, { value: "b" }, { value: "c" }], pulled1),
              { headers: { "x-call": "cs1" } },
            ),
          )).to.equal(cstream.client);
          await until(() => truth.get("cs1")?.done === true);
          expect(truth.get("cs1")?.pulled).to.equal(1);
          tally.call("PingClientStream", { received: 1, sent: 0, code: cstream.server }, { sent: pulled1.n, received: 0, code: cstream.client });

          if (p.httpVersion === "2") {
            // Bidi: fails on the first request, before any response.
            const pb0 = { n: 0 };
            got = 0;
            expect(await settle(async () => {
              for await (const _ of client.pingStream(requests([{ value: "a", ...fail }], pb0))) got++;
            })).to.equal(stream.client);
            expect(got).to.equal(0);
            tally.call("PingStream", { received: 1, sent: 0, code: stream.server }, { sent: pb0.n, received: 0, code: stream.client });

            // Bidi: one echo, then fails on the second request.
            const pb = { n: 0 };
            got = 0;
            expect(await settle(async () => {
              for await (const _ of client.pingStream(requests([{ value: "a" }, { value: "b", ...fail }], pb))) got++;
            })).to.equal(stream.client);
            expect(got).to.equal(1);
            expect(pb.n).to.equal(2);
            tally.call("PingStream", { received: 2, sent: 1, code: stream.server }, { sent: 2, received: 1, code: stream.client });
          }

          const s = await r.counters();
          expect(s).to.deep.equal(tally.series());
          assertInvariants(s);
        });
      }

      it("handler fails after its client has gone: Canceled on both sides", async () => {
        const client = r.client(p);
        const tally = new Tally();
        // The handlers ignore the abort, sleep, then throw FailedPrecondition.
        const late = { errorCodeReturned: 9, ignoreCancel: true, sleepTimeMs: 150 };
        const cases: Promise<void>[] = [];

        const run = (id: string, call: (signal: AbortSignal) => Promise<unknown>) => {
          const ac = new AbortController();
          cases.push(
            (async () => {
              const done = settle(() => call(ac.signal));
              await until(() => truth.has(id));
              ac.abort();
              expect(await done, id).to.equal("Canceled");
              await until(() => truth.get(id)?.done === true, 5000, `${id} handler done`);
            })(),
          );
        };
        run("u", (signal) => client.pingError({ value: "u", ...late }, { signal, headers: { "x-call": "u" } }));
        tally.call("PingError", { received: 1, sent: 0, code: "Canceled" }, { sent: 1, received: 0, code: "Canceled" });

        const csPulled = { n: 0 };
        run("cs", (signal) =>
          client.pingClientStream(requests([{ value: "a", readLimit: 1, ...late }], csPulled), {
            signal,
            headers: { "x-call": "cs" },
          }),
        );
        tally.call("PingClientStream", { received: 1, sent: 0, code: "Canceled" }, { sent: 1, received: 0, code: "Canceled" });

        if (p.httpVersion === "2") {
          const bPulled = { n: 0 };
          run("bidi", async (signal) => {
            for await (const _ of client.pingStream(requests([{ value: "a", ...late }], bPulled), {
              signal,
              headers: { "x-call": "bidi" },
            }));
          });
          tally.call("PingStream", { received: 1, sent: 0, code: "Canceled" }, { sent: 1, received: 0, code: "Canceled" });
        }
        await Promise.all(cases);
        const s = await r.counters();
        expect(s).to.deep.equal(tally.series());
        assertInvariants(s);
      });
    });
  }
});
