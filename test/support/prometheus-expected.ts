// What a real Prometheus must answer for a known exposition: the values of
// each dashboard panel and of each recorded series of alerts/, worked out
// from the samples that the test server exposed (as parseExposition reads
// them), and an exact comparison of instant vectors.
import { expect } from "chai";
import { expositionSamples, histogramQuantile, sampleKey, type ExpositionSample, type Sample } from "./prometheus.js";

/** The codes that point at the server: the error ratios count only these. */
export const serverSideCodes = ["Unknown", "DeadlineExceeded", "Unimplemented", "Internal", "Unavailable", "DataLoss"];

/** The exposition of one metric set: `name{labels}` → value, names without a prefix. */
export type Expo = Readonly<Record<string, number>>;

/** closeTo compares within float rounding (relative 1e-9); NaN equals NaN. */
export function closeTo(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) expect(actual, what).to.be.NaN;
  else expect(actual, what).to.be.closeTo(expected, Math.abs(expected) * 1e-9 + 1e-12);
}

const labelKey = (m: Readonly<Record<string, string>>) => sampleKey("", m, ["__name__"]);

/** expectVector: the result has exactly the expected label sets, each with its value. */
export function expectVector(result: readonly Sample[], expected: readonly Sample[], what: string): void {
  expect(result.map((s) => labelKey(s.metric)).sort(), `${what}: series`).to.deep.equal(
    expected.map((s) => labelKey(s.metric)).sort(),
  );
  const got = new Map(result.map((s) => [labelKey(s.metric), s.value]));
  for (const e of expected) closeTo(got.get(labelKey(e.metric))!, e.value, `${what}: ${labelKey(e.metric)}`);
}

type Labels = Readonly<Record<string, string>>;

const pick = (l: Labels, by: readonly string[]) => Object.fromEntries(by.map((k) => [k, l[k]]));

/** total adds up the samples' values. */
export const total = (list: readonly ExpositionSample[]) => list.reduce((a, s) => a + s.value, 0);

/** grouped: the samples of one metric, grouped by labels, each group reduced to one value. */
export function grouped(
  e: Expo,
  name: string,
  by: readonly string[],
  value: (group: ExpositionSample[]) => number,
  keep: (l: Labels) => boolean = () => true,
): Sample[] {
  const groups = new Map<string, ExpositionSample[]>();
  for (const s of expositionSamples(e, (x) => x.name === name && keep(x.labels))) {
    const k = labelKey(pick(s.labels, by));
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.values()].map((g) => ({ metric: pick(g[0].labels, by), value: value(g) }));
}

/** errorShare of a group of handled samples: server-side codes over all codes. */
export const errorShare = (g: readonly ExpositionSample[]) =>
  total(g.filter((s) => serverSideCodes.includes(s.labels.grpc_code))) / total(g);

/** buckets: the handling-time buckets of a group, summed by bound. */
export function buckets(g: readonly ExpositionSample[]): { le: number; count: number }[] {
  const sums = new Map<string, number>();
  for (const s of g) sums.set(s.labels.le, (sums.get(s.labels.le) ?? 0) + s.value);
  return [...sums].map(([le, count]) => ({ le: le === "+Inf" ? Infinity : Number(le), count }));
}

type Side = "server" | "client";
const byMethod = ["grpc_service", "grpc_method"];
/** The server's panels split by method; the client's by called service. */
const perSide = (side: Side) => (side === "server" ? byMethod : ["grpc_service"]);
const unary = (l: Labels) => l.grpc_type === "unary";
const streamTypes: Record<string, string[]> = {
  "server sent": ["server_stream", "bidi_stream"],
  "server received": ["client_stream", "bidi_stream"],
  "client sent": ["client_stream", "bidi_stream"],
  "client received": ["server_stream", "bidi_stream"],
};
const handledOf = (e: Expo, side: Side, l: Labels) =>
  total(expositionSamples(e, (s) => s.name === `grpc_${side}_handled_total` && s.labels.grpc_method === l.grpc_method));

