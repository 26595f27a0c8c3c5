// End to end with a real Prometheus server: it scrapes a Connect server that
// records both ServerMetrics and ClientMetrics, twice (once with plain names,
// once with namespace "shop" and subsystem "api"), loads the shipped rules
// and a prefixed copy that scripts/grpc-monitoring.mjs writes, and we send
// known traffic. Then every query of docs/promql.md, every panel of the
// Grafana dashboard (for both metric sets), every recorded series and every
// alert is checked against the traffic, exactly; the queries of
// docs/runbook.md are checked to run and to read series that exist.
//
// Exactness. rate() and increase() extrapolate: over a window [t-w, t] they
// scale (last - first) by how far the first and last samples sit from the
// window's edges. initialize() creates every series at zero and a scrape
// before any traffic stores those zeros; a counter whose first sample in the
// window is 0 is never extrapolated backwards (Prometheus stops at the
// counter's zero point, which is that sample). So:
//  - a query evaluated at the timestamp of a scrape taken after all traffic
//    has nothing to extrapolate forwards: increase() over a window that
//    reaches back to the zero scrape is the exact count, and rate() is that
//    count over the window's seconds. Panels and queries that read the
//    scraped metrics are evaluated there.
//  - a recording rule is evaluated at its own time T, after the last scrape:
//    rate() then adds the time from the last scrape to T (see
//    counterRateFactor). The same factor applies to every series of the
//    evaluation, so ratios and quantiles of recorded series are exact, and
//    each recorded rate is the exact count times that factor over the
//    window. The factor comes from the stored scrape timestamps; since the
//    evaluation at T may have run while the newest scrape before T was
//    still being written, the newest three scrapes before T are the
//    candidates, and every series of one rule must match the same one.
// What is left is float rounding in sums, hence the relative tolerance 1e-9.
//
// Timing. Nothing waits for a fixed time. The test waits for Prometheus to
// store a scrape that began after the traffic ended, then for rule
// evaluations that saw it. The slow calls sleep 300 ms, so they are never in
// the le="0.25" bucket; the fast ones are almost always under 250 ms but
// that is not asserted: the histogram results are checked exactly against
// the buckets that were scraped, and against the traffic only with bounds
// that hold however slow the machine is.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "chai";
import { Registry } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { pingClient, protocols, service, startServer, type TestServer } from "../support/harness.js";
import { routes } from "../support/ping-service.js";
import {
  counterRateFactor,
  expositionSamples,
  histogramQuantile,
  hostOf,
  metricsFallback,
  parseExposition,
  repoRoot,
  sampleKey,
  startPrometheus,
  waitFor,
  type Prometheus,
  type RuleGroup,
  type Sample,
} from "../support/prometheus.js";
import {
  buckets,
  closeTo,
  expectVector,
  panelExpectations,
  recordedExpectation,
  serverSideCodes,
  total,
  type Expo,
} from "../support/prometheus-expected.js";

const job = "api";
const prefix = "shop_api_";
const methods = ["PingEmpty", "Ping", "PingError", "PingList", "PingClientStream", "PingStream"];

/**
 * The traffic, and what it must add up to. Besides it, one server stream
 * (PingList) stays open until the end: a call in flight, so that started
 * and handled differ and each query shows which one it divides by.
 */
const traffic = {
  fastPings: 40,
  slowPings: 4,
  slowSleepMs: 300,
  errorCodes: [Code.NotFound, Code.Internal, Code.Unavailable, Code.DataLoss],
  listSizes: [2, 3, 7],
  clientStreamSizes: [3, 1],
  bidiSizes: [2, 3],
};
const unaryCalls = traffic.fastPings + traffic.slowPings + traffic.errorCodes.length;
const allCalls =
  unaryCalls + traffic.listSizes.length + traffic.clientStreamSizes.length + traffic.bidiSizes.length;
/** Unary calls that cannot be slow: the fast pings and the errors. */
const unaryNotSlept = traffic.fastPings + traffic.errorCodes.length;
const serverFaults = traffic.errorCodes.filter((c) => serverSideCodes.includes(Code[c])).length;

