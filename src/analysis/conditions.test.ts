import { describe, expect, it } from "vitest";
import { MAX_CONDITION_LENGTH } from "../api/analysis.ts";
import { ConditionError, compileCondition, evaluateCondition } from "./conditions.ts";

describe("evaluateCondition", () => {
  it.each<[string, number | number[], boolean]>([
    // One sample: result is a double, and list-style uses see a list of one.
    ["result < 0.05", 0.01, true],
    ["result < 0.05", 0.05, false],
    ["result <= 0.05", 0.05, true],
    ["result < 1", 0.5, true],
    ["result[0] < 0.05", 0.01, true],
    ["result.all(x, x < 0.05)", 0.01, true],
    ["result.exists(x, x > 0.05)", 0.01, false],
    ["size(result) > 0", 0.01, true],
    ["result.size() == 1", 0.01, true],
    ["0.01 in result", 0.01, true],
    ["size(result) == 1 && result < 1", 0.5, true],
    ["result * 100 < 5", 0.01, true],
    ["100 * result >= 5", 0.05, true],
    ["result / 2 == 0.25", 0.5, true],
    ["result - 1 < 0", 0.5, true],
    ["result + 1 > 1", 0.5, true],
    ["result > 0 ? true : false", 0.5, true],
    ["type(result) == double", 0.5, true],
    ["int(result) == 0", 0.5, true],
    // A list of one is one sample too.
    ["result < 0.05", [0.01], true],
    ["result[0] < 0.05", [0.01], true],
    // Several values: list forms.
    ["result[0] < 0.05", [0.01, 0.2], true],
    ["result[1] < 0.05", [0.01, 0.2], false],
    ["result.all(x, x < 0.05)", [0.01, 0.2], false],
    ["result.all(x, x < 0.5)", [0.01, 0.2], true],
    ["result.exists(x, x > 0.1)", [0.01, 0.2], true],
    ["size(result) == 2", [0.01, 0.2], true],
    ["result.filter(x, x > 0.1).size() == 1", [0.01, 0.2], true],
    ["result.map(x, x * 2).all(y, y < 1)", [0.01, 0.2], true],
    // NaN and the helpers.
    ["result < 0.05", Number.NaN, false],
    ["isNaN(result)", Number.NaN, true],
    ["isNaN(result)", 0.5, false],
    ["isNaN(result) || result < 0.05", Number.NaN, true],
    ["isNaN(1)", 0.5, false],
    ["default(result, 0) < 0.05", Number.NaN, true],
    ["default(result, 1.0) < 0.05", Number.NaN, false],
    ["default(result, 0) == 0.5", 0.5, true],
    ["default(result[0], 0) < 0.05", Number.NaN, true],
    ["default(result[0], 0) < 0.05", [Number.NaN, 0.9], true],
    ["default(result[1], 0) < 0.05", [Number.NaN, 0.9], false],
    ["default(result[5], 0) == 0", [0.5, 0.9], true],
    ["default(result[-1], 0) == 0", [0.5, 0.9], true],
    ["default(null, 3) == 3", 0.5, true],
    ["default(result, 0).all(x, x < 0.05)", [Number.NaN, 0.01], true],
    ["default(result, 0).all(x, x < 0.05)", Number.NaN, true],
    ["result.exists(x, isNaN(x))", [Number.NaN, 0.01], true],
    ["result.filter(x, !isNaN(x)).all(x, x < 0.05)", [Number.NaN, 0.01], true],
    // `result` shadowed by a comprehension variable is that variable.
    ["[1, 2].all(result, result > 0)", 0.5, true],
    ["[5].exists(result, result == 5)", 0.5, true],
  ])("%s with %j is %s", (text, result, expected) => {
    expect(evaluateCondition(text, result)).toBe(expected);
  });

  it.each<[string, number | number[], string, RegExp]>([
    ["result <", 0.5, "BAD_CONDITION", /condition "result <" does not compile: 1:8/],
    ["resutl < 1", 0.5, "BAD_CONDITION", /unknown name resutl; only `result` is defined/],
    ["foo(result)", 0.5, "BAD_CONDITION", /unknown function foo\(\)/],
    ["result.foo() > 1", 0.5, "BAD_CONDITION", /unknown function foo\(\)/],
    ["math.greatest(result) > 1", 0.5, "BAD_CONDITION", /unknown name math/],
    ["", 0.5, "BAD_CONDITION", /does not compile/],
    ["result", 0.5, "CONDITION_NOT_BOOL", /gave the double 0.5, not true or false/],
    ["size(result)", 0.5, "CONDITION_NOT_BOOL", /gave the int 1/],
    ["'yes'", 0.5, "CONDITION_NOT_BOOL", /gave the string "yes"/],
    ["result", [1, 2], "CONDITION_NOT_BOOL", /gave a list of 2/],
    ["null", 0.5, "CONDITION_NOT_BOOL", /gave null/],
    ["result < 0.05", [0.01, 0.2], "CONDITION_ERROR", /no matching overload.*result holds 2 values.*result\.all/],
    ["isNaN(result)", [0.01, 0.2], "CONDITION_ERROR", /result holds 2 values/],
    ["result[2] < 1", [0.01, 0.2], "CONDITION_ERROR", /failed to evaluate: index 2 out of bounds/],
    ["result + 'a' == 'b'", 0.5, "CONDITION_ERROR", /no matching overload/],
  ])("%s with %j throws %s", (text, result, code, message) => {
    let caught: unknown;
    try {
      evaluateCondition(text, result);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConditionError);
    expect((caught as ConditionError).code).toBe(code);
    expect((caught as ConditionError).condition).toBe(text);
    expect((caught as ConditionError).message).toMatch(message);
  });

  it("compiles once per text: the same program serves one sample and several", () => {
    const text = "result.all(x, x < 1) && size(result) >= 1";
    expect(evaluateCondition(text, 0.5)).toBe(true);
    expect(evaluateCondition(text, [0.5, 0.7])).toBe(true);
    expect(evaluateCondition(text, [0.5, 2])).toBe(false);
  });
});

