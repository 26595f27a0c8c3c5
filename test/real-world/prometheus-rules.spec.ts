// The shipped rules pass promtool's checks; their unit tests (alerts/*.test.yml)
// show each alert quiet, firing and cleared and give every recorded series
// its exact value; each alert links to its section of docs/runbook.md; and
// scripts/grpc-monitoring.mjs writes exactly the shipped dashboard, and rules
// for a namespace, a subsystem or another SLO target that still pass.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { promtool, repoRoot } from "../support/prometheus.js";

const ruleFiles = ["alerts/grpc.recording.yml", "alerts/grpc.rules.yml", "alerts/grpc.slo.yml"];
const testFiles = ["alerts/grpc.recording.test.yml", "alerts/grpc.rules.test.yml", "alerts/grpc.slo.test.yml"];
const alerts = [
  "GrpcServerErrorRatioHigh",
  "GrpcServerLatencyP99High",
  "GrpcServerStoppedHandling",
  "GrpcClientErrorRatioHigh",
  "GrpcServerErrorBudgetBurnFast",
  "GrpcServerErrorBudgetBurnSlow",
];
/** The alerts on a ratio (or a quantile), which need a minimum traffic. */
const ratioAlerts = alerts.filter((a) => a !== "GrpcServerStoppedHandling");

const read = (file: string, dir = repoRoot) => readFileSync(path.join(dir, file), "utf8");

/** Each rule of a rule file: its kind, name and the text up to the next rule. */
function rules(text: string): { kind: "alert" | "record"; name: string; body: string }[] {
  const parts = text.split(/^\s*- (?=alert: |record: )/m).slice(1);
  return parts.map((p) => {
    const m = /^(alert|record): (\S+)\n/.exec(p)!;
    return { kind: m[1] as "alert" | "record", name: m[2], body: p };
  });
}
const all = () => ruleFiles.flatMap((f) => rules(read(f)));

/** Minutes of a promtool duration: `395m`, `2h`, `6h30m`. */
function minutes(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(d)!;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** Runs scripts/grpc-monitoring.mjs. */
function generate(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot, "scripts/grpc-monitoring.mjs"), ...args], {
    encoding: "utf8",
  });
}

describe("alerts/ with promtool", () => {
  it("passes promtool check rules", async () => {
    const r = await promtool(["check", "rules", ...ruleFiles]);
    expect([r.code, r.stderr]).to.deep.equal([0, ""]);
    for (const n of [7, 4, 12]) expect(r.stdout).to.include(`SUCCESS: ${n} rules found`);
    expect(all().filter((x) => x.kind === "alert").map((x) => x.name)).to.deep.equal(alerts);
  });

  it("links each alert to its section of docs/runbook.md", () => {
    const headings = [...read("docs/runbook.md").matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    for (const a of all().filter((x) => x.kind === "alert")) {
      const url = /^\s+runbook_url: (\S+)$/m.exec(a.body)?.[1];
      expect(url, a.name).to.equal(`docs/runbook.md#${a.name.toLowerCase()}`);
      expect(headings, `a section for ${a.name}`).to.include(a.name);
    }
  });

  it("guards every ratio alert with a minimum traffic, each window pair of a burn-rate alert too", () => {
    for (const a of all().filter((x) => ratioAlerts.includes(x.name))) {
      const expr = /expr: \|\n([\s\S]*?)\n\s+for:/.exec(a.body)![1];
      const branches = expr.split(/^\s*or$/m);
      for (const b of branches) expect(b, a.name).to.match(/and on \([^)]*\)\n\s*.*handled[^\n]*>= 0\.1\s*\)?\s*$/);
    }
  });

  it("has unit tests that show every alert quiet, firing, then cleared", () => {
    // Each case: `- eval_time: <duration>`, `alertname: <name>`,
    // `exp_alerts: []` (nothing firing) or `exp_alerts:` and the alerts.
    const cases = testFiles.flatMap((f) =>
      [...read(f).matchAll(/- eval_time: ([0-9hm]+)\n\s+alertname: (\w+)\n\s+exp_alerts:( \[\])?\n/g)].map((m) => ({
        file: f,
        minute: minutes(m[1]),
        alert: m[2],
        firing: m[3] === undefined,
      })),
    );
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alert === alert);
      const firing = mine.filter((c) => c.firing).map((c) => c.minute);
      expect(firing, `${alert} fires in a case`).to.not.be.empty;
      const first = Math.min(...firing);
      const last = Math.max(...firing);
      expect(mine.some((c) => !c.firing && c.minute < first), `${alert} quiet before`).to.equal(true);
      expect(mine.some((c) => !c.firing && c.minute > last), `${alert} cleared after`).to.equal(true);
    }
  });

  it("has a unit test of every recorded series' value", () => {
    const tested = testFiles.map((f) => read(f)).join("\n");
    for (const r of all().filter((x) => x.kind === "record")) {
      expect(tested, r.name).to.include(`labels: '${r.name}{`);
    }
  });

  for (const file of testFiles) {
    it(`passes promtool test rules ${file}`, async function () {
      this.timeout(60_000);
      const r = await promtool(["test", "rules", file]);
      expect([r.code, r.stderr, r.stdout]).to.deep.equal([0, "", `Unit Testing:  ${file}\n  SUCCESS\n\n`]);
    });
  }
});

