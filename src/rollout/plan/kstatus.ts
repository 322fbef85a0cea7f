// kstatus' Ready, Reconciling and Stalled (sigs.k8s.io/cli-utils/pkg/kstatus), derived from the status
// the planner made, so Flux's health checks and `kpt live` wait for a rollout to finish.
import type { KSTATUS_CONDITIONS } from "../../api/conditions.ts";
import { ConditionReason, KstatusReason } from "../../api/reasons.ts";
import type { RolloutStatus } from "../../api/rollout.ts";
import { type Condition, setCondition } from "./common.ts";

/** What kstatus.Compute answers for a Rollout whose observedGeneration is current. */
export type KstatusState = "Current" | "InProgress" | "Failed";

export interface KstatusVerdict {
  state: KstatusState;
  reason: KstatusReason;
  message?: string;
}

/**
 * A paused rollout is InProgress: kstatus has no Suspended, and a rollout waiting at a pause has not
 * reached its desired state, so a Flux `wait` should not pass it (it times out instead, saying
 * RolloutPaused). Degraded, aborted or invalid is Failed, which ends a wait at once.
 */
export function kstatusVerdict(status: RolloutStatus): KstatusVerdict {
  const find = (type: Condition["type"]) => status.conditions?.find((c) => c.type === type);
  const message = status.message;
  const invalid = find("InvalidSpec");
  if (invalid?.status === "True")
    return { state: "Failed", reason: KstatusReason.InvalidSpec, message: invalid.message ?? message };
  const progressing = find("Progressing");
  if (status.phase === "Degraded") {
    const deadline = progressing?.reason === ConditionReason.ProgressDeadlineExceeded;
    return { state: "Failed", reason: deadline ? KstatusReason.ProgressDeadlineExceeded : KstatusReason.RolloutAborted, message };
  }
  if (progressing?.status === "False" && progressing.reason === ConditionReason.TrafficRoutingError) {
    return { state: "InProgress", reason: KstatusReason.TrafficRoutingError, message: progressing.message ?? message };
  }
  if (status.phase === "Paused") return { state: "InProgress", reason: KstatusReason.RolloutPaused, message };
  if (status.phase === "Healthy") return { state: "Current", reason: KstatusReason.RolloutCompleted, message };
  return { state: "InProgress", reason: KstatusReason.RolloutProgressing, message };
}

const ABNORMAL: Partial<Record<KstatusState, (typeof KSTATUS_CONDITIONS)[number]>> = {
  InProgress: "Reconciling",
  Failed: "Stalled",
};

/** Sets Ready (always) and Reconciling or Stalled (only while True: abnormal-true polarity), each
 * with the status' observedGeneration, from `kstatusVerdict`. */
export function withKstatusConditions(status: RolloutStatus, now: string): RolloutStatus {
  const verdict = kstatusVerdict(status);
  const abnormal = ABNORMAL[verdict.state];
  const common = {
    reason: verdict.reason,
    ...(verdict.message ? { message: verdict.message } : {}),
    ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
  };
  let conditions = (status.conditions ?? []).filter(
    (c) => c.type === abnormal || (c.type !== "Reconciling" && c.type !== "Stalled"),
  );
  conditions = setCondition(
    conditions,
    { type: "Ready", status: verdict.state === "Current" ? "True" : "False", ...common },
    now,
  );
  if (abnormal) conditions = setCondition(conditions, { type: abnormal, status: "True", ...common }, now);
  return { ...status, conditions };
}
