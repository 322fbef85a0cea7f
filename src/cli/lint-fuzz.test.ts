import { describe, expect, it } from "vitest";
import { fuzz } from "./lint-fuzz.ts";

describe("ramp lint fuzz (a seeded sample of npm run fuzz)", () => {
  it("300 hostile manifests: no crash, and every accepted Rollout is planned without a throw", () => {
    const figures = fuzz(300, 7);
    expect(figures.crashes).toEqual([]);
    expect(figures.cases).toBe(300);
    expect(figures.accepted).toBeGreaterThan(0);
    expect(figures.refused).toBeGreaterThan(0);
  }, 600_000);
});
