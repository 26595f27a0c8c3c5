// Builds the exact series a test expects, in the library's label order.
import { key, service } from "./harness.js";

/** What one side recorded for one method. */
export interface MethodCounts {
  readonly type: "unary" | "client_stream" | "server_stream" | "bidi_stream";
  readonly method: string;
  readonly started: number;
  readonly received: number;
  readonly sent: number;
  /** Code name → count. */
  readonly handled: Readonly<Record<string, number>>;
}

/**
 * counters renders the four counters of one side (`grpc_server` or
 * `grpc_client`) for each method, as `series()` reads them back. A count of
 * 0 means the series was never touched, so it is left out, as in the
 * exposition.
 */
export function counters(
  side: "server" | "client",
  methods: readonly MethodCounts[],
  constLabels: Readonly<Record<string, string>> = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of methods) {
    const labels = {
      ...constLabels,
      grpc_type: m.type,
      grpc_service: service,
      grpc_method: m.method,
    };
    const put = (name: string, l: Record<string, string>, n: number) => {
      if (n !== 0) out[key(name, l)] = n;
    };
    put(`grpc_${side}_started_total`, labels, m.started);
    for (const [code, n] of Object.entries(m.handled)) {
      put(`grpc_${side}_handled_total`, { ...labels, grpc_code: code }, n);
    }
    put(`grpc_${side}_msg_received_total`, labels, m.received);
    put(`grpc_${side}_msg_sent_total`, labels, m.sent);
  }
  return out;
}

/** Keeps the series whose name matches. */
export function only(
  s: Record<string, number>,
  pattern: RegExp,
): Record<string, number> {
  return Object.fromEntries(Object.entries(s).filter(([k]) => pattern.test(k)));
}
