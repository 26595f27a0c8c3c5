// Names the known holes a failing call shows, from its differences with the
// oracle. Only a label for the report: every failure fails the run, named or
// not.
import { diff, parse, type Failure } from "./compare.js";
import type { EnvOptions } from "./plan.js";

/** The holes of issue 13 (numbered as the lead numbered them), and those the fuzzer found besides. */
export const holes = {
  h1: "(1) server: the deadline clock guess overrides the handler's own code late in the deadline",
  h2: "(2) a guard after ours that throws synchronously: streaming call started, never handled",
  h3: "(3) client receive histogram: no observation when a streaming call fails before its response stream exists",
  h4: "(4) client_stream: response counted in client msg_received although the call failed",
  h5: "(5) contextValues: a client-stream/bidi handler that returns before the client finished sending is never recorded",
  h9: "(9) server: a client's cancel recorded Internal, not Canceled",
  reset: "(new) contextValues: a client reset that follows the server's answer (Connect-ES resets with INTERNAL_ERROR after an error status in the body) replaces the handler's code (Internal before hole 9's fix; Canceled or DeadlineExceeded after it)",
  stall: "(new) server: a stream whose client resets while connect-node waits to write (backpressure) is never recorded",
  send: "(new) client send histogram: no observation for a request the transport pulled when the call ended before the next pull",
  other: "unexplained",
} as const;

interface Delta {
  readonly name: string;
  readonly code?: string;
  readonly want: number;
  readonly got: number;
}

function deltas(f: Failure): Delta[] {
  return diff(f.expected, f.actual).map((line) => {
    const at = line.indexOf(": expected ");
    const { name, labels } = parse(line.slice(0, at));
    const [want, got] = line.slice(at + 11).split(", got ").map(Number);
    return { name: name.replace(/^grpc_/, ""), code: labels.grpc_code, want, got };
  });
}

/** classify names the holes a failing call shows. */
export function classify(f: Failure, o?: EnvOptions): (keyof typeof holes)[] {
  const c = f.entry.call;
  const out = new Set<keyof typeof holes>();
  const ds = deltas(f);
  const handling = (d: Delta) => /_handl(ed_total|ing_seconds_count)$/.test(d.name);
  const server = (d: Delta) => d.name.startsWith("server_");
  // A code recorded instead of another: the deadline guess, or Internal for a cancel.
  const recoded = ds.some((d) => server(d) && handling(d) && d.got === 1 && d.want === 0);
  // The server never recorded the call.
  const unrecorded = ds.some((d) => server(d) && d.name.endsWith("handled_total") && d.want === 1) && ds.every((d) => !server(d) || d.got === 0);
  for (const d of ds) {
    if (server(d) && handling(d) && recoded) {
      const answered = f.entry.caller.gaveUp === undefined;
      // A reset after the answer needs contextValues and a status in the body (gRPC-Web, Connect).
      const resettable = o?.contextValues === true && c.proto !== "grpc";
      if (d.got === 1 && d.code === "DeadlineExceeded" && c.handler.lateFraction !== undefined && !resettable) out.add("h1");
      else if (d.got === 1 && answered && resettable && ["Internal", "DeadlineExceeded", "Canceled"].includes(d.code ?? "")) out.add("reset");
      else if (d.got === 1 && d.code === "Internal") out.add("h9");
      else if (d.got !== 0) out.add("other");
      continue;
    }
    const g = server(d) ? c.serverGuard : c.clientGuard;
    if (handling(d) && d.want === 1 && d.got === 0 && g === "throw" && c.kind !== "unary") out.add("h2");
    else if (d.name === "client_msg_recv_handling_seconds_count" && d.want === 1 && d.got === 0) out.add("h3");
    else if (d.name === "client_msg_received_total" && c.kind === "client_stream" && d.want === 0) out.add("h4");
    else if (d.name === "client_msg_send_handling_seconds_count" && d.got === d.want - 1) out.add("send");
    else if (server(d) && d.got === 0 && unrecorded) {
      if (!f.entry.handler.ended) out.add("stall");
      else if (c.kind === "client_stream" || c.kind === "bidi") out.add("h5");
      else out.add("other");
    }
    else out.add("other");
  }
  return [...out];
}
