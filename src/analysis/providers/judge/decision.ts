// Pure: when the judge calls the canary worse than the baseline.
import { figure } from "../prometheus/measure.ts";
import { type Alternative, compareProportions, mannWhitney, median, relativeChange } from "./stats.ts";

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

/** Fewer points on a side is no data: a verdict on a handful of points would be a guess. */
export const MIN_POINTS = 5;

/** The judge's judgement: a verdict with its test figures (`effect` is the measurement's value), or
 * no data with the reason. */
export type Judgement =
  | { verdict: "Successful" | "Failed"; p: number; effect: number; figures: Record<string, number | string> }
  | { verdict: undefined; reason: string };

function judged(rule: JudgeRule, p: number, effect: number, figures: Record<string, number | string>): Judgement {
  return { verdict: isWorse(p, effect, rule) ? "Failed" : "Successful", p, effect, figures };
}

/** Mann-Whitney on the points of the canary (`x`) and the baseline (`y`), NaN points already dropped;
 * the effect is the relative change of the medians. */
export function judgeSamples(rule: JudgeRule, x: readonly number[], y: readonly number[]): Judgement {
  if (x.length < MIN_POINTS || y.length < MIN_POINTS) {
    return {
      verdict: undefined,
      reason: `${x.length} canary and ${y.length} baseline points, fewer than ${MIN_POINTS} on a side`,
    };
  }
  const test = mannWhitney(x, y, alternativeOf(rule.direction));
  const [canaryMedian, baselineMedian] = [median(x), median(y)];
  return judged(rule, test.p, relativeChange(canaryMedian, baselineMedian), {
    test: test.exact ? "mann-whitney (exact)" : "mann-whitney (normal approximation)",
    U: test.u,
    median_canary: canaryMedian,
    median_baseline: baselineMedian,
  });
}

export interface CountsReading {
  canaryErrors: number;
  canaryTotal: number;
  baselineErrors: number;
  baselineTotal: number;
}

/** Thrown for counts no query could honestly give: more errors than requests. */
export class BadCountsError extends Error {
  override name = "BadCountsError";
}

/** The error proportions compared (Fisher or the z-test); the effect is the relative change of the
 * error rates. Fewer canary requests than `minRequests`, no baseline requests or a NaN count is no data. */
export function judgeCounts(rule: JudgeRule, minRequests: number, r: CountsReading): Judgement {
  if (!(r.canaryTotal >= minRequests)) {
    return { verdict: undefined, reason: `${figure(r.canaryTotal)} canary requests, fewer than minRequests (${minRequests})` };
  }
  if (!(r.baselineTotal > 0)) return { verdict: undefined, reason: "no baseline requests" };
  if (Number.isNaN(r.canaryErrors) || Number.isNaN(r.baselineErrors))
    return { verdict: undefined, reason: "an error count is NaN" };
  if (r.canaryErrors > r.canaryTotal || r.baselineErrors > r.baselineTotal) {
    throw new BadCountsError("an error count exceeds its request count: check the counts queries");
  }
  const canary = { errors: r.canaryErrors, total: r.canaryTotal };
  const baseline = { errors: r.baselineErrors, total: r.baselineTotal };
  const test = compareProportions(canary, baseline, alternativeOf(rule.direction));
  const [canaryRate, baselineRate] = [r.canaryErrors / r.canaryTotal, r.baselineErrors / r.baselineTotal];
  return judged(rule, test.p, relativeChange(canaryRate, baselineRate), {
    test: test.test,
    ...(test.z === undefined ? {} : { z: test.z }),
    errorRate_canary: canaryRate,
    errorRate_baseline: baselineRate,
  });
}
