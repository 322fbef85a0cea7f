// successCondition / failureCondition: CEL over `result`, compiled once per text and cached.
// `result` is a double for one sample and a list of doubles for several; list-style uses
// (result[i], size(result), result.all(...), x in result) always see a list, so the same condition
// works for one sample or many.
import { type CelInput, CelScalar, type CelValue, celEnv, celFunc, isCelError, isCelList, parse, plan } from "@bufbuild/cel";

type Expr = ReturnType<typeof parse>["expr"];

export type ConditionErrorCode = "BAD_CONDITION" | "CONDITION_ERROR" | "CONDITION_NOT_BOOL";

/** A condition that does not compile (BAD_CONDITION), fails while evaluating, or gives no bool. */
export class ConditionError extends Error {
  readonly code: ConditionErrorCode;
  readonly condition: string;
  constructor(code: ConditionErrorCode, condition: string, message: string) {
    super(message);
    this.name = "ConditionError";
    this.code = code;
    this.condition = condition;
  }
}

/** Where list-style uses of `result` are redirected; `@` cannot appear in a user's identifier. */
const LIST_VAR = "@values";
/** `default(list[i], d)` becomes this, so an index past the end gives d instead of an error. */
const DEFAULT_AT = "@default_at";
const KNOWN_NAMES = new Set([
  "result",
  LIST_VAR,
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);
/** Operators the CEL planner evaluates itself rather than through the function registry. */
const PLANNER_OPERATORS = new Set([
  "_[_]",
  "_[?_]",
  "_?._",
  "_?_:_",
  "_&&_",
  "_||_",
  "@not_strictly_false",
  "__not_strictly_false__",
]);

const { DOUBLE, INT, DYN, BOOL } = CelScalar;

function orDefault(x: CelValue, d: CelValue): CelInput {
  if (x === null || (typeof x === "number" && Number.isNaN(x))) return typeof d === "bigint" ? Number(d) : d;
  if (isCelList(x)) return [...x].map((v) => orDefault(v, d));
  return x;
}

const mixed = (name: string, op: (a: number, b: number) => number) => [
  celFunc(name, [DOUBLE, INT], DOUBLE, (a, b) => op(a, Number(b))),
  celFunc(name, [INT, DOUBLE], DOUBLE, (a, b) => op(Number(a), b)),
];

const env = celEnv({
  funcs: [
    celFunc("isNaN", [DOUBLE], BOOL, (x) => Number.isNaN(x)),
    celFunc("isNaN", [INT], BOOL, () => false),
    celFunc("default", [DYN, DYN], DYN, orDefault),
    celFunc(DEFAULT_AT, [DYN, DYN, DYN], DYN, (list, index, d) => {
      if (!isCelList(list)) throw new Error(`default(x[i], d) needs a list, got ${typeof list}`);
      const i = Number(index);
      return orDefault(Number.isInteger(i) ? (list.get(i) ?? null) : null, d);
    }),
    // CEL has no implicit int->double conversion; `result * 100 > 5` should still work.
    ...mixed("_+_", (a, b) => a + b),
    ...mixed("_-_", (a, b) => a - b),
    ...mixed("_*_", (a, b) => a * b),
    ...mixed("_/_", (a, b) => a / b),
  ],
});

/** Points a list-style use of `result` (also through `default(result, d)`) at the list binding. */
function toList(e: Expr | undefined, scope: ReadonlySet<string>): void {
  const kind = e?.exprKind;
  if (kind?.case === "identExpr" && kind.value.name === "result" && !scope.has("result")) kind.value.name = LIST_VAR;
  if (kind?.case === "callExpr" && kind.value.function === "default") toList(kind.value.args[0], scope);
}

interface Unknown {
  names: Set<string>;
  functions: Set<string>;
}

/** Rewrites list-style uses of `result` and `default(x[i], d)` in place; collects unknown names and functions. */
function prepare(e: Expr | undefined, scope: ReadonlySet<string>, unknown: Unknown): void {
  const kind = e?.exprKind;
  switch (kind?.case) {
    case "identExpr":
      if (!scope.has(kind.value.name) && !KNOWN_NAMES.has(kind.value.name)) unknown.names.add(kind.value.name);
      return;
    case "selectExpr":
      prepare(kind.value.operand, scope, unknown);
      return;
    case "callExpr": {
      const call = kind.value;
      const [first, second] = call.args;
      if (call.function === "default" && call.args.length === 2 && first?.exprKind.case === "callExpr") {
        const index = first.exprKind.value;
        if (index.function === "_[_]" && index.args.length === 2 && second) {
          call.function = DEFAULT_AT;
          call.args = [...index.args, second];
        }
      }
      if (!PLANNER_OPERATORS.has(call.function) && !env.funcs.find(call.function)) unknown.functions.add(call.function);
      if (call.function === "_[_]" || call.function === DEFAULT_AT) toList(call.args[0], scope);
      if (call.function === "size") toList(call.target ?? first, scope);
      if (call.function === "@in") toList(call.args[1], scope);
      for (const part of [call.target, ...call.args]) prepare(part, scope, unknown);
      return;
    }
    case "listExpr":
      for (const el of kind.value.elements) prepare(el, scope, unknown);
      return;
    case "structExpr":
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === "mapKey") prepare(entry.keyKind.value, scope, unknown);
        prepare(entry.value, scope, unknown);
      }
      return;
    case "comprehensionExpr": {
      const c = kind.value;
      toList(c.iterRange, scope);
      prepare(c.iterRange, scope, unknown);
      prepare(c.accuInit, scope, unknown);
      const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      for (const part of [c.loopCondition, c.loopStep, c.result]) prepare(part, inner, unknown);
      return;
    }
    default:
      return;
  }
}

