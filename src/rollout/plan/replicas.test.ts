import { describe, expect, it } from "vitest";
import { canaryTargets, resolveIntOrPercent, rollingLimits, rollingStep } from "./replicas.ts";

describe("resolveIntOrPercent", () => {
  it.each([
    { value: "25%", total: 10, up: true, expected: 3 },
    { value: "25%", total: 10, up: false, expected: 2 },
    { value: 2, total: 10, up: true, expected: 2 },
    { value: undefined, total: 4, up: false, expected: 1 },
    { value: "0%", total: 10, up: true, expected: 0 },
  ])("$value of $total (round up: $up) is $expected", ({ value, total, up, expected }) => {
    expect(resolveIntOrPercent(value, total, up)).toBe(expected);
  });

  it("never lets both limits be zero", () => {
    expect(rollingLimits(10, 0, 0)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rollingLimits(10, "25%", "25%")).toEqual({ maxSurge: 3, maxUnavailable: 2 });
  });
});

describe("canaryTargets", () => {
  it.each([
    { replicas: 10, weight: 20, scale: undefined, expected: { canary: 2, stable: 8 } },
    { replicas: 10, weight: 25, scale: undefined, expected: { canary: 3, stable: 7 } },
    { replicas: 10, weight: 0, scale: undefined, expected: { canary: 0, stable: 10 } },
    { replicas: 10, weight: 100, scale: undefined, expected: { canary: 10, stable: 0 } },
    { replicas: 3, weight: 5, scale: undefined, expected: { canary: 1, stable: 2 } },
    { replicas: 10, weight: 0, scale: { replicas: 2 }, expected: { canary: 2, stable: 10 } },
    { replicas: 10, weight: 10, scale: { weight: 50 }, expected: { canary: 5, stable: 9 } },
    { replicas: 10, weight: 30, scale: { matchTrafficWeight: true }, expected: { canary: 3, stable: 7 } },
  ])("$replicas replicas at weight $weight, scale $scale", ({ replicas, weight, scale, expected }) => {
    expect(canaryTargets(replicas, weight, scale)).toEqual(expected);
  });
});

describe("rollingStep", () => {
  const limits = (maxSurge: number, maxUnavailable: number) => ({ replicas: 10, maxSurge, maxUnavailable });
  it.each([
    {
      name: "surges the canary up first, within maxSurge",
      sets: [
        { name: "new", replicas: 0, available: 0 },
        { name: "stable", replicas: 10, available: 10 },
      ],
      targets: { new: 2, stable: 8 },
      limits: limits(1, 0),
      expected: { new: 1, stable: 10 },
    },
    {
      name: "scales stable down once the canary is available",
      sets: [
        { name: "new", replicas: 1, available: 1 },
        { name: "stable", replicas: 10, available: 10 },
      ],
      targets: { new: 2, stable: 8 },
      limits: limits(1, 0),
      expected: { new: 1, stable: 9 },
    },
    {
      name: "does not scale stable down while the canary is not available (maxUnavailable 0)",
      sets: [
        { name: "new", replicas: 1, available: 0 },
        { name: "stable", replicas: 10, available: 10 },
      ],
      targets: { new: 2, stable: 8 },
      limits: limits(1, 0),
      expected: { new: 1, stable: 10 },
    },
    {
      name: "with maxSurge 0, makes room by taking down available pods within maxUnavailable",
      sets: [
        { name: "new", replicas: 0, available: 0 },
        { name: "stable", replicas: 10, available: 10 },
      ],
      targets: { new: 5, stable: 5 },
      limits: limits(0, 2),
      expected: { new: 0, stable: 8 },
    },
    {
      name: "removes unavailable pods freely",
      sets: [
        { name: "new", replicas: 5, available: 5 },
        { name: "stable", replicas: 8, available: 5 },
      ],
      targets: { new: 5, stable: 5 },
      limits: limits(0, 0),
      expected: { new: 5, stable: 5 },
    },
    {
      name: "scales an old revision to zero before stable",
      sets: [
        { name: "new", replicas: 2, available: 2 },
        { name: "stable", replicas: 9, available: 9 },
        { name: "old", replicas: 1, available: 1 },
      ],
      targets: { new: 2, stable: 8 },
      limits: limits(1, 1),
      expected: { new: 2, stable: 8, old: 0 },
    },
    {
      name: "on abort brings stable back up first; the canary goes once stable is available",
      sets: [
        { name: "stable", replicas: 5, available: 5 },
        { name: "new", replicas: 5, available: 5 },
      ],
      targets: { stable: 10, new: 0 },
      limits: limits(3, 0),
      expected: { stable: 8, new: 5 },
    },
  ])("$name", ({ sets, targets, limits, expected }) => {
    expect(rollingStep(sets, targets, limits)).toEqual(expected);
  });

  it("converges to the targets and never breaks its limits", () => {
    let sets = [
      { name: "new", replicas: 0, available: 0 },
      { name: "stable", replicas: 10, available: 10 },
    ];
    const lim = limits(2, 1);
    for (let i = 0; i < 20; i++) {
      const next = rollingStep(sets, { new: 6, stable: 4 }, lim);
      // Pods become available between reconciles; removed ones go at once.
      sets = sets.map((s) => ({ name: s.name, replicas: next[s.name] ?? 0, available: next[s.name] ?? 0 }));
      const total = sets.reduce((n, s) => n + s.replicas, 0);
      expect(total).toBeLessThanOrEqual(12);
      expect(total).toBeGreaterThanOrEqual(9);
    }
    expect(sets).toEqual([
      { name: "new", replicas: 6, available: 6 },
      { name: "stable", replicas: 4, available: 4 },
    ]);
  });
});
