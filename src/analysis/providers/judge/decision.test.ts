import { describe, expect, it } from "vitest";
import { BadCountsError, isWorse, type JudgeRule, judgeCounts, judgeSamples, toleranceOf } from "./decision.ts";

describe("toleranceOf", () => {
  it.each([
    { value: undefined, expected: 0.1 },
    { value: "25%", expected: 0.25 },
    { value: 5, expected: 0.05 },
    { value: "0%", expected: 0 },
  ])("$value is $expected", ({ value, expected }) => expect(toleranceOf(value)).toBe(expected));
});

describe("isWorse", () => {
  const rule = (direction: JudgeRule["direction"]): JudgeRule => ({ direction, tolerance: 0.1, confidence: 0.95 });
  it.each([
    { name: "a significant 30% increase", p: 0.001, effect: 0.3, direction: "increase", worse: true },
    { name: "a 30% increase without confidence", p: 0.2, effect: 0.3, direction: "increase", worse: false },
    { name: "a significant increase within tolerance", p: 0.001, effect: 0.05, direction: "increase", worse: false },
    { name: "a significant decrease when increases are bad", p: 0.001, effect: -0.3, direction: "increase", worse: false },
    { name: "a significant decrease when decreases are bad", p: 0.001, effect: -0.3, direction: "decrease", worse: true },
    { name: "an increase when decreases are bad", p: 0.001, effect: 0.3, direction: "decrease", worse: false },
    { name: "either way, an increase", p: 0.001, effect: 0.3, direction: "either", worse: true },
    { name: "either way, a decrease", p: 0.001, effect: -0.3, direction: "either", worse: true },
    {
      name: "errors from a clean baseline (infinite change)",
      p: 1e-5,
      effect: Number.POSITIVE_INFINITY,
      direction: "increase",
      worse: true,
    },
    { name: "p at 1 - confidence is enough", p: 0.05, effect: 0.3, direction: "increase", worse: true },
    { name: "p just above 1 - confidence is not", p: 0.0501, effect: 0.3, direction: "increase", worse: false },
  ] as const)("$name: $worse", ({ p, effect, direction, worse }) => expect(isWorse(p, effect, rule(direction))).toBe(worse));
});

describe("judgeCounts", () => {
  const rule: JudgeRule = { direction: "increase", tolerance: 0.1, confidence: 0.95 };
  it.each([
    {
      name: "too few canary requests",
      r: [0, 40, 5, 1000],
      verdict: undefined,
      reason: "40 canary requests, fewer than minRequests (50)",
    },
    { name: "no baseline requests", r: [0, 100, 0, 0], verdict: undefined, reason: "no baseline requests" },
    { name: "a NaN count", r: [Number.NaN, 100, 1, 1000], verdict: undefined, reason: "an error count is NaN" },
    { name: "five times the errors", r: [50, 1000, 10, 1000], verdict: "Failed" },
    { name: "the same errors", r: [10, 1000, 10, 1000], verdict: "Successful" },
  ] as const)("$name: $verdict", ({ r, verdict, ...rest }) => {
    const [canaryErrors, canaryTotal, baselineErrors, baselineTotal] = r;
    const got = judgeCounts(rule, 50, { canaryErrors, canaryTotal, baselineErrors, baselineTotal });
    expect(got.verdict).toBe(verdict);
    if ("reason" in rest) expect(got).toMatchObject({ reason: rest.reason });
  });
  it("refuses more errors than requests", () => {
    expect(() => judgeCounts(rule, 0, { canaryErrors: 5, canaryTotal: 4, baselineErrors: 0, baselineTotal: 10 })).toThrow(
      BadCountsError,
    );
  });
});

describe("judgeSamples", () => {
  const rule: JudgeRule = { direction: "increase", tolerance: 0.1, confidence: 0.95 };
  const base = [1, 1.1, 0.9, 1.05, 0.95, 1.02];
  it.each([
    { name: "four points on a side is no data", x: [1, 2, 3, 4], y: base, verdict: undefined },
    { name: "twice as slow", x: base.map((v) => v * 2), y: base, verdict: "Failed" },
    { name: "as fast", x: base, y: base, verdict: "Successful" },
  ])("$name: $verdict", ({ x, y, verdict }) => expect(judgeSamples(rule, x, y).verdict).toBe(verdict));
});
