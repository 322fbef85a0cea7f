// The JSONPath a web metric picks its result with: a small, closed subset, read by our own parser.
// Tenants write it, so it is bounded and never evaluated: no filters `[?()]`, no script `()`, no
// recursive descent `..`, no slices (jsonpath-plus, the usual package, evaluates script
// expressions and has had sandbox escapes). Accepted, with or without Kubernetes-style braces:
//   $            the whole document
//   .name        a member (letters, digits, _ and -)
//   ['name']     a member by any name ("..." too)
//   [2] [-1]     an element of an array, counted from the end when negative
//   [*] .*       every element (or member value)
// Anything else is refused with the position and what was expected.

/** Longest path accepted (which also bounds its steps). */
export const MAX_JSON_PATH_LENGTH = 256;

export type PathStep = { kind: "member"; name: string } | { kind: "index"; index: number } | { kind: "wildcard" };

export class JsonPathError extends Error {
  override name = "JsonPathError";
}

const MEMBER = /^[A-Za-z0-9_-]+/;
const INDEX = /^-?\d{1,9}/;
const QUOTED = /^(['"])((?:\\.|(?!\1)[^\\])*)\1/;

/** The steps of `text`; throws a JsonPathError saying where and why it is not in the subset. */
export function parseJsonPath(text: string): PathStep[] {
  if (text.length > MAX_JSON_PATH_LENGTH) {
    throw new JsonPathError(`jsonPath is ${text.length} characters long; at most ${MAX_JSON_PATH_LENGTH} are accepted`);
  }
  let rest = text.trim();
  if (rest.startsWith("{") && rest.endsWith("}")) rest = rest.slice(1, -1).trim();
  if (!rest.startsWith("$")) throw new JsonPathError(`jsonPath ${JSON.stringify(text)} must start with $`);
  const steps: PathStep[] = [];
  let at = text.indexOf("$") + 1;
  rest = rest.slice(1);
  const refuse = (why: string): never => {
    throw new JsonPathError(`jsonPath ${JSON.stringify(text)} at character ${at}: ${why}`);
  };
  while (rest.length) {
    let taken: string;
    if (rest.startsWith("..")) refuse("recursive descent (..) is not supported");
    if (rest.startsWith(".*")) {
      taken = ".*";
      steps.push({ kind: "wildcard" });
    } else if (rest.startsWith(".")) {
      const name = MEMBER.exec(rest.slice(1))?.[0] ?? refuse("expected a member name (letters, digits, _ and -) after .");
      taken = `.${name}`;
      steps.push({ kind: "member", name });
    } else if (rest.startsWith("[")) {
      const inner = rest.slice(1);
      const quoted = QUOTED.exec(inner);
      const index = INDEX.exec(inner);
      if (inner.startsWith("*]")) {
        taken = "[*]";
        steps.push({ kind: "wildcard" });
      } else if (quoted && inner[quoted[0].length] === "]") {
        taken = `[${quoted[0]}]`;
        steps.push({ kind: "member", name: (quoted[2] as string).replace(/\\(.)/g, "$1") });
      } else if (index && inner[index[0].length] === "]") {
        taken = `[${index[0]}]`;
        steps.push({ kind: "index", index: Number(index[0]) });
      } else if (inner.startsWith("?") || inner.startsWith("(")) {
        return refuse("filter and script expressions are not supported");
      } else {
        return refuse("expected [N], [*] or ['name'] (slices and unions are not supported)");
      }
    } else {
      return refuse(`unexpected ${JSON.stringify(rest[0])}; expected . or [`);
    }
    rest = rest.slice(taken.length);
    at += taken.length;
  }
  return steps;
}

const has = (o: object, k: string) => Object.hasOwn(o, k);

/** The values `steps` select in `doc`, in document order; an empty list when nothing matches. A path
 * without a wildcard selects at most one value. */
export function selectJsonPath(doc: unknown, steps: readonly PathStep[]): unknown[] {
  let current: unknown[] = [doc];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== "object") continue;
      if (step.kind === "wildcard") next.push(...(Array.isArray(value) ? value : Object.values(value)));
      else if (step.kind === "index") {
        if (!Array.isArray(value)) continue;
        const i = step.index < 0 ? value.length + step.index : step.index;
        if (i >= 0 && i < value.length) next.push(value[i]);
      } else if (!Array.isArray(value) && has(value, step.name)) next.push((value as Record<string, unknown>)[step.name]);
    }
    current = next;
  }
  return current;
}

/** Whether the path can select several values (it has a wildcard). */
export const selectsMany = (steps: readonly PathStep[]) => steps.some((s) => s.kind === "wildcard");
