// The packed package, as a user gets it: `npm pack`, installed from the
// tarball into a fresh project with its peer dependencies, loaded with ESM
// `import` and CommonJS `require`, type-checked against the shipped types,
// and checked by @arethetypeswrong/cli and publint.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { transform } from "esbuild";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const service = "connectrpc.prometheus.test.v1.PingService";

/** The version of a package installed in this repo. */
async function installed(name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(root, "node_modules", name, "package.json"), "utf8"));
  return pkg.version as string;
}

/**
 * The environment without the variables that `npm test` exports about this
 * repo (npm_config_local_prefix, npm_package_*, npm_lifecycle_*): the npm
 * commands below must act on their own directories only. The user's own
 * npm_config_* (registry, cache, ...) stay.
 */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(npm_config_local_prefix|npm_package_\w+|npm_lifecycle_\w+|npm_command)$/i.test(k),
  ),
);

/** Runs a command; on failure, the error carries its output. */
async function sh(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env: cleanEnv, timeout, maxBuffer: 16 << 20, encoding: "utf8" });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

async function mtime(p: string): Promise<number> {
  return (await stat(p)).mtimeMs;
}

/**
 * dist/ is fresh when every src/*.ts has its .js and .d.ts in both builds,
 * each newer than the source, and dist/cjs says it is CommonJS. `npm test`
 * builds before mocha, so there it always is.
 */
