import { describe, expect, it } from "vitest";
import { isWorse, type JudgeRule, toleranceOf } from "./decision.ts";

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
