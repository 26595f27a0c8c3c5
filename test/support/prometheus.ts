// A real Prometheus server (the Debian `prometheus` binary) and promtool for
// the end-to-end tests: a generated config that scrapes test servers every
// second, a temporary storage dir, a free port on 127.0.0.1, and helpers that
// read the HTTP API. Every process started here is stopped by `stop()`, and
// killed on exit if a test forgot.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";

export const prometheusBin = process.env.PROMETHEUS_BIN ?? "prometheus";
export const promtoolBin = process.env.PROMTOOL_BIN ?? "promtool";

/** The repository's root directory. */
export const repoRoot = path.resolve(import.meta.dirname, "../..");

/** One scrape job of the generated config. */
export interface ScrapeJob {
  readonly job: string;
  /** `host:port` of each target; each serves `/metrics`. */
  readonly targets: readonly string[];
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Absolute paths of rule files to load (evaluated every second). */
  readonly ruleFiles?: readonly string[];
}

/** One element of an instant vector (or a scalar, with no labels). */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One series of a range vector: its labels and its stored samples. */
export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** Timestamp (ms) and value of each sample, oldest first. */
  readonly samples: readonly { readonly t: number; readonly value: number }[];
}

/** A rule as `/api/v1/rules` reports it. */
export interface Rule {
  readonly type: "recording" | "alerting";
  readonly name: string;
  readonly query: string;
  readonly health: string;
  readonly lastError?: string;
  /** Alerting rules: inactive, pending or firing. */
  readonly state?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly alerts?: readonly {
    readonly labels: Readonly<Record<string, string>>;
    readonly state: string;
    readonly value: string;
  }[];
}

/** A rule group as `/api/v1/rules` reports it. */
export interface RuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly Rule[];
  /** When its last evaluation began (RFC 3339). */
  readonly lastEvaluation: string;
}

const running = new Set<ChildProcess>();
const killAll = () => {
  for (const child of running) child.kill("SIGKILL");
};
process.on("exit", killAll);
// A test run that is stopped does not run "exit" handlers: kill our
// processes, then stop as the signal would have.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/**
 * metricsFallback serves a registry's exposition at `/metrics`, as the
 * `fallback` of connectNodeAdapter: the scrape target of a test server.
 */
export function metricsFallback(
  registry: Registry,
): NonNullable<ConnectNodeAdapterOptions["fallback"]> {
  return (req, res) => {
    if (req.url !== "/metrics") {
      res.statusCode = 404;
      res.end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader("content-type", registry.contentType);
        res.end(text);
      },
      (e: unknown) => {
        res.statusCode = 500;
        res.end(String(e));
      },
    );
  };
}

/** hostOf gives the `host:port` of a URL: a scrape target. */
export function hostOf(url: string): string {
  return new URL(url).host;
}

/**
 * waitFor polls `check` until it returns a value other than undefined, at
 * most `ms` milliseconds, then fails with `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * startPrometheus starts a Prometheus server on 127.0.0.1 that scrapes the
 * jobs every second, and waits until it is ready. Prometheus applies new
 * targets only every 5 s, so the first scrape comes about 5 s after this.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<Prometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "connectrpc-prometheus-e2e-"));
  const configFile = path.join(dir, "prometheus.yml");
  await writeFile(configFile, config(opts));
  let failure: unknown;
  // A free port can be taken between our probe and Prometheus's bind: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const p = new Prometheus(dir, configFile, port);
    try {
      await p.ready();
      return p;
    } catch (e) {
      failure = e;
      await p.stop(false);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw failure;
}

function config(opts: PrometheusOptions): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
  ];
  if (opts.ruleFiles?.length) {
    lines.push("rule_files:", ...opts.ruleFiles.map((f) => `  - ${q(f)}`));
  }
  lines.push("scrape_configs:");
  for (const j of opts.jobs) {
    lines.push(
      `  - job_name: ${q(j.job)}`,
      "    static_configs:",
      `      - targets: [${j.targets.map(q).join(", ")}]`,
    );
  }
  return lines.join("\n") + "\n";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running Prometheus server and its HTTP API. */
