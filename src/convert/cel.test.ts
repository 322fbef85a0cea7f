import { describe, expect, it } from "vitest";
import { compileCondition, evaluateCondition } from "../analysis/conditions.ts";
import { argoConditionToCel } from "./cel.ts";

describe("Argo conditions as CEL", () => {
  it.each([
    ["result[0] >= 0.95", "result[0] >= 0.95"],
    ["result < 0.01", "result < 0.01"],
    ["len(result) == 0", "size(result) == 0"],
    ["isNaN(result[0]) || result[0] < 1", "isNaN(result[0]) || result[0] < 1"],
    ["result[0] > 0 and not isNaN(result[0])", "result[0] > 0 && !isNaN(result[0])"],
    ["result[0] > 1 or result[1] > 1", "result[0] > 1 || result[1] > 1"],
    ["all(result, {# > 0.9})", "result.all(x, x > 0.9)"],
    ["any(result, {# < 0.5})", "result.exists(x, x < 0.5)"],
    ["none(result, {# == 0})", "!result.exists(x, x == 0)"],
    ["one(result, {# > 5})", "result.exists_one(x, x > 5)"],
    ["count(result, {# > 1}) < 2", "size(result.filter(x, x > 1)) < 2"],
    ["all(result, {any(result, {# > 1})})", "result.all(x, result.exists(x1, x1 > 1))"],
    ["default(result[0], 0) >= 10", "default(result[0], 0) >= 10"],
    ["asFloat(result[0]) * 100 > 5", "double(result[0]) * 100 > 5"],
    ["(result[0] + result[1]) / 2 < 3", "(result[0] + result[1]) / 2 < 3"],
    ["result[0] > 1 ? true : false", "result[0] > 1 ? true : false"],
    ["result[0] in [1, 2]", "result[0] in [1, 2]"],
  ])("%s -> %s", (argo, cel) => {
    expect(argoConditionToCel(argo)).toEqual({ ok: true, cel });
    expect(compileCondition(cel).ok).toBe(true);
  });

  it.each([
    ["result == nil", /nil/],
    ["sum(result) > 3", /sum\(\) has no CEL equivalent/],
    ["result.ok == true", /member access/],
    ["result[0] ** 2 > 1", /\*\* has no CEL equivalent/],
    ["result[0:2]", /slices/],
    ["foo > 1", /unknown name "foo"/],
    ["result[0] > @", /unexpected character/],
    ["len(result, 1) > 0", /takes 1 argument/],
    ["# > 1", /# outside a predicate/],
  ])("refuses %s", (argo, why) => {
    const t = argoConditionToCel(argo);
    expect(t.ok).toBe(false);
    expect(t.ok ? "" : t.why).toMatch(why);
  });

  it.each([
    ["result[0] >= 0.95", [0.97], true],
    ["result[0] >= 0.95", [0.9], false],
    ["all(result, {# > 0.9})", [0.95, 0.99], true],
    ["all(result, {# > 0.9})", [0.95, 0.5], false],
    ["len(result) == 0 || result[0] < 1", [0.5], true],
  ])("%s over %j means what it meant to Argo: %s", (argo, values, expected) => {
    const t = argoConditionToCel(argo);
    if (!t.ok) throw new Error(t.why);
    expect(evaluateCondition(t.cel, values)).toBe(expected);
  });
});
