import type { MetricDef } from "./constants.js";
import type { HistogramData } from "./histogram-data.js";
import { histogramSamples, MetricFamily, type BucketLayout, type Sample } from "./metric-family.js";
import { formatBound } from "./number-format.js";
import type { ReporterConfig } from "./resolve-options.js";
import { zeroedReceived, zeroedSent, zeroedStarted, type Labels, type Series } from "./series.js";

/**
 * familiesOf creates the metric families of one side, in the order the
 * registry prints them: the four counters, then each histogram that is on.
 * Each reads the side's series when the registry is read.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function familiesOf(config: ReporterConfig, all: readonly Series[]): MetricFamily[] {
  const { defs, flavor } = config;
  const counter = (def: MetricDef, value: (s: Series) => number, bit: number, clear: (s: Series) => void) =>
    new MetricFamily(
      def,
      "counter",
      () => {
        const out: Sample[] = [];
        for (const s of all) {
          const v = value(s);
          if (v > 0 || (s.zeroed & bit) !== 0) out.push({ value: v, labels: s.labels.base });
        }
        return out;
      },
      () => all.forEach(clear),
    );
  const histogram = (
    def: MetricDef | undefined,
    buckets: readonly number[] | undefined,
    data: (s: Series) => (readonly [Labels, HistogramData])[],
  ) => {
    if (def === undefined || buckets === undefined) return [];
    const le = [...buckets.map((b) => leValue(b, flavor.numberFormat)), "+Inf"];
    const layout: BucketLayout = {
      le,
      leLabels: le.map((value) => Object.freeze({ le: value as string })),
      position: flavor.le,
      countFirst: flavor.countFirst,
    };
    return [
      new MetricFamily(
        def,
        "histogram",
        (name, forJson) => {
          const series: (readonly [Labels, HistogramData])[] = [];
          for (const s of all) {
            for (const entry of data(s)) if (entry[1].exists) series.push(entry);
          }
          return histogramSamples(name, layout, series, forJson);
        },
        () => all.forEach((s) => data(s).forEach(([, h]) => h.reset())),
      ),
    ];
  };
  const one = (h: HistogramData | undefined, labels: Labels) => (h ? [[labels, h] as const] : []);
  return [
    counter(defs.started, (s) => s.started, zeroedStarted, (s) => {
      s.started = 0;
      s.zeroed &= ~zeroedStarted;
    }),
    new MetricFamily(
      defs.handled,
      "counter",
      () => {
        const out: Sample[] = [];
        for (const s of all) {
          for (const code of s.handledOrder) {
            const exemplar = s.handledExemplars?.[code];
            const sample: Sample = { value: s.handled[code], labels: s.labels.handled(code) };
            if (exemplar !== undefined) sample.exemplar = exemplar;
            out.push(sample);
          }
        }
        return out;
      },
      () => all.forEach((s) => s.resetHandled()),
    ),
    counter(defs.msgReceived, (s) => s.received, zeroedReceived, (s) => {
      s.received = 0;
      s.zeroed &= ~zeroedReceived;
    }),
    counter(defs.msgSent, (s) => s.sent, zeroedSent, (s) => {
      s.sent = 0;
      s.zeroed &= ~zeroedSent;
    }),
    ...histogram(defs.handlingSeconds, config.handlingBuckets, (s) =>
      s.handlingByCode === undefined
        ? one(s.handling, s.labels.base)
        : s.handlingOrder.map((code) => [s.labels.handlingByCode(code), s.handlingByCode![code]!] as const),
    ),
    ...histogram(defs.msgRecvSeconds, config.recvBuckets, (s) => one(s.recv, s.labels.base)),
    ...histogram(defs.msgSendSeconds, config.sendBuckets, (s) => one(s.send, s.labels.base)),
    ...histogram(defs.msgReceivedBytes, config.sizeBuckets, (s) => one(s.sizeReceived, s.labels.base)),
    ...histogram(defs.msgSentBytes, config.sizeBuckets, (s) => one(s.sizeSent, s.labels.base)),
  ];
}

/**
 * The `le` of a bound: the number itself where JavaScript prints it as the
 * flavor does (prom-client's own histograms give numbers), else the string.
 */
function leValue(bound: number, format: "go" | "python" | "java"): number | string {
  const text = formatBound(bound, format);
  return text === String(bound) ? bound : text;
}
