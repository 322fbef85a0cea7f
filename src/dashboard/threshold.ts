// What an analysis chart draws beside the measurements: the numbers a metric's condition compares
// the result with, when the condition is a simple comparison. Pure.

export type Comparison = "<" | "<=" | ">" | ">=" | "==";

export interface Threshold {
  /** The condition it comes from: crossing a success threshold fails, reaching a failure one fails too. */
  condition: "success" | "failure";
  /** As written with the result on the left: `result <op> value`. */
  op: Comparison;
  value: number;
}

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const RESULT = String.raw`result(?:\[0\])?`;
const OPS = "<=|>=|==|<|>";
const RESULT_FIRST = new RegExp(String.raw`^\s*${RESULT}\s*(${OPS})\s*(${NUMBER})\s*$`);
const VALUE_FIRST = new RegExp(String.raw`^\s*(${NUMBER})\s*(${OPS})\s*${RESULT}\s*$`);
// `0.05 > result` is `result < 0.05`.
const MIRROR: Record<Comparison, Comparison> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==" };

/** The threshold of `result[0] <= 0.05`, `result > 3`, `0.95 <= result[0]`...; undefined for anything else. */
export function parseComparison(condition: string): { op: Comparison; value: number } | undefined {
  const direct = RESULT_FIRST.exec(condition);
  if (direct) return { op: direct[1] as Comparison, value: Number(direct[2]) };
  const mirrored = VALUE_FIRST.exec(condition);
  if (mirrored) return { op: MIRROR[mirrored[2] as Comparison], value: Number(mirrored[1]) };
  return undefined;
}

/** The thresholds of a metric's conditions that are simple comparisons. */
export function thresholds(metric: {
  successCondition?: string | undefined;
  failureCondition?: string | undefined;
}): Threshold[] {
  return (["success", "failure"] as const).flatMap((condition) => {
    const text = condition === "success" ? metric.successCondition : metric.failureCondition;
    const parsed = text === undefined ? undefined : parseComparison(text);
    return parsed ? [{ condition, ...parsed }] : [];
  });
}

/** A measurement's value as one number to plot: `0.02`, or the first of `[0.02, 0.5]`; null when it is none. */
export function measuredNumber(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return typeof first === "number" && Number.isFinite(first) ? first : null;
}
