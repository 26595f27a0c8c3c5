// The Connect-ES caller: runs one call as its plan says and writes what it
// saw into the ledger: its code, the responses it got, its waits for them.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, type Client } from "@connectrpc/connect";
import type { PingRequestSchema, PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { callHeader, tenantHeader, type Entry } from "./ledger.js";
import { codeName, type Call } from "./plan.js";

type PingInit = MessageInitShape<typeof PingRequestSchema>;

/** Resolves when the signal aborts. */
export function onAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * requestFor is request message `i` of a call. Our connect-node handlers read
 * their plan from the ledger; a grpc-js server reads it from the fields.
 */
export function requestFor(c: Call, i: number, last: boolean): PingInit {
  const m: PingInit = { value: `${c.id}.${i}` };
  if (c.server !== "grpc-js" || !last) return m;
  const end = c.handler.end;
  return {
    ...m,
    responseCount: c.handler.yields,
    errorCodeReturned: end.kind === "code" ? end.code : 0,
    waitForCancel: end.kind === "hang-honour",
  };
}

/** The caller's request stream: its messages, then, if held open, a wait until the call is aborted or the batch ends. */
async function* requests(e: Entry, signal: AbortSignal): AsyncGenerator<PingInit> {
  const c = e.call;
  for (let i = 0; i < c.caller.requests; i++) yield requestFor(c, i, i === c.caller.requests - 1);
  if (c.caller.holdOpen) await Promise.race([onAbort(signal), e.release]);
}

/** The call options of a call. */
function options(c: Call, signal: AbortSignal) {
  const headers: Record<string, string> = { [callHeader]: c.id, [tenantHeader]: c.tenant };
  return { signal, headers, timeoutMs: c.caller.deadlineMs };
}

/** How long to wait before aborting at 0 when the server cannot say it is waiting. */
export const blindAbortMs = 30;

/** callConnect runs a call through a Connect-ES client. */
export async function callConnect(client: Client<typeof PingService>, e: Entry): Promise<void> {
  const c = e.call;
  const t = e.caller;
  const ac = new AbortController();
  let over = false;
  const abort = () => {
    if (over) return;
    t.gaveUp = "abort";
    t.abortedAt = Math.round(performance.now());
    ac.abort();
  };
  const act = c.caller.act;
  t.startAt = performance.now();
  if (act.kind === "abort" && act.at === 0) {
    if (c.server === "grpc-js") setTimeout(abort, blindAbortMs);
    else void e.ready.then(abort);
  }
  const opts = options(c, ac.signal);
  /** Reads a response stream as the plan says; false if the caller stopped reading. */
  const read = async (stream: AsyncIterable<unknown>): Promise<boolean> => {
    const it = stream[Symbol.asyncIterator]();
    for (;;) {
      if (act.kind === "stop" && t.received >= act.at) {
        abort();
        return false;
      }
      let r: IteratorResult<unknown>;
      try {
        r = await it.next();
      } finally {
        t.waits++;
      }
      if (r.done === true) return true;
      t.received++;
      if (act.kind === "abort" && act.at > 0 && t.received === act.at) abort();
    }
  };
  try {
    let completed = true;
    switch (c.kind) {
      case "unary":
        await client.ping(requestFor(c, 0, true), opts);
        t.received = 1;
        break;
      case "client_stream":
        await client.pingClientStream(requests(e, ac.signal), opts);
        t.received = 1;
        break;
      case "server_stream":
        completed = await read(client.pingList(requestFor(c, 0, true), opts));
        break;
      case "bidi":
        completed = await read(client.pingStream(requests(e, ac.signal), opts));
        break;
    }
    t.code = completed ? "OK" : "Canceled";
  } catch (err) {
    const ce = ConnectError.from(err);
    t.code = codeName(ce.code);
    t.message = ce.rawMessage;
  } finally {
    over = true;
  }
  if (t.gaveUp === undefined && t.code === "DeadlineExceeded" && c.caller.deadlineMs !== undefined) t.gaveUp = "deadline";
}
