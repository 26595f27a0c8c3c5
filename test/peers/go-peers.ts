// The grpc-go peers of test/peers/go for the specs: builds them with
// scripts/go-peer.sh, starts the go-grpc-prometheus server, and runs the
// grpc-go client. Specs that use this file need golang-go and Debian's grpc-go
// and go-grpc-prometheus sources; `npm run test:core` leaves them out.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** goClientBin is the grpc-go client, test/peers/go/bin/ping-client. */
export const goClientBin = here("go/bin/ping-client");
/** goServerBin is the grpc-go server with go-grpc-prometheus, test/peers/go/bin/ping-server. */
export const goServerBin = here("go/bin/ping-server");
const goPeerScript = here("../../scripts/go-peer.sh");

/** A finished process: its exit code and output. */
interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], stdin?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

/**
 * buildGoPeers runs scripts/go-peer.sh, which builds both peers from the
 * current sources (about 2 s when its build cache is warm, 50 s cold) and
 * installs the Debian packages first if they are missing and it may. If the
 * peers cannot be built, it throws, saying why and what to install: a spec
 * that needs them fails, it never skips.
 */
export async function buildGoPeers(): Promise<void> {
  const r = await run("bash", [goPeerScript]);
  if (r.code !== 0) {
    throw new Error(
      `the grpc-go peers are unavailable: scripts/go-peer.sh exited ${r.code}:\n${r.stderr.trim()}\n` +
        "This spec needs the Debian packages golang-go, golang-google-grpc-dev and " +
        "golang-github-grpc-ecosystem-go-grpc-prometheus-dev (npm test's pretest, scripts/system-deps.sh, " +
        "installs them as root); npm run test:core runs everything else without them.",
    );
  }
}

/** GoServer is a running grpc-go ping-server with go-grpc-prometheus. */
export interface GoServer {
  /** host:port of its gRPC (h2c) listener. */
  readonly addr: string;
  /** http://host:port of its gRPC listener, for Connect-ES transports. */
  readonly baseUrl: string;
  /** Its /metrics exposition, as Go's promhttp serves it. */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/**
 * startGoServer starts test/peers/go's ping-server: `histogram` turns on
 * grpc_server_handling_seconds, `initialize` calls go-grpc-prometheus'
 * `Register(server)` (`InitializeMetrics`, every series at zero).
 */
export async function startGoServer(opts: { histogram: boolean; initialize: boolean }): Promise<GoServer> {
  const child = spawn(goServerBin, [`-histogram=${opts.histogram}`, `-initialize=${opts.initialize}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const [grpcPort, metricsPort] = await new Promise<string[]>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`ping-server exited with ${code} before it listened`)));
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^listening (\d+) (\d+)\n/.exec(out);
      if (m) resolve([m[1], m[2]]);
    });
  });
  return {
    addr: `127.0.0.1:${grpcPort}`,
    baseUrl: `http://127.0.0.1:${grpcPort}`,
    async scrape() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      if (!res.ok) throw new Error(`ping-server /metrics: HTTP ${res.status}`);
      return res.text();
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}

/** runGoClient runs ping-client with the arguments (and stdin); it must exit 0. Resolves with its stdout. */
export async function runGoClient(args: readonly string[], stdin?: string): Promise<string> {
  const r = await run(goClientBin, args, stdin);
  if (r.code !== 0) throw new Error(`ping-client ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
