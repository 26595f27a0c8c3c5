import { expect } from "chai";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ServerMetrics } from "../src/index.js";
import { key, series, service } from "./support/harness.js";

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

const read = (file: string) => readFileSync(join(root, file), "utf8");

/** The fenced blocks of a `## ` section of a Markdown file (README.md by default). */
function blocks(section: string, file = "README.md"): { lang: string; body: string }[] {
  const md = read(file);
  const start = md.indexOf(`## ${section}\n`);
  expect(start, `${file} has a section "${section}"`).to.be.at.least(0);
  const end = md.indexOf("\n## ", start + 1);
  const text = md.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** Every spec file under test/, relative to the repo. */
function specFiles(dir = join(root, "test")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? specFiles(join(dir, e.name)) : e.name.endsWith(".spec.ts") ? [relative(root, join(dir, e.name))] : [],
  );
}

/** A glob with `*` and `{a,b}` only, as a RegExp. */
function globRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^$()|[\]\\]/g, "\\$&")
    .replace(/\{([^}]*)\}/g, (_, alts: string) => `(?:${alts.split(",").join("|")})`)
    .replaceAll("*", "[^/]*");
  return new RegExp(`^${re}$`);
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

  it("demo command serves, drives every kind, scrapes its /metrics over HTTP/1.1, prints the series and exits with --once", async function () {
    this.timeout(60_000);
    const { stdout } = await run("npm", ["run", "demo", "--", "--once", "--port", "0", "--metrics-port", "0"], { cwd: root });
    const lines = stdout.split("\n");
    expect(lines.some((l) => /^GET http:\/\/127\.0\.0\.1:\d+\/metrics: HTTP\/1\.1 200\. /.test(l)), stdout).to.equal(true);
    const l = (method: string, type: string) => `grpc_method="${method}",grpc_service="${service}",grpc_type="${type}"`;
    // Three transports (gRPC, gRPC-Web, Connect, all HTTP/2); each cancels one Ping.
    for (const want of [
      `grpc_server_started_total{${l("Ping", "unary")}} 6`,
      `grpc_server_handled_total{grpc_code="OK",${l("Ping", "unary")}} 3`,
      `grpc_server_handled_total{grpc_code="Canceled",${l("Ping", "unary")}} 3`,
      `grpc_server_handled_total{grpc_code="NotFound",${l("PingError", "unary")}} 3`,
      `grpc_server_msg_sent_total{${l("PingList", "server_stream")}} 9`,
      `grpc_server_msg_received_total{${l("PingClientStream", "client_stream")}} 9`,
      `grpc_server_handled_total{grpc_code="OK",${l("PingStream", "bidi_stream")}} 3`,
      `grpc_client_handled_total{grpc_code="Canceled",${l("Ping", "unary")}} 3`,
      `grpc_client_msg_received_total{${l("PingStream", "bidi_stream")}} 6`,
    ]) {
      expect(lines).to.include(want);
    }
  });

  describe("Metrics silently off for a service", () => {
    /**
     * One Ping through a router with the metrics interceptor, whose service
     * has interceptors of its own: `list` gets the metrics and "yours", an
     * interceptor that counts the calls it sees.
     */
    async function ping(list: (metrics: ServerMetrics, yours: Interceptor) => Interceptor[]) {
      const registry = new Registry();
      const serverMetrics = new ServerMetrics({ registry });
      let seen = 0;
      const yours: Interceptor = (next) => (req) => {
        seen++;
        return next(req);
      };
      const transport = createRouterTransport(
        (router) =>
          router.service(PingService, { ping: (req) => ({ value: req.value }) }, { interceptors: list(serverMetrics, yours) }),
        { router: { interceptors: [serverMetrics.interceptor] } },
      );
      await createClient(PingService, transport).ping({ value: "x" });
      const labels = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };
      const s = await series(registry);
      return {
        seen,
        started: s[key("grpc_server_started_total", labels)] ?? 0,
        ok: s[key("grpc_server_handled_total", { ...labels, grpc_code: "OK" })] ?? 0,
      };
    }

    it("the service's own interceptors replace the router's: the call is not counted", async () => {
      expect(await ping((_, yours) => [yours])).to.deep.equal({ seen: 1, started: 0, ok: 0 });
    });

    it("the README's fix, [serverMetrics.interceptor, ...yours], counts it", async () => {
      const fix = blocks("Quick start").find((b) => b.body.includes("router.service(PingService, impl, {"));
      expect(fix?.body).to.include("interceptors: [serverMetrics.interceptor, ...yourInterceptors]");
      expect(await ping((metrics, yours) => [metrics.interceptor, yours])).to.deep.equal({ seen: 1, started: 1, ok: 1 });
    });
  });

  it("Serving /metrics: the README's snippet is the code of examples/connect-node.ts", () => {
    const [snippet] = blocks("Serving `/metrics`");
    const lines = snippet.body.split("\n");
    expect(lines.filter((x) => x.startsWith("metrics.listen("))).to.deep.equal([
      "metrics.listen(9464); // a port of its own, for Prometheus",
    ]);
    const code = lines.filter((x) => !x.startsWith("metrics.listen(")).join("\n").trim();
    const [imports, handler] = code.split("\n\n");
    const example = read("examples/connect-node.ts");
    expect(example).to.include(imports);
    expect(example).to.include(handler);
  });

  it("docs/serving-metrics.md shows every recipe in examples/ whole, as the file is", () => {
    const doc = read("docs/serving-metrics.md");
    const shown = [...doc.matchAll(/^\[(examples\/[\w-]+\.ts)\]\(\.\.\/\1\):\n\n```ts\n([\s\S]*?)```$/gm)];
    const recipes = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts") && f !== "service.ts");
    expect(shown.map((m) => m[1]).sort()).to.deep.equal(recipes.map((f) => `examples/${f}`).sort());
    for (const [, file, body] of shown) {
      expect(body, file).to.equal(read(file));
    }
  });

  it("npm run test:core leaves out exactly the specs that need prometheus, the pushgateway, chromium or the Go peers", () => {
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    const ignores = [...pkg.scripts["test:core"].matchAll(/--ignore '([^']+)'/g)].map((m) => globRegExp(m[1]));
    const needs = (file: string) => /\bstartPrometheus\(|\bpromtool\(|\bpushgatewayBin\b|support\/browser\.js|peers\/go-peers\.js/.test(read(file));
    const specs = specFiles();
    expect(specs.length).to.be.above(20);
    expect(specs.filter((f) => ignores.some((re) => re.test(f))).sort()).to.deep.equal(specs.filter(needs).sort());
  });

  it("Performance: the README's summary gives the figures of docs/performance.md", () => {
    const perf = read("docs/performance.md");
    const summary = read("README.md").split("\n## More\n")[1].split("\n## ")[0];
    for (const figure of ["77a52ea", "5.6 µs and 11.7 µs per call", "1.39 (1.36–1.41)", "1.42 (1.40–1.42)", "210 ns", "2.26 (2.18–2.76)", "gRPC 0.950 (0.789–1.062), Connect 1.062", "210 000"]) {
      expect(perf, figure).to.include(figure);
    }
    for (const figure of ["77a52ea", "5.6 µs", "11.7 µs", "1.39×", "1.42×", "210 ns", "2.26×", "0.95–1.06×", "210 000"]) {
      expect(summary, figure).to.include(figure);
    }
  });
});
