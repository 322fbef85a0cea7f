// successCondition / failureCondition: CEL over `result`, compiled once per text and cached.
// `result` is a double for one sample and a list of doubles for several; list-style uses
// (result[i], size(result), result.all(...), x in result) always see a list, so the same condition
// works for one sample or many.
//
// Bounded like the apiserver's CEL: @bufbuild/cel (0.6.1) has no cost estimate, budget or
// interruption, so every call in the expression is wrapped in `@cost(...)`, which charges the size of
// the value it produced (1 for a scalar, 1 + length for a list, map or string) against a per-evaluation
// budget and checks a wall-clock limit. Each comprehension step is a call, so nested loops pay per
// iteration; over either bound, the evaluation stops at the next call. No single call can run long on
// its own: its work is linear in inputs that were themselves paid for, and `matches()` (a JS regular
// expression can backtrack exponentially) is refused.

import {
  type CelInput,
  CelScalar,
  type CelValue,
  celEnv,
  celFunc,
  isCelError,
  isCelList,
  isCelMap,
  parse,
  plan,
} from "@bufbuild/cel";
import { MAX_CONDITION_LENGTH } from "../api/analysis.ts";
import { type Code, CodedError } from "../api/codes.ts";

type Expr = ReturnType<typeof parse>["expr"];

export type ConditionErrorCode = Extract<
  Code,
  "BAD_CONDITION" | "CONDITION_ERROR" | "CONDITION_NOT_BOOL" | "CONDITION_BUDGET_EXCEEDED"
>;

/** A condition that does not compile (BAD_CONDITION), fails while evaluating, gives no bool, or runs
 * past its cost budget or time limit (CONDITION_BUDGET_EXCEEDED). */
export class ConditionError extends CodedError<ConditionErrorCode> {
  override name = "ConditionError";
  readonly condition: string;
  constructor(code: ConditionErrorCode, condition: string, message: string) {
    super(code, message);
    this.condition = condition;
  }
}

/** Where list-style uses of `result` are redirected; `@` cannot appear in a user's identifier. */
const LIST_VAR = "@values";
/** `default(list[i], d)` becomes this, so an index past the end gives d instead of an error. */
const DEFAULT_AT = "@default_at";
/** Wraps every call: charges what it produced against the running evaluation's budget. */
const COST = "@cost";
/** Functions refused in conditions, with why. */
const REFUSED_FUNCTIONS: Record<string, string> = {
  matches: "a regular expression can take exponential time",
};

export interface ConditionLimits {
  /** Cost units one evaluation may spend (see the file comment). */
  budget: number;
  /** Wall-clock limit of one evaluation. */
  timeLimitMs: number;
}

/** `all()`/`exists()` pay about 4 per value, so 11,000 points (Prometheus's longest range) need
 * 44,000. `map()`/`filter()` build their result one lazy concatenation at a time, which reading
 * walks again: they pay about n², so about 1,000 values at most. The time limit is a backstop for
 * a cold process (the first evaluations run before the JIT warms up); see bench/conditions.ts. */
export const DEFAULT_CONDITION_LIMITS: ConditionLimits = { budget: 1_000_000, timeLimitMs: 1_000 };

interface Meter {
  spent: number;
  calls: number;
  limits: ConditionLimits;
  deadline: number;
  exceeded?: string;
}
/** The evaluation in progress (evaluation is synchronous, so one at a time). */
let meter: Meter | undefined;

function charge(value: CelValue): CelValue {
  const m = meter;
  if (!m) return value;
  if (m.exceeded) throw new Error(m.exceeded);
  const size = isCelList(value) || isCelMap(value) ? value.size : typeof value === "string" ? value.length : 0;
  m.spent += 1 + size;
  if (m.spent > m.limits.budget) m.exceeded = `exceeded its cost budget of ${m.limits.budget}`;
  else if (++m.calls % 256 === 0 && performance.now() > m.deadline)
    m.exceeded = `ran past its time limit of ${m.limits.timeLimitMs} ms`;
  if (m.exceeded) throw new Error(m.exceeded);
  return value;
}
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
    celFunc(COST, [DYN], DYN, charge),
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
  refused: Set<string>;
}

/** Turns the call `e` into `@cost(e)` in place. */
function metered(e: Expr): void {
  const inner = { ...e };
  e.exprKind = {
    case: "callExpr",
    value: { ...(inner.exprKind.value as object), function: COST, target: undefined, args: [inner] },
  } as Expr["exprKind"];
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
      if (REFUSED_FUNCTIONS[call.function]) unknown.refused.add(call.function);
      else if (!PLANNER_OPERATORS.has(call.function) && !env.funcs.find(call.function)) unknown.functions.add(call.function);
      if (call.function === "_[_]" || call.function === DEFAULT_AT) toList(call.args[0], scope);
      if (call.function === "size") toList(call.target ?? first, scope);
      if (call.function === "@in") toList(call.args[1], scope);
      for (const part of [call.target, ...call.args]) prepare(part, scope, unknown);
      metered(e as Expr);
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
  if (text.length > MAX_CONDITION_LENGTH)
    return bad(`is ${text.length} characters long; at most ${MAX_CONDITION_LENGTH} are accepted`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (err) {
    return bad(`does not compile: ${(err as Error).message.replace(/^<input>:/, "")}`);
  }
  const unknown: Unknown = { names: new Set(), functions: new Set(), refused: new Set() };
  prepare(parsed.expr, new Set(), unknown);
  const [refused] = unknown.refused;
  if (refused) return bad(`calls ${refused}(), which conditions cannot use: ${REFUSED_FUNCTIONS[refused]}`);
  if (unknown.names.size) return bad(`uses unknown name ${[...unknown.names].join(", ")}; only \`result\` is defined`);
  if (unknown.functions.size) return bad(`calls unknown function ${[...unknown.functions].map((f) => `${f}()`).join(", ")}`);
  return plan(env, parsed) as Program;
}

function cached(text: string): Program | ConditionError {
  let program = cache.get(text);
  if (!program) {
    program = build(text);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(text, program);
  }
  return program;
}

export type CompileResult = { ok: true } | { ok: false; code: "BAD_CONDITION"; message: string };

/** Whether `text` compiles as a condition; for refusing templates early (`ramp lint`, the controller). */
export function compileCondition(text: string): CompileResult {
  const program = cached(text);
  return program instanceof ConditionError ? { ok: false, code: "BAD_CONDITION", message: program.message } : { ok: true };
}

/** Evaluates `text` with `result` bound; throws a ConditionError unless it gives a bool within `limits`. */
export function evaluateCondition(
  text: string,
  result: number | number[],
  limits: ConditionLimits = DEFAULT_CONDITION_LIMITS,
): boolean {
  const program = cached(text);
  if (program instanceof ConditionError) throw program;
  const list = typeof result === "number" ? [result] : result;
  const several = list.length !== 1;
  const running: Meter = { spent: 0, calls: 0, limits, deadline: performance.now() + limits.timeLimitMs };
  meter = running;
  let value: unknown;
  try {
    value = program({ result: several ? list : list[0], [LIST_VAR]: list });
  } finally {
    meter = undefined;
  }
  // Checked first: a budget error inside `||` or `default()` may have been absorbed into a value.
  if (running.exceeded) {
    throw new ConditionError("CONDITION_BUDGET_EXCEEDED", text, `condition ${JSON.stringify(text)} ${running.exceeded}`);
  }
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