/**
 * panelExpectations: what each kind of panel (its title after "Server: " or
 * "Client: ") must show, given the exposition, the side and the target's
 * legend. Rates are over the test's one-minute `$__rate_interval`.
 */
export const panelExpectations: Record<string, (e: Expo, side: Side, legend: string) => Sample[]> = {
  "request rate": (e, side) => grouped(e, `grpc_${side}_started_total`, perSide(side), (g) => total(g) / 60),
  "error ratio (%)": (e, side) => grouped(e, `grpc_${side}_handled_total`, perSide(side), (g) => 100 * errorShare(g)),
  availability: (e, side) => grouped(e, `grpc_${side}_handled_total`, ["grpc_service"], (g) => 1 - errorShare(g)),
  "errors by code": (e, side) =>
    grouped(
      e,
      `grpc_${side}_handled_total`,
      side === "server" ? ["grpc_code"] : ["grpc_service", "grpc_code"],
      (g) => total(g) / 60,
      (l) => l.grpc_code !== "OK",
    ),
  "latency p50, p90, p99": (e, side, legend) => {
    const q = Number(/ p(\d+)$/.exec(legend)![1]) / 100;
    const name = `grpc_${side}_handling_seconds_bucket`;
    return grouped(e, name, perSide(side), (g) => histogramQuantile(q, buckets(g)), unary);
  },
  "latency heatmap": (e, side) => grouped(e, `grpc_${side}_handling_seconds_bucket`, ["le"], (g) => total(g) / 60, unary),
  "in flight (started − handled)": (e, side) =>
    grouped(e, `grpc_${side}_started_total`, byMethod, (g) => total(g) - handledOf(e, side, g[0].labels)),
  "messages per stream": (e, side, legend) => {
    const dir = legend.endsWith(" sent") ? "sent" : "received";
    const types = streamTypes[`${side} ${dir}`];
    return grouped(
      e,
      `grpc_${side}_msg_${dir}_total`,
      byMethod,
      (g) => total(g) / handledOf(e, side, g[0].labels),
      (l) => types.includes(l.grpc_type),
    );
  },
};

/** What a recorded series holds: a ratio, or the counts to divide by its window. */
export interface RecordedExpectation {
  readonly ratio: boolean;
  /** The rate's window, in seconds. */
  readonly window: number;
  /** Ratios, or the counts over the window. */
  readonly values: Sample[];
}

const seconds: Record<string, number> = { m: 60, h: 3600, d: 86400 };
const levels: Record<string, string[]> = {
  instance_grpc_method_grpc_code: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
  instance_grpc_method_le: ["grpc_type", "grpc_service", "grpc_method", "le"],
  job_grpc_service: ["grpc_service"],
};

/**
 * recordedExpectation: what a series of alerts/grpc.recording.yml or
 * grpc.slo.yml (`name` without a metric prefix) must hold, given the
 * exposition; `scrape` gives the target's job and instance labels.
 */
export function recordedExpectation(
  name: string,
  e: Expo,
  scrape: { job: string; instance: string },
): RecordedExpectation {
  const m = /^(\w+):grpc_(server|client)_(handled|handling_seconds_bucket|errors_per_handled):(ratio_)?rate(\d+)([mhd])$/.exec(
    name,
  );
  expect(m, `${name} is a recorded rate or ratio this test knows`).to.not.equal(null);
  const [, level, side, metric, ratio, n, unit] = m!;
  expect(levels[level], `level ${level}`).to.not.equal(undefined);
  const source = metric === "handling_seconds_bucket" ? `grpc_${side}_handling_seconds_bucket` : `grpc_${side}_handled_total`;
  const target: Record<string, string> = level.startsWith("instance_") ? scrape : { job: scrape.job };
  const values = grouped(e, source, levels[level], ratio ? errorShare : total).map((s) => ({
    metric: { ...target, ...s.metric },
    value: s.value,
  }));
  return { ratio: Boolean(ratio), window: Number(n) * seconds[unit], values };
}
