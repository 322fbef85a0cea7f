import { describe, expect, it } from "vitest";
import { binomial, gamma, multinomial, normal, poisson, seeded, seedOf } from "./random.ts";

const draws = (n: number, f: () => number) => Array.from({ length: n }, f);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};
const N = 20_000;

describe("seeded", () => {
  it("gives the same stream for the same seed, and another for another", () => {
    const [a, b, c] = [seeded(7), seeded(7), seeded(8)];
    const first = draws(5, a);
    expect(draws(5, b)).toEqual(first);
    expect(draws(5, c)).not.toEqual(first);
  });
  it("stays inside (0, 1)", () => {
    const u = seeded(1);
    for (const x of draws(N, u)) expect(x > 0 && x < 1).toBe(true);
  });
  it("mixes seeds from several parts", () => {
    expect(seedOf(1, 2)).toBe(seedOf(1, 2));
    expect(new Set([seedOf(1, 2), seedOf(2, 1), seedOf(1, 3), seedOf(0, 0)]).size).toBe(4);
  });
});

// Mean and variance of N draws within 5 standard errors (the variance's error is about
// sigma² * sqrt(2 / N) for these nearly normal sums; 6 of them, as a margin for skew).
describe.each([
  { name: "Poisson(0.5)", draw: (u: () => number) => poisson(u, 0.5), m: 0.5, v: 0.5, counts: true },
  { name: "Poisson(12)", draw: (u: () => number) => poisson(u, 12), m: 12, v: 12, counts: true },
  { name: "Poisson(900) (PTRS)", draw: (u: () => number) => poisson(u, 900), m: 900, v: 900, counts: true },
  { name: "Binomial(60, 0.01)", draw: (u: () => number) => binomial(u, 60, 0.01), m: 0.6, v: 0.594, counts: true },
  { name: "Binomial(6000, 0.002)", draw: (u: () => number) => binomial(u, 6000, 0.002), m: 12, v: 11.976, counts: true },
  {
    name: "Binomial(6000, 0.01) (beta rounds)",
    draw: (u: () => number) => binomial(u, 6000, 0.01),
    m: 60,
    v: 59.4,
    counts: true,
  },
  { name: "Binomial(1500, 0.9)", draw: (u: () => number) => binomial(u, 1500, 0.9), m: 1350, v: 135, counts: true },
  { name: "Gamma(0.5)", draw: (u: () => number) => gamma(u, 0.5), m: 0.5, v: 0.5, counts: false },
  { name: "Gamma(40)", draw: (u: () => number) => gamma(u, 40), m: 40, v: 40, counts: false },
  { name: "normal", draw: normal, m: 0, v: 1, counts: false },
])("$name", ({ draw, m, v, counts }) => {
  const u = seeded(seedOf(m * 1000, v * 1000));
  const xs = draws(N, () => draw(u));
  it(`has mean ${m}`, () => expect(Math.abs(mean(xs) - m)).toBeLessThan(5 * Math.sqrt(v / N)));
  it(`has variance ${v}`, () => expect(Math.abs(variance(xs) - v)).toBeLessThan(6 * v * Math.sqrt(2 / N)));
  if (counts) it("gives whole numbers", () => expect(xs.every(Number.isInteger)).toBe(true));
});

describe("binomial edges", () => {
  const u = seeded(3);
  it.each([
    { n: 0, p: 0.5, k: 0 },
    { n: 10, p: 0, k: 0 },
    { n: 10, p: 1, k: 10 },
  ])("Binomial($n, $p) is $k", ({ n, p, k }) => expect(binomial(u, n, p)).toBe(k));
  it("never exceeds n", () => {
    for (let i = 0; i < 2000; i++) expect(binomial(u, 37, 0.7)).toBeLessThanOrEqual(37);
  });
});

describe("multinomial", () => {
  it("spreads exactly n, each cell near n·p", () => {
    const u = seeded(5);
    const probs = [0.5, 0.3, 0.15, 0.05];
    const totals = [0, 0, 0, 0];
    for (let i = 0; i < 2000; i++) {
      const counts = multinomial(u, 1000, probs);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
      counts.forEach((c, j) => {
        totals[j] = (totals[j] as number) + c;
      });
    }
    for (const [j, t] of totals.entries()) expect(Math.abs(t / 2_000_000 - (probs[j] as number))).toBeLessThan(0.002);
  });
});
