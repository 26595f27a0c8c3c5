// End to end with a real Prometheus server: it scrapes a Connect server that
// records both ServerMetrics and ClientMetrics, we send known traffic, and
// then run the PromQL of docs/promql.md, every query of the Grafana dashboard
// and the alerting rules against it.
//
// Exactness. rate() and increase() extrapolate: over a window [t-w, t] they
// scale (last - first) by how far the first and last samples sit from the
// window's edges. Two things make that scale exactly 1 here:
//  - initialize() creates every series at zero, and a scrape before any
//    traffic stores those zeros. A counter whose first sample in the window
//    is 0 is never extrapolated backwards (Prometheus stops at the counter's
//    zero point, which is that sample).
//  - every query is evaluated at the timestamp of a scrape taken after all
//    traffic, so there is nothing to extrapolate forwards.
// So increase() over a window that reaches back to the zero scrape is the
// exact count, and rate() is that count over the window's seconds. What is
// left is float rounding in sums, hence the relative tolerance of 1e-9.
// Ratios (error percentage, stream size, slow share, quantiles) would be
// exact even with extrapolation: all series of one target share their sample
// timestamps, so numerator and denominator are scaled alike.
//
// Timing. Nothing waits for a fixed time. The test waits for Prometheus to
// store a scrape that began after the traffic ended, and for a rule
// evaluation after that. The slow calls sleep 300 ms, so they are never in
// the le="0.25" bucket; the fast ones are almost always under 250 ms but
// that is not asserted: the histogram results are checked exactly against
// the buckets that were scraped, and against the traffic only with bounds
// that hold however slow the machine is.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "chai";
import { Registry } from "prom-client";
import { PingService } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import {
  pingClient,
  protocols,
  quiesce,
  service,
  startServer,
  type TestServer,
} from "../support/harness.js";
import { routes } from "../support/ping-service.js";
import {
  histogramQuantile,
  hostOf,
  metricsFallback,
  parseExposition,
  repoRoot,
  sampleKey,
  startPrometheus,
  waitFor,
  type Bucket,
  type Prometheus,
  type Sample,
} from "../support/prometheus.js";

const job = "api";

/** The traffic, and what it must add up to on the server. */
const traffic = {
  fastPings: 12,
  slowPings: 4,
  slowSleepMs: 300,
  errorCodes: [Code.NotFound, Code.Internal, Code.Unavailable],
  listSizes: [2, 3, 7],
  clientStreamSizes: [3, 1],
  bidiSizes: [2, 3],
};
const unaryCalls = traffic.fastPings + traffic.slowPings + traffic.errorCodes.length;
const allCalls =
  unaryCalls +
  traffic.listSizes.length +
  traffic.clientStreamSizes.length +
  traffic.bidiSizes.length;
const listMessages = traffic.listSizes.reduce((a, b) => a + b, 0);
/** Unary calls that cannot be slow: the fast pings and the errors. */
const unaryNotSlept = traffic.fastPings + traffic.errorCodes.length;
/** Codes that the shipped error-ratio alert counts. */
const serverFaults = traffic.errorCodes.filter((c) =>
  [Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss].includes(c),
).length;

function closeTo(actual: number, expected: number, what: string): void {
  expect(actual, what).to.be.closeTo(expected, Math.abs(expected) * 1e-9 + 1e-12);
}

/** The single sample of a result, with its labels checked. */
function only(result: Sample[], labels: Record<string, string>, what: string): number {
  expect(result.map((s) => s.metric), what).to.deep.equal([labels]);
  return result[0].value;
}

/** The ```promql blocks of docs/promql.md, each under its `## ` heading. */
function docQueries(): { title: string; expr: string }[] {
  const md = readFileSync(path.join(repoRoot, "docs/promql.md"), "utf8");
  const out: { title: string; expr: string }[] = [];
  let title = "";
  for (const m of md.matchAll(/^## (.+)$|^```promql\n([\s\S]*?)^```$/gm)) {
    if (m[1] !== undefined) title = m[1].trim();
    else out.push({ title, expr: m[2].trim() });
  }
  return out;
}

interface Target {
  readonly panel: string;
  readonly legend: string;
  readonly expr: string;
}

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[];
  datasource?: { uid: string };
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: string | { query: string }; multi?: boolean; includeAll?: boolean }[];
  };
}

