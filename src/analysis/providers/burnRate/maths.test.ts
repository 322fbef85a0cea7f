import { describe, expect, it } from "vitest";
import { budgetRemaining, budgetSpent, burnRate, burnRateDecision, canaryPairs, factorFor, WORKBOOK_PAIRS } from "./maths.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const PERIOD = 30 * DAY;

// The SRE workbook, chapter 5 "Alerting on SLOs", for a 99.9% SLO over 30 days.
describe("the workbook's factors", () => {
  it.each([
    { name: "page: 2% of the budget in 1h", share: 0.02, window: HOUR, factor: 14.4 },
    { name: "page: 5% of the budget in 6h", share: 0.05, window: 6 * HOUR, factor: 6 },
    { name: "ticket: 10% of the budget in 3 days", share: 0.1, window: 3 * DAY, factor: 1 },
  ])("$name is $factor", ({ share, window, factor }) => {
    expect(factorFor(share, window, PERIOD)).toBeCloseTo(factor, 10);
    expect(budgetSpent(factor, window, PERIOD)).toBeCloseTo(share, 10);
  });
});

describe("burnRate", () => {
  it.each([
    { name: "errors at the budget's pace", ratio: 0.001, objective: 0.999, rate: 1 },
    { name: "the 1h page's error ratio", ratio: 0.0144, objective: 0.999, rate: 14.4 },
    { name: "the 6h page's error ratio", ratio: 0.006, objective: 0.999, rate: 6 },
    { name: "no errors", ratio: 0, objective: 0.999, rate: 0 },
    { name: "all errors against 99.9%", ratio: 1, objective: 0.999, rate: 1000 },
    { name: "a 99% objective is ten times as lenient", ratio: 0.0144, objective: 0.99, rate: 1.44 },
  ])("$name: $rate x", ({ ratio, objective, rate }) => expect(burnRate(ratio, objective)).toBeCloseTo(rate, 9));

  // The workbook's table: at 1000x a 30-day budget is gone in 43 minutes; at 10x in 3 days.
  it.each([
    { rate: 1, exhaustedIn: 30 * DAY },
    { rate: 2, exhaustedIn: 15 * DAY },
    { rate: 10, exhaustedIn: 3 * DAY },
    { rate: 1000, exhaustedIn: 43.2 * MINUTE },
  ])("at $rate x the whole budget goes in $exhaustedIn ms", ({ rate, exhaustedIn }) =>
    expect(budgetSpent(rate, exhaustedIn, PERIOD)).toBeCloseTo(1, 10),
  );
});

describe("budgetRemaining", () => {
  it.each([
    { ratio: 0, remaining: 1 },
    { ratio: 0.0005, remaining: 0.5 },
    { ratio: 0.001, remaining: 0 },
    { ratio: 0.002, remaining: -1 },
  ])("errors $ratio of 99.9% leave $remaining", ({ ratio, remaining }) =>
    expect(budgetRemaining(ratio, 0.999)).toBeCloseTo(remaining, 9),
  );
});

describe("burnRateDecision over the workbook's pairs", () => {
  const r = (long: number | undefined, short: number | undefined) => ({ long, short });
  it.each([
    { name: "healthy", ratios: [r(0.0005, 0.0005), r(0.0005, 0.0005)], firing: [false, false], noData: false },
    {
      name: "an outage: both windows of the 1h pair above 14.4x",
      ratios: [r(0.02, 0.05), r(0.004, 0.05)],
      firing: [true, false],
      noData: false,
    },
    // The short window is why the alert resets: the long hour still remembers the outage.
    {
      name: "over, recovering: the 5m window is clean",
      ratios: [r(0.02, 0.0001), r(0.008, 0.0001)],
      firing: [false, false],
      noData: false,
    },
    {
      name: "a slow burn: 6h pair above 6x, 1h pair below 14.4x",
      ratios: [r(0.007, 0.007), r(0.007, 0.007)],
      firing: [false, true],
      noData: false,
    },
    {
      name: "exactly the factor does not fire",
      ratios: [r(0.0144, 0.0144), r(0.006, 0.006)],
      firing: [false, false],
      noData: false,
    },
    { name: "a short spike alone does not fire", ratios: [r(0.001, 0.5), r(0.001, 0.5)], firing: [false, false], noData: false },
    {
      name: "no traffic in the short window: no data",
      ratios: [r(0.0001, undefined), r(0.0001, 0)],
      firing: [false, false],
      noData: true,
    },
    { name: "NaN (0/0) is no data", ratios: [r(Number.NaN, Number.NaN), r(0, 0)], firing: [false, false], noData: true },
    {
      name: "one pair firing wins over another without data",
      ratios: [r(undefined, undefined), r(0.01, 0.01)],
      firing: [false, true],
      noData: false,
    },
  ])("$name", ({ ratios, firing, noData }) => {
    const decision = burnRateDecision(0.999, WORKBOOK_PAIRS, ratios);
    expect(decision.pairs.map((p) => p.firing)).toEqual(firing);
    expect(decision.firing).toBe(firing.includes(true));
    expect(decision.noData).toBe(noData);
  });

  it("reports each window's burn rate", () => {
    const [page] = burnRateDecision(0.999, WORKBOOK_PAIRS, [r(0.02, 0.05)]).pairs;
    expect(page?.longBurnRate).toBeCloseTo(20, 9);
    expect(page?.shortBurnRate).toBeCloseTo(50, 9);
  });
});

describe("canaryPairs", () => {
  it.each([
    {
      interval: MINUTE,
      pairs: [
        [12 * MINUTE, MINUTE],
        [36 * MINUTE, 3 * MINUTE],
      ],
    },
    {
      interval: 5 * MINUTE,
      pairs: [
        [HOUR, 5 * MINUTE],
        [3 * HOUR, 15 * MINUTE],
      ],
    },
    {
      name: "too short an interval is raised to a minute",
      interval: 10_000,
      pairs: [
        [12 * MINUTE, MINUTE],
        [36 * MINUTE, 3 * MINUTE],
      ],
    },
    {
      name: "a yearly interval scales to a week at most (not 36 years of PromQL)",
      interval: 365 * DAY,
      pairs: [
        [56 * HOUR, (14 * HOUR) / 3],
        [7 * DAY, 14 * HOUR],
      ],
    },
  ])("interval $interval ms", ({ interval, pairs }) => {
    const scaled = canaryPairs(interval);
    expect(scaled.map((p) => [p.longMs, p.shortMs])).toEqual(pairs);
    expect(scaled.map((p) => p.factor)).toEqual([14.4, 6]);
    // The workbook's proportion: the short window is 1/12 of the long one.
    for (const p of scaled) expect(p.shortMs * 12).toBe(p.longMs);
  });
});
