import { describe, expect, it } from "vitest";
import type { AnalysisTemplate } from "../api/analysis.ts";
import { buildRunSpec, type RunTemplate } from "./run-spec.ts";

type Metric = AnalysisTemplate["spec"]["metrics"][number];
const metric = (name: string): Metric =>
  ({
    name,
    provider: { prometheus: { query: "up" } },
    successCondition: "result > 0",
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 4,
    consecutiveSuccessLimit: 0,
    noData: "inconclusive",
    dryRun: false,
  }) as Metric;

const template = (
  name: string,
  spec: Partial<AnalysisTemplate["spec"]>,
  kind: RunTemplate["kind"] = "AnalysisTemplate",
): RunTemplate => ({
  name,
  kind,
  spec: { metrics: [metric(`${name}-m`)], ...spec },
});

describe("buildRunSpec", () => {
  it("composes metrics, dryRun and retention from several templates", () => {
    const spec = buildRunSpec(
      [
        template("a", { dryRun: [{ metricName: "a-m" }], measurementRetention: [{ metricName: "a-m", limit: 3 }] }),
        template("b", {}, "ClusterAnalysisTemplate"),
      ],
      [],
      ["b-m", "a-m"],
    );
    expect(spec.metrics.map((m) => m.name)).toEqual(["a-m", "b-m"]);
    expect(spec.dryRun).toEqual([{ metricName: "a-m" }, { metricName: "b-m" }]);
    expect(spec.measurementRetention).toEqual([{ metricName: "a-m", limit: 3 }]);
    expect(spec.args).toBeUndefined();
  });

  it.each([
    [
      "a given value wins over the default",
      [{ name: "x", value: "d" }],
      [{ name: "x", value: "v" }],
      [{ name: "x", value: "v" }],
    ],
    ["the default is used when none is given", [{ name: "x", value: "d" }], [], [{ name: "x", value: "d" }]],
    [
      "a secret stays a reference",
      [{ name: "t", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
      [],
      [{ name: "t", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
    ],
    [
      "arguments no template declares are left out",
      [{ name: "x", value: "d" }],
      [{ name: "y", value: "v" }],
      [{ name: "x", value: "d" }],
    ],
  ])("args: %s", (_what, declared, given, expected) => {
    const spec = buildRunSpec([template("a", { args: declared as AnalysisTemplate["spec"]["args"] })], given);
    expect(spec.args).toEqual(expected);
  });

  it.each([
    [
      "a required argument is missing",
      [template("a", { args: [{ name: "svc" }] })],
      'AnalysisTemplate "a": argument "svc" is required (no default)',
    ],
    [
      "a hash argument is not supplied",
      [template("a", { args: [{ name: "h", valueFrom: { podTemplateHashValue: "Latest" } }] })],
      'argument "h" is required (a pod-template hash only a Rollout can supply)',
    ],
    [
      "two templates define the same metric",
      [template("a", {}), { ...template("b", {}, "ClusterAnalysisTemplate"), spec: { metrics: [metric("a-m")] } }],
      'metric "a-m" is defined by both AnalysisTemplate "a" and ClusterAnalysisTemplate "b"',
    ],
    [
      "two templates disagree on a default",
      [template("a", { args: [{ name: "x", value: "1" }] }), template("b", { args: [{ name: "x", value: "2" }] })],
      'AnalysisTemplate "b": argument "x" defaults to "2" but another template says "1"; pass it explicitly',
    ],
    ["no template", [], "no analysis template given"],
  ])("refuses when %s", (_what, templates, message) => {
    expect(() => buildRunSpec(templates, [])).toThrow(message);
  });
});
