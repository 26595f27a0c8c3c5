// The ledger: the ground truth of every call, as the caller and the handler
// observed it, keyed by the call's `x-fuzz-call` header.
import type { Call, CodeName } from "./plan.js";

/** How a handler (or a guard answering for it) ended. */
export type Thrown = { kind: "returned" } | { kind: "connect"; code: number } | { kind: "other" } | { kind: "undefined" };

/** What the server side observed of one call. */
export interface HandlerTruth {
  /** Requests the handler pulled (server_stream: 1, pulled for it by connect-node). */
  pulled: number;
  /** Responses the handler (or an answering guard) handed on. */
  yielded: number;
  ended: boolean;
  thrown?: Thrown;
  /** Whether the call's signal had aborted when the handler ended. */
  abortedAtEnd?: boolean;
  /** The handler's end was not its own: connect-node ended it (`throw()`, `return()`) after a failed write, or its request stream failed. */
  forced?: boolean;
  /** When (performance.now()) the handler (or a server guard) started, the call's signal aborted, the handler ended. */
  startAt?: number;
  signalAt?: number;
  endAt?: number;
}

/** What the caller observed of one call. */
export interface CallerTruth {
  code: CodeName;
  /** Responses delivered to the caller. */
  received: number;
  /** The caller's waits for a response message (`next()` calls that settled). */
  waits: number;
  /** Requests the transport pulled (the probe's count). */
  pulled: number;
  /** The caller gave up before the call ended: it aborted, or its deadline fired. */
  gaveUp?: "abort" | "deadline";
  /** When (performance.now()) the caller started the call, and aborted it. */
  startAt?: number;
  abortedAt?: number;
  /** The raw error message, for reports. */
  message?: string;
}

/** One call's entry. */
export interface Entry {
  readonly call: Call;
  /** The call reached a server-side interceptor after ours, or the handler. */
  entered: boolean;
  /** The call reached the innermost server interceptor: ours ran, even if the handler never did. */
  probed: boolean;
  /** A server guard answered or threw instead of the handler. */
  guarded: boolean;
  handler: HandlerTruth;
  caller: CallerTruth;
  /** Resolves when the server is waiting (hanging, or waiting for more input). */
  readonly ready: Promise<void>;
  readonly markReady: () => void;
  /** Resolves when the handler or answering guard ended. */
  readonly done: Promise<void>;
  readonly markDone: () => void;
  /** Releases a request stream held open. */
  readonly release: Promise<void>;
  readonly markRelease: () => void;
}

function deferred(): [Promise<void>, () => void] {
  let resolve!: () => void;
  const p = new Promise<void>((r) => (resolve = r));
  return [p, resolve];
}

/** Ledger holds the entries of a batch. */
export class Ledger {
  readonly entries = new Map<string, Entry>();

  open(call: Call): Entry {
    const [ready, markReady] = deferred();
    const [done, markDone] = deferred();
    const [release, markRelease] = deferred();
    const e: Entry = {
      call,
      entered: false,
      probed: false,
      guarded: false,
      handler: { pulled: 0, yielded: 0, ended: false },
      caller: { code: "OK", received: 0, waits: 0, pulled: 0 },
      ready,
      markReady,
      done,
      markDone,
      release,
      markRelease,
    };
    this.entries.set(call.id, e);
    return e;
  }

  get(id: string | null | undefined): Entry | undefined {
    return id ? this.entries.get(id) : undefined;
  }

  /** Releases every held request stream. */
  releaseAll(): void {
    for (const e of this.entries.values()) e.markRelease();
  }
}

/** The header that carries a call's id. */
export const callHeader = "x-fuzz-call";
/** The header that carries a call's tenant label value. */
export const tenantHeader = "x-fuzz-tenant";
