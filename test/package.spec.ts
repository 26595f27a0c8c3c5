import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** Runs a snippet in a fresh node process at the repo root. */
function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" });
}

describe("package", () => {
  before(function () {
    this.timeout(120_000);
    // `npm test` builds before mocha; build here when a spec runs alone.
    if (!existsSync(join(root, "dist/esm/index.js")) || !existsSync(join(root, "dist/cjs/index.js"))) {
      execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
    }
  });

  it("loads with ESM import", () => {
    const out = node([
      "--input-type=module",
      "-e",
      `import { ServerMetrics, ClientMetrics } from "connectrpc-prometheus";
       import { Registry } from "prom-client";
       const registry = new Registry();
       new ServerMetrics({ registry }); new ClientMetrics({ registry });
       console.log(typeof ServerMetrics, registry.getMetricsAsArray().length);`,
    ]);
    expect(out.trim()).to.equal("function 8");
  });

  it("loads with CommonJS require", () => {
    const out = node([
      "--input-type=commonjs",
      "-e",
      `const { ServerMetrics, ClientMetrics } = require("connectrpc-prometheus");
       const { Registry } = require("prom-client");
       const registry = new Registry();
       new ServerMetrics({ registry }); new ClientMetrics({ registry });
       console.log(require.resolve("connectrpc-prometheus").endsWith("dist/cjs/index.js"), registry.getMetricsAsArray().length);`,
    ]);
    expect(out.trim()).to.equal("true 8");
  });
});

describe("gen/", () => {
  it("is what `buf generate` makes from proto/ now", function () {
    this.timeout(60_000);
    const out = mkdtempSync(join(tmpdir(), "gen-"));
    try {
      execFileSync("npx", ["buf", "generate", "--output", out], { cwd: root, stdio: "pipe" });
      const files = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const p = join(dir, name);
          return statSync(p).isDirectory() ? files(p) : [p];
        });
      const fresh = files(join(out, "gen")).map((p) => relative(out, p)).sort();
      const committed = files(join(root, "gen")).map((p) => relative(root, p)).sort();
      expect(committed, "files in gen/ (run `npm run generate`)").to.deep.equal(fresh);
      for (const f of fresh) {
        expect(readFileSync(join(root, f), "utf8"), `${f} is stale: run \`npm run generate\``).to.equal(
          readFileSync(join(out, f), "utf8"),
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
