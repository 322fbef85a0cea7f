import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../../api/rollout.ts";
import type { Condition } from "./common.ts";
import { kstatusVerdict, withKstatusConditions } from "./kstatus.ts";
import { invalidSpecStatus, trafficErrorStatus } from "./rollout.ts";

const NOW = "2026-11-22T10:00:00.000Z";
const LATER = "2026-11-22T10:05:00.000Z";
const cond = (type: Condition["type"], status: "True" | "False", reason?: string, message?: string): Condition => ({
  type,
  status,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});
const kstatusOf = (s: RolloutStatus) =>
  Object.fromEntries(
    (s.conditions ?? [])
      .filter((c) => ["Ready", "Reconciling", "Stalled"].includes(c.type))
      .map((c) => [c.type, `${c.status}/${c.reason}`]),
  );

describe("kstatus conditions from a Rollout's status", () => {
  it.each<{ name: string; status: RolloutStatus; state: string; reason: string }>([
    { name: "no phase yet (first reconcile)", status: {}, state: "InProgress", reason: "RolloutProgressing" },
    {
      name: "walking the steps",
      status: { phase: "Progressing", message: "step 1/4" },
      state: "InProgress",
      reason: "RolloutProgressing",
    },
    {
      name: "paused at a step",
      status: { phase: "Paused", message: "paused at step 2" },
      state: "InProgress",
      reason: "RolloutPaused",
    },
    { name: "healthy", status: { phase: "Healthy" }, state: "Current", reason: "RolloutCompleted" },
    { name: "aborted", status: { phase: "Degraded", abort: true }, state: "Failed", reason: "RolloutAborted" },
    {
      name: "progress deadline exceeded",
      status: { phase: "Degraded", conditions: [cond("Progressing", "False", "ProgressDeadlineExceeded")] },
      state: "Failed",
      reason: "ProgressDeadlineExceeded",
    },
    {
      name: "invalid spec, whatever the phase",
      status: { phase: "Healthy", conditions: [cond("InvalidSpec", "True", "InvalidSpec", "no Service")] },
      state: "Failed",
      reason: "InvalidSpec",
    },
    {
      name: "a router error while progressing",
      status: { phase: "Progressing", conditions: [cond("Progressing", "False", "TrafficRoutingError", "no route")] },
      state: "InProgress",
      reason: "TrafficRoutingError",
    },
    {
      name: "a router error while healthy (the last step's weights)",
      status: { phase: "Healthy", conditions: [cond("Progressing", "False", "TrafficRoutingError", "no route")] },
      state: "InProgress",
      reason: "TrafficRoutingError",
    },
    {
      name: "a router error while aborting stays Stalled",
      status: { phase: "Degraded", abort: true, conditions: [cond("Progressing", "False", "TrafficRoutingError")] },
      state: "Failed",
      reason: "RolloutAborted",
    },
    {
      name: "an InvalidSpec condition that is False counts for nothing",
      status: { phase: "Healthy", conditions: [cond("InvalidSpec", "False")] },
      state: "Current",
      reason: "RolloutCompleted",
    },
  ])("$name: $state ($reason)", ({ status, state, reason }) => {
    expect(kstatusVerdict(status)).toMatchObject({ state, reason });
  });

  it.each<{ name: string; status: RolloutStatus; want: Record<string, string> }>([
    {
      name: "InProgress",
      status: { phase: "Progressing" },
      want: { Ready: "False/RolloutProgressing", Reconciling: "True/RolloutProgressing" },
    },
    { name: "Paused", status: { phase: "Paused" }, want: { Ready: "False/RolloutPaused", Reconciling: "True/RolloutPaused" } },
    { name: "Current", status: { phase: "Healthy" }, want: { Ready: "True/RolloutCompleted" } },
    {
      name: "Failed",
      status: { phase: "Degraded", abort: true },
      want: { Ready: "False/RolloutAborted", Stalled: "True/RolloutAborted" },
    },
    {
      name: "Current after Reconciling: Reconciling goes (abnormal-true)",
      status: { phase: "Healthy", conditions: [cond("Reconciling", "True", "RolloutProgressing"), cond("Ready", "False")] },
      want: { Ready: "True/RolloutCompleted" },
    },
    {
      name: "Failed after Reconciling: only Stalled stays",
      status: { phase: "Degraded", abort: true, conditions: [cond("Reconciling", "True", "RolloutProgressing")] },
      want: { Ready: "False/RolloutAborted", Stalled: "True/RolloutAborted" },
    },
    {
      name: "Reconciling after Stalled (retry): Stalled goes",
      status: { phase: "Progressing", conditions: [cond("Stalled", "True", "RolloutAborted")] },
      want: { Ready: "False/RolloutProgressing", Reconciling: "True/RolloutProgressing" },
    },
  ])("$name sets $want", ({ status, want }) => {
    expect(kstatusOf(withKstatusConditions(status, NOW))).toEqual(want);
  });

  it("carries observedGeneration and the message, and keeps lastTransitionTime while the status holds", () => {
    const first = withKstatusConditions({ phase: "Progressing", observedGeneration: 3, message: "step 1/4" }, NOW);
    expect(first.conditions?.find((c) => c.type === "Reconciling")).toEqual({
      type: "Reconciling",
      status: "True",
      reason: "RolloutProgressing",
      message: "step 1/4",
      observedGeneration: 3,
      lastTransitionTime: NOW,
      lastUpdateTime: NOW,
    });
    const paused = withKstatusConditions({ ...first, phase: "Paused", message: "paused" }, LATER);
    expect(paused.conditions?.find((c) => c.type === "Reconciling")).toMatchObject({
      reason: "RolloutPaused",
      lastTransitionTime: NOW,
      lastUpdateTime: LATER,
    });
    const done = withKstatusConditions({ ...paused, phase: "Healthy" }, LATER);
    expect(done.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", lastTransitionTime: LATER });
  });

  it("the invalid-spec and router-error statuses carry them too; an invalid spec is observed", () => {
    const invalid = invalidSpecStatus({ observedGeneration: 1, phase: "Healthy" }, "no Service", new Date(NOW), 2).status;
    expect(invalid.observedGeneration).toBe(2);
    expect(kstatusOf(invalid)).toEqual({ Ready: "False/InvalidSpec", Stalled: "True/InvalidSpec" });
    const routing = trafficErrorStatus({ observedGeneration: 1, phase: "Progressing" }, "no route", new Date(NOW)).status;
    expect(routing.observedGeneration).toBe(1);
    expect(kstatusOf(routing)).toEqual({ Ready: "False/TrafficRoutingError", Reconciling: "True/TrafficRoutingError" });
  });
});
