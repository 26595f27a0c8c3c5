// The packed package, as a user gets it today: the README's "Install" steps,
// run as written. A clone (the files git has here, copied into a folder named
// as the package), `npm ci` and `npm pack` in it, then the
// README's install line in a fresh project next to it that already has the
// Connect peers. The installed package is then loaded with ESM `import` and
// CommonJS `require`, type-checked against the shipped types, and checked by
// @arethetypeswrong/cli and publint.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
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

/** The version of a package installed in `dir`. */
async function installedIn(dir: string, name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(dir, "node_modules", name, "package.json"), "utf8"));
  return pkg.version as string;
}

/** The version of a package installed in this repo. */
const installed = (name: string) => installedIn(root, name);

/**
 * The environment without the variables that `npm test` exports about this
 * repo (npm_config_local_prefix, npm_package_*, npm_lifecycle_*): the npm
 * commands below must act on their own directories only. The user's own
 * npm_config_* (registry, cache, ...) stay.
 */
const cleanEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(npm_config_local_prefix|npm_package_\w+|npm_lifecycle_\w+|npm_command)$/i.test(k),
    ),
  ),
  // Quieter, and from the cache when it can: settings, not steps.
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_prefer_offline: "true",
};

/** Runs a command; on failure, the error carries its output. */
async function exec(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env: cleanEnv, timeout, maxBuffer: 16 << 20, encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

/** Runs a command and returns its standard output. */
async function sh(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  return (await exec(cmd, args, cwd, timeout)).stdout;
}

/** The package's own package.json. */
const ownPkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
};

/** The repository's web address, from package.json's repository.url. */
const repoUrl = ownPkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");

/** The shell lines of a fenced sh block, without comments and blank lines. */
function commands(body: string): string[] {
  return body
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** The two ```sh blocks of the README's "Install" section: in the clone, and in your project. */
async function installSteps(): Promise<{ clone: string[]; project: string[] }> {
  const readme = await readFile(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Install\n");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const sh = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => commands(m[1]));
  expect(sh, "two sh blocks in the README's Install section").to.have.length(2);
  return { clone: sh[0], project: sh[1] };
}

/**
 * A clone of this repository at `dir`: the files that git has (tracked, and
 * new ones not ignored), as they are in the work tree.
 */
async function fakeClone(dir: string): Promise<void> {
  const files = (await sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)).split("\0").filter(Boolean);
  expect(files, "git ls-files").to.include.members(["package.json", "package-lock.json", "README.md", "LICENSE"]);
  for (const f of files) {
    const from = path.join(root, f);
    if (!(await stat(from).catch(() => undefined))?.isFile()) continue; // deleted in the work tree
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await cp(from, path.join(dir, f));
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
  let npmCiOutput = "";

  before(async function () {
    this.timeout(600_000);
    tmp = await mkdtemp(path.join(tmpdir(), "connectrpc-prometheus-pack-"));
    const steps = await installSteps();

    // In the repository's folder, as the README says: npm ci, npm pack.
    const clone = path.join(tmp, ownPkg.name);
    await fakeClone(clone);
    expect(steps.clone, "the steps in the repository's folder").to.deep.equal(["npm ci", "npm pack"]);
    const output: Record<string, string> = {};
    for (const step of steps.clone) {
      const { stdout, stderr } = await exec("sh", ["-c", step], clone, 480_000);
      output[step] = stdout + stderr;
    }
    npmCiOutput = output["npm ci"];
    tarball = path.join(clone, `${ownPkg.name}-${ownPkg.version}.tgz`);
    expect(await stat(tarball).catch(() => undefined), `${tarball} after npm pack`).to.not.equal(undefined);

    // Your project, next to the clone: a Connect project (the peers at the
    // versions this repo tests with), then the README's install line.
    consumer = path.join(tmp, "project");
    await mkdir(consumer);
    const peers = Object.fromEntries(
      await Promise.all(["@connectrpc/connect", "@bufbuild/protobuf"].map(async (p) => [p, await installed(p)])),
    );
    await writeFile(
      path.join(consumer, "package.json"),
      JSON.stringify({ name: "project", version: "1.0.0", private: true, dependencies: peers }, null, 2),
    );
    await sh("npm", ["install"], consumer);
    expect(steps.project, "the install line").to.deep.equal([
      `npm install ../${path.basename(clone)}/${path.basename(tarball)} prom-client`,
    ]);
    for (const step of steps.project) {
      await sh("sh", ["-c", step], consumer);
    }

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

  it(`npm ci in the clone warns of no engine mismatch on Node ${process.versions.node}`, () => {
    expect(npmCiOutput).to.match(/added \d+ packages/);
    expect(npmCiOutput.split("\n").filter((l) => /EBADENGINE/i.test(l))).to.deep.equal([]);
  });

  it("holds only dist/ (ESM and CommonJS, with declarations), LICENSE, README.md and package.json", async () => {
    const listed = (await sh("tar", ["-tzf", tarball], tmp)).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    const top = ["LICENSE", "README.md", "package.json"];
    expect(listed.filter((f) => !f.startsWith("dist/") && !top.includes(f)), "stray files").to.deep.equal([]);
    for (const f of [...top, "dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json"]) {
      expect(listed).to.include(f);
    }
    expect(listed.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith(".d.ts"))).to.deep.equal([]);
  });

  it("installs as the README says: LICENSE (Apache-2.0), README.md and the repository links, with prom-client 15", async () => {
    const pkgDir = path.join(consumer, "node_modules", ownPkg.name);
    expect(await readFile(path.join(pkgDir, "LICENSE"), "utf8")).to.equal(await readFile(path.join(root, "LICENSE"), "utf8"));
    expect(await readFile(path.join(pkgDir, "LICENSE"), "utf8")).to.include("Apache License\n                           Version 2.0, January 2004");
    expect(await readFile(path.join(pkgDir, "README.md"), "utf8")).to.equal(await readFile(path.join(root, "README.md"), "utf8"));
    const pkg = JSON.parse(await readFile(path.join(pkgDir, "package.json"), "utf8"));
    expect([pkg.license, pkg.repository.url, pkg.homepage, pkg.bugs.url]).to.deep.equal([
      "Apache-2.0",
      `git+${repoUrl}.git`,
      `${repoUrl}#readme`,
      `${repoUrl}/issues`,
    ]);
    const project = JSON.parse(await readFile(path.join(consumer, "package.json"), "utf8"));
    expect(project.dependencies[ownPkg.name]).to.equal(`file:../${path.basename(path.dirname(tarball))}/${path.basename(tarball)}`);
    expect(await installedIn(consumer, "prom-client")).to.match(/^15\./);
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