async function distIsFresh(): Promise<boolean> {
  try {
    const sources = (await readdir(path.join(root, "src"))).filter((f) => f.endsWith(".ts"));
    if (!(await readFile(path.join(root, "dist/cjs/package.json"), "utf8")).includes("commonjs")) return false;
    for (const f of sources) {
      const base = f.slice(0, -3);
      const src = await mtime(path.join(root, "src", f));
      for (const out of ["esm", "cjs"].flatMap((d) => [`dist/${d}/${base}.js`, `dist/${d}/${base}.d.ts`])) {
        if ((await mtime(path.join(root, out))) < src) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

const esmConsumer = `
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "connectrpc-prometheus";
import { PingService } from "./ping_pb.mjs";

const registry = new Registry();
const server = new ServerMetrics({ registry, handlingTimeHistogram: true });
const client = new ClientMetrics({ registry });
const transport = createRouterTransport(
  (router) =>
    router.service(PingService, {
      async ping(req) { return { value: req.value, counter: 1 }; },
      async pingError() { throw new ConnectError("no", Code.NotFound); },
    }),
  { router: { interceptors: [server.interceptor] }, transport: { interceptors: [client.interceptor] } },
);
const ping = createClient(PingService, transport);
await ping.ping({ value: "esm" });
await ping.pingError({}).catch(() => {});
const lines = (await registry.metrics()).split("\\n").filter((l) => /^grpc_\\w+_handled_total\\{/.test(l));
console.log(JSON.stringify({ module: import.meta.url.endsWith(".mjs") ? "esm" : "?", lines }));
`;

const cjsConsumer = `
const { Code, ConnectError, createClient, createRouterTransport } = require("@connectrpc/connect");
const { Registry } = require("prom-client");
const { ClientMetrics, ServerMetrics } = require("connectrpc-prometheus");
const { PingService } = require("./ping_pb.cjs");

async function main() {
  const registry = new Registry();
  const server = new ServerMetrics({ registry, handlingTimeHistogram: true });
  const client = new ClientMetrics({ registry });
  const transport = createRouterTransport(
    (router) =>
      router.service(PingService, {
        async ping(req) { return { value: req.value, counter: 1 }; },
        async pingError() { throw new ConnectError("no", Code.NotFound); },
      }),
    { router: { interceptors: [server.interceptor] }, transport: { interceptors: [client.interceptor] } },
  );
  const ping = createClient(PingService, transport);
  await ping.ping({ value: "cjs" });
  await ping.pingError({}).catch(() => {});
  const lines = (await registry.metrics()).split("\\n").filter((l) => /^grpc_\\w+_handled_total\\{/.test(l));
  console.log(JSON.stringify({ module: typeof module === "object" ? "cjs" : "?", resolved: require.resolve("connectrpc-prometheus"), lines }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

/** Uses every public export and option type; the @ts-expect-error lines prove the types are real. */
const typeCheck = `
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { Registry } from "prom-client";
import {
  ClientMetrics,
  ServerMetrics,
  type ClientMetricsOptions,
  type HistogramOption,
  type MetricsOptions,
  type ServerMetricsOptions,
} from "connectrpc-prometheus";

declare const service: DescService;
const registry = new Registry();
const buckets: HistogramOption = { buckets: [0.1, 1] };
const serverOptions: ServerMetricsOptions = {
  registry,
  handlingTimeHistogram: buckets,
  legacy: false,
  constLabels: { app: "pack" },
  onError: (e: unknown) => void e,
};
const clientOptions: ClientMetricsOptions = {
  registry,
  handlingTimeHistogram: true,
  streamReceiveTimeHistogram: true,
  streamSendTimeHistogram: { buckets: [0.01] },
};
const shared: MetricsOptions = clientOptions;
const server = new ServerMetrics(serverOptions);
const client = new ClientMetrics(clientOptions);
const interceptors: Interceptor[] = [server.interceptor, client.interceptor];
server.initialize(service);
client.initialize(service, service);
export { interceptors, shared };

// @ts-expect-error: the server has no per-message histograms.
new ServerMetrics({ registry, streamReceiveTimeHistogram: true });
// @ts-expect-error: a histogram option is true, false or { buckets }.
new ClientMetrics({ handlingTimeHistogram: "yes" });
// @ts-expect-error: interceptor is read-only.
server.interceptor = interceptors[0];
`;

describe("real world: the packed package", function () {
  this.timeout(60_000);
  let tmp = "";
  let tarball = "";
  let consumer = "";
  let built = "";

  before(async function () {
    this.timeout(300_000);
    tmp = await mkdtemp(path.join(tmpdir(), "connectrpc-prometheus-pack-"));
    // A copy of the package to pack, so that neither building nor packing
    // touches the work tree (other runs may be building it).
    const pkg = path.join(tmp, "pkg");
    await mkdir(path.join(pkg, "scripts"), { recursive: true });
    for (const f of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json"]) {
      await cp(path.join(root, f), path.join(pkg, f));
    }
    await cp(path.join(root, "src"), path.join(pkg, "src"), { recursive: true });
    await cp(path.join(root, "scripts/build.mjs"), path.join(pkg, "scripts/build.mjs"));
    await symlink(path.join(root, "node_modules"), path.join(pkg, "node_modules"), "dir");
    if (await distIsFresh()) {
      built = "dist/ from `npm test`'s build step";
      await cp(path.join(root, "dist"), path.join(pkg, "dist"), { recursive: true });
    } else {
      built = "`npm run build` in a copy";
      await sh("npm", ["run", "build"], pkg, 240_000);
    }
    const packed = JSON.parse(await sh("npm", ["pack", "--json", "--pack-destination", tmp], pkg)) as { filename: string }[];
    tarball = path.join(tmp, packed[0].filename);

    // A fresh project that installs the tarball and the peer dependencies, at
    // the versions this repo tests with.
    consumer = path.join(tmp, "consumer");
    await mkdir(consumer);
    await writeFile(
      path.join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }, null, 2),
    );
    const peers = await Promise.all(
      ["@connectrpc/connect", "@bufbuild/protobuf", "prom-client"].map(async (p) => `${p}@${await installed(p)}`),
    );
    await sh(
      "npm",
      ["install", "--prefix", consumer, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball, ...peers],
      consumer,
    );

    // The test service's generated code, as JavaScript for both module systems.
    const gen = await readFile(path.join(root, "gen/connectrpc/prometheus/test/v1/ping_pb.ts"), "utf8");
    for (const [format, file] of [["esm", "ping_pb.mjs"], ["cjs", "ping_pb.cjs"]] as const) {
      const { code } = await transform(gen, { loader: "ts", format });
      await writeFile(path.join(consumer, file), code);
    }
    await writeFile(path.join(consumer, "esm.mjs"), esmConsumer);
    await writeFile(path.join(consumer, "cjs.cjs"), cjsConsumer);
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** What both consumers must print: one OK and one NotFound call, on each side. */
  const handledLines = (side: "server" | "client") => [
    `grpc_${side}_handled_total{grpc_code="OK",grpc_method="Ping",grpc_service="${service}",grpc_type="unary"} 1`,
    `grpc_${side}_handled_total{grpc_code="NotFound",grpc_method="PingError",grpc_service="${service}",grpc_type="unary"} 1`,
  ];

  it("holds only dist/ (ESM and CommonJS, with declarations), README.md and package.json", async () => {
    const listed = (await sh("tar", ["-tzf", tarball], tmp)).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    const outside = listed.filter((f) => !f.startsWith("dist/") && f !== "README.md" && f !== "package.json");
    expect(outside, `stray files (dist came from ${built})`).to.deep.equal([]);
    for (const f of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json"]) {
      expect(listed).to.include(f);
    }
    expect(listed.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith(".d.ts"))).to.deep.equal([]);
  });

  it("works with ESM import: a real in-memory Connect call is recorded on both sides", async () => {
    const out = JSON.parse(await sh(process.execPath, ["esm.mjs"], consumer));
    expect(out.module).to.equal("esm");
    expect([...out.lines].sort()).to.deep.equal([...handledLines("server"), ...handledLines("client")].sort());
  });

  it("works with CommonJS require: the CommonJS build, a real call recorded on both sides", async () => {
    const out = JSON.parse(await sh(process.execPath, ["cjs.cjs"], consumer));
    expect(out.module).to.equal("cjs");
    expect(path.relative(consumer, out.resolved)).to.equal(path.join("node_modules", "connectrpc-prometheus", "dist", "cjs", "index.js"));
    expect([...out.lines].sort()).to.deep.equal([...handledLines("server"), ...handledLines("client")].sort());
  });

  it("type-checks a TypeScript file against the shipped types, as ESM (.mts) and as CommonJS (.cts)", async () => {
    await writeFile(path.join(consumer, "check.mts"), typeCheck);
    await writeFile(path.join(consumer, "check.cts"), typeCheck);
    await writeFile(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          lib: ["es2022", "dom"],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["check.mts", "check.cts"],
      }),
    );
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    await sh(process.execPath, [tsc, "-p", "tsconfig.json", "--listFiles"], consumer).then((files) => {
      // Each module system got its own declarations.
      expect(files).to.include(path.join(consumer, "node_modules/connectrpc-prometheus/dist/esm/index.d.ts"));
      expect(files).to.include(path.join(consumer, "node_modules/connectrpc-prometheus/dist/cjs/index.d.ts"));
    });
  });

  it("@arethetypeswrong/cli finds no problems in the tarball", async () => {
    const attw = path.join(root, "node_modules/.bin/attw");
    const report = JSON.parse(await sh(attw, [tarball, "--format", "json", "--no-definitely-typed", "--profile", "strict"], tmp));
    expect(report.analysis.problems).to.deep.equal([]);
    expect(Object.keys(report.analysis.entrypoints)).to.deep.equal(["."]);
  });

  it("publint (strict) has nothing to say about the tarball", async () => {
    const tgz = await readFile(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: tgz.buffer.slice(tgz.byteOffset, tgz.byteOffset + tgz.byteLength) as ArrayBuffer },
      strict: true,
      level: "suggestion",
    });
    expect(messages.map((m) => formatMessage(m, pkg, { color: false }))).to.deep.equal([]);
  });
});
