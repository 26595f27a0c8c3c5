/**
 * formatBound prints a histogram bucket bound as the anchor's Prometheus
 * client library prints it in `le`:
 *
 * - "go": client_golang's `strconv.FormatFloat(f, 'g', -1, 64)`: the
 *   shortest digits, with an exponent below 1e-4 and from 1e6 on:
 *   `0.005`, `1`, `10`, `1e-05`, `1e+06`, `1.048576e+06`.
 * - "python": prometheus_client's `floatToGoString`: Python's `repr`, with
 *   Go's exponent from seven integer digits on: `0.005`, `1.0`, `10.0`,
 *   `262144.0`, `1.048576e+06`, `1e+10`.
 * - "java": simpleclient's `doubleToGoString`, Java's `Double.toString`: a
 *   decimal point always, and an exponent below 1e-3 and from 1e7 on:
 *   `0.005`, `1.0`, `1048576.0`, `1.0E-4`, `4.294967296E9`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function formatBound(n: number, format: "go" | "python" | "java"): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isNaN(n)) return "NaN";
  // Go prints -0 as 0 (expfmt's `f == 0`).
  const sign = n < 0 || (Object.is(n, -0) && format !== "go") ? "-" : "";
  const { digits, exp } = shortest(Math.abs(n));
  switch (format) {
    case "go":
      return sign + goFormat(digits, exp);
    case "python":
      return sign + pythonFormat(digits, exp, n > 0);
    case "java":
      return sign + javaFormat(digits, exp);
  }
}

/**
 * The shortest decimal digits that read back as `n` (n ≥ 0), and the exponent
 * of the first digit: 1048576 → "1048576", 6. Every one of the three
 * libraries starts from these digits.
 */
function shortest(n: number): { digits: string; exp: number } {
  if (n === 0) return { digits: "0", exp: 0 };
  const [mantissa, e] = n.toExponential().split("e");
  return { digits: mantissa.replace(".", ""), exp: Number(e) };
}

/** The digits as a plain decimal number, with at least `minFraction` fraction digits. */
function fixed(digits: string, exp: number, minFraction: number): string {
  let int: string;
  let frac: string;
  if (exp < 0) {
    int = "0";
    frac = "0".repeat(-exp - 1) + digits;
  } else if (digits.length > exp + 1) {
    int = digits.slice(0, exp + 1);
    frac = digits.slice(exp + 1);
  } else {
    int = digits + "0".repeat(exp + 1 - digits.length);
    frac = "";
  }
  frac = frac.padEnd(minFraction, "0");
  return frac === "" ? int : `${int}.${frac}`;
}

/** `d.ddd` with at least `minFraction` fraction digits. */
function mantissa(digits: string, minFraction: number): string {
  const frac = digits.slice(1).padEnd(minFraction, "0");
  return frac === "" ? digits[0] : `${digits[0]}.${frac}`;
}

function goFormat(digits: string, exp: number): string {
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${mantissa(digits, 0)}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  return fixed(digits, exp, 0);
}

function pythonFormat(digits: string, exp: number, positive: boolean): string {
  // repr(): scientific below 1e-4 and from 1e16 on, else at least one
  // fraction digit.
  if (exp < -4 || exp >= 16) {
    const e = Math.abs(exp);
    return `${mantissa(digits, 0)}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  const repr = fixed(digits, exp, 1);
  const dot = repr.indexOf(".");
  // floatToGoString: "Go switches to exponents sooner than Python."
  if (positive && dot > 6) {
    const m = `${repr[0]}.${repr.slice(1, dot)}${repr.slice(dot + 1)}`.replace(/[0.]+$/, "");
    return `${m}e+${String(dot - 1).padStart(2, "0")}`;
  }
  return repr;
}

function javaFormat(digits: string, exp: number): string {
  if (exp < -3 || exp >= 7) {
    return `${mantissa(digits, 1)}E${exp}`;
  }
  return fixed(digits, exp, 1);
}
