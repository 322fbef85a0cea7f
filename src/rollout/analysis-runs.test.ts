import { describe, expect, it } from "vitest";
import { resolveRolloutArgs } from "./analysis-runs.ts";
import type { RolloutObject } from "./objects.ts";

const rollout: RolloutObject = {
  apiVersion: "ramp.dev/v1alpha1",
  kind: "Rollout",
  metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
  spec: {},
};
const byHash = (podTemplateHashValue: "Stable" | "Latest" | "Baseline") => ({
  templates: [{ templateName: "judge" }],
  args: [{ name: "hash", valueFrom: { podTemplateHashValue } }],
});

describe("resolveRolloutArgs: pod-template hashes", () => {
  const hashes = { stable: "old", latest: "new" };
  it.each([
    ["Stable", hashes, "old"],
    ["Latest", hashes, "new"],
    ["Baseline", { ...hashes, baseline: "new-baseline" }, "new-baseline"],
  ] as const)("%s", (which, given, value) => {
    expect(resolveRolloutArgs(byHash(which), rollout, given)).toEqual([{ name: "hash", value }]);
  });

  it("Baseline without a baseline says what to enable", () => {
    expect(() => resolveRolloutArgs(byHash("Baseline"), rollout, hashes)).toThrow(
      'analysis argument "hash": podTemplateHashValue Baseline needs strategy.canary.baseline.enabled',
    );
  });
});
