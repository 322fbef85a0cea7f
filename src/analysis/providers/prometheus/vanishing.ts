// Pure: spots a PromQL ratio whose numerator can have no series while its denominator has some,
// e.g. 5xx / all: a healthy service that never answered a 5xx has no 5xx series, so the whole
// ratio is empty (no data) instead of 0, and the analysis ends Inconclusive. A heuristic for
// `ramp lint` and `ramp analyze` to warn about, never a refusal.

/** Where each top-level `/` and `or` is: outside strings, comments and any bracket. */
function topLevel(query: string): { divisions: number[]; ors: number[]; closesAt: number | undefined } {
  const divisions: number[] = [];
  let closesAt: number | undefined;
  const ors: number[] = [];
  let depth = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < query.length && query[i] !== c; i++) if (query[i] === "\\" && c !== "`") i++;
    } else if (c === "#") {
      while (i < query.length && query[i] !== "\n") i++;
    } else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) {
      depth--;
      if (depth === 0) closesAt ??= i;
    } else if (depth === 0 && c === "/") divisions.push(i);
    else if (depth === 0 && /^or\b/i.test(query.slice(i, i + 3)) && !/[\w:]/.test(query[i - 1] ?? " ")) ors.push(i);
  }
  return { divisions, ors, closesAt };
}

/** `expr` without parentheses around all of it: `(a / b)` is `a / b`, `(a) / (b)` stays. */
function unwrapped(expr: string): string {
  let e = expr.trim();
  while (e.startsWith("(") && e.endsWith(")") && topLevel(e).closesAt === e.length - 1) e = e.slice(1, -1).trim();
  return e;
}

const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g;

const matchersOf = (expr: string) => new Set([...expr.matchAll(MATCHER)].map(([, label, op, value]) => `${label}${op}${value}`));

/** The label matchers only the numerator has, when it is not guarded by `or` (as in
 * `(errors or vector(0)) / total`); undefined when the query is no such ratio. */
export function vanishingNumerator(query: string): string[] | undefined {
  const expr = unwrapped(query);
  const { divisions, ors } = topLevel(expr);
  const at = divisions[0];
  if (at === undefined) return undefined;
  const numerator = expr.slice(0, at);
  if (ors.some((o) => o < at) || topLevel(unwrapped(numerator)).ors.length) return undefined;
  const denominator = matchersOf(expr.slice(at + 1));
  const only = [...matchersOf(numerator)].filter((m) => !denominator.has(m));
  return only.length ? only : undefined;
}

/** The warning for `query`, or undefined. */
export function vanishingNumeratorWarning(query: string): string | undefined {
  const only = vanishingNumerator(query);
  if (!only) return undefined;
  return (
    `the ratio's numerator selects series its denominator does not (${only.join(", ")}); with none of them ` +
    "(a healthy service never served one) the ratio is empty, which is no data, not 0: write (NUMERATOR or vector(0)) / DENOMINATOR"
  );
}
