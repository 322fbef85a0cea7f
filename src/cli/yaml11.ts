// How kubectl reads a plain (unquoted) YAML scalar. kubectl converts YAML with sigs.k8s.io/yaml,
// which uses go-yaml v2 and its YAML 1.1 rules (resolve.go); `ramp lint` parses YAML 1.2 (core
// schema). Where the two differ (`010`, `on`, `y`, `1_000`, `0b1`, `-0x10`), the file means one
// thing to lint and another to the cluster.

export type Reading =
  | { type: "bool"; value: boolean }
  | { type: "null" }
  | { type: "number"; value: number }
  | { type: "string" };

const BOOLS: Record<string, boolean> = {};
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]) BOOLS[s] = true;
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]) BOOLS[s] = false;
const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const SPECIAL_FLOATS: Record<string, number> = {};
for (const s of [".nan", ".NaN", ".NAN"]) SPECIAL_FLOATS[s] = Number.NaN;
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) SPECIAL_FLOATS[s] = Number.POSITIVE_INFINITY;
for (const s of ["-.inf", "-.Inf", "-.INF"]) SPECIAL_FLOATS[s] = Number.NEGATIVE_INFINITY;

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const DIGITS: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ };

/** Go's strconv.ParseInt/ParseUint(s, 0, 64) after go-yaml removed underscores: a sign, then
 * 0x/0o/0b or a leading 0 (octal), else decimal; undefined outside int64/uint64. */
function goInt(s: string): bigint | undefined {
  const negative = s.startsWith("-");
  let body = s.startsWith("-") || s.startsWith("+") ? s.slice(1) : s;
  let base = 10;
  const prefix = body.slice(0, 2).toLowerCase();
  if (prefix === "0x" || prefix === "0o" || prefix === "0b") {
    base = prefix === "0x" ? 16 : prefix === "0o" ? 8 : 2;
    body = body.slice(2);
  } else if (body.length > 1 && body.startsWith("0")) {
    base = 8;
    body = body.slice(1);
  }
  if (!DIGITS[base]?.test(body)) return undefined;
  const magnitude = base === 10 ? BigInt(body) : BigInt(`0${"xob"[[16, 8, 2].indexOf(base)]}${body}`);
  const value = negative ? -magnitude : magnitude;
  return value < INT64_MIN || value > UINT64_MAX || (negative && value > 0n) ? undefined : value;
}

/** What go-yaml v2 makes of a plain scalar (timestamps stay strings when decoded into JSON). */
export function kubectlReading(plain: string): Reading {
  if (plain in BOOLS) return { type: "bool", value: BOOLS[plain] as boolean };
  if (NULLS.has(plain)) return { type: "null" };
  if (plain in SPECIAL_FLOATS) return { type: "number", value: SPECIAL_FLOATS[plain] as number };
  const first = plain[0] ?? "";
  if (first === ".") return YAML_STYLE_FLOAT.test(plain) ? { type: "number", value: Number(plain) } : { type: "string" };
  if (!/[-+0-9]/.test(first)) return { type: "string" };
  if (/^[0-9]{4}-/.test(plain)) return { type: "string" }; // a timestamp-looking value decodes as a string
  const noUnderscores = plain.replaceAll("_", "");
  const int = goInt(noUnderscores);
  if (int !== undefined) return { type: "number", value: Number(int) };
  if (YAML_STYLE_FLOAT.test(noUnderscores)) return { type: "number", value: Number(noUnderscores) };
  return { type: "string" };
}

/** The reading of a value `yaml` (YAML 1.2) produced from a plain scalar. */
export function readingOf(value: unknown): Reading {
  if (typeof value === "boolean") return { type: "bool", value };
  if (value === null || value === undefined) return { type: "null" };
  if (typeof value === "number") return { type: "number", value };
  return { type: "string" };
}

export const sameReading = (a: Reading, b: Reading): boolean =>
  a.type === b.type &&
  (a.type !== "number" || Object.is((a as { value: number }).value, (b as { value: number }).value)) &&
  (a.type !== "bool" || (a as { value: boolean }).value === (b as { value: boolean }).value);

export function describeReading(r: Reading, source: string): string {
  switch (r.type) {
    case "bool":
      return `the boolean ${r.value}`;
    case "null":
      return "null";
    case "number":
      return `the number ${r.value}`;
    default:
      return `the string ${JSON.stringify(source.length > 40 ? `${source.slice(0, 40)}...` : source)}`;
  }
}

/** The message for a plain scalar the two readers disagree on, or undefined when they agree. */
export function yaml11Difference(source: string, lintValue: unknown): string | undefined {
  const kubectl = kubectlReading(source);
  const lint = readingOf(lintValue);
  if (sameReading(kubectl, lint)) return undefined;
  return `YAML 1.1: kubectl reads ${source} as ${describeReading(kubectl, source)}, ramp lint (YAML 1.2) as ${describeReading(lint, source)}; quote it or write it unambiguously`;
}