describe("compileCondition", () => {
  it.each([["result < 1"], ["default(result[0], 0) > 2"], ["result.all(x, !isNaN(x))"]])("accepts %s", (text) => {
    expect(compileCondition(text)).toEqual({ ok: true });
  });

  it.each([
    ["result <", /does not compile/],
    ["nope > 1", /unknown name nope/],
    ["bogus(result)", /unknown function bogus\(\)/],
    ["string(result).matches('^(a+)+$')", /calls matches\(\), which conditions cannot use: a regular expression/],
    [`result < ${"1".repeat(MAX_CONDITION_LENGTH)}`, /is 2057 characters long; at most 2048 are accepted/],
  ])("refuses %s with BAD_CONDITION", (text, message) => {
    const compiled = compileCondition(text);
    expect(compiled).toMatchObject({ ok: false, code: "BAD_CONDITION" });
    expect(compiled.ok || compiled.message).toMatch(message);
  });
});

/** A literal list 0..n-1. */
const literal = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(", ")}]`;
const nestedAll = (depth: number, n: number) => {
  const vars = Array.from({ length: depth }, (_, i) => `v${i}`);
  return vars.reduceRight((inner, v) => `${literal(n)}.all(${v}, ${inner})`, `${vars.join(" + ")} >= 0`);
};

describe("the cost budget", () => {
  const limits = { budget: 20_000, timeLimitMs: 60_000 };

  it.each<[string, string, number | number[]]>([
    ["two nested all() over 80 literals", nestedAll(2, 80), 0.5],
    ["four nested all() over 80 literals (the issue's: hours unbounded)", nestedAll(4, 80), 0.5],
    ["a map of maps", `${literal(80)}.map(a, ${literal(80)}.map(b, ${literal(80)})).size() > 0`, 0.5],
    ["all() over 30,000 values", "result.all(x, x < 1)", Array(30_000).fill(0.5)],
    ["an exceeded budget hidden behind ||", `${nestedAll(3, 80)} || true`, 0.5],
    ["an exceeded budget hidden behind default()", `default(${literal(80)}.map(a, ${literal(80)}.map(b, a))[0], 1) == 1`, 0.5],
  ])("%s is CONDITION_BUDGET_EXCEEDED", (_what, text, result) => {
    expect(() => evaluateCondition(text, result, limits)).toThrow(
      expect.objectContaining({
        code: "CONDITION_BUDGET_EXCEEDED",
        message: expect.stringContaining("exceeded its cost budget of 20000"),
      }),
    );
  });

  it.each<[string, string, number | number[]]>([
    ["all() over 4,000 values", "result.all(x, x < 1)", Array(4_000).fill(0.5)],
    ["one nested all() over 80 literals", nestedAll(1, 80), 0.5],
    ["filter and size over 100 values (filter pays about n²)", "result.filter(x, x > 0.1).size() == 100", Array(100).fill(0.5)],
  ])("%s fits the budget", (_what, text, result) => {
    expect(evaluateCondition(text, result, limits)).toBe(true);
  });

  it("stops at the time limit when the budget is not reached first", () => {
    const started = performance.now();
    expect(() => evaluateCondition(nestedAll(4, 80), 0.5, { budget: Number.MAX_SAFE_INTEGER, timeLimitMs: 50 })).toThrow(
      expect.objectContaining({ code: "CONDITION_BUDGET_EXCEEDED", message: expect.stringContaining("time limit of 50 ms") }),
    );
    // Generous: the check runs every 256 calls, and the machine is shared.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("the default limits stop the issue's condition", () => {
    expect(() => evaluateCondition(nestedAll(4, 80), 0.5)).toThrow(
      expect.objectContaining({ code: "CONDITION_BUDGET_EXCEEDED" }),
    );
  });
});
