// The oracle: from a call's ledger entry, the exact series each side must
// hold for it. Where the wire cannot tell the truth (a documented limit) or a
// race is genuine, a call has more than one acceptable record, each named.
import { key, service } from "../support/harness.js";
import { fuzzConstLabels } from "./env.js";
import type { Entry, Thrown } from "./ledger.js";
import { codeName, grpcTypeOf, methodOf, type Call, type CodeName, type EnvOptions } from "./plan.js";

/** One acceptable record of a call: its series, and the documented limit or race it stands for, if any. */
export interface Alternative {
  readonly series: Record<string, number>;
  readonly limit?: string;
}

/** Names of the documented limits and accepted races the fuzzer counts. */
export const limits = {
  h1Deadline: "HTTP/1.1 deadline recorded Canceled by the server (the request took longer than the slack to arrive)",
  grpcJsDeadline: "grpc-js client deadline recorded Canceled by the server",
  h2SendingAbort: "HTTP/2 abort while the client still sends, no contextValues: server records the handler's code",
  serverStreamNoRequest:
    "server stream given up before its request went out: connect-node answers Unimplemented (missing input message)",
  lateDeadlineReset:
    "HTTP/2 deadline while the client still sends, with contextValues: server records the handler's answer (the requests ended before the deadline by the server's clock)",
  raceHandler: "race: caller gave up as the handler finished; server recorded the handler's code",
  raceAbort: "race: caller gave up as the handler finished; server recorded the abort",
} as const;

const protocolLabel = { grpc: "grpc", "grpc-web": "grpc_web", connect: "connect" } as const;

/** The labels a side puts on a call's series. */
export function labelsOf(c: Call, o: EnvOptions): Record<string, string> {
  return {
    grpc_type: grpcTypeOf[c.kind],
    grpc_service: service,
    grpc_method: methodOf[c.kind],
    ...(o.constLabels ? fuzzConstLabels : {}),
    ...(o.protocolLabel ? { rpc_protocol: protocolLabel[c.proto] } : {}),
    ...(o.perCall ? { fuzz_call: c.id } : {}),
    ...(o.tenantLabel ? { fuzz_tenant: c.tenant } : {}),
  };
}

/** The code connect-node puts on the wire for how a handler ended. */
export function wireCode(c: Call, thrown: Thrown | undefined): CodeName {
  switch (thrown?.kind ?? "returned") {
    case "returned":
      return "OK";
    case "connect":
      return codeName((thrown as { code: number }).code);
    case "undefined":
      return c.kind === "unary" && c.proto === "connect" ? "Internal" : "OK";
    default:
      return "Internal";
  }
}

/**
 * Whether the request took longer to reach the server than the slack the
 * server allows a deadline (20%, at least 50 ms): only then may its clock
 * guess take an HTTP/1.1 deadline for a cancel (docs/metrics.md, note 2).
 */
export function slow(e: Entry): boolean {
  const ms = e.call.caller.deadlineMs ?? 0;
  const latency = (e.handler.startAt ?? Infinity) - (e.caller.startAt ?? 0);
  return latency > Math.max(50, 0.2 * ms);
}

interface Coded {
  readonly code: CodeName;
  readonly limit?: string;
}

