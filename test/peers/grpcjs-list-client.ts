// A one-shot @grpc/grpc-js client process, the twin of go/…/ping-client: it
// makes PingList calls one at a time, cancels each after reading
// `--cancel-after` messages, prints one JSON line with the codes it saw, and
// exits at once (process.exit), as a command-line program does. With
// `--graceful` it closes its channel and lets Node exit on its own instead.
//
//   node --import tsx test/peers/grpcjs-list-client.ts --addr=127.0.0.1:PORT [--calls=1]
//        [--responses=10] [--sleep=0] [--cancel-after=3] [--value-bytes=0] [--graceful]
import * as grpc from "@grpc/grpc-js";
import { loadPing, readAll } from "../fixtures/grpcjs-ping.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"];
  }),
);
const calls = Number(args.calls ?? 1);
const responses = Number(args.responses ?? 10);
const sleepMs = Number(args.sleep ?? 0);
const cancelAfter = Number(args["cancel-after"] ?? 3);
const valueBytes = Number(args["value-bytes"] ?? 0);
const value = valueBytes > 0 ? "x".repeat(valueBytes) : "js";

/** grpcCodeName is the Go name of a gRPC status code, as the Go client prints it. */
const grpcCodeName: Record<number, string> = {
  0: "OK", 1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded",
  5: "NotFound", 6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted",
  9: "FailedPrecondition", 10: "Aborted", 11: "OutOfRange", 12: "Unimplemented",
  13: "Internal", 14: "Unavailable", 15: "DataLoss", 16: "Unauthenticated",
};

const { Client } = loadPing();
const client = new Client(String(args.addr), grpc.credentials.createInsecure());
const codes: Record<string, number> = {};
const messages: Record<number, number> = {};
for (let i = 0; i < calls; i++) {
  const call = client.PingList({ value, responseCount: responses, sleepTimeMs: sleepMs });
  const outcome = await readAll(call, (n) => cancelAfter > 0 && n === cancelAfter && call.cancel());
  const name = grpcCodeName[outcome.code] ?? String(outcome.code);
  codes[name] = (codes[name] ?? 0) + 1;
  messages[outcome.messages] = (messages[outcome.messages] ?? 0) + 1;
}
process.stdout.write(JSON.stringify({ calls, codes, messages }) + "\n", () => {
  if (args.graceful === "true") {
    client.close();
  } else {
    process.exit(0);
  }
});
