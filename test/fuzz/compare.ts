// Compares a registry with the oracle: call by call when every call has its
// own series (the `fuzz_call` label), else method by method, choosing among
// the calls' acceptable records the combination that matches, if one does.
import type { Registry, RegistryContentType } from "prom-client";
import { key, series } from "../support/harness.js";
import type { Entry } from "./ledger.js";
import type { EnvOptions } from "./plan.js";
import { expectations, type Alternative } from "./oracle.js";

/** Series maps `name{labels}` (labels sorted) to a sample value. */
export type Series = Record<string, number>;

/** parse splits `name{a="1",b="2"}` into its name and labels. */
export function parse(k: string): { name: string; labels: Record<string, string> } {
  const at = k.indexOf("{");
  if (at < 0) return { name: k, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of k.slice(at + 1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
  return { name: k.slice(0, at), labels };
}

/** The counters and histogram counts of a registry, keyed with sorted labels, zeros left out. */
export async function actualSeries(registry: Registry<RegistryContentType>): Promise<Series> {
  const out: Series = {};
  for (const [k, v] of Object.entries(await series(registry, "grpc_"))) {
    const { name, labels } = parse(k);
    if (v !== 0 && /_(total|count)$/.test(name)) out[key(name, labels)] = v;
  }
  return out;
}

/** The keys where two series differ, as `key: expected → actual`. */
export function diff(want: Series, got: Series): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if ((want[k] ?? 0) !== (got[k] ?? 0)) out.push(`${k}: expected ${want[k] ?? 0}, got ${got[k] ?? 0}`);
  }
  return out.sort();
}

const equal = (a: Series, b: Series) => diff(a, b).length === 0;

/** The acceptable record closest to what the registry holds, to report the fewest differences. */
export function closest(alts: readonly Alternative[], got: Series): Series {
  return alts.reduce((best, a) => (diff(a.series, got).length < diff(best, got).length ? a.series : best), alts[0].series);
}

function add(into: Series, s: Series, times = 1): void {
  for (const [k, v] of Object.entries(s)) into[k] = (into[k] ?? 0) + v * times;
}

/** A failing call: its entry, its first acceptable record and what the registry holds. */
export interface Failure {
  readonly entry: Entry;
  readonly expected: Series;
  readonly actual: Series;
}

/** Verdict is the outcome of comparing a registry with the oracle. */
export interface Verdict {
  /** Failing calls (per-call mode). */
  readonly failures: Failure[];
  /** Methods whose sums match no combination (aggregate mode). */
  readonly methods: string[];
  /** Series that belong to no call. */
  readonly stray: string[];
  readonly limitCounts: Record<string, number>;
  /** How many calls could have shown each limit. */
  readonly eligible: Record<string, number>;
}

function count(limits: Record<string, number>, name: string | undefined, n = 1): void {
  if (name !== undefined && n > 0) limits[name] = (limits[name] ?? 0) + n;
}

/** checkPerCall compares each call's own series (the `fuzz_call` label) with its acceptable records. */
export function checkPerCall(entries: readonly Entry[], actual: Series, o: EnvOptions): Verdict {
  const byCall = new Map<string, Series>();
  const stray: string[] = [];
  for (const [k, v] of Object.entries(actual)) {
    const id = parse(k).labels.fuzz_call;
    if (id === undefined) stray.push(k);
    else byCall.set(id, { ...byCall.get(id), [k]: v });
  }
  const failures: Failure[] = [];
  const limitCounts: Record<string, number> = {};
  const eligible: Record<string, number> = {};
  for (const e of entries) {
    const got = byCall.get(e.call.id) ?? {};
    byCall.delete(e.call.id);
    const alts = expectations(e, o);
    for (const a of alts) count(eligible, a.limit);
    const match = alts.find((a) => equal(a.series, got));
    if (match) count(limitCounts, match.limit);
    else failures.push({ entry: e, expected: closest(alts, got), actual: got });
  }
  for (const s of byCall.values()) stray.push(...Object.keys(s));
  return { failures, methods: [], stray, limitCounts, eligible };
}

/** Tries every way to give each flexible call one of its records; returns the limit counts of a match, or undefined. */
function solve(target: Series, classes: { alts: readonly Alternative[]; n: number }[], budget = { left: 200_000 }): Record<string, number> | undefined {
  const sum: Series = {};
  const chosen: number[][] = [];
  const over = () => Object.entries(sum).some(([k, v]) => v > (target[k] ?? 0));
  const go = (i: number): boolean => {
    if (--budget.left < 0) return false;
    if (i === classes.length) return equal(sum, target);
    const { alts, n } = classes[i];
    const split = (j: number, left: number, parts: number[]): boolean => {
      if (j === alts.length - 1) {
        const all = [...parts, left];
        for (let a = 0; a < alts.length; a++) add(sum, alts[a].series, all[a]);
        chosen[i] = all;
        const ok = !over() && go(i + 1);
        for (let a = 0; a < alts.length; a++) add(sum, alts[a].series, -all[a]);
        return ok;
      }
      for (let x = left; x >= 0; x--) if (split(j + 1, left - x, [...parts, x])) return true;
      return false;
    };
    return split(0, n, []);
  };
  if (!go(0)) return undefined;
  const limitCounts: Record<string, number> = {};
  classes.forEach((c, i) => c.alts.forEach((a, j) => count(limitCounts, a.limit, chosen[i][j])));
  return limitCounts;
}

/** checkAggregate compares, per method, the registry's sums with some combination of the calls' records. */
export function checkAggregate(entries: readonly Entry[], actual: Series, o: EnvOptions): Verdict {
  const methodOfKey = (k: string) => parse(k).labels.grpc_method ?? "";
  const target = new Map<string, Series>();
  for (const [k, v] of Object.entries(actual)) target.set(methodOfKey(k), { ...target.get(methodOfKey(k)), [k]: v });
  const groups = new Map<string, { fixed: Series; classes: Map<string, { alts: Alternative[]; n: number }> }>();
  for (const e of entries) {
    const alts = expectations(e, o);
    const m = methodOfKey(Object.keys(alts[0].series)[0] ?? "");
    if (m === "") continue;
    let g = groups.get(m);
    if (!g) groups.set(m, (g = { fixed: {}, classes: new Map() }));
    if (alts.length === 1) add(g.fixed, alts[0].series);
    else {
      const id = JSON.stringify(alts);
      const c = g.classes.get(id) ?? { alts, n: 0 };
      c.n++;
      g.classes.set(id, c);
    }
  }
  const methods: string[] = [];
  const limitCounts: Record<string, number> = {};
  const eligible: Record<string, number> = {};
  for (const g of groups.values()) for (const c of g.classes.values()) for (const a of c.alts) count(eligible, a.limit, c.n);
  for (const m of new Set([...groups.keys(), ...target.keys()])) {
    const g = groups.get(m) ?? { fixed: {}, classes: new Map() };
    const rest: Series = { ...target.get(m) };
    add(rest, g.fixed, -1);
    if (Object.values(rest).some((v) => v < 0)) {
      methods.push(m);
      continue;
    }
    const found = solve(rest, [...g.classes.values()]);
    if (found === undefined) methods.push(m);
    else for (const [k, v] of Object.entries(found)) count(limitCounts, k, v);
  }
  return { failures: [], methods, stray: [], limitCounts, eligible };
}
