import { expect } from "chai";
import { Code, ConnectError } from "@connectrpc/connect";
import { callCode, codeAfterReset, requestTimeoutMs } from "../src/code.js";

function req(header: Record<string, string> = {}, opts: { stream?: boolean; abort?: unknown } = {}) {
  const ac = new AbortController();
  if ("abort" in opts) ac.abort(opts.abort);
  return { stream: opts.stream ?? false, signal: ac.signal, header: new Headers(header) };
}

describe("callCode (the one place that decides a code)", () => {
  const now = performance.now();

  describe("server", () => {
    it("is OK for success and a ConnectError's code for it", () => {
      expect(callCode(true, false, undefined, req(), now)).to.equal(0);
      expect(callCode(true, true, new ConnectError("x", Code.NotFound), req(), now)).to.equal(Code.NotFound);
    });
    it("is Internal for anything else thrown, as connect-node sends it", () => {
      expect(callCode(true, true, new Error("x"), req(), now)).to.equal(Code.Internal);
      expect(callCode(true, true, "a string", req(), now)).to.equal(Code.Internal);
      expect(callCode(true, true, new DOMException("x", "AbortError"), req(), now)).to.equal(Code.Internal);
    });
    it("is OK for `throw undefined`, which connect-node sends as OK, except on Connect unary", () => {
      expect(callCode(true, true, undefined, req({}, { stream: true }), now)).to.equal(0);
      expect(callCode(true, true, undefined, req({ "content-type": "application/grpc+proto" }), now)).to.equal(0);
      expect(callCode(true, true, undefined, req({ "content-type": "application/proto" }), now)).to.equal(Code.Internal);
    });
    it("takes the abort reason when the signal aborted first, success included", () => {
      expect(callCode(true, false, undefined, req({}, { abort: new ConnectError("reset", Code.Canceled) }), now)).to.equal(Code.Canceled);
      expect(callCode(true, true, new Error("write after end"), req({}, { abort: new DOMException("x", "AbortError") }), now)).to.equal(Code.Canceled);
      expect(callCode(true, true, undefined, req({}, { abort: new ConnectError("t", Code.DeadlineExceeded) }), now)).to.equal(Code.DeadlineExceeded);
    });
    it("is Canceled for a client that hung up, which connect-node reports as Aborted", () => {
      const hangUp = new ConnectError("aborted", Code.Aborted);
      expect(callCode(true, true, hangUp, req({}, { abort: hangUp }), now)).to.equal(Code.Canceled);
      // A handler's own Aborted stays Aborted.
      expect(callCode(true, true, new ConnectError("conflict", Code.Aborted), req(), now)).to.equal(Code.Aborted);
    });
    it("counts an HTTP/2 stream reset as an abort, when the server can see it", () => {
      expect(callCode(true, false, undefined, req(), now, 8)).to.equal(Code.Canceled);
      // An INTERNAL_ERROR reset, or a lost connection (Node reports a TCP reset as one), is the client gone.
      expect(callCode(true, false, undefined, req(), now, 2)).to.equal(Code.Canceled);
      expect(callCode(true, false, undefined, req(), now, 1)).to.equal(Code.Canceled);
      // The codes connect-node gives the other resets stay.
      expect(callCode(true, false, undefined, req(), now, 7)).to.equal(Code.Unavailable);
      expect(callCode(true, false, undefined, req(), now, 11)).to.equal(Code.ResourceExhausted);
      expect(callCode(true, false, undefined, req({ "grpc-timeout": "10S" }), now, 2)).to.equal(Code.DeadlineExceeded);
      expect(callCode(true, false, undefined, req(), now, 0)).to.equal(0);
    });
    describe("deadlines", () => {
      // No test here depends on how long it runs: each call gets a start
      // time that puts it at a fixed share of a one-hour deadline, and time
      // that passes while the test runs moves that share by a millionth.
      const hour = { "grpc-timeout": "1H" };
      const hourMs = 3_600_000;
      /** A start time `share` of a one-hour deadline ago. */
      const into = (share: number) => performance.now() - share * hourMs;
      // connect-node's report of a client that hung up: the connection
      // closed, as it does over HTTP/1.1 for a cancel and a deadline alike.
      const hangUp = new ConnectError("aborted", Code.Aborted);

      it("decides a hang-up by the clock: DeadlineExceeded in the last 20% of the deadline or after it, else Canceled", () => {
        const code = (share: number, h: Record<string, string> = hour) =>
          callCode(true, true, hangUp, req(h, { abort: hangUp }), into(share));
        expect([code(0), code(0.5), code(0.79)]).to.deep.equal([Code.Canceled, Code.Canceled, Code.Canceled]);
        expect([code(0.81), code(0.95), code(1), code(3)]).to.deep.equal([
          Code.DeadlineExceeded, Code.DeadlineExceeded, Code.DeadlineExceeded, Code.DeadlineExceeded,
        ]);
        // connect-timeout-ms too; without a deadline a hang-up is Canceled however late.
        expect(code(0.9, { "connect-timeout-ms": String(hourMs) })).to.equal(Code.DeadlineExceeded);
        expect(code(3, {})).to.equal(Code.Canceled);
        // A success cut short by a hang-up is decided the same way.
        expect(callCode(true, false, undefined, req(hour, { abort: hangUp }), into(0.9))).to.equal(Code.DeadlineExceeded);
      });

      it("allows at least 50 ms of slack on a short deadline", () => {
        // 51 ms into a 100 ms deadline: 20% would be 20 ms, too little.
        const started = performance.now() - 51;
        expect(callCode(true, true, hangUp, req({ "connect-timeout-ms": "100" }, { abort: hangUp }), started)).to.equal(Code.DeadlineExceeded);
        expect(callCode(true, true, hangUp, req({ "grpc-timeout": "100m" }, { abort: hangUp }), started)).to.equal(Code.DeadlineExceeded);
      });

      it("never replaces a code the handler chose, in the last 20% of the deadline or after it", () => {
        for (const share of [0.9, 3]) {
          expect(callCode(true, true, new ConnectError("no", Code.PermissionDenied), req(hour), into(share)), `${share}`).to.equal(Code.PermissionDenied);
          expect(callCode(true, true, new ConnectError("x", Code.Internal), req(hour), into(share)), `${share}`).to.equal(Code.Internal);
          expect(callCode(true, true, new Error("x"), req(hour), into(share)), `${share}`).to.equal(Code.Internal);
          expect(callCode(true, false, undefined, req(hour), into(share)), `${share}`).to.equal(0);
        }
      });

      it("keeps an HTTP/2 CANCEL reset Canceled, in the last 20% of the deadline too", () => {
        const cancel = new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
        // Seen through the stream (serverMetrics.contextValues) or the signal.
        expect(callCode(true, false, undefined, req(hour), into(0.9), 8)).to.equal(Code.Canceled);
        expect(callCode(true, true, cancel, req(hour, { abort: cancel }), into(0.9))).to.equal(Code.Canceled);
        expect(callCode(true, false, undefined, req(hour, { abort: cancel }), into(0.9))).to.equal(Code.Canceled);
      });

      it("takes connect-node's own deadline abort as DeadlineExceeded, whatever the clock says", () => {
        const deadline = new ConnectError("the operation timed out", Code.DeadlineExceeded);
        expect(callCode(true, true, deadline, req(hour, { abort: deadline }), into(0))).to.equal(Code.DeadlineExceeded);
      });
    });
    it("is DeadlineExceeded for an HTTP/2 INTERNAL_ERROR reset of a call with a deadline, as Connect-ES clients enforce it, else Canceled", () => {
      const started = performance.now();
      const reset = new ConnectError("http/2 stream closed with error code INTERNAL_ERROR (0x2)", Code.Internal);
      expect(callCode(true, true, reset, req({ "grpc-timeout": "10S" }, { abort: reset }), started)).to.equal(Code.DeadlineExceeded);
      // Without a deadline it is the client gone (hole 9: a TCP reset after a cancel); a cancel stays Canceled.
      expect(callCode(true, true, reset, req({}, { abort: reset }), started)).to.equal(Code.Canceled);
      const cancel = new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
      expect(callCode(true, true, cancel, req({ "grpc-timeout": "10S" }, { abort: cancel }), started)).to.equal(Code.Canceled);
      // Success is never turned into an error.
      expect(callCode(true, false, undefined, req({ "grpc-timeout": "1m" }), started - 100)).to.equal(0);
    });
  });

  describe("client", () => {
    it("is the error's code, or Unknown for a value that is not a ConnectError", () => {
      expect(callCode(false, false, undefined, req(), now)).to.equal(0);
      expect(callCode(false, true, new ConnectError("x", Code.Unavailable), req(), now)).to.equal(Code.Unavailable);
      expect(callCode(false, true, new Error("x"), req(), now)).to.equal(Code.Unknown);
      expect(callCode(false, true, new DOMException("x", "AbortError"), req(), now)).to.equal(Code.Canceled);
    });
    it("takes the abort reason of the caller's signal or the deadline", () => {
      expect(callCode(false, true, undefined, req({}, { abort: new DOMException("x", "AbortError") }), now)).to.equal(Code.Canceled);
      expect(callCode(false, true, undefined, req({}, { abort: new ConnectError("t", Code.DeadlineExceeded) }), now)).to.equal(Code.DeadlineExceeded);
    });
    it("never turns a client error into DeadlineExceeded by the header", () => {
      expect(callCode(false, true, new ConnectError("x", Code.Internal), req({ "grpc-timeout": "1n" }), now - 100)).to.equal(Code.Internal);
    });
  });
});

