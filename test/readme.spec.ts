import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { service } from "./support/harness.js";

const root = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The fenced blocks of a README section, by their opening line. */
function blocks(section: string): { lang: string; body: string }[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf(`## ${section}\n`);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
}

describe("README", () => {
  it("quick start runs and prints what the README says it prints", async function () {
    this.timeout(60_000);
    const [code, printed] = blocks("Quick start");
    expect(code.lang).to.equal("ts");
    const port = await freePort();
    const file = join(root, ".readme-quickstart.ts");
    writeFileSync(file, code.body.replaceAll("8080", String(port)));
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", file], { cwd: root });
      const lines = stdout.split("\n");
      for (const want of printed.body.trim().split("\n")) {
        expect(lines).to.include(want);
      }
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("demo command serves, drives every kind, prints the series and exits with --once", async function () {
    this.timeout(60_000);
    const { stdout } = await run("npm", ["run", "demo", "--", "--once", "--port", "0"], { cwd: root });
    const lines = stdout.split("\n");
    const l = (method: string, type: string) => `grpc_method="${method}",grpc_service="${service}",grpc_type="${type}"`;
    // Five transports; bidi only on the three HTTP/2 ones; each cancels one Ping.
    for (const want of [
      `grpc_server_started_total{${l("Ping", "unary")}} 10`,
      `grpc_server_handled_total{grpc_code="OK",${l("Ping", "unary")}} 5`,
      `grpc_server_handled_total{grpc_code="Canceled",${l("Ping", "unary")}} 5`,
      `grpc_server_handled_total{grpc_code="NotFound",${l("PingError", "unary")}} 5`,
      `grpc_server_msg_sent_total{${l("PingList", "server_stream")}} 15`,
      `grpc_server_msg_received_total{${l("PingClientStream", "client_stream")}} 15`,
      `grpc_server_handled_total{grpc_code="OK",${l("PingStream", "bidi_stream")}} 3`,
      `grpc_client_handled_total{grpc_code="Canceled",${l("Ping", "unary")}} 5`,
      `grpc_client_msg_received_total{${l("PingStream", "bidi_stream")}} 6`,
    ]) {
      expect(lines).to.include(want);
    }
  });
});