type Program = (bindings: Record<string, unknown>) => unknown;

const MAX_CACHED = 512;
const cache = new Map<string, Program | ConditionError>();

function build(text: string): Program | ConditionError {
  const bad = (why: string) => new ConditionError("BAD_CONDITION", text, `condition ${JSON.stringify(text)} ${why}`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (err) {
    return bad(`does not compile: ${(err as Error).message.replace(/^<input>:/, "")}`);
  }
  const unknown: Unknown = { names: new Set(), functions: new Set() };
  prepare(parsed.expr, new Set(), unknown);
  if (unknown.names.size) return bad(`uses unknown name ${[...unknown.names].join(", ")}; only \`result\` is defined`);
  if (unknown.functions.size) return bad(`calls unknown function ${[...unknown.functions].map((f) => `${f}()`).join(", ")}`);
  return plan(env, parsed) as Program;
}

function compiled(text: string): Program {
  let program = cache.get(text);
  if (!program) {
    program = build(text);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(text, program);
  }
  if (program instanceof ConditionError) throw program;
  return program;
}

/** Throws a BAD_CONDITION ConditionError when `text` does not compile; for validating templates early. */
export function compileCondition(text: string): void {
  compiled(text);
}

/** Evaluates `text` with `result` bound; throws a ConditionError unless it gives a bool. */
export function evaluateCondition(text: string, result: number | number[]): boolean {
  const program = compiled(text);
  const list = typeof result === "number" ? [result] : result;
  const several = list.length !== 1;
  const value = program({ result: several ? list : list[0], [LIST_VAR]: list });
  if (isCelError(value)) {
    const hint =
      list.length > 1
        ? ` (result holds ${list.length} values, one per series or point: use result[i], result.all(x, ...) or result.exists(x, ...))`
        : "";
    throw new ConditionError(
      "CONDITION_ERROR",
      text,
      `condition ${JSON.stringify(text)} failed to evaluate: ${value.message}${hint}`,
    );
  }
  if (typeof value !== "boolean") {
    throw new ConditionError(
      "CONDITION_NOT_BOOL",
      text,
      `condition ${JSON.stringify(text)} gave ${describe(value)}, not true or false`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `the int ${value}`;
  if (typeof value === "number") return `the double ${value}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (isCelList(value)) return `a list of ${value.size}`;
  return value === null ? "null" : "a non-bool value";
}
