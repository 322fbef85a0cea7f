import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../api/rollout.ts";
import { rolloutTransition } from "./transition.ts";

const NOW = new Date("2026-01-01T00:10:00Z");
const unhealthy = (since: string): RolloutStatus["conditions"] => [
  { type: "Healthy", status: "False", lastTransitionTime: since, lastUpdateTime: since },
];
const NOTHING = { aborted: false, promoted: false, rolledBack: false };

describe("rolloutTransition", () => {
  it.each<{ name: string; before: RolloutStatus; after: RolloutStatus; want: object }>([
    {
      name: "nothing changed",
      before: { stableRS: "a", currentPodHash: "b" },
      after: { stableRS: "a", currentPodHash: "b" },
      want: NOTHING,
    },
    {
      name: "an abort",
      before: { stableRS: "a", currentPodHash: "b" },
      after: { stableRS: "a", currentPodHash: "b", abort: true, abortedAt: "t" },
      want: { ...NOTHING, aborted: true },
    },
    {
      name: "an abort already recorded",
      before: { stableRS: "a", currentPodHash: "b", abortedAt: "t" },
      after: { stableRS: "a", currentPodHash: "b", abortedAt: "t" },
      want: NOTHING,
    },
    {
      name: "a promotion, Healthy 5 minutes after the update began",
      before: { stableRS: "a", currentPodHash: "b", phase: "Progressing", conditions: unhealthy("2026-01-01T00:05:00Z") },
      after: { stableRS: "b", currentPodHash: "b", phase: "Healthy" },
      want: { ...NOTHING, promoted: true, healthyAfterSeconds: 300 },
    },
    {
      name: "the first revision is no promotion",
      before: {},
      after: { stableRS: "a", currentPodHash: "a", phase: "Progressing" },
      want: NOTHING,
    },
    {
      name: "back to the stable template mid-update",
      before: { stableRS: "a", currentPodHash: "b", phase: "Degraded", abortedAt: "t" },
      after: { stableRS: "a", currentPodHash: "a", phase: "Progressing" },
      want: { ...NOTHING, rolledBack: true },
    },
    {
      name: "a new revision after a completed one is no rollback",
      before: { stableRS: "a", currentPodHash: "a", phase: "Healthy" },
      after: { stableRS: "a", currentPodHash: "b", phase: "Progressing" },
      want: NOTHING,
    },
    {
      name: "Healthy again without a Healthy condition to date the start",
      before: { stableRS: "a", currentPodHash: "a", phase: "Progressing" },
      after: { stableRS: "a", currentPodHash: "a", phase: "Healthy" },
      want: NOTHING,
    },
    {
      name: "staying Healthy measures nothing",
      before: { stableRS: "a", currentPodHash: "a", phase: "Healthy", conditions: unhealthy("2026-01-01T00:05:00Z") },
      after: { stableRS: "a", currentPodHash: "a", phase: "Healthy" },
      want: NOTHING,
    },
  ])("$name", ({ before, after, want }) => {
    expect(rolloutTransition(before, after, NOW)).toEqual(want);
  });
});
