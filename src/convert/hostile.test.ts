// Tenants' manifests are hostile input: whatever shape a field has, conversion reports it and goes
// on; it never fails inside (an error finding "cannot convert").
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { convertFiles } from "./convert.ts";

const FIELDS = [
  "spec",
  "strategy",
  "canary",
  "blueGreen",
  "steps",
  "setWeight",
  "pause",
  "duration",
  "analysis",
  "templates",
  "templateName",
  "args",
  "name",
  "value",
  "valueFrom",
  "trafficRouting",
  "istio",
  "nginx",
  "smi",
  "plugins",
  "argoproj-labs/gatewayAPI",
  "httpRoute",
  "httpRoutes",
  "virtualService",
  "routes",
  "managedRoutes",
  "setHeaderRoute",
  "match",
  "metrics",
  "provider",
  "prometheus",
  "query",
  "address",
  "successCondition",
  "count",
  "failureLimit",
  "targetRef",
  "service",
  "port",
  "hosts",
  "gatewayRefs",
  "interval",
  "threshold",
  "stepWeight",
  "stepWeights",
  "maxWeight",
  "iterations",
  "headers",
  "exact",
  "webhooks",
  "type",
  "url",
  "timeout",
  "retries",
  "alerts",
  "providerRef",
  "severity",
  "thresholdRange",
  "min",
  "max",
  "templateRef",
  "metadata",
  "annotations",
  "labels",
];
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 300 }), fc.double(), fc.boolean(), fc.constant(null)),
    fc.array(tie("tree"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie("tree"), { maxKeys: 4 }),
  ),
}));
const KINDS = [
  ["argoproj.io/v1alpha1", "Rollout"],
  ["argoproj.io/v1alpha1", "AnalysisTemplate"],
  ["argoproj.io/v1alpha1", "AnalysisRun"],
  ["flagger.app/v1beta1", "Canary"],
  ["flagger.app/v1beta1", "MetricTemplate"],
  ["flagger.app/v1beta1", "AlertProvider"],
] as const;

describe("hostile input", () => {
  it("is reported, never a failure inside the converter", { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), tree, ([apiVersion, kind], spec) => {
        const text = stringify({ apiVersion, kind, metadata: { name: "x", namespace: "ns" }, spec });
        const { findings } = convertFiles([{ file: "f.yaml", text }]);
        expect(findings.filter((f) => f.message.startsWith("cannot convert"))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
