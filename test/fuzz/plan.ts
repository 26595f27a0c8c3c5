// The fuzzer's vocabulary: one generated call (who calls whom, over what, how
// the handler and the caller behave, which interceptors sit around ours) and
// one environment (the options of the metrics, the adapter, the load).
import { codeNames, type CodeName } from "../faults/lib.js";

export { codeNames, type CodeName };

/** The four RPC kinds, as the fuzzer names them. */
export type Kind = "unary" | "client_stream" | "server_stream" | "bidi";
/** kinds lists the four RPC kinds. */
export const kinds: readonly Kind[] = ["unary", "client_stream", "server_stream", "bidi"];

/** The PingService method the fuzzer calls for each kind. */
export const methodOf: Readonly<Record<Kind, string>> = {
  unary: "Ping",
  client_stream: "PingClientStream",
  server_stream: "PingList",
  bidi: "PingStream",
};

/** The `grpc_type` label of each kind. */
export const grpcTypeOf: Readonly<Record<Kind, string>> = {
  unary: "unary",
  client_stream: "client_stream",
  server_stream: "server_stream",
  bidi: "bidi_stream",
};

/** Proto is a Connect-ES protocol. */
export type Proto = "grpc" | "grpc-web" | "connect";
/** Http is an HTTP version. */
export type Http = "1.1" | "2";

/** Who answers: our instrumented connect-node server, a plain grpc-js server, a raw HTTP/2 server, or nothing. */
export type ServerPeer = "connect-node" | "grpc-js" | "raw" | "nothing";
/** Who calls: a Connect-ES transport with ClientMetrics, or a plain grpc-js client. */
export type ClientPeer = "connect-node" | "grpc-js";

/** An interceptor placed after ours: nothing, or one of four guards. */
export type Guard = "none" | "throw" | "reject" | "answer" | "wrap";
/** guards lists the guard behaviours. */
export const guards: readonly Guard[] = ["none", "throw", "reject", "answer", "wrap"];

/** How a handler ends after its messages. */
export type End =
  | { kind: "ok" }
  | { kind: "code"; code: number }
  | { kind: "plain" }
  | { kind: "undefined" }
  /** Waits for its signal, then throws the signal's reason. */
  | { kind: "hang-honour" }
  /** Ignores its signal: sleeps `ms`, sends `extra` more messages, returns. */
  | { kind: "hang-ignore"; ms: number; extra: number };

/** What the connect-node handler does. */
export interface HandlerPlan {
  /** Requests to pull (client_stream, bidi); Infinity = until the end of input. */
  readonly pull: number;
  /** Responses before the end (server_stream, bidi). */
  readonly yields: number;
  /** Sleep before each response, honouring the signal. */
  readonly gapMs: number;
  /** Bytes added to each response (a flood fills the flow-control windows). */
  readonly pad?: number;
  /** Sleep this share of the caller's deadline before the end (the deadline's last 20%). */
  readonly lateFraction?: number;
  readonly end: End;
}

/** What the raw HTTP/2 server answers. */
export type RawPlan =
  | { kind: "trailers-only"; code: number }
  | { kind: "messages"; n: number; code: number }
  | { kind: "http"; status: number }
  | { kind: "hang" };

/** What the caller does. */
export interface CallerPlan {
  /** Request messages (client_stream, bidi). */
  readonly requests: number;
  /** Keep the request stream open after the last request, until the call is aborted. */
  readonly holdOpen: boolean;
  /**
   * read: read everything. abort: abort once `at` responses arrived (at 0:
   * once the server is waiting). stop: stop reading after `at` and abort.
   */
  readonly act: { kind: "read" } | { kind: "abort"; at: number } | { kind: "stop"; at: number };
  readonly deadlineMs?: number;
}

/** One generated call. */
export interface Call {
  readonly id: string;
  readonly kind: Kind;
  readonly proto: Proto;
  readonly http: Http;
  readonly client: ClientPeer;
  readonly server: ServerPeer;
  readonly clientGuard: Guard;
  readonly serverGuard: Guard;
  /** The code a throwing guard throws; the messages an answering guard sends. */
  readonly guardCode: number;
  readonly guardYields: number;
  readonly handler: HandlerPlan;
  readonly raw?: RawPlan;
  readonly caller: CallerPlan;
  /** The value of the low-cardinality `fuzz_tenant` label. */
  readonly tenant: string;
}

/** One environment: a registry, both metrics, the servers and clients of a batch. */
export interface EnvOptions {
  readonly contextValues: boolean;
  /** `labels` with a per-call `fuzz_call` label: every call has its own series. */
  readonly perCall: boolean;
  /** `labels` with a `fuzz_tenant` label of a few values. */
  readonly tenantLabel: boolean;
  readonly constLabels: boolean;
  readonly codeLabelOnHistograms: boolean;
  readonly protocolLabel: boolean;
  readonly exemplars: boolean;
  /** Custom histogram buckets instead of the defaults. */
  readonly customBuckets: boolean;
  /** Install the guard interceptors (else the chain around ours is empty). */
  readonly guards: boolean;
  /** Keep a CPU busy in a worker thread during the batch. */
  readonly load: boolean;
}

/** The code name of a code number (0 = OK). */
export function codeName(code: number): CodeName {
  return codeNames[code] ?? "Unknown";
}

/** A short, readable description of a call, for failure reports. */
export function describe(c: Call): string {
  const h = c.handler;
  const end = h.end.kind === "code" ? `code ${codeName(h.end.code)}` : h.end.kind === "hang-ignore" ? `hang-ignore ${h.end.ms}ms +${h.end.extra}` : h.end.kind;
  const parts = [
    `${c.id}: ${c.kind} ${c.proto}/h${c.http} client=${c.client} server=${c.server}`,
    c.clientGuard !== "none" || c.serverGuard !== "none" ? `guards client=${c.clientGuard} server=${c.serverGuard} (code ${codeName(c.guardCode)}, ${c.guardYields} msgs)` : "no guards",
    c.server === "raw" ? `raw ${JSON.stringify(c.raw)}` : `handler pull=${h.pull} yields=${h.yields}${h.pad ? ` pad=${h.pad}B` : ""} gap=${h.gapMs}ms${h.lateFraction ? ` late=${h.lateFraction}` : ""} end=${end}`,
    `caller requests=${c.caller.requests}${c.caller.holdOpen ? " holdOpen" : ""} ${c.caller.act.kind}${"at" in c.caller.act ? `@${c.caller.act.at}` : ""}${c.caller.deadlineMs ? ` deadline=${c.caller.deadlineMs}ms` : ""}`,
  ];
  return parts.join("; ");
}

/** How big a call is, to report the smallest failing one. */
export function size(c: Call): number {
  const at = "at" in c.caller.act ? c.caller.act.at : 0;
  return (
    c.caller.requests + c.handler.yields + at + (c.clientGuard !== "none" ? 2 : 0) + (c.serverGuard !== "none" ? 2 : 0) +
    (c.caller.deadlineMs ? 1 : 0) + (c.caller.holdOpen ? 1 : 0) + (c.handler.gapMs > 0 ? 1 : 0) + (c.client !== "connect-node" ? 1 : 0)
  );
}
