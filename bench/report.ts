// The benchmark's output: one line per figure as soon as it is known, and a
// summary table at the end. Checks that fail (counts that do not add up) make
// the run fail; targets only say whether a figure meets the goal.

/** One reported figure. */
export interface Figure {
  /** The scenario number and name, e.g. "1 in-process". */
  readonly scenario: string;
  /** What is measured, e.g. "unary overhead, library". */
  readonly name: string;
  /** The value, formatted, e.g. "1.02 (0.98–1.05)". */
  readonly value: string;
  /** The target, if it sets one, e.g. "≤ 1.25". */
  readonly target?: string;
  /** Whether the median meets the target. */
  readonly met?: boolean;
}

/** Report prints figures and keeps them for the summary. */
export class Report {
  private readonly figures: Figure[] = [];
  private readonly failures: string[] = [];

  /** add prints a figure and keeps it. */
  add(figure: Figure): void {
    this.figures.push(figure);
    const target =
      figure.target === undefined
        ? ""
        : `   [target ${figure.target}: ${figure.met === true ? "met" : "NOT met"}]`;
    console.log(`[${figure.scenario}] ${figure.name}: ${figure.value}${target}`);
  }

  /** note prints a line that is not a figure, such as a setting. */
  note(scenario: string, text: string): void {
    console.log(`[${scenario}] ${text}`);
  }

  /** fail records a failed check: the run will exit non-zero. */
  fail(scenario: string, message: string): void {
    this.failures.push(`[${scenario}] ${message}`);
    console.log(`[${scenario}] FAIL: ${message}`);
  }

  /** ok is true while no check has failed. */
  get ok(): boolean {
    return this.failures.length === 0;
  }

  /** printSummary prints every figure as a Markdown table, then the checks. */
  printSummary(): void {
    const rows = this.figures.map((f) => [
      f.scenario,
      f.name,
      f.value,
      f.target === undefined ? "" : `${f.target} ${f.met === true ? "✓" : "✗"}`,
    ]);
    const head = ["scenario", "figure", "median (min–max)", "target"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    console.log("\nSummary\n");
    console.log(line(head));
    console.log(line(widths.map((w) => "-".repeat(w))));
    for (const r of rows) {
      console.log(line(r));
    }
    console.log(
      this.failures.length === 0
        ? "\nAll checks passed."
        : `\nFAIL: ${this.failures.length} check(s) failed:\n${this.failures.join("\n")}`,
    );
  }
}
