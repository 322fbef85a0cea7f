// Pure: when the judge calls the canary worse than the baseline.
import type { Alternative } from "./stats.ts";

export type Direction = "increase" | "decrease" | "either";

export interface JudgeRule {
  /** Which change is bad. */
  direction: Direction;
  /** Relative change accepted, as a fraction (0.1 for 10%). */
  tolerance: number;
  /** 0.95: the test's p-value must be at most 0.05. */
  confidence: number;
}

export const alternativeOf = (direction: Direction): Alternative =>
  direction === "increase" ? "greater" : direction === "decrease" ? "less" : "two-sided";

const DEFAULT_TOLERANCE = 0.1;

/** `tolerance` as written ("10%", or 10 meaning the same: a count makes no sense for a relative
 * change) as a fraction. */
export function toleranceOf(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_TOLERANCE;
  return (typeof value === "number" ? value : Number.parseFloat(value)) / 100;
}

/** Worse: the change goes the bad way beyond the tolerance, and the test is confident it is real. */
export function isWorse(p: number, effect: number, rule: JudgeRule): boolean {
  const significant = p <= 1 - rule.confidence;
  if (rule.direction === "increase") return significant && effect > rule.tolerance;
  if (rule.direction === "decrease") return significant && effect < -rule.tolerance;
  return significant && Math.abs(effect) > rule.tolerance;
}