describe("codeAfterReset (contextValues: a reset that arrives after the call ended)", () => {
  const headers = (h: Record<string, string>) => ({ stream: true, signal: new AbortController().signal, header: new Headers(h) });
  const start = 1000;
  it("CANCEL is a client that cancelled while it still sent", () => {
    expect(codeAfterReset(0, 8, headers({}), start, start + 5)).to.equal(Code.Canceled);
    expect(codeAfterReset(Code.NotFound, 8, headers({ "grpc-timeout": "10S" }), start, start + 5)).to.equal(Code.Canceled);
  });
  it("another reset is the deadline only if the requests ended when it had passed by the server's clock", () => {
    const d = headers({ "grpc-timeout": "10S" });
    // The slack is 20% of 10 s: requests that ended at 8 s or later ended at the deadline.
    expect(codeAfterReset(0, 2, d, start, start + 8000)).to.equal(Code.DeadlineExceeded);
    expect(codeAfterReset(Code.FailedPrecondition, 2, d, start, start + 7900)).to.equal(Code.FailedPrecondition);
    expect(codeAfterReset(0, 2, d, start, start + 10)).to.equal(0);
  });
  it("without a deadline, or without a reset, the answer's code stays", () => {
    expect(codeAfterReset(Code.Unauthenticated, 2, headers({}), start, start + 99_999)).to.equal(Code.Unauthenticated);
    expect(codeAfterReset(Code.Unauthenticated, 0, headers({ "grpc-timeout": "1m" }), start, start + 99_999)).to.equal(Code.Unauthenticated);
  });
});

describe("requestTimeoutMs", () => {
  const t = (h: Record<string, string>) => requestTimeoutMs(new Headers(h));
  it("reads grpc-timeout in every unit", () => {
    expect(t({ "grpc-timeout": "2H" })).to.equal(7_200_000);
    expect(t({ "grpc-timeout": "3M" })).to.equal(180_000);
    expect(t({ "grpc-timeout": "4S" })).to.equal(4_000);
    expect(t({ "grpc-timeout": "250m" })).to.equal(250);
    expect(t({ "grpc-timeout": "1500u" })).to.equal(1.5);
    expect(t({ "grpc-timeout": "2000000n" })).to.equal(2);
  });
  it("reads connect-timeout-ms", () => {
    expect(t({ "connect-timeout-ms": "300" })).to.equal(300);
  });
  it("ignores malformed values and their absence", () => {
    expect(t({ "grpc-timeout": "123456789m" })).to.equal(undefined);
    expect(t({ "grpc-timeout": "5x" })).to.equal(undefined);
    expect(t({ "connect-timeout-ms": "-1" })).to.equal(undefined);
    expect(t({})).to.equal(undefined);
  });
});
