import { describe, expect, it } from "vitest";
import { measuredNumber, parseComparison, thresholds } from "./threshold.ts";

describe("parseComparison", () => {
  it.each([
    ["result[0] <= 0.05", { op: "<=", value: 0.05 }],
    ["result < 5", { op: "<", value: 5 }],
    ["  result[0]>=0.95 ", { op: ">=", value: 0.95 }],
    ["result == 3.0", { op: "==", value: 3 }],
    ["0.05 > result[0]", { op: "<", value: 0.05 }],
    ["1e-3 <= result", { op: ">=", value: 0.001 }],
    ["result[0] > -2", { op: ">", value: -2 }],
  ])("%s", (condition, expected) => expect(parseComparison(condition)).toEqual(expected));

  it.each([
    "result[1] < 0.05",
    "result[0] < 0.05 && result[0] > 0",
    "result.all(x, x < 0.05)",
    "size(result) > 2",
    "result < args.max",
    "",
  ])("%s: not a simple comparison", (condition) => expect(parseComparison(condition)).toBeUndefined());
});

describe("thresholds", () => {
  it.each([
    [{ successCondition: "result[0] <= 0.05" }, [{ condition: "success", op: "<=", value: 0.05 }]],
    [
      { successCondition: "result < 1", failureCondition: "result >= 2" },
      [
        { condition: "success", op: "<", value: 1 },
        { condition: "failure", op: ">=", value: 2 },
      ],
    ],
    [{ successCondition: "result.all(x, x < 1)" }, []],
    [{}, []],
  ])("%j", (metric, expected) => expect(thresholds(metric)).toEqual(expected));
});

describe("measuredNumber", () => {
  it.each([
    ["0.02", 0.02],
    ["3", 3],
    ["[0.5, 0.7]", 0.5],
    ["[]", null],
    ["NaN", null],
    ['"text"', null],
    ["", null],
    [undefined, null],
    ["{not json", null],
  ])("%j -> %j", (value, expected) => expect(measuredNumber(value)).toBe(expected));
});
