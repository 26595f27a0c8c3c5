// A parser of the Prometheus text exposition format (0.0.4), as Go's
// client_golang and prom-client print it, for comparing two expositions
// family by family and series by series.

/** Sample is one sample line: its name, labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Family is one metric family: its HELP and TYPE lines and its samples. */
export interface Family {
  readonly name: string;
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

const suffixes: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count", ""],
};

/**
 * parseExposition reads a text exposition into its families, by name. HELP
 * texts and label values are unescaped. A sample must belong to the family
 * whose HELP or TYPE line came last (its name, or for a histogram its
 * `_bucket`, `_sum` or `_count`); anything else throws, as does a line that
 * is not a comment, a sample or blank.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta) {
      current = family(meta[2]);
      if (meta[1] === "HELP") current.help = meta[3].replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
      else current.type = meta[3];
      continue;
    }
    if (line.startsWith("#")) continue;
    const s = parseSample(line);
    const allowed = (suffixes[current?.type ?? ""] ?? [""]).map((x) => `${current?.name}${x}`);
    if (!current || !allowed.includes(s.name)) {
      throw new Error(`exposition: sample ${s.name} outside its family (after ${current?.name ?? "nothing"}): ${line}`);
    }
    current.samples.push(s);
  }
  return families;
}

/** parseSample reads `name{label="value",…} value [timestamp]`. */
export function parseSample(line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) throw new Error(`exposition: not a sample: ${line}`);
  const name = m[1];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      if (line[i] === "}") break;
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!l) throw new Error(`exposition: bad label at ${i}: ${line}`);
      i += l[0].length;
      let v = "";
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === "\\") {
          i++;
          v += line[i] === "n" ? "\n" : line[i];
        } else v += line[i];
      }
      if (i >= line.length) throw new Error(`exposition: unterminated label value: ${line}`);
      if (l[1] in labels) throw new Error(`exposition: label ${l[1]} twice: ${line}`);
      labels[l[1]] = v;
      i++;
      if (line[i] === ",") i++;
    }
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === "") throw new Error(`exposition: bad value: ${line}`);
  const value = rest[0] === "+Inf" ? Infinity : rest[0] === "-Inf" ? -Infinity : Number(rest[0]);
  if (Number.isNaN(value) && rest[0] !== "NaN") throw new Error(`exposition: bad value: ${line}`);
  return { name, labels, value };
}

/** labelKey renders a label set with its names sorted: `{a="1",b="2"}`. */
export function labelKey(labels: Readonly<Record<string, string>>, without: readonly string[] = []): string {
  return `{${Object.keys(labels)
    .filter((k) => !without.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`;
}

/** HistogramSeries is what go-reference.spec.ts compares of one series of a histogram. */
export interface HistogramSeries {
  readonly count: number;
  /** The `le` values of its buckets, as printed, in order. */
  readonly le: readonly string[];
  /** The `+Inf` bucket, which must equal `count`. */
  readonly inf: number;
}

/** ComparableFamily is what go-reference.spec.ts compares of one family. */
export interface ComparableFamily {
  readonly help: string | undefined;
  readonly type: string | undefined;
  /** By label set (names sorted, `le` left out): a counter's value, or a histogram's count and buckets. */
  readonly series: Record<string, number | HistogramSeries>;
}

/**
 * comparable keeps, of the families whose name starts with `prefix`, what two
 * servers that saw the same calls must agree on: HELP, TYPE, every series'
 * label names and values, counter values, and for histograms each series'
 * `_count`, `+Inf` bucket and `le` values. Left out: the order of labels
 * within a line and of lines, bucket counts below `+Inf` and `_sum` (they
 * are timings), and timestamps.
 */
export function comparable(families: Map<string, Family>, prefix: string): Record<string, ComparableFamily> {
  const out: Record<string, ComparableFamily> = {};
  for (const f of [...families.values()].filter((f) => f.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const series: Record<string, number | HistogramSeries> = {};
    if (f.type === "histogram") {
      const hs: Record<string, { count: number; le: string[]; inf: number }> = {};
      const of = (s: Sample) => (hs[labelKey(s.labels, ["le"])] ??= { count: NaN, le: [], inf: NaN });
      for (const s of f.samples) {
        if (s.name.endsWith("_bucket")) {
          of(s).le.push(s.labels.le);
          if (s.labels.le === "+Inf") of(s).inf = s.value;
        } else if (s.name.endsWith("_count")) of(s).count = s.value;
        else of(s); // _sum: the series exists; its value is a timing.
      }
      Object.assign(series, hs);
    } else {
      for (const s of f.samples) {
        const k = labelKey(s.labels);
        if (k in series) throw new Error(`exposition: ${f.name}${k} twice`);
        series[k] = s.value;
      }
    }
    out[f.name] = { help: f.help, type: f.type, series };
  }
  return out;
}
