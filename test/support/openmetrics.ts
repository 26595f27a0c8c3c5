// Reads the samples of an OpenMetrics exposition with their exemplars, so
// that tests can compare exemplar labels, values and timestamps exactly.

/** One sample line: name, labels, value, and the exemplar if it has one. */
export interface OpenMetricsSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly exemplar?: { labels: Record<string, string>; value: number; timestamp: number };
}

const linePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*?)\})? (\S+)(?: # \{(.*)\} (\S+)(?: (\S+))?)?$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? "").matchAll(labelPattern)) out[m[1]] = m[2];
  return out;
}

/** openMetricsSamples parses every sample line; it throws on a line it cannot read. */
export function openMetricsSamples(text: string): OpenMetricsSample[] {
  const out: OpenMetricsSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = linePattern.exec(line);
    if (m === null) throw new Error(`not an OpenMetrics sample line: ${line}`);
    const sample: OpenMetricsSample = { name: m[1], labels: labelsOf(m[2]), value: Number(m[3]) };
    out.push(
      m[4] === undefined
        ? sample
        : { ...sample, exemplar: { labels: labelsOf(m[4]), value: Number(m[5]), timestamp: Number(m[6]) } },
    );
  }
  return out;
}

/** The one sample with this name and exactly these labels (in any order); throws if there is none. */
export function sampleOf(
  samples: readonly OpenMetricsSample[],
  name: string,
  labels: Record<string, string>,
): OpenMetricsSample {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`);
  return found[0];
}