/** The ```promql blocks of a markdown file, each under its `## ` heading. */
function docQueries(file: string): { title: string; expr: string }[] {
  const md = readFileSync(path.join(repoRoot, file), "utf8");
  const out: { title: string; expr: string }[] = [];
  let title = "";
  for (const m of md.matchAll(/^## (.+)$|^```promql\n([\s\S]*?)^```$/gm)) {
    if (m[1] !== undefined) title = m[1].trim();
    else out.push({ title, expr: m[2].trim() });
  }
  return out;
}

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}
interface Target {
  readonly panel: string;
  readonly legend: string;
  readonly expr: string;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Dashboard;
const dashboard = readJson(path.join(repoRoot, "dashboards/grpc.json"));

function dashboardTargets(panels: readonly Panel[]): Target[] {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).map((t) => ({ panel: p.title, legend: t.legendFormat ?? "", expr: t.expr })),
    ...dashboardTargets(p.panels ?? []),
  ]);
}

/** Series names of the recording rules (`level:metric:operation`). */
const recordedName = /\b\w+:\w+:\w+\b/;

describe("a real Prometheus", function () {
  let registry: Registry;
  let server: TestServer | undefined;
  /** Ends the stream that stays open. */
  const open = new AbortController();
  let openStream: Promise<void> | undefined;
  let prom: Prometheus | undefined;
  /** The prefixed rule files and dashboard, written by scripts/grpc-monitoring.mjs. */
  let prefixedDir = "";
  let host = "";
  /** Timestamps (ms) of a scrape before the traffic and of one after it. */
  let zeroScrape = 0;
  let finalScrape = 0;
  /** A time (s) at which every rule group has evaluated the final data. */
  let evaluated = 0;
  let groups: RuleGroup[] = [];
  /** Each metric set's exposition after the traffic, as scraped. */
  const expo: Record<"plain" | "prefixed", Expo> = { plain: {}, prefixed: {} };

  const variants = [
    { name: "plain names", set: "plain" as const, prefix: "", dir: () => path.join(repoRoot, "alerts") },
    { name: "namespace shop, subsystem api", set: "prefixed" as const, prefix, dir: () => prefixedDir },
  ];

  before(async function () {
    this.timeout(90_000);
    prefixedDir = mkdtempSync(path.join(os.tmpdir(), "connectrpc-prometheus-rules-"));
    execFileSync(process.execPath, [
      path.join(repoRoot, "scripts/grpc-monitoring.mjs"),
      ...["--out", prefixedDir, "--namespace", "shop", "--subsystem", "api"],
    ]);
    // Both sets of alerts run in one Prometheus over one job, so their ALERTS
    // series would be the same series written by two groups ("out of order
    // sample"): the prefixed copy's alerts get a label of their own.
    for (const file of ["grpc.rules.yml", "grpc.slo.yml"]) {
      const f = path.join(prefixedDir, file);
      writeFileSync(f, readFileSync(f, "utf8").replaceAll("\n        labels:\n", "\n        labels:\n          metric_set: prefixed\n"));
    }
    registry = new Registry();
    const opts = { registry, handlingTimeHistogram: true } as const;
    const named = { ...opts, namespace: "shop", subsystem: "api" } as const;
    const servers = [new ServerMetrics(opts), new ServerMetrics(named)];
    const clients = [new ClientMetrics(opts), new ClientMetrics(named)];
    for (const m of [...servers, ...clients]) m.initialize(PingService);
    server = await startServer(
      servers.map((m) => m.interceptor),
      routes,
      { fallback: metricsFallback(registry) },
    );
    host = hostOf(server.h1Url);
    const files = ["grpc.recording.yml", "grpc.rules.yml", "grpc.slo.yml"];
    prom = await startPrometheus({
      jobs: [{ job, targets: [host] }],
      ruleFiles: variants.flatMap((v) => files.map((f) => path.join(v.dir(), f))),
    });
    // A stored scrape, taken before any call: every series at zero.
    zeroScrape = [...(await prom.waitForScrapes(job, 1, 0)).values()][0];

    const client = pingClient(server, protocols[0], clients.map((m) => m.interceptor));
    const stream = async function* (n: number) {
      for (let i = 0; i < n; i++) yield { value: `m${i}` };
    };
    openStream = (async () => {
      const call = client.pingList({ value: "open", waitForCancel: true }, { signal: open.signal });
      for await (const _ of call);
    })().catch(() => {});
    await Promise.all([
      ...Array.from({ length: traffic.fastPings }, (_, i) => client.ping({ value: `fast${i}` })),
      ...Array.from({ length: traffic.slowPings }, (_, i) =>
        client.ping({ value: `slow${i}`, sleepTimeMs: traffic.slowSleepMs }),
      ),
    ]);
    for (const code of traffic.errorCodes) {
      const err = await client.pingError({ value: "e", errorCodeReturned: code }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(ConnectError.from(err).code, "the failing call's code").to.equal(code);
    }
    for (const n of traffic.listSizes) {
      let got = 0;
      for await (const _ of client.pingList({ value: "l", responseCount: n })) got++;
      expect(got).to.equal(n);
    }
    for (const n of traffic.clientStreamSizes) {
      expect((await client.pingClientStream(stream(n))).counter).to.equal(n);
    }
    for (const n of traffic.bidiSizes) {
      let got = 0;
      for await (const _ of client.pingStream(stream(n))) got++;
      expect(got).to.equal(n);
    }
    // Every call handled on both sides, but the open stream, in both sets.
    await waitFor("only the open stream in flight", async () => {
      const text = await registry.metrics();
      const sets = [parseExposition(text), parseExposition(text, `${prefix}grpc_`)];
      const sum = (e: Expo, re: RegExp) => Object.entries(e).reduce((a, [k, v]) => a + (re.test(k) ? v : 0), 0);
      const inFlight = (e: Expo, side: string) =>
        sum(e, new RegExp(`grpc_${side}_started_total\\{`)) - sum(e, new RegExp(`grpc_${side}_handled_total\\{`));
      return sets.every((e) => inFlight(e, "server") === 1 && inFlight(e, "client") === 1) ? true : undefined;
    });
    const trafficEnd = Date.now();
    finalScrape = [...(await prom.waitForScrapes(job, 1, trafficEnd)).values()][0];
    const finalVisible = Date.now();
    const text = await registry.metrics();
    expo.plain = parseExposition(text);
    expo.prefixed = Object.fromEntries(
      Object.entries(parseExposition(text, `${prefix}grpc_`)).map(([k, v]) => [k.slice(prefix.length), v]),
    );
    // Every group evaluates once after the final scrape was visible (the
    // recorded series then hold the final data), and once more after that
    // (the alerts then read those recorded series). An evaluation that began
    // more than one interval after a moment has a timestamp after it.
    let after = finalVisible;
    for (const round of [1, 2]) {
      groups = await waitFor(`rule evaluations, round ${round}`, async () => {
        const g = await prom!.ruleGroups();
        return g.length === 10 && g.every((x) => Date.parse(x.lastEvaluation) > after + 1100) ? g : undefined;
      });
      after = Date.now();
    }
    evaluated = after / 1000;
  });

  after(async function () {
    this.timeout(30_000);
    open.abort();
    await openStream;
    await prom?.stop();
    await server?.close();
    if (prefixedDir) rmSync(prefixedDir, { recursive: true, force: true });
  });

  /** Runs a query at the final scrape, or after the rule evaluations if it reads recorded series. */
  const at = (expr: string) =>
    prom!.query(expr, recordedName.test(expr) ? evaluated : finalScrape / 1000);

  it("stored zeros before the traffic and exactly the exposition after it", async () => {
    const before = await prom!.query(`sum(grpc_server_started_total{job="${job}"})`, zeroScrape / 1000);
    expect(before).to.deep.equal([{ metric: {}, value: 0 }]);
    const stored: Record<string, number> = {};
    for (const s of await at(`{job="${job}",__name__=~"grpc_.+"}`)) {
      stored[sampleKey(s.metric.__name__, s.metric)] = s.value;
    }
    expect(stored).to.deep.equal(expo.plain);
    const started = (e: Expo, side: string, m: string) =>
      total(expositionSamples(e, (s) => s.name === `grpc_${side}_started_total` && s.labels.grpc_method === m));
    for (const set of ["plain", "prefixed"] as const) {
      for (const side of ["server", "client"]) {
        expect(started(expo[set], side, "Ping"), `${set} ${side} pings`).to.equal(traffic.fastPings + traffic.slowPings);
        expect(
          methods.reduce((a, m) => a + started(expo[set], side, m), 0),
          `${set} ${side} calls, the open stream included`,
        ).to.equal(allCalls + 1);
      }
    }
    // Both metric sets counted the same calls; only the histograms' timings
    // can differ (the inner interceptor starts its clock a moment later).
    const counters = (e: Expo) => Object.fromEntries(Object.entries(e).filter(([k]) => /_total\{/.test(k)));
    expect(counters(expo.prefixed)).to.deep.equal(counters(expo.plain));
    // The windows below reach back to the zero scrape.
    expect(finalScrape - zeroScrape, "traffic and scrapes took under a minute").to.be.below(60_000);
  });

  describe("docs/promql.md", () => {
    const svc = { grpc_service: service };
    const ratio = serverFaults / allCalls;
    const unaryServerBuckets = (le?: number) => {
      const b = buckets(
        expositionSamples(expo.plain, (s) => s.name === "grpc_server_handling_seconds_bucket" && s.labels.grpc_type === "unary"),
      );
      return le === undefined ? b : b.find((x) => x.le === le)!.count;
    };
    const checks: Record<string, (r: Sample[]) => void> = {
      "Request rate by service": (r) => expectVector(r, [{ metric: svc, value: (allCalls + 1) / 60 }], "calls/s"),
      "Errors by code": (r) => {
        const expected = Object.keys(Code)
          .filter((c) => Number.isNaN(Number(c)))
          .map((c) => ({
            metric: { ...svc, grpc_code: c },
            value: traffic.errorCodes.filter((x) => Code[x] === c).length / 60,
          }));
        expectVector(r, expected, "errors/s by code");
      },
      "Error ratio": (r) => expectVector(r, [{ metric: svc, value: ratio }], "error ratio"),
      "Error ratio from the recording rules": (r) =>
        expectVector(r, [{ metric: { ...svc, job }, value: ratio }], "recorded error ratio"),
      "Availability over the last 7 days": (r) => expectVector(r, [{ metric: svc, value: 1 - ratio }], "availability"),
      "Average response stream size": (r) =>
        expectVector(
          r,
          [{ metric: svc, value: traffic.listSizes.reduce((a, b) => a + b, 0) / traffic.listSizes.length }],
          "messages per stream",
        ),
      "99th percentile latency of unary calls": (r) => {
        expect(unaryServerBuckets(Infinity), "unary calls observed").to.equal(unaryCalls);
        const p99 = histogramQuantile(0.99, unaryServerBuckets() as { le: number; count: number }[]);
        expectVector(r, [{ metric: svc, value: p99 }], "p99 of the scraped buckets");
        // At most `unaryNotSlept` calls are at or under 250 ms, fewer than
        // 99% of them: the 99th percentile lies above.
        expect(0.99 * unaryCalls).to.be.above(unaryNotSlept);
        expect(p99).to.be.above(0.25);
      },
      "Share of slow unary calls (over 250 ms)": (r) => {
        const fast = unaryServerBuckets(0.25) as number;
        expect(fast, "calls at or under 250 ms").to.be.at.most(unaryNotSlept);
        expectVector(r, [{ metric: svc, value: 100 - (fast / unaryCalls) * 100 }], "slow %");
        expect(r[0].value).to.be.at.least((traffic.slowPings / unaryCalls) * 100 - 1e-9);
      },
      "Calls in flight": (r) => expectVector(r, [{ metric: svc, value: 1 }], "the open stream"),
      "With a namespace and subsystem": (r) =>
        expectVector(r, [{ metric: svc, value: (allCalls + 1) / 60 }], "calls/s"),
    };

    const queries = docQueries("docs/promql.md");
    it("has exactly the queries this test checks", () => {
      expect(queries.map((q) => q.title)).to.deep.equal(Object.keys(checks));
    });
    for (const q of queries) {
      it(q.title, async () => {
        const check = checks[q.title];
        expect(check, `a check for "${q.title}"`).to.be.a("function");
        check(await at(q.expr));
      });
    }
  });

  describe("dashboards/grpc.json", () => {
    const targets = dashboardTargets(dashboard.panels);
    const labelVariables = ["job", "instance", "grpc_service", "grpc_method"];

    /**
     * grafana substitutes the variables as Grafana does: the metric prefix
     * as typed; job, instance and service with one value selected and
     * grpc_method with all six, regex characters escaped (a backslash,
     * doubled inside the PromQL string); `$__rate_interval` and `$__range`.
     */
    const grafana = (expr: string, metricPrefix: string) => {
      const regex = (v: string) => v.replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");
      const out = expr
        .replaceAll("${metric_prefix}", metricPrefix)
        .replaceAll("$__rate_interval", "1m")
        .replaceAll("$__range", "1m")
        .replaceAll("$grpc_service", regex(service))
        .replaceAll("$grpc_method", `(${methods.map(regex).join("|")})`)
        .replaceAll("$instance", regex(host))
        .replaceAll("$job", regex(job));
      expect(out, "every variable substituted").to.not.include("$");
      return out;
    };

    it("has the panels, and variables for the metric prefix, job, instance, service and method", () => {
      expect(dashboard.uid).to.be.a("string").and.not.empty;
      const titles = dashboard.panels.map((p) => p.title);
      expect(titles).to.include.members(["Server", "Client: the services this job calls"]);
      for (const kind of ["request rate", "error ratio (%)", "errors by code", "latency p50, p90, p99", "in flight (started − handled)", "messages per stream"]) {
        expect(titles).to.include.members([`Server: ${kind}`, `Client: ${kind}`]);
      }
      expect(titles).to.include.members(["Server: availability", "Server: latency heatmap"]);
      const vars = dashboard.templating.list;
      expect(vars.map((v) => v.name)).to.deep.equal(["datasource", "metric_prefix", ...labelVariables]);
      expect(vars.find((v) => v.name === "metric_prefix")).to.include({ type: "textbox", query: "" });
      for (const v of vars.filter((x) => labelVariables.includes(x.name))) {
        expect(v, v.name).to.include({ type: "query", multi: true, includeAll: true });
      }
      for (const p of dashboard.panels.filter((x) => x.type !== "row")) {
        expect(p.targets, p.title).to.not.be.empty;
        for (const t of p.targets!) {
          expect(t.datasource?.uid, "targets use the datasource variable").to.equal("${datasource}");
          for (const name of labelVariables) expect(t.expr, `${p.title} selects $${name}`).to.include(`${name}=~"$${name}"`);
          expect(t.expr, `${p.title} prefixes metric names`).to.include("${metric_prefix}grpc_");
        }
      }
    });

    it("is what scripts/grpc-monitoring.mjs writes, also for a namespace and subsystem", () => {
      const generated = readJson(path.join(prefixedDir, "grpc.json"));
      const prefixVar = generated.templating.list.find((v) => v.name === "metric_prefix")!;
      expect(prefixVar.query).to.equal(prefix);
      // Only the prefix's default, the title and the uid differ.
      const strip = (d: Dashboard) =>
        JSON.stringify({
          ...d,
          title: undefined,
          uid: undefined,
          templating: { list: d.templating.list.filter((v) => v.name !== "metric_prefix") },
        });
      expect(strip(generated)).to.equal(strip(dashboard));
      expect(generated.uid).to.not.equal(dashboard.uid);
    });

    for (const v of variants) {
      it(`${v.name}: variables find the job, instance, services and methods`, async () => {
        const expected: Record<string, string[]> = {
          job: [job],
          instance: [host],
          grpc_service: [service],
          grpc_method: [...methods].sort(),
        };
        for (const variable of dashboard.templating.list.filter((x) => x.type === "query")) {
          const m = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query);
          expect(m, `${variable.name} is label_values(selector, label)`).to.not.equal(null);
          const values = await prom!.labelValues(m![2], grafana(m![1], v.prefix));
          expect(values.sort(), variable.name).to.deep.equal(expected[variable.name]);
        }
      });
    }

    for (const v of variants) {
      for (const t of targets) {
        it(`${v.name}: ${t.panel}: ${t.legend}`, async () => {
          const [side, kind] = t.panel.split(": ");
          const expectation = panelExpectations[kind];
          expect(expectation, `an expectation for "${kind}"`).to.be.a("function");
          const expected = expectation(expo[v.set], side === "Server" ? "server" : "client", t.legend);
          expect(expected, "the check expects series").to.not.be.empty;
          expectVector(await at(grafana(t.expr, v.prefix)), expected, t.panel);
        });
      }
    }
  });

  describe("alerts/grpc.recording.yml and the recorded series of grpc.slo.yml", () => {
    for (const v of variants) {
      it(`${v.name}: every recorded series holds the traffic`, async function () {
        this.timeout(30_000);
        const files = new Set(["grpc.recording.yml", "grpc.slo.yml"].map((f) => path.join(v.dir(), f)));
        const rules = groups
          .filter((g) => files.has(g.file))
          .flatMap((g) => g.rules)
          .filter((r) => r.type === "recording");
        expect(rules.length, "recording rules loaded").to.equal(7 + 10);
        // The stored scrapes: the factor of the evaluation depends on them.
        const [scrapes] = await prom!.matrix(`grpc_server_started_total{job="${job}",grpc_method="Ping"}[10m]`, evaluated);
        expect(scrapes.samples[0].value, "the first scrape is before the traffic").to.equal(0);
        expect(evaluated * 1000 - scrapes.samples[0].t, "every window reaches the first scrape").to.be.below(290_000);
        for (const rule of rules) {
          expect({ rule: rule.name, health: rule.health }).to.deep.equal({ rule: rule.name, health: "ok" });
          const plainName = rule.name.replace(`:${v.prefix}grpc_`, ":grpc_");
          const { ratio, window, values } = recordedExpectation(plainName, expo[v.set], { job, instance: host });
          const got = await prom!.query(`{__name__="${rule.name}"}`, evaluated);
          const stamps = new Set((await prom!.query(`timestamp({__name__="${rule.name}"})`, evaluated)).map((s) => s.value));
          expect(stamps.size, `${rule.name}: one evaluation`).to.equal(1);
          const t = Math.round([...stamps][0] * 1000);
          expect(t, `${rule.name} evaluated after the final scrape`).to.be.above(finalScrape);
          if (ratio) {
            expectVector(got, values, rule.name);
            continue;
          }
          // The newest scrapes at or before T: the evaluation saw one of them
          // last (a scrape is written a moment after its timestamp, so the
          // newest one or two may not have been there yet).
          const seen = scrapes.samples.filter((s) => s.t <= t);
          const candidates = [0, 1, 2].map((k) => seen.length - k).filter((n) => n >= 2).map((n) =>
            counterRateFactor(seen[0].t, seen[n - 1].t, n, t),
          );
          const failures: string[] = [];
          const matched = candidates.some((factor) => {
            try {
              expectVector(got, values.map((s) => ({ ...s, value: (s.value * factor) / window })), rule.name);
              return true;
            } catch (e) {
              failures.push(String(e));
              return false;
            }
          });
          if (!matched) expect.fail(`${rule.name} matches none of the newest scrapes:\n${failures.join("\n")}`);
        }
      });
    }
  });

  describe("alerts/grpc.rules.yml and grpc.slo.yml", () => {
    const ratio = serverFaults / allCalls;
    for (const v of variants) {
      const alerting = (file: string) => {
        const g = groups.filter((x) => x.file === path.join(v.dir(), file));
        return new Map(g.flatMap((x) => x.rules).map((r) => [r.name, r]));
      };

      it(`${v.name}: are loaded and evaluate without errors`, () => {
        const rules = alerting("grpc.rules.yml");
        const slo = alerting("grpc.slo.yml");
        expect([...rules.keys()].sort()).to.deep.equal([
          "GrpcClientErrorRatioHigh",
          "GrpcServerErrorRatioHigh",
          "GrpcServerLatencyP99High",
          "GrpcServerStoppedHandling",
        ]);
        expect([...slo.values()].filter((r) => r.type === "alerting").map((r) => r.name)).to.deep.equal([
          "GrpcServerErrorBudgetBurnFast",
          "GrpcServerErrorBudgetBurnSlow",
        ]);
        for (const r of [...rules.values(), ...slo.values()]) {
          expect({ rule: r.name, health: r.health, lastError: r.lastError ?? "" }).to.deep.equal({
            rule: r.name,
            health: "ok",
            lastError: "",
          });
        }
      });

      it(`${v.name}: the server and client error-ratio alerts are pending with the ratio`, () => {
        const rules = alerting("grpc.rules.yml");
        for (const [name, severity] of [
          ["GrpcServerErrorRatioHigh", "warning"],
          ["GrpcClientErrorRatioHigh", "warning"],
        ]) {
          const r = rules.get(name)!;
          expect(r.state, name).to.equal("pending");
          expect(r.alerts!.map((a) => [a.labels, a.state])).to.deep.equal([
            [{ alertname: name, job, grpc_service: service, severity, ...(v.set === "prefixed" ? { metric_set: "prefixed" } : {}) }, "pending"],
          ]);
          closeTo(Number(r.alerts![0].value), ratio, `${name} value`);
        }
        // The client's threshold is 5%: the traffic is just above it.
        expect(ratio).to.be.above(0.05);
      });

      it(`${v.name}: the latency and stopped-handling alerts stay quiet`, () => {
        const rules = alerting("grpc.rules.yml");
        for (const name of ["GrpcServerLatencyP99High", "GrpcServerStoppedHandling"]) {
          const r = rules.get(name)!;
          expect([name, r.state, r.alerts]).to.deep.equal([name, "inactive", []]);
        }
      });

      it(`${v.name}: the burn-rate alerts stay quiet only for the minimum traffic`, async () => {
        for (const r of alerting("grpc.slo.yml").values()) {
          if (r.type === "alerting") expect([r.name, r.state, r.alerts]).to.deep.equal([r.name, "inactive", []]);
        }
        // Every window's error ratio is above 14.4 times the budget, but
        // 55 calls are far below 0.1 a second over any long window.
        const value = async (metric: string) =>
          (await prom!.query(`job_grpc_service:${v.prefix}${metric}`, evaluated)).map((s) => s.value);
        for (const w of ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]) {
          const [r] = await value(`grpc_server_errors_per_handled:ratio_rate${w}`);
          expect(r, w).to.be.above(14.4 * 0.001);
        }
        for (const w of ["1h", "6h", "1d", "3d"]) {
          const [r] = await value(`grpc_server_handled:rate${w}`);
          expect(r, w).to.be.below(0.1);
        }
      });
    }
  });

  describe("docs/runbook.md", () => {
    const queries = docQueries("docs/runbook.md");
    const alerts = [
      "GrpcServerErrorRatioHigh",
      "GrpcServerLatencyP99High",
      "GrpcServerStoppedHandling",
      "GrpcClientErrorRatioHigh",
      "GrpcServerErrorBudgetBurnFast",
      "GrpcServerErrorBudgetBurnSlow",
    ];

    it("has a section with queries for every alert", () => {
      for (const a of alerts) expect(queries.filter((q) => q.title === a), a).to.not.be.empty;
    });
    for (const [i, q] of queries.entries()) {
      it(`${q.title}, query ${i + 1}: runs, and reads series that exist`, async () => {
        await prom!.query(q.expr, evaluated);
        const names = q.expr.match(/\b(?:\w+:)?grpc_(?:server|client)_\w+(?::\w+)?/g) ?? [];
        expect(names, "the query reads gRPC series").to.not.be.empty;
        for (const name of names) {
          const [count] = await prom!.query(`count({__name__="${name}"})`, evaluated);
          expect(count?.value, name).to.be.above(0);
        }
      });
    }
  });
});