export class Prometheus {
  readonly url: string;
  private readonly child: ChildProcess;
  private output = "";
  private exited: Promise<void>;
  private exitCode: number | null | undefined;

  constructor(
    private readonly dir: string,
    configFile: string,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      prometheusBin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    running.add(this.child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.exitCode = code;
        running.delete(this.child);
        resolve();
      });
      this.child.once("error", (e) => {
        this.output += `\nspawn failed: ${String(e)}`;
        this.exitCode = -1;
        running.delete(this.child);
        resolve();
      });
    });
  }

  /** What Prometheus printed (its last 20 kB), for failure messages. */
  log(): string {
    return this.output;
  }

  /** Waits until `/-/ready` answers 200. */
  async ready(): Promise<void> {
    await waitFor("prometheus to be ready", async () => {
      if (this.exitCode !== undefined) {
        throw new Error(`prometheus exited with ${String(this.exitCode)}:\n${this.output}`);
      }
      const res = await fetch(`${this.url}/-/ready`).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status === 200 ? true : undefined;
    });
  }

  /**
   * Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its
   * storage, unless `removeDir` is false.
   */
  async stop(removeDir = true): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (removeDir) {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** GET an API path; returns `data`, or throws Prometheus's error. */
  async api(pathAndQuery: string): Promise<unknown> {
    const res = await fetch(`${this.url}${pathAndQuery}`);
    const body = (await res.json()) as {
      status: string;
      data?: unknown;
      error?: string;
      errorType?: string;
    };
    if (body.status !== "success") {
      throw new Error(`prometheus ${pathAndQuery}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  }

  /**
   * query runs an instant query at `time` (seconds, millisecond precision;
   * default now). A scalar result comes back as one sample without labels.
   */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set("time", time.toFixed(3));
    const data = (await this.api(`/api/v1/query?${params}`)) as {
      resultType: string;
      result: unknown;
    };
    switch (data.resultType) {
      case "vector":
        return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(
          (r) => ({ metric: r.metric, value: parseValue(r.value[1]) }),
        );
      case "scalar":
        return [{ metric: {}, value: parseValue((data.result as [number, string])[1]) }];
      default:
        throw new Error(`query ${expr}: unexpected result type ${data.resultType}`);
    }
  }

  /**
   * matrix runs a query for a range vector (`metric[5m]`) at `time`
   * (seconds) and returns each series' raw samples.
   */
  async matrix(expr: string, time: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({ query: expr, time: time.toFixed(3) });
    const data = (await this.api(`/api/v1/query?${params}`)) as { resultType: string; result: unknown };
    if (data.resultType !== "matrix") {
      throw new Error(`query ${expr}: expected a matrix, got ${data.resultType}`);
    }
    return (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      metric: r.metric,
      samples: r.values.map(([t, v]) => ({ t: Math.round(t * 1000), value: parseValue(v) })),
    }));
  }

  /** The loaded rule groups, with each rule's health and alerts. */
  async ruleGroups(): Promise<RuleGroup[]> {
    return ((await this.api("/api/v1/rules")) as { groups: RuleGroup[] }).groups;
  }

  /** The values of a label on the series that match `match`. */
  async labelValues(label: string, match: string): Promise<string[]> {
    const params = new URLSearchParams({ "match[]": match });
    return (await this.api(`/api/v1/label/${encodeURIComponent(label)}/values?${params}`)) as string[];
  }

  /**
   * lastScrapes gives the timestamp (ms) of the newest stored scrape of each
   * target of `job`, by instance.
   */
  async lastScrapes(job: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const s of await this.query(`timestamp(up{job=${JSON.stringify(job)}})`)) {
      out.set(s.metric.instance, Math.round(s.value * 1000));
    }
    return out;
  }

  /**
   * waitForScrapes waits until each of the `targets` of `job` has a stored
   * scrape that began after `afterMs` (a Date.now() value), and returns the
   * newest such timestamp of each, in ms. A scrape's timestamp is when it
   * began (Prometheus only ever moves it earlier, by at most 2 ms, to align
   * it), so a sample stamped after `afterMs` was exposed after `afterMs`.
   */
  async waitForScrapes(
    job: string,
    targets: number,
    afterMs: number,
  ): Promise<Map<string, number>> {
    return waitFor(`${targets} scrape(s) of job ${job} after ${afterMs}`, async () => {
      const last = await this.lastScrapes(job);
      const fresh = [...last.values()].filter((t) => t > afterMs + 1);
      return last.size === targets && fresh.length === targets ? last : undefined;
    });
  }
}

function parseValue(s: string): number {
  switch (s) {
    case "+Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    default:
      return Number(s); // "NaN" → NaN
  }
}

/** The result of running promtool. */
export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** promtool runs promtool with `args`, feeding it `stdin`. */
export function promtool(args: readonly string[], stdin = ""): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolBin, args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", (e) => {
      running.delete(child);
      reject(e);
    });
    child.once("close", (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/**
 * counterRateFactor is how much Prometheus's rate() and increase() scale
 * the growth of a counter whose first sample in the window is 0, when
 * evaluated at `at` (ms) with the window reaching back before that first
 * sample (Prometheus 2.42 `extrapolatedRate`). The counter's zero point is
 * its first sample, so nothing is added before it; after the last sample
 * the window's end is added if it is within 110% of the average sample
 * interval, else half an interval. `first` and `last` are the timestamps
 * (ms) of the first and last sample in the window, `n` how many there are.
 * Evaluated at the last sample's own timestamp the factor is exactly 1.
 */
export function counterRateFactor(first: number, last: number, n: number, at: number): number {
  const sampled = (last - first) / 1000;
  const average = sampled / (n - 1);
  const toEnd = (at - last) / 1000;
  const end = toEnd < average * 1.1 ? toEnd : average / 2;
  return (sampled + end) / sampled;
}

/** One cumulative bucket of a histogram: upper bound and count. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * histogramQuantile is PromQL's histogram_quantile for one set of classic
 * buckets (Prometheus 2.42 `bucketQuantile`): linear interpolation inside
 * the bucket that holds the rank, the lower bound of the first bucket is 0,
 * and a rank in the +Inf bucket gives the highest finite bound.
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number {
  const buckets = [...input].sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets[buckets.length - 1].le !== Infinity) return NaN;
  // ensureMonotonic
  let max = -Infinity;
  const counts = buckets.map((b) => (max = Math.max(max, b.count)));
  const observations = counts[counts.length - 1];
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && counts[b] < rank) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  let start = 0;
  let count = counts[b];
  if (b > 0) {
    start = buckets[b - 1].le;
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  return start + (buckets[b].le - start) * (rank / count);
}

/**
 * parseExposition reads a text exposition into `name{labels}` → value, with
 * the labels sorted (as `key()` of the harness renders them), for the
 * samples whose name starts with `prefix`.
 */
export function parseExposition(text: string, prefix = "grpc_"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    out[sampleKey(m[1], labels)] = parseValue(m[3]);
  }
  return out;
}

/** One sample of a parsed exposition: name, labels and value. */
export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * expositionSamples turns the `name{labels}` keys of parseExposition back
 * into samples, keeping those that `keep` accepts.
 */
export function expositionSamples(
  exposition: Readonly<Record<string, number>>,
  keep: (s: ExpositionSample) => boolean = () => true,
): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const [k, value] of Object.entries(exposition)) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(k);
    if (!m) throw new Error(`not a sample key: ${k}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    const sample = { name: m[1], labels, value };
    if (keep(sample)) out.push(sample);
  }
  return out;
}

/**
 * sampleKey renders `name{labels}` with the labels sorted, leaving out the
 * labels in `drop` (by default the target labels that Prometheus adds).
 */
export function sampleKey(
  name: string,
  labels: Readonly<Record<string, string>>,
  drop: readonly string[] = ["job", "instance"],
): string {
  const parts = Object.keys(labels)
    .filter((k) => k !== "__name__" && !drop.includes(k))
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}