/** The codes the server may record for a call that reached it, the first being the truth where the wire tells it. */
export function serverCodes(e: Entry, o: EnvOptions): Coded[] {
  const c = e.call;
  const h = e.handler;
  const t = e.caller;
  const wire = wireCode(c, h.thrown);
  if (e.guarded) return [{ code: wire }];
  if (t.gaveUp === undefined) {
    // What the caller saw, when the server's answer reached it; `throw
    // undefined` is OK on the wire where Connect-ES calls it Unimplemented.
    return [{ code: h.thrown?.kind === "undefined" ? wire : t.code }];
  }
  const abort: Coded[] =
    t.gaveUp === "abort"
      ? [{ code: "Canceled" }]
      : c.client === "grpc-js"
        ? [{ code: "DeadlineExceeded" }, { code: "Canceled", limit: limits.grpcJsDeadline }]
        : c.http === "1.1"
          ? [{ code: "DeadlineExceeded" }, ...(slow(e) ? [{ code: "Canceled" as const, limit: limits.h1Deadline }] : [])]
          : [{ code: "DeadlineExceeded" }];
  // A server stream whose caller gave up before the transport sent its
  // request: connect-node may see the request stream end without a message
  // before the reset, and answer Unimplemented (docs/metrics.md, failure modes).
  if (h.startAt === undefined && c.kind === "server_stream" && t.pulled === 0) {
    return [...abort, { code: "Unimplemented", limit: limits.serverStreamNoRequest }];
  }
  // A handler ended by its consumer (a write that failed because the client
  // had gone) did not finish before the caller gave up.
  if (!h.ended || h.abortedAtEnd === true || h.forced === true || wire === abort[0].code) return abort;
  // The handler ended before its signal aborted.
  const sending = c.caller.holdOpen && c.http === "2" && (c.kind === "client_stream" || c.kind === "bidi");
  // With contextValues the server waits for the reset after a clean end of
  // input: a CANCEL is the caller's abort. An INTERNAL_ERROR reset, which a
  // Connect-ES client sends on its deadline, is also what gRPC-Web and
  // Connect clients send after reading a whole answer: the server takes it
  // for the deadline only if the requests ended when the deadline had passed
  // by its clock (docs/metrics.md, note 4), else the handler's code stays.
  if (sending && o.contextValues) {
    return t.gaveUp === "deadline" ? [...abort, { code: wire, limit: limits.lateDeadlineReset }] : abort;
  }
  if (sending) return [{ code: wire, limit: limits.h2SendingAbort }, ...abort];
  return [{ code: wire, limit: limits.raceHandler }, ...abort.map((a) => ({ code: a.code, limit: a.limit ?? limits.raceAbort }))];
}

function put(out: Record<string, number>, name: string, labels: Record<string, string>, n: number): void {
  if (n !== 0) out[key(name, labels)] = (out[key(name, labels)] ?? 0) + n;
}

/** The series of one side of one call that ended with `code`. */
function sideSeries(side: "server" | "client", e: Entry, o: EnvOptions, code: CodeName): Record<string, number> {
  const c = e.call;
  const labels = labelsOf(c, o);
  const out: Record<string, number> = {};
  const p = `grpc_${side}`;
  put(out, `${p}_started_total`, labels, 1);
  put(out, `${p}_handled_total`, { ...labels, grpc_code: code }, 1);
  put(out, `${p}_handling_seconds_count`, o.codeLabelOnHistograms ? { ...labels, grpc_code: code } : labels, 1);
  const ok = code === "OK" ? 1 : 0;
  if (side === "server") {
    put(out, `${p}_msg_received_total`, labels, c.kind === "unary" ? 1 : e.handler.pulled);
    // Unary: 1 when the call is OK and a response went out (`throw undefined` is OK with none).
    put(out, `${p}_msg_sent_total`, labels, c.kind === "unary" ? ok * Math.min(1, e.handler.yielded) : e.handler.yielded);
    return out;
  }
  const t = e.caller;
  const single = c.kind === "unary" || c.kind === "client_stream";
  put(out, `${p}_msg_sent_total`, labels, c.kind === "unary" ? 1 : t.pulled);
  put(out, `${p}_msg_received_total`, labels, single ? ok : t.received);
  if (c.kind !== "unary") {
    put(out, `${p}_msg_recv_handling_seconds_count`, labels, c.kind === "client_stream" ? 1 : t.waits);
    put(out, `${p}_msg_send_handling_seconds_count`, labels, t.pulled);
  }
  return out;
}

/** Whether our server interceptor must have seen the call. */
export function serverSeen(e: Entry): boolean {
  return e.call.server === "connect-node" && (e.entered || e.probed);
}

/** expectations lists every acceptable record of a call, on both sides. */
export function expectations(e: Entry, o: EnvOptions): Alternative[] {
  const client = e.call.client === "connect-node" ? sideSeries("client", e, o, e.caller.code) : {};
  if (!serverSeen(e)) return [{ series: client }];
  return serverCodes(e, o).map((s) => ({ series: { ...client, ...sideSeries("server", e, o, s.code) }, limit: s.limit }));
}
