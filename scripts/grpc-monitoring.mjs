// Writes the Grafana dashboard and the Prometheus rules for gRPC metrics.
//
//   node scripts/grpc-monitoring.mjs
//     Regenerates dashboards/grpc.json from scripts/grpc-dashboard.mjs.
//
//   node scripts/grpc-monitoring.mjs --out DIR [--namespace N] [--subsystem S]
//                                    [--slo PERCENT] [--runbook-url URL]
//     Writes a copy for your setup into DIR: grpc.json (the dashboard) and
//     the rule files of alerts/ with their promtool tests.
//     --namespace, --subsystem  the options you gave ServerMetrics and
//         ClientMetrics: every metric name, recorded ones included, gets the
//         `namespace_subsystem_` prefix, and the dashboard's metric_prefix
//         variable defaults to it.
//     --slo  the availability target of alerts/grpc.slo.yml, in percent
//         (default 99.9). Its unit tests are written only for 99.9: their
//         expected alerts are worked out for that target.
//     --runbook-url  where your copy of docs/runbook.md is served: each
//         alert's runbook_url becomes URL#section instead of
//         docs/runbook.md#section.
//
// It uses Node.js only (no dependencies), so it runs from a plain checkout.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dashboard } from "./grpc-dashboard.mjs";

const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), "..");
const ruleFiles = ["grpc.recording.yml", "grpc.rules.yml", "grpc.slo.yml"];
const testFiles = ["grpc.recording.test.yml", "grpc.rules.test.yml", "grpc.slo.test.yml"];
const defaultSlo = "99.9";
const namePart = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** prefixOf joins namespace and subsystem as the library does: `shop_api_`. */
export function prefixOf(namespace = "", subsystem = "") {
  for (const [key, part] of [["namespace", namespace], ["subsystem", subsystem]]) {
    if (part !== "" && !namePart.test(part)) {
      throw new Error(`--${key} must be letters, digits and underscores, not starting with a digit; got "${part}"`);
    }
  }
  const parts = [namespace, subsystem].filter((p) => p !== "");
  return parts.length ? parts.join("_") + "_" : "";
}

/**
 * rewriteRules adapts a rule or rule-test file: the prefix in front of every
 * grpc_server_ and grpc_client_ metric name (also inside recorded names, after
 * the level), the SLO target, and the runbook location.
 */
export function rewriteRules(text, { prefix = "", slo = defaultSlo, runbookUrl = "" } = {}) {
  let out = text.replace(/(?<![A-Za-z0-9_])grpc_(server|client)_/g, `${prefix}grpc_$1_`);
  if (slo !== defaultSlo) {
    const fraction = String(Number((Number(slo) / 100).toPrecision(12)));
    out = out.replaceAll("0.999", fraction).replaceAll("99.9%", `${slo}%`);
  }
  if (runbookUrl) out = out.replaceAll("docs/runbook.md#", `${runbookUrl}#`);
  return out;
}

function checkSlo(slo) {
  const n = Number(slo);
  if (!/^\d+(\.\d+)?$/.test(slo) || !(n > 0 && n < 100)) {
    throw new Error(`--slo is a percentage between 0 and 100, like 99.9; got "${slo}"`);
  }
}

const json = (value) => JSON.stringify(value, null, 2) + "\n";

function main() {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      namespace: { type: "string", default: "" },
      subsystem: { type: "string", default: "" },
      slo: { type: "string", default: defaultSlo },
      "runbook-url": { type: "string", default: "" },
    },
  });
  const prefix = prefixOf(values.namespace, values.subsystem);
  checkSlo(values.slo);
  if (values.out === undefined) {
    if (prefix || values.slo !== defaultSlo || values["runbook-url"]) {
      throw new Error("--namespace, --subsystem, --slo and --runbook-url need --out DIR");
    }
    writeFileSync(path.join(root, "dashboards/grpc.json"), json(dashboard()));
    console.log("wrote dashboards/grpc.json");
    return;
  }
  const opts = { prefix, runbookUrl: values["runbook-url"] };
  mkdirSync(values.out, { recursive: true });
  const written = ["grpc.json"];
  writeFileSync(path.join(values.out, "grpc.json"), json(dashboard(prefix)));
  for (const file of [...ruleFiles, ...testFiles]) {
    if (file === "grpc.slo.test.yml" && values.slo !== defaultSlo) continue;
    const text = readFileSync(path.join(root, "alerts", file), "utf8");
    const slo = file === "grpc.slo.yml" ? values.slo : defaultSlo;
    writeFileSync(path.join(values.out, file), rewriteRules(text, { ...opts, slo }));
    written.push(file);
  }
  console.log(`wrote ${written.join(", ")} to ${values.out}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  try {
    main();
  } catch (e) {
    console.error(`grpc-monitoring: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  }
}
