// The status step on a fake apiserver: the notifier is told first, the status is written only when it
// changed (guarded by the resourceVersion read), and Events follow in the background.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import type { RolloutStatus } from "../../api/rollout.ts";
import type { RolloutObject } from "../objects.ts";
import type { Action } from "../plan/types.ts";
import { rolloutObject, type ShellFixture, shellFixture, spec } from "./fixtures.ts";
import { reportRoutingFailed, reportUnreadable, settle } from "./status.ts";

const STATUS = `/apis/${API_VERSION}/namespaces/ns/rollouts/web/status`;
const EVENTS = "/api/v1/namespaces/ns/events";
const NOW = new Date("2026-12-02T00:00:00Z");
const moved: Action[] = [{ type: "event", reason: "StepCompleted", message: "step 1 of 2 completed" }];

describe("the status step", () => {
  let f: ShellFixture;
  const told: string[] = [];
  const stored = () => f.apiserver.object<RolloutObject>(API_VERSION, "Rollout", "web", "ns") as RolloutObject;
  const fresh = (status: RolloutStatus = {}) => {
    // A new resourceVersion each time, as another writer's would be.
    f.apiserver.put({ ...rolloutObject(spec(), { resourceVersion: undefined }), status } as RolloutObject);
    return stored();
  };
  beforeAll(async () => {
    f = await shellFixture();
    f.ctx.notifier = {
      enqueue: async (_r, status, events) => {
        // The notifier hears of the events before the status recording them is written.
        told.push(
          `${events.map((e) => e.reason).join(",")} before status step ${(stored().status as RolloutStatus | undefined)?.currentStepIndex ?? "none"}`,
        );
        void status;
      },
    };
  });
  afterAll(() => f.apiserver.stop());

  it("tells the notifier, writes the status, then records the Events", async () => {
    const rollout = fresh({ currentStepIndex: 0 });
    await settle(f.ctx, rollout, rollout.status as RolloutStatus, { currentStepIndex: 1 }, moved, NOW);
    expect(told).toEqual(["StepCompleted before status step 0"]);
    expect(stored().status).toEqual({ currentStepIndex: 1 });
    await expect.poll(() => f.apiserver.calls).toContain(`POST ${EVENTS}`);
  });

  it("an unchanged status is not written", async () => {
    const rollout = fresh({ currentStepIndex: 1 });
    const before = f.apiserver.calls.length;
    await settle(f.ctx, rollout, { currentStepIndex: 1 }, { currentStepIndex: 1 }, [], NOW);
    expect(f.apiserver.calls.slice(before)).toEqual([]);
  });

  it("a status changed meanwhile fails the reconcile, to run again on fresh data", async () => {
    const rollout = fresh({ currentStepIndex: 1 });
    fresh({ currentStepIndex: 1, message: "someone else's write" });
    await expect(settle(f.ctx, rollout, { currentStepIndex: 1 }, { currentStepIndex: 2 }, [], NOW)).rejects.toThrow(
      "status of rollout ns/web changed meanwhile; retrying",
    );
    expect((stored().status as RolloutStatus).message).toBe("someone else's write");
  });

  it("in a sync, a change of pod counts only within 5 s of the last write waits, and is written when it is due", async () => {
    const counted = (availableReplicas: number): RolloutStatus => ({ currentStepIndex: 1, availableReplicas });
    const rollout = fresh(counted(0));
    await settle(f.ctx, rollout, counted(0), { ...counted(0), currentStepIndex: 2 }, [], NOW, true);
    const written = stored();
    /** A sync `ms` after that write whose only change is one more pod available. */
    const countsAfter = (ms: number) =>
      settle(
        f.ctx,
        written,
        written.status as RolloutStatus,
        { ...counted(1), currentStepIndex: 2 },
        [],
        new Date(NOW.getTime() + ms),
        true,
      );
    expect(await countsAfter(500)).toBe(4_500);
    expect((stored().status as RolloutStatus).availableReplicas).toBe(0);
    expect(await countsAfter(5_000)).toBeUndefined();
    expect((stored().status as RolloutStatus).availableReplicas).toBe(1);
  });

  it("a spec the planner cannot read is reported as InvalidSpec, naming the field", async () => {
    const rollout = fresh();
    await reportUnreadable(f.ctx, rollout, { path: ["strategy", "canary", "steps", 0], message: "unknown step" }, NOW);
    const condition = (stored().status as RolloutStatus).conditions?.find((c) => c.type === "InvalidSpec");
    expect(condition).toMatchObject({ status: "True", message: "spec.strategy.canary.steps.0: unknown step" });
    expect(f.apiserver.calls).toContain(`PUT ${STATUS}`);
  });

  it("a router failure is written as Progressing False with its message, the step not recorded", async () => {
    const rollout = fresh({ currentStepIndex: 0 });
    const problem = 'HTTPRoute "web" not found in namespace "ns"';
    await reportRoutingFailed(f.ctx, rollout, new Error(problem), NOW);
    const status = stored().status as RolloutStatus;
    expect(status.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "False", message: problem });
    expect(status.message).toBe(`traffic routing failed, retrying: ${problem}`);
    expect(status.currentStepIndex).toBe(0);
  });
});