describe("scripts/grpc-monitoring.mjs", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "connectrpc-prometheus-gen-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes dashboards/grpc.json and the rules exactly as shipped", () => {
    const r = generate("--out", dir);
    expect([r.status, r.stderr]).to.deep.equal([0, ""]);
    expect(read("grpc.json", dir)).to.equal(read("dashboards/grpc.json"));
    for (const f of [...ruleFiles, ...testFiles]) {
      expect(read(path.basename(f), dir), f).to.equal(read(f));
    }
  });

  it("with a namespace and subsystem, prefixes every metric name, and its promtool tests pass", async function () {
    this.timeout(60_000);
    const r = generate("--out", dir, "--namespace", "shop", "--subsystem", "api");
    expect([r.status, r.stderr]).to.deep.equal([0, ""]);
    expect(readdirSync(dir).sort()).to.deep.equal(
      ["grpc.json", ...[...ruleFiles, ...testFiles].map((f) => path.basename(f))].sort(),
    );
    for (const f of [...ruleFiles, ...testFiles].map((x) => path.basename(x))) {
      const text = read(f, dir);
      expect(text.match(/(?<![A-Za-z0-9_])grpc_(server|client)_/g), `${f}: names without the prefix`).to.equal(null);
      expect(text, f).to.include("shop_api_grpc_");
    }
    expect(read("grpc.recording.yml", dir)).to.include(
      "record: job_grpc_service:shop_api_grpc_server_errors_per_handled:ratio_rate5m",
    );
    const files = ruleFiles.map((f) => path.join(dir, path.basename(f)));
    const check = await promtool(["check", "rules", ...files]);
    expect([check.code, check.stderr]).to.deep.equal([0, ""]);
    for (const f of testFiles) {
      const t = await promtool(["test", "rules", path.join(dir, path.basename(f))]);
      expect([t.code, t.stderr, t.stdout.trim().split("\n").pop()], f).to.deep.equal([0, "", "  SUCCESS"]);
    }
  });

  it("with another SLO target and a runbook URL, rewrites the burn-rate thresholds and the links", async () => {
    const r = generate("--out", dir, "--slo", "99.5", "--runbook-url", "https://runbooks.invalid/grpc.md");
    expect([r.status, r.stderr]).to.deep.equal([0, ""]);
    const slo = read("grpc.slo.yml", dir);
    expect(slo).to.not.include("0.999");
    for (const burn of ["14.4", "6", "3", "1"]) {
      expect(slo.split(`> (${burn} * (1 - 0.995))`).length - 1, `${burn}x`).to.equal(2);
    }
    expect(slo).to.include("the 99.5% SLO");
    expect(read("grpc.rules.yml", dir)).to.include(
      "runbook_url: https://runbooks.invalid/grpc.md#grpcservererrorratiohigh",
    );
    // Its unit tests are worked out for 99.9%: not written for another target.
    expect(readdirSync(dir)).to.not.include("grpc.slo.test.yml");
    const check = await promtool(["check", "rules", path.join(dir, "grpc.slo.yml")]);
    expect([check.code, check.stderr]).to.deep.equal([0, ""]);
  });

  it("rejects a namespace that cannot start a metric name, and options without --out", () => {
    const bad = generate("--out", dir, "--namespace", "1shop");
    expect([bad.status, bad.stderr]).to.deep.equal([
      2,
      'grpc-monitoring: --namespace must be letters, digits and underscores, not starting with a digit; got "1shop"\n',
    ]);
    const noOut = generate("--subsystem", "api");
    expect([noOut.status, noOut.stderr]).to.deep.equal([
      2,
      "grpc-monitoring: --namespace, --subsystem, --slo and --runbook-url need --out DIR\n",
    ]);
  });
});
