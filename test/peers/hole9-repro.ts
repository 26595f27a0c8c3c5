// Repro for issue 13, hole 9: a gRPC client that cancels a server stream after
// reading three messages, and then exits, is recorded `Internal` on a
// connect-node server in a good share of runs when the CPU is busy, where the
// client saw Canceled.
//
//   bash scripts/go-peer.sh      # once: builds the grpc-go client and server
//   npx tsx test/peers/hole9-repro.ts [--runs=30] [--load=2] [--sleep=2]
//        [--responses=10] [--clients=go[,grpcjs]] [--mode=per-process|shared]
//        [--calls=200] [--value-bytes=0] [--linger-ms=0]
//
// --mode=per-process (the hole's shape): each run is one client process that
//   makes one PingList call, cancels it after the third message, and exits.
// --mode=shared: one client process makes --calls calls on one connection;
//   only its last call can race with the process exit.
//
// Servers: connect-node with ServerMetrics (the interceptor alone, and with
// `serverMetrics.contextValues`), and, when built, the grpc-go server with
// go-grpc-prometheus as the reference. `--load` child processes spin while
// the calls run. For each client and server it prints what the clients saw,
// what grpc_server_handled_total recorded, and, for connect-node, how each
// call's Http2Stream closed: `rst=8` is the client's RST_STREAM(CANCEL) or a
// clean TCP close (Node closes the open streams with CANCEL), `rst=2
// ECONNRESET` is a TCP reset, which Node reports as INTERNAL_ERROR and
// connect-node turns into `ConnectError(Internal)`.
//
// --linger-ms makes the grpc-go client wait before it closes its connection
// and exits; --value-bytes makes every response that big (the server echoes
// the request's value), so that the handler waits on flow control.
//
// Exit code 1 if connect-node recorded any call as Internal.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type * as http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { createContextValues, type ContextValues } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ServerMetrics } from "../../src/index.js";
import { series, startServer } from "../support/harness.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"];
  }),
);
const mode = args.mode ?? "per-process";
const runs = Number(args.runs ?? 30);
const calls = mode === "shared" ? Number(args.calls ?? 200) : 1;
const processes = mode === "shared" ? 1 : runs;
const load = Number(args.load ?? 2);
const responses = Number(args.responses ?? 10);
const sleepMs = Number(args.sleep ?? 2);
const valueBytes = Number(args["value-bytes"] ?? 0);
const lingerMs = Number(args["linger-ms"] ?? 0);
const clients = (args.clients ?? "go").split(",");
const cancelAfter = 3;

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const goClient = here("go/bin/ping-client");
const goServer = here("go/bin/ping-server");
const jsClient = here("grpcjs-list-client.ts");

/** Counts by name. */
type Counts = Record<string, number>;

function add(to: Counts, from: Counts): void {
  for (const [k, v] of Object.entries(from)) to[k] = (to[k] ?? 0) + v;
}

/** A server under test: where to call it and how to read what it recorded. */
interface Target {
  readonly name: string;
  readonly addr: string;
  /** grpc_server_handled_total for PingList, by code, without zeros. */
  handled(): Promise<Counts>;
  /** How the calls' Http2Streams closed (connect-node only). */
  readonly closes?: Counts;
  close(): Promise<void>;
}

function pingListCodes(text: string): Counts {
  const out: Counts = {};
  for (const line of text.split("\n")) {
    const m = /^grpc_server_handled_total\{.*grpc_code="(\w+)",grpc_method="PingList".*\} (\d+)/.exec(line);
    if (m && Number(m[2]) > 0) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Tallies how each call's Http2Stream closed: its rstCode and stream error. */
function observeClose(req: unknown, closes: Counts): void {
  const stream = (req as { stream?: http2.ServerHttp2Stream }).stream;
  if (stream === undefined) return;
  let error = "";
  stream.once("error", (e: Error & { code?: string }) => (error = ` ${e.code ?? e.name}`));
  stream.once("close", () => {
    const key = `rst=${stream.rstCode}${error}`;
    closes[key] = (closes[key] ?? 0) + 1;
  });
}

async function connectNode(withContextValues: boolean): Promise<Target> {
  const registry = new Registry();
  const serverMetrics = new ServerMetrics({ registry });
  serverMetrics.initialize(PingService);
  const closes: Counts = {};
  const server = await startServer([serverMetrics.interceptor], undefined, {
    contextValues(req): ContextValues {
      observeClose(req, closes);
      return withContextValues ? serverMetrics.contextValues(req) : createContextValues();
    },
  });
  return {
    name: withContextValues ? "connect-node, interceptor + contextValues" : "connect-node, interceptor",
    addr: new URL(server.h2Url).host,
    closes,
    async handled() {
      const text = Object.entries(await series(registry, "grpc_server_handled_total"))
        .map(([k, v]) => `${k} ${v}`)
        .join("\n");
      return pingListCodes(text);
    },
    close: () => server.close(),
  };
}

async function goReference(): Promise<Target> {
  const child = spawn(goServer, [], { stdio: ["ignore", "pipe", "inherit"] });
  const ports = await new Promise<string[]>((resolve, reject) => {
    child.on("error", reject);
    child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim().split(" ").slice(1)));
  });
  return {
    name: "grpc-go server, go-grpc-prometheus",
    addr: `127.0.0.1:${ports[0]}`,
    async handled() {
      const res = await fetch(`http://127.0.0.1:${ports[1]}/metrics`);
      return pingListCodes(await res.text());
    },
    close: async () => void child.kill(),
  };
}

