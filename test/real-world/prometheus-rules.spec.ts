// The shipped alerting rules pass promtool's checks, and their unit tests
// (alerts/grpc.rules.test.yml) show each alert quiet, firing and cleared.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { promtool, repoRoot } from "../support/prometheus.js";

const rulesFile = "alerts/grpc.rules.yml";
const testFile = "alerts/grpc.rules.test.yml";

function read(file: string): string {
  return readFileSync(path.join(repoRoot, file), "utf8");
}

describe("alerts/grpc.rules.yml with promtool", () => {
  const alerts = [...read(rulesFile).matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);

  it("passes promtool check rules", async () => {
    const r = await promtool(["check", "rules", rulesFile]);
    expect([r.code, r.stderr]).to.deep.equal([0, ""]);
    expect(r.stdout).to.include(`SUCCESS: ${alerts.length} rules found`);
    expect(alerts).to.deep.equal([
      "GrpcServerErrorRatioHigh",
      "GrpcServerLatencyP99High",
      "GrpcServerStoppedHandling",
    ]);
  });

  it("has unit tests that show every alert quiet, firing, then cleared", () => {
    // Each case: `- eval_time: <n>m`, `alertname: <name>`, `exp_alerts: []`
    // (nothing firing) or `exp_alerts:` followed by the firing alerts.
    const cases = [
      ...read(testFile).matchAll(/- eval_time: (\d+)m\n\s+alertname: (\w+)\n\s+exp_alerts:( \[\])?\n/g),
    ].map((m) => ({ minute: Number(m[1]), alert: m[2], firing: m[3] === undefined }));
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

  it("passes promtool test rules", async () => {
    const r = await promtool(["test", "rules", testFile]);
    expect([r.code, r.stderr]).to.deep.equal([0, ""]);
    expect(r.stdout).to.match(/^\s*SUCCESS$/m);
  });
});
