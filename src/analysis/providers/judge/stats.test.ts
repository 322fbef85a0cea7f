// Reference numbers from an independent script (Python stdlib only: brute-force enumeration of
// every ordering for exact p-values, exact rationals for Fisher, math.erfc for the normal tail),
// and textbook values: scipy's documented Mann-Whitney example and Fisher's tea-tasting table.
import { describe, expect, it } from "vitest";
import { compareProportions, fisherExact, mannWhitney, median, normalSf, relativeChange, twoProportionZ } from "./stats.ts";

/** Within a relative error `tol` (the erfc fit is good to 1.2e-7). */
const expectNear = (actual: number, expected: number, tol = 1e-6) =>
  expect(Math.abs(actual - expected) / Math.abs(expected), `${actual} vs ${expected}`).toBeLessThan(tol);

const males = [19, 22, 16, 29, 24];
const females = [20, 11, 17, 12];
const a = [3.1, 4.7, 5.2, 6.0, 7.4, 8.8, 9.1];
const b = [1.2, 2.5, 2.9, 3.3, 4.0, 5.5];
const tiesX = [1, 2, 2, 3, 3, 3, 4, 5];
const tiesY = [2, 3, 4, 4, 5, 5, 6, 7, 7];
const bigX = Array.from({ length: 30 }, (_, i) => i * 1.5 + 10);
const bigY = Array.from({ length: 30 }, (_, i) => i * 1.4);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("normalSf", () => {
  it.each([
    { z: 0, p: 0.5 },
    { z: 1.959963984540054, p: 0.025 },
    { z: -1.6448536269514722, p: 0.95 },
    { z: 6, p: 9.865876450377012e-10 },
  ])("P(Z > $z) = $p", ({ z, p }) => expectNear(normalSf(z), p));
});

describe("mannWhitney", () => {
  it.each([
    { name: "scipy's example, exact", x: males, y: females, alt: "two-sided", u: 17, p: 0.1111111111111111, exact: true },
    { name: "separated samples", x: [1, 2, 3], y: [4, 5, 6], alt: "less", u: 0, p: 0.05, exact: true },
    { name: "exact, greater", x: a, y: b, alt: "greater", u: 37, p: 0.011072261072261072, exact: true },
    { name: "exact, less", x: a, y: b, alt: "less", u: 37, p: 0.993006993006993, exact: true },
    { name: "exact, two-sided", x: a, y: b, alt: "two-sided", u: 37, p: 0.022144522144522144, exact: true },
    { name: "ties, greater", x: tiesX, y: tiesY, alt: "greater", u: 13.5, p: 0.9876172774448116, exact: false },
    { name: "ties, less", x: tiesX, y: tiesY, alt: "less", u: 13.5, p: 0.015879478574031873, exact: false },
    { name: "ties, two-sided", x: tiesX, y: tiesY, alt: "two-sided", u: 13.5, p: 0.031758957148063746, exact: false },
    { name: "60 values, greater", x: bigX, y: bigY, alt: "greater", u: 656.5, p: 0.0011609516374809204, exact: false },
    { name: "60 values, two-sided", x: bigX, y: bigY, alt: "two-sided", u: 656.5, p: 0.002321903274961841, exact: false },
    // The largest exact case: 1 / C(50, 25); the counts stay exact integers in doubles.
    {
      name: "50 values, separated",
      x: range(26, 50),
      y: range(1, 25),
      alt: "greater",
      u: 625,
      p: 1 / 126410606437752,
      exact: true,
    },
  ] as const)("$name: U $u, p $p", ({ x, y, alt, u, p, exact }) => {
    const test = mannWhitney(x, y, alt);
    expect(test.u).toBe(u);
    expect(test.exact).toBe(exact);
    expectNear(test.p, p);
  });

  it("uses the normal approximation once a tie appears", () => {
    const test = mannWhitney([...males, 19], [...females, 19], "two-sided");
    expect(test).toMatchObject({ u: 24, exact: false });
    expectNear(test.p, 0.11730556401208675);
  });

  it.each(["greater", "less", "two-sided"] as const)("gives p = 1 when every value is equal (%s)", (alt) => {
    expect(mannWhitney([2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2], alt).p).toBe(1);
  });

  it("ranks infinities last", () => {
    expect(mannWhitney([Number.POSITIVE_INFINITY, 5], [1, 2], "greater").u).toBe(4);
  });
});