/** Runs one client process; resolves with the codes it saw. */
function runClient(client: string, addr: string): Promise<Counts> {
  const [cmd, argv] =
    client === "go"
      ? [goClient, [`-addr=${addr}`, `-calls=${calls}`, `-responses=${responses}`, `-sleep=${sleepMs}`, `-cancel-after=${cancelAfter}`, `-value-bytes=${valueBytes}`, `-linger=${lingerMs}ms`]]
      : [process.execPath, ["--import", "tsx", jsClient, `--addr=${addr}`, `--calls=${calls}`, `--responses=${responses}`, `--sleep=${sleepMs}`, `--cancel-after=${cancelAfter}`, `--value-bytes=${valueBytes}`]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${client} client exited with ${code}`));
      resolve((JSON.parse(out) as { codes: Counts }).codes);
    });
  });
}

/** Waits until `n` PingList calls are recorded in total, or 5 s. */
async function settled(t: Target, n: number): Promise<Counts> {
  const until = Date.now() + 5000;
  for (;;) {
    const h = await t.handled();
    if (Object.values(h).reduce((a, b) => a + b, 0) >= n || Date.now() > until) return h;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function subtract(a: Counts, b: Counts): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(a)) if (v - (b[k] ?? 0) > 0) out[k] = v - (b[k] ?? 0);
  return out;
}

/** Starts `n` child processes that spin until killed. */
function busy(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
}

function fmt(c: Counts): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

async function main(): Promise<void> {
  if (!existsSync(goClient) || !existsSync(goServer)) {
    const r = spawnSync("bash", [here("../../scripts/go-peer.sh")], { stdio: "inherit" });
    if (r.status !== 0) {
      console.error("hole9-repro: the grpc-go peers are unavailable; grpc-js client and connect-node servers only");
      if (clients.includes("go")) clients.splice(clients.indexOf("go"), 1);
    }
  }
  console.log(
    `hole9-repro: ${mode}, ${processes} client process(es) x ${calls} PingList call(s), cancelled after ${cancelAfter} of ${responses} messages (sleep ${sleepMs} ms), ${load} busy processes`,
  );
  const makers: (() => Promise<Target>)[] = [() => connectNode(false), () => connectNode(true)];
  if (existsSync(goServer)) makers.push(goReference);
  let internal = 0;
  for (const make of makers) {
    const target = await make();
    try {
      for (const client of clients) {
        const before = await target.handled();
        const closesBefore = { ...target.closes };
        const saw: Counts = {};
        const spinners = busy(load);
        try {
          for (let p = 0; p < processes; p++) add(saw, await runClient(client, target.addr));
        } finally {
          for (const s of spinners) s.kill();
        }
        const total = Object.values(before).reduce((a, b) => a + b, 0) + processes * calls;
        const recorded = subtract(await settled(target, total), before);
        if (target.closes) internal += recorded.Internal ?? 0;
        console.log(`\n${target.name} <- ${client} client`);
        console.log(`  client saw:      ${fmt(saw)}`);
        const missing = processes * calls - Object.values(recorded).reduce((a, b) => a + b, 0);
        console.log(`  server recorded: ${fmt(recorded)}${missing > 0 ? `; never recorded (handler stuck) ${missing}` : ""}`);
        if (target.closes) console.log(`  stream closes:   ${fmt(subtract(target.closes, closesBefore))}`);
      }
    } finally {
      await target.close();
    }
  }
  console.log(`\nhole9-repro: connect-node recorded ${internal} call(s) as Internal`);
  process.exitCode = internal > 0 ? 1 : 0;
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
