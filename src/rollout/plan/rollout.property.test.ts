// The planner's arithmetic at the schema's edges: every count, percentage, duration and delay the
// schema accepts, at its maximum too, planned at any time, mid-rollout or fresh, must give finite,
// whole, non-negative replica counts, valid times and a finite requeue, and never throw.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_DURATION_SECONDS } from "../../api/duration.ts";
import { type RolloutStatus, rolloutSpec } from "../../api/rollout.ts";
import { replicaSet } from "./fixtures.ts";
import { planRollout } from "./rollout.ts";
import type { Observed } from "./types.ts";

/** ReplicaSet counts are int32 in the apiserver, so observed ones are too. */
const observedCount = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.constant(2 ** 31 - 1),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }),
);
const count = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(2 ** 31 - 1, Number.MAX_SAFE_INTEGER), fc.nat());
const seconds = fc.oneof(
  fc.integer({ min: 0, max: 120 }),
  fc.constant(MAX_DURATION_SECONDS),
  fc.integer({ min: 0, max: MAX_DURATION_SECONDS }),
);
const duration = fc.oneof(
  seconds.map((s) => `${s}s`),
  fc.constantFrom("8760h", "525600m", "0s", "1ms"),
);
const surge = fc.oneof(
  count,
  fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`),
);
const step = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((setWeight) => ({ setWeight })),
  duration.map((d) => ({ pause: { duration: d } })),
  fc.constant({ pause: {} }),
  fc.record({ replicas: count }).map((setCanaryScale) => ({ setCanaryScale })),
  fc.integer({ min: 0, max: 100 }).map((weight) => ({ setCanaryScale: { weight } })),
);
/** Any time from 1970 to 2200: the controller's clock, and times it wrote into the status. */
const time = fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }).map((ms) => new Date(ms));

const canarySpec = fc
  .record({
    replicas: count,
    steps: fc.array(step, { maxLength: 6 }),
    maxSurge: surge,
    maxUnavailable: surge,
    scaleDownDelaySeconds: seconds,
    abortScaleDownDelaySeconds: seconds,
    progressDeadlineSeconds: seconds,
    minReadySeconds: seconds,
  })
  .map(({ replicas, progressDeadlineSeconds, minReadySeconds, ...canary }) =>
    rolloutSpec.safeParse({
      replicas,
      progressDeadlineSeconds,
      minReadySeconds,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
      strategy: { canary },
    }),
  )
  .filter((parsed) => parsed.success)
  .map((parsed) => parsed.data);

const observed = fc
  .record({
    spec: canarySpec,
    now: time,
    since: time,
    stepIndex: fc.integer({ min: 0, max: 7 }),
    stable: observedCount,
    canary: observedCount,
    fresh: fc.boolean(),
    aborted: fc.boolean(),
  })
  .map(({ spec, now, since, stepIndex, stable, canary, fresh, aborted }): Observed => {
    const at = since.toISOString();
    const status: RolloutStatus = fresh
      ? {}
      : ({
          currentPodHash: "new",
          stableRS: "old",
          currentStepIndex: stepIndex,
          pauseConditions: [{ reason: "CanaryPauseStep", startTime: at }],
          conditions: [
            { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastUpdateTime: at, lastTransitionTime: at },
          ],
          ...(aborted ? { abort: true, abortedAt: at } : {}),
        } as RolloutStatus);
    return {
      name: "web",
      generation: 2,
      spec,
      status,
      templateHash: "new",
      replicaSets: fresh ? [] : [replicaSet("old", stable, { scaleDownAt: at }), replicaSet("new", canary)],
      analysisRuns: [],
      revisions: [],
      services: {},
      now,
    };
  });

const wholeCount = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

describe("planRollout at the schema's edges (fast-check, seeded)", () => {
  it("never throws; replica counts are whole and non-negative, times valid, the requeue finite", () => {
    fc.assert(
      fc.property(observed, (o) => {
        const plan = planRollout(o);
        if (plan.requeueAfterMs !== undefined) {
          expect(Number.isFinite(plan.requeueAfterMs)).toBe(true);
          expect(plan.requeueAfterMs).toBeGreaterThanOrEqual(0);
        }
        for (const action of plan.actions) {
          if ("replicas" in action) expect(wholeCount(action.replicas), JSON.stringify(action)).toBe(true);
          if (action.type === "setScaleDownAt" && action.at !== null) expect(Number.isNaN(Date.parse(action.at))).toBe(false);
        }
        for (const n of [plan.status.replicas, plan.status.updatedReplicas, plan.status.availableReplicas])
          if (n !== undefined) expect(wholeCount(n)).toBe(true);
        expect(JSON.stringify(plan.status)).not.toMatch(/null|NaN|Infinity/);
      }),
      { numRuns: 2000, seed: 13 },
    );
  }, 120_000);
});
