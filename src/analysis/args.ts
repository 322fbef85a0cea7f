// {{args.NAME}} substitution. Inside PromQL the value must never change the query's structure: in a
// string literal it is escaped; anywhere else it must be a plain number, name or duration.

const PLACEHOLDER = /\{\{\s*args\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** Values allowed outside a string literal: a number, a metric/label name, a duration like 5m or 1h30m. */
const BARE_TOKEN = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|[A-Za-z_:][A-Za-z0-9_:]*|(?:\d+(?:ms|s|m|h|d|w|y))+)$/;

type Quote = '"' | "'" | "`" | undefined;

/** The quote open at each offset of `text` (PromQL string syntax: "..." and '...' escape with \, `...` is raw). */
function quoteStates(text: string): Quote[] {
  const states: Quote[] = [];
  let open: Quote;
  for (let i = 0; i < text.length; i++) {
    states.push(open);
    const c = text[i];
    if (open === undefined) {
      if (c === '"' || c === "'" || c === "`") open = c;
      else if (c === "#") {
        // A comment runs to the end of the line: quotes in it open nothing.
        while (i + 1 < text.length && text[i + 1] !== "\n") {
          states.push(undefined);
          i++;
        }
      }
    } else if (c === "\\" && open !== "`") {
      i++;
      states.push(open);
    } else if (c === open) {
      open = undefined;
    }
  }
  return states;
}

function escapeInQuote(value: string, quote: '"' | "'"): string {
  return value.replace(/[\\"'\n\r\t]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    if (c === quote || c === "\\") return `\\${c}`;
    return c;
  });
}

/** Where a value lands decides how it is made safe; a value that cannot be made safe is refused. */
function promqlSafe(name: string, value: string, quote: Quote): string {
  if (quote === '"' || quote === "'") return escapeInQuote(value, quote);
  if (quote === "`") {
    if (value.includes("`")) throw new Error(`argument "${name}" contains a backquote and is placed in a raw string`);
    return value;
  }
  if (!BARE_TOKEN.test(value)) {
    throw new Error(
      `argument "${name}" is placed outside a string literal, so it must be a plain number, name or duration; got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`,
    );
  }
  return value;
}

/** `text` with every {{args.NAME}} replaced by its value; an unknown name is an error naming it. */
export function substitute(text: string, args: Record<string, string>, opts: { promql?: boolean } = {}): string {
  const states = opts.promql ? quoteStates(text) : [];
  return text.replace(PLACEHOLDER, (_match, name: string, offset: number) => {
    const value = args[name];
    if (value === undefined) throw new Error(`unknown argument "${name}" in {{args.${name}}}`);
    return opts.promql ? promqlSafe(name, value, states[offset]) : value;
  });
}

/** The names a text refers to, in order of first use. */
export function argumentNames(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** A field of an object (the Rollout) by a kubectl-style path: `metadata.name`, `metadata.labels['app']`, `spec.replicas`. */
export function fieldValue(obj: unknown, fieldPath: string): string | undefined {
  const parts = [...fieldPath.matchAll(/([^.[\]]+)|\[['"]([^'"]+)['"]\]/g)].map((m) => m[1] ?? m[2] ?? "");
  let value: unknown = obj;
  for (const part of parts) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Every form a secret value can take in what a provider reports: as read, trimmed (a trailing
 * newline from `kubectl create secret --from-file`), and escaped as JSON, PromQL string literals
 * and URLs escape it. Longest first, so a longer form is masked whole before a shorter one inside it. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>();
  for (const v of new Set([value, value.trim()])) {
    if (!v) continue;
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
    forms.add(escapeInQuote(v, '"'));
    forms.add(escapeInQuote(v, "'"));
    forms.add(encodeURIComponent(v));
    forms.add(new URLSearchParams({ v }).toString().slice(2));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** An outcome with every secret argument value masked in its message and metadata: the query a
 * provider reports may hold one, and measurements are stored in the run's status for anyone to read. */
export function redacted<T extends { message?: string; metadata?: Record<string, string> }>(outcome: T, secrets: string[]): T {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  if (!forms.length) return outcome;
  const mask = (text: string) => forms.reduce((t, v) => t.split(v).join("***"), text);
  return {
    ...outcome,
    ...(outcome.message !== undefined ? { message: mask(outcome.message) } : {}),
    ...(outcome.metadata ? { metadata: Object.fromEntries(Object.entries(outcome.metadata).map(([k, v]) => [k, mask(v)])) } : {}),
  };
}
