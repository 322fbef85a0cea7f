import { describe, expect, it } from "vitest";
import { JSON_PATH_PATTERN } from "../../../api/analysis.ts";
import { MAX_JSON_PATH_LENGTH, parseJsonPath, selectJsonPath } from "./json-path.ts";
import { resultOf } from "./result.ts";

const doc = {
  data: { ok: true, rate: 0.02, "error-rate": "0.5", name: "x", nested: { a: [1, 2, 3] }, none: null },
  items: [{ value: 1 }, { value: "2" }, { value: false }],
  "a b": 7,
  "it's": 8,
};

describe("parseJsonPath + selectJsonPath: the subset", () => {
  it.each([
    ["$", [doc]],
    ["{$.data.ok}", [true]],
    ["{ $.data.rate }", [0.02]],
    ["$.data.error-rate", ["0.5"]],
    ["$.items[0].value", [1]],
    ["$.items[-1].value", [false]],
    ["$.items[3].value", []],
    ["$.items[*].value", [1, "2", false]],
    ["$.items.*.value", [1, "2", false]],
    ["$['a b']", [7]],
    [`$["it's"]`, [8]],
    ["$['it\\'s']", [8]],
    ["$.data.nested.a", [[1, 2, 3]]],
    ["$.data.missing", []],
    ["$.data.ok.deeper", []],
    ["$.items.value", []],
    ["$.data[0]", []],
    ["$.data.none", [null]],
  ])("%s picks %j", (path, picked) => {
    expect(JSON_PATH_PATTERN.test(path)).toBe(true);
    expect(selectJsonPath(doc, parseJsonPath(path))).toEqual(picked);
  });

  it.each([
    ["$..ok", /recursive descent/],
    ["$.items[?(@.value > 1)]", /filter and script expressions/],
    ["$.items[(@.length-1)]", /filter and script expressions/],
    ["$.items[0:2]", /slices and unions/],
    ["$.items[0,1]", /slices and unions/],
    ["data.ok", /must start with \$/],
    ["{$.data.ok", /must start with \$/],
    ["$.data ok", /unexpected " "/],
    ["$.", /member name/],
    ["$['unterminated]", /expected \[N\]/],
    [`$.${"a".repeat(MAX_JSON_PATH_LENGTH)}`, /at most 256/],
  ])("%s is refused (%s), by the parser and by the schema's pattern", (path, why) => {
    expect(() => parseJsonPath(path)).toThrow(why);
    if (path.length <= MAX_JSON_PATH_LENGTH) expect(JSON_PATH_PATTERN.test(path)).toBe(false);
  });

  it("a hostile long path is refused in linear time", () => {
    const evil = `$[${"'\\".repeat(5000)}`;
    const started = performance.now();
    expect(JSON_PATH_PATTERN.test(evil)).toBe(false);
    expect(() => parseJsonPath(evil)).toThrow(/at most 256/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("resultOf: what the picked values measure", () => {
  it.each([
    ["$.data.ok", 1],
    ["$.data.rate", 0.02],
    ["$.data.error-rate", 0.5],
    ["$.data.nested.a", [1, 2, 3]],
    ["$.items[*].value", [1, 2, 0]],
    ["$.data.missing", undefined],
    ["$.items[*].missing", undefined],
  ])("%s gives %j", (path, value) => {
    expect(resultOf(doc, parseJsonPath(path), path)).toEqual(value);
  });

  it.each([
    [{ v: null }, Number.NaN],
    [{ v: "NaN" }, Number.NaN],
    [{ v: " 3 " }, 3],
    [{ v: [] }, undefined],
    [{ v: false }, 0],
  ])("%j reads as %s", (body, value) => {
    expect(resultOf(body, parseJsonPath("$.v"), "$.v")).toEqual(value);
  });

  it.each([
    [{ v: "healthy" }, /the string "healthy", not a number/],
    [{ v: "" }, /the string ""/],
    [{ v: { a: 1 } }, /an object \{"a":1\}/],
    [{ v: [1, "x"] }, /\$\.v\[1\] gives the string "x"/],
    [{ v: [[1]] }, /an array \[1\]/],
    [{ v: "x".repeat(500) }, /…/],
  ])("%j is WEB_NON_NUMERIC", (body, why) => {
    expect(() => resultOf(body, parseJsonPath("$.v"), "$.v")).toThrow(why);
    expect(() => resultOf(body, parseJsonPath("$.v"), "$.v")).toThrow(expect.objectContaining({ code: "WEB_NON_NUMERIC" }));
  });
});
