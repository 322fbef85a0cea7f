import { describe, expect, it } from "vitest";
import { durationFlag, formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.ts";
import { validateObject } from "./validate.ts";

describe("parseDuration", () => {
  it.each<[number | string, number]>([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1.5h", 5_400_000],
    ["1m30s500ms", 90_500],
    ["500us", 0.5],
    ["500µs", 0.5],
    ["1000000ns", 1],
    ["0s", 0],
    ["8760h", MAX_DURATION_MS],
    [0, 0],
    [45, 45_000],
    [31_536_000, MAX_DURATION_MS],
  ])("%j is %d ms", (value, ms) => {
    expect(parseDuration(value)).toEqual({ ok: true, ms });
  });

  it.each<[number | string, RegExp]>([
    ["10x5m", /must be a duration like 30s/],
    ["1d", /must be a duration like 30s/],
    ["1h-5m", /must be a duration like 30s/],
    ["-5m", /must be a duration like 30s/],
    ["", /must be a duration like 30s/],
    ["30", /must be a duration like 30s/],
    [" 30s", /must be a duration like 30s/],
    ["30S", /must be a duration like 30s/],
    [".5s", /must be a duration like 30s/],
    ["1e3s", /must be a duration like 30s/],
    ["8761h", /must be at most 8760h/],
    ["9007199254740991s", /must be at most 8760h/],
    [`${"9".repeat(400)}h`, /must be at most 8760h/],
    [31_536_001, /must be at most 8760h/],
    [9_007_199_254_740_991, /must be at most 8760h/],
    [-1, /must be whole seconds/],
    [1.5, /must be whole seconds/],
    [Number.NaN, /must be whole seconds/],
  ])("%j is refused: %s", (value, message) => {
    const parsed = parseDuration(value);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok || parsed.message).toMatch(message);
  });

  it.each([
    ["90s", 60_000, false],
    ["1m", 60_000, true],
  ])("%s against a maximum of %d ms: %s", (value, maxMs, ok) => {
    expect(parseDuration(value, maxMs).ok).toBe(ok);
  });
});

describe("durationFlag", () => {
  it("reads a Go-style flag value", () => expect(durationFlag("--timeout", "90s")).toBe(90_000));
  it.each([["30"], ["1d"], ["soon"]])("refuses %j, naming the flag", (value) => {
    expect(() => durationFlag("--timeout", value)).toThrow(/^--timeout: must be a duration like 30s/);
  });
});

describe("formatDuration", () => {
  it.each([
    [MAX_DURATION_MS, "8760h"],
    [600_000, "10m"],
    [90_000, "90s"],
    [1_500, "1500ms"],
  ])("%d ms is %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});

const problemsOf = (doc: unknown) => {
  const validation = validateObject(doc);
  return validation.status === "checked" ? validation.problems : [];
};

/** A minimal canary Rollout with `spec` fields replaced. */
const rolloutWith = (spec: Record<string, unknown>, step: Record<string, unknown> = { pause: { duration: "30s" } }) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "Rollout",
  metadata: { name: "web", namespace: "shop" },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    strategy: { canary: { steps: [step] } },
    ...spec,
  },
});

describe("durations and delays in the schema (lint and the CRD's rules)", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined]>([
    ["a 600h pause", {}, { pause: { duration: "600h" } }],
    ["a pause of whole seconds", {}, { pause: { duration: 3600 } }],
    ["progressDeadlineSeconds 2,600,000", { progressDeadlineSeconds: 2_600_000 }, undefined],
    ["scaleDownDelaySeconds of a year", { strategy: { canary: { scaleDownDelaySeconds: 31_536_000 } } }, undefined],
  ])("accepts %s", (_what, spec, step) => {
    expect(problemsOf(rolloutWith(spec, step))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined, string]>([
    ["a pause of 10x5m", {}, { pause: { duration: "10x5m" } }, "spec.strategy.canary.steps[0].pause.duration"],
    ["a pause of 1d", {}, { pause: { duration: "1d" } }, "spec.strategy.canary.steps[0].pause.duration"],
    ["a pause past a year", {}, { pause: { duration: "8761h" } }, "spec.strategy.canary.steps[0].pause.duration"],
    ["a pause of a bare number in a string", {}, { pause: { duration: "30" } }, "spec.strategy.canary.steps[0].pause.duration"],
    [
      "scaleDownDelaySeconds 9007199254740991",
      { strategy: { canary: { scaleDownDelaySeconds: 9_007_199_254_740_991, steps: [] } } },
      undefined,
      "spec.strategy.canary.scaleDownDelaySeconds",
    ],
    ["progressDeadlineSeconds past a year", { progressDeadlineSeconds: 31_536_001 }, undefined, "spec.progressDeadlineSeconds"],
  ])("refuses %s at %s", (_what, spec, step, path) => {
    expect(problemsOf(rolloutWith(spec, step)).map((p) => p.path.join("."))).toContain(path.replace(/\[(\d+)\]/g, ".$1"));
  });
});