describe("fisherExact", () => {
  it.each([
    { name: "tea tasting, greater", c: [3, 4], b: [1, 4], alt: "greater", p: 0.24285714285714285 },
    { name: "tea tasting, less", c: [3, 4], b: [1, 4], alt: "less", p: 0.9857142857142858 },
    { name: "tea tasting, two-sided", c: [3, 4], b: [1, 4], alt: "two-sided", p: 0.4857142857142857 },
    { name: "5 of 1000 against 0 of 10000", c: [5, 1000], b: [0, 10000], alt: "greater", p: 6.1529299035346605e-6 },
    { name: "5 of 1000 against 0 of 10000, two-sided", c: [5, 1000], b: [0, 10000], alt: "two-sided", p: 6.1529299035346605e-6 },
    { name: "2 of 50 against 1 of 60, greater", c: [2, 50], b: [1, 60], alt: "greater", p: 0.4313780001853396 },
    { name: "2 of 50 against 1 of 60, less", c: [2, 50], b: [1, 60], alt: "less", p: 0.9091835789083496 },
    { name: "2 of 50 against 1 of 60, two-sided", c: [2, 50], b: [1, 60], alt: "two-sided", p: 0.589936057825966 },
    { name: "no errors at all", c: [0, 100], b: [0, 100], alt: "greater", p: 1 },
  ] as const)("$name: p $p", ({ c, b, alt, p }) => {
    expectNear(fisherExact({ errors: c[0], total: c[1] }, { errors: b[0], total: b[1] }, alt), p);
  });
});

describe("twoProportionZ", () => {
  it.each([
    { alt: "greater", p: 0.0012955253631271519 },
    { alt: "less", p: 0.9987044746368728 },
    { alt: "two-sided", p: 0.0025910507262543038 },
  ] as const)("60 of 1000 against 400 of 10000, $alt: p $p", ({ alt, p }) => {
    const test = twoProportionZ({ errors: 60, total: 1000 }, { errors: 400, total: 10000 }, alt);
    expectNear(test.z, 3.012500425772462);
    expectNear(test.p, p);
  });

  it("gives p = 1 when neither side has an error", () => {
    expect(twoProportionZ({ errors: 0, total: 10 }, { errors: 0, total: 10 }, "greater")).toEqual({ z: 0, p: 1 });
  });
});

describe("compareProportions", () => {
  it.each([
    { name: "a handful of errors: Fisher", c: { errors: 5, total: 1000 }, b: { errors: 0, total: 10000 }, test: "fisher" },
    { name: "plenty of errors: the z-test", c: { errors: 60, total: 1000 }, b: { errors: 400, total: 10000 }, test: "z-test" },
    {
      name: "fractional counts are rounded",
      c: { errors: 4.6, total: 999.7 },
      b: { errors: 0.2, total: 10000.1 },
      test: "fisher",
    },
  ])("$name", ({ c, b, test }) => {
    const result = compareProportions(c, b, "greater");
    expect(result.test).toBe(test);
    expect(result.p).toBeLessThan(0.01);
  });
});

describe("median and relativeChange", () => {
  it.each([
    { values: [3, 1, 2], expected: 2 },
    { values: [4, 1, 3, 2], expected: 2.5 },
    { values: [], expected: Number.NaN },
  ])("median of $values is $expected", ({ values, expected }) => expect(median(values)).toBe(expected));

  it.each([
    { canary: 1.3, baseline: 1, expected: 0.3 },
    { canary: 0.5, baseline: 1, expected: -0.5 },
    { canary: 0, baseline: 0, expected: 0 },
    { canary: 0.005, baseline: 0, expected: Number.POSITIVE_INFINITY },
  ])("$canary against $baseline is $expected", ({ canary, baseline, expected }) =>
    expect(relativeChange(canary, baseline)).toBeCloseTo(expected, 12),
  );
});
