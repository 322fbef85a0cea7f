import { describe, expect, it } from "vitest";
import { histogramQuantile, increase, rate, sumOf } from "./promql.ts";

const every15 = (values: number[], from = 0) => ({ times: values.map((_, i) => from + i * 15), values });

describe("increase", () => {
  it.each([
    {
      name: "samples on both edges: the plain difference",
      series: every15([0, 10, 20, 30, 40]),
      end: 60,
      range: 60,
      expected: 40,
    },
    { name: "one sample in range: nothing", series: every15([0, 10]), end: 10, range: 5, expected: undefined },
    // Samples at 5..50 in [0, 60]: 45 s sampled, 5 s to the start and 10 s to the end are within
    // 1.1 average gaps, so extrapolated to 60 s: 30 * 60 / 45.
    { name: "extrapolated to the range's edges", series: every15([10, 20, 30, 40], 5), end: 60, range: 60, expected: 40 },
    // Same, but the counter was 0 at 5 s: not extrapolated before zero.
    { name: "not below zero at the start", series: every15([0, 10, 20, 30], 5), end: 60, range: 60, expected: 30 * (55 / 45) },
    // A gap to the start longer than 1.1 gaps: half a gap is added instead.
    { name: "a series that starts late", series: every15([100, 110, 120], 30), end: 60, range: 60, expected: 20 * (37.5 / 30) },
    { name: "a counter reset", series: every15([50, 60, 5, 15, 25]), end: 60, range: 60, expected: 35 },
  ])("$name", ({ series, end, range, expected }) => {
    const got = increase(series, end, range);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 9);
  });
  it("rate is increase per second", () => expect(rate(every15([0, 10, 20, 30, 40]), 60, 60)).toBeCloseTo(40 / 60, 12));
});

describe("sumOf", () => {
  it.each([
    { values: [1, undefined, 2], expected: 3 },
    { values: [undefined], expected: undefined },
    { values: [], expected: undefined },
  ])("$values: $expected", ({ values, expected }) => expect(sumOf(values)).toBe(expected));
});

describe("histogramQuantile", () => {
  const bounds = [0.1, 0.2, 0.5, Number.POSITIVE_INFINITY];
  it.each([
    { name: "the median inside the first bucket", q: 0.5, counts: [60, 90, 99, 100], expected: (0.1 * 50) / 60 },
    { name: "p90 at a bucket's top", q: 0.9, counts: [60, 90, 99, 100], expected: 0.2 },
    { name: "p95 interpolated", q: 0.95, counts: [60, 90, 99, 100], expected: 0.2 + 0.3 * (5 / 9) },
    { name: "in the +Inf bucket: the highest finite bound", q: 0.995, counts: [60, 90, 99, 100], expected: 0.5 },
    { name: "no observations: NaN", q: 0.99, counts: [0, 0, 0, 0], expected: Number.NaN },
    { name: "non-monotonic counts are made monotonic", q: 0.5, counts: [60, 50, 99, 100], expected: (0.1 * 50) / 60 },
  ])("$name", ({ q, counts, expected }) => {
    const got = histogramQuantile(q, bounds, counts);
    if (Number.isNaN(expected)) expect(got).toBeNaN();
    else expect(got).toBeCloseTo(expected, 12);
  });
});