const dashboard = JSON.parse(
  readFileSync(path.join(repoRoot, "dashboards/grpc.json"), "utf8"),
) as Dashboard;

/** Every query target of the dashboard, rows' nested panels included. */
function dashboardTargets(panels: readonly Panel[]): Target[] {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).map((t) => ({ panel: p.title, legend: t.legendFormat ?? "", expr: t.expr })),
    ...dashboardTargets(p.panels ?? []),
  ]);
}

/**
 * grafana substitutes the dashboard's variables as Grafana does for a
 * multi-value variable with one value selected: regex characters escaped
 * (a backslash, doubled inside the PromQL string) and `$__rate_interval` set.
 */
function grafana(expr: string): string {
  const regex = (v: string) => v.replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$grpc_service", regex(service))
    .replaceAll("$job", regex(job));
}

describe("a real Prometheus", function () {
  let registry: Registry;
  let server: TestServer | undefined;
  let prom: Prometheus | undefined;
  /** Timestamps (ms) of a scrape before the traffic and of one after it. */
  let zeroScrape = 0;
  let finalScrape = 0;
  /** When the final scrape was visible in the API (ms). */
  let finalVisible = 0;
  /** The exposition after the traffic, as scraped. */
  let exposition: Record<string, number> = {};

  before(async function () {
    this.timeout(90_000);
    registry = new Registry();
    const serverMetrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
    const clientMetrics = new ClientMetrics({ registry, handlingTimeHistogram: true });
    serverMetrics.initialize(PingService);
    clientMetrics.initialize(PingService);
    server = await startServer([serverMetrics.interceptor], routes, {
      fallback: metricsFallback(registry),
    });
    prom = await startPrometheus({
      jobs: [{ job, targets: [hostOf(server.h1Url)] }],
      ruleFiles: [path.join(repoRoot, "alerts/grpc.rules.yml")],
    });
    // A stored scrape, taken before any call: every series at zero.
    zeroScrape = [...(await prom.waitForScrapes(job, 1, 0)).values()][0];

    const client = pingClient(server, protocols[0], [clientMetrics.interceptor]);
    const stream = async function* (n: number) {
      for (let i = 0; i < n; i++) yield { value: `m${i}` };
    };
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
    await quiesce(registry);
    const trafficEnd = Date.now();
    finalScrape = [...(await prom.waitForScrapes(job, 1, trafficEnd)).values()][0];
    finalVisible = Date.now();
    exposition = parseExposition(await registry.metrics());
  });

  after(async function () {
    this.timeout(30_000);
    await prom?.stop();
    await server?.close();
  });

  /** Runs a query at the final scrape. */
  const at = (expr: string) => prom!.query(expr, finalScrape / 1000);

  /** Unary handling-time buckets of one side, summed over methods. */
  const unaryBuckets = (side: "server" | "client"): Bucket[] => {
    const sums = new Map<string, number>();
    const re = new RegExp(`^grpc_${side}_handling_seconds_bucket\\{.*grpc_type="unary",le="([^"]+)"\\}$`);
    for (const [k, v] of Object.entries(exposition)) {
      const m = re.exec(k);
      if (m) sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
    }
    return [...sums].map(([le, count]) => ({ le: le === "+Inf" ? Infinity : Number(le), count }));
  };

  it("stored zeros before the traffic and exactly the exposition after it", async () => {
    const before = await prom!.query(`sum(grpc_server_started_total{job="${job}"})`, zeroScrape / 1000);
    expect(only(before, {}, "calls before the traffic")).to.equal(0);
    const stored: Record<string, number> = {};
    for (const s of await at(`{job="${job}",__name__=~"grpc_.+"}`)) {
      stored[sampleKey(s.metric.__name__, s.metric)] = s.value;
    }
    expect(stored).to.deep.equal(exposition);
    expect(exposition[`grpc_server_started_total{grpc_method="Ping",grpc_service="${service}",grpc_type="unary"}`]).to.equal(
      traffic.fastPings + traffic.slowPings,
    );
    // The one-minute windows below reach back to the zero scrape.
    expect(finalScrape - zeroScrape, "traffic and scrapes took under a minute").to.be.below(60_000);
  });

  describe("docs/promql.md", () => {
    const svc = { grpc_service: service };
    const bucketCount = (le: number) => unaryBuckets("server").find((b) => b.le === le)!.count;

    const checks: Record<string, (r: Sample[]) => void> = {
      "Request rate by service": (r) => closeTo(only(r, svc, "rate"), allCalls / 60, "calls per second"),
      "Unary error rate": (r) =>
        closeTo(only(r, svc, "rate"), traffic.errorCodes.length / 60, "errors per second"),
      "Unary error percentage": (r) =>
        closeTo(only(r, svc, "percentage"), (traffic.errorCodes.length / unaryCalls) * 100, "error %"),
      "Average response stream size": (r) =>
        closeTo(only(r, svc, "size"), listMessages / traffic.listSizes.length, "messages per stream"),
      "99th percentile latency of unary calls": (r) => {
        const p99 = only(r, svc, "p99");
        expect(bucketCount(Infinity), "unary calls observed").to.equal(unaryCalls);
        closeTo(p99, histogramQuantile(0.99, unaryBuckets("server")), "p99 of the scraped buckets");
        // At most `unaryNotSlept` calls are at or under 250 ms, fewer than
        // 99% of them: the 99th percentile lies above.
        expect(0.99 * unaryCalls).to.be.above(unaryNotSlept);
        expect(p99).to.be.above(0.25);
      },
      "Share of slow unary calls (over 250 ms)": (r) => {
        const share = only(r, svc, "share");
        const fast = bucketCount(0.25);
        expect(fast, "calls at or under 250 ms").to.be.at.most(unaryNotSlept);
        closeTo(share, 100 - (fast / unaryCalls) * 100, "slow % of the scraped buckets");
        expect(share).to.be.at.least((traffic.slowPings / unaryCalls) * 100 - 1e-9);
      },
      "Calls in flight": (r) => expect(only(r, svc, "in flight")).to.equal(0),
    };

    const queries = docQueries();
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

    it("has every panel for the server and the client, and the variables", () => {
      expect(dashboard.uid).to.be.a("string").and.not.empty;
      const titles = dashboard.panels.map((p) => p.title);
      for (const side of ["Server", "Client"]) {
        expect(titles).to.include.members([
          side,
          `${side}: request rate`,
          `${side}: error rate by code`,
          `${side}: unary latency p50, p90, p99`,
          `${side}: messages per stream`,
          `${side}: in flight (started − handled)`,
        ]);
      }
      const latency = targets.filter((t) => t.panel.endsWith("latency p50, p90, p99"));
      expect(latency.map((t) => t.legend)).to.deep.equal(["p50", "p90", "p99", "p50", "p90", "p99"]);
      const names = dashboard.templating.list.map((v) => v.name);
      expect(names).to.include.members(["datasource", "job", "grpc_service"]);
      for (const t of dashboard.panels.flatMap((p) => p.targets ?? [])) {
        expect(t.datasource?.uid, "targets use the datasource variable").to.equal("${datasource}");
      }
      for (const t of targets) {
        expect(t.expr, `${t.panel} selects $job and $grpc_service`).to.include('job=~"$job"').and.include(
          'grpc_service=~"$grpc_service"',
        );
      }
    });

    it("has variables whose queries find the job and the service", async () => {
      for (const v of dashboard.templating.list.filter((x) => x.type === "query")) {
        const query = typeof v.query === "string" ? v.query : v.query.query;
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
        expect(m, `${v.name} is label_values(selector, label)`).to.not.equal(null);
        const values = await prom!.labelValues(m![2], grafana(m![1]));
        expect(values, v.name).to.include(v.name === "job" ? job : service);
      }
    });

    // What each panel must show for the traffic: the client made exactly
    // the calls the server handled, so both sides agree.
    const byCode = Object.fromEntries(
      Object.keys(Code)
        .filter((c) => Number.isNaN(Number(c)))
        .map((c) => [c, traffic.errorCodes.includes(Code[c as keyof typeof Code]) ? 1 / 60 : 0]),
    );
    const perStream = (sizes: Record<string, number[]>) =>
      Object.fromEntries(
        Object.entries(sizes).map(([m, s]) => [m, s.reduce((x, y) => x + y, 0) / s.length]),
      );
    // Messages each side sends and receives on the streaming methods.
    const responses = { PingList: traffic.listSizes, PingStream: traffic.bidiSizes };
    const requests = { PingClientStream: traffic.clientStreamSizes, PingStream: traffic.bidiSizes };
    const panelChecks: Record<string, (r: Sample[], t: Target, side: "server" | "client") => void> = {
      "request rate": (r) =>
        closeTo(r.reduce((a, s) => a + s.value, 0), allCalls / 60, "calls per second, all methods"),
      "error rate by code": (r) => {
        const got = Object.fromEntries(r.map((s) => [s.metric.grpc_code, s.value]));
        expect(Object.keys(got).sort()).to.deep.equal(Object.keys(byCode).sort());
        for (const [code, v] of Object.entries(byCode)) closeTo(got[code], v, code);
      },
      "unary latency p50, p90, p99": (r, t, side) => {
        const q = Number(t.legend.slice(1)) / 100;
        closeTo(only(r, {}, t.legend), histogramQuantile(q, unaryBuckets(side)), t.legend);
      },
      "messages per stream": (r, t, side) => {
        const sent = t.legend.endsWith(" sent");
        const sizes = perStream(sent === (side === "server") ? responses : requests);
        const got = Object.fromEntries(r.map((s) => [s.metric.grpc_method, s.value]));
        expect(Object.keys(got).sort()).to.deep.equal(Object.keys(sizes).sort());
        for (const [m, v] of Object.entries(sizes)) closeTo(got[m], v, m);
      },
      "in flight (started − handled)": (r) => {
        expect(r).to.have.length(6);
        expect(r.map((s) => s.value)).to.deep.equal(r.map(() => 0));
      },
    };

    for (const t of targets) {
      it(`${t.panel}: ${t.legend}`, async () => {
        const [side, kind] = t.panel.split(": ");
        const check = panelChecks[kind];
        expect(check, `a check for "${kind}"`).to.be.a("function");
        check(await at(grafana(t.expr)), t, side === "Server" ? "server" : "client");
      });
    }
  });

  describe("alerts/grpc.rules.yml", () => {
    interface Rule {
      name: string;
      state: string;
      health: string;
      lastError?: string;
      alerts: { labels: Record<string, string>; state: string; value: string }[];
    }
    interface Group {
      name: string;
      rules: Rule[];
      lastEvaluation: string;
    }

    let rules: Map<string, Rule>;
    before(async function () {
      this.timeout(30_000);
      // An evaluation that began more than one interval after the final
      // scrape was visible: its timestamp is after the scrape, and it saw it.
      const group = await waitFor("a rule evaluation after the traffic", async () => {
        const data = (await prom!.api("/api/v1/rules")) as { groups: Group[] };
        const g = data.groups.find((x) => x.name === "grpc-server");
        return g && Date.parse(g.lastEvaluation) > finalVisible + 1100 ? g : undefined;
      });
      rules = new Map(group.rules.map((r) => [r.name, r]));
    });

    it("are loaded and evaluate without errors", () => {
      expect([...rules.keys()]).to.deep.equal([
        "GrpcServerErrorRatioHigh",
        "GrpcServerLatencyP99High",
        "GrpcServerStoppedHandling",
      ]);
      for (const r of rules.values()) {
        expect({ rule: r.name, health: r.health, lastError: r.lastError ?? "" }).to.deep.equal({
          rule: r.name,
          health: "ok",
          lastError: "",
        });
      }
    });

    it("GrpcServerErrorRatioHigh is pending with the ratio of server-side errors", () => {
      const r = rules.get("GrpcServerErrorRatioHigh")!;
      expect(r.state).to.equal("pending");
      expect(r.alerts.map((a) => [a.labels.job, a.labels.grpc_service, a.state])).to.deep.equal([
        [job, service, "pending"],
      ]);
      closeTo(Number(r.alerts[0].value), serverFaults / allCalls, "alert value");
    });

    it("GrpcServerStoppedHandling stays quiet while calls finish", () => {
      const r = rules.get("GrpcServerStoppedHandling")!;
      expect([r.state, r.alerts]).to.deep.equal(["inactive", []]);
    });
  });
});
