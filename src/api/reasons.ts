// The catalogue of the reasons Ramp's controllers write: core/v1 Event reasons, condition reasons
// and pause reasons, each with what it means. Scripts, alerts, notification subscriptions and GitOps
// tools match on them, so a reason is never renamed. The stable error codes are the other half of
// the catalogue (codes.ts); docs/reasons.md lists both (`npm run gen:docs`).
// Each catalogue also gives its names as constants (`EventReason.RolloutAborted`) and as a type, so a
// misspelt reason does not compile.

export const EVENT_REASONS = {
  // A Rollout's update.
  RolloutUpdated: "a new revision starts (or the first one, a return to the stable one, a rollback within rollbackWindow)",
  StepCompleted: "a canary step is done",
  RolloutPaused:
    "a pause step, an inconclusive analysis, a failed gate, a spent error budget or a blue-green preview holds the rollout",
  RolloutResumed: "a timed pause is over, or blue-green promotes on its own after autoPromotionSeconds",
  RolloutPromoted: "blue-green: the active Service switched to the new revision",
  RolloutCompleted: "the new revision is stable and takes all traffic",
  RolloutAborted:
    "the update stopped and traffic went back to stable: a failed analysis or gate, the progress deadline, `ramp abort`",
  RolloutRetried: "`ramp retry`: the aborted revision starts again from its first step (canary) or its preview (blue-green)",
  RolloutRestarted: "every pod created before spec.restartAt has been replaced",
  // What the update waits on.
  AnalysisRunSuccessful: "an AnalysisRun of the rollout ended Successful",
  AnalysisRunFailed: "an AnalysisRun of the rollout ended Failed: the rollout aborts (an errorBudget step holds instead)",
  AnalysisRunInconclusive:
    "an AnalysisRun of the rollout ended Inconclusive: the rollout pauses until promoted or aborted (an errorBudget step holds)",
  AnalysisRunError: "an AnalysisRun of the rollout ended in Error: the rollout aborts (an errorBudget step holds instead)",
  GateFailed: "a gate's last call failed, or the call could not be made; the gate's onFailure applies",
  ErrorBudgetAvailable: "an errorBudget step found the error budget available again; the steps go on",
  DestinationNotAllowed:
    "the outbound policy refused a gate's URL (Event on the Rollout) or a measurement's (on the AnalysisRun); nothing was sent",
  // What stops or hurts a rollout.
  ProgressDeadlineExceeded: "no progress for progressDeadlineSeconds",
  InvalidSpec: "the spec cannot be carried out; the InvalidSpec condition says why",
  TrafficRoutingError: "the traffic router refused a change; retried with backoff until the progress deadline",
  StableReplicaSetRecreated: "the stable ReplicaSet was deleted mid-update and is made again from its saved template",
  StableReplicaSetLost: "the stable ReplicaSet was deleted and cannot be made again (no usable saved template)",
  RevisionHistoryFailed:
    "a write of the revision history failed; logged, tried again on the next reconcile, never holds the rollout up",
  NotificationDeadLettered: "a notification was given up; its code (DELIVERY_FAILED, OUTBOX_FULL, ...) says why",
  // A FleetRollout (Events on the FleetRollout).
  RevisionStarted: "a new revision starts through the waves",
  WaveStarted: "a wave starts: its clusters get the revision",
  ClusterUpdated: "a member cluster's Rollout got the revision's template",
  ClusterHealthy: "a member cluster's Rollout is Healthy at the revision",
  ClusterUnreachable: "a member cluster's apiserver cannot be reached or refuses the fleet's credentials",
  WaveHeld: "a wave's soak starts over: one of its clusters is no longer Healthy",
  AnalysisStarted: "a wave's analysis started (an AnalysisRun in the fleet's namespace)",
  WaveHealthy: "a wave is done: every cluster Healthy for the soak, its analysis passed or a person promoted",
  FleetHealthy: "the revision is Healthy in every wave",
  FleetStopped: "a wave failed or `ramp fleet abort`: no further wave starts (onFailure: pause or rollback)",
  ClusterRollingBack: "a member cluster's Rollout is set back to its previous template",
  ClusterRolledBack: "a member cluster is back on its previous revision",
  FleetRolledBack: "every updated member cluster is back on its previous revision",
} as const;

/** The reasons of Argo Rollouts' conditions on a Rollout: Progressing, InvalidSpec and ReplicaFailure. */
export const CONDITION_REASONS = {
  ReplicaSetUpdated: "Progressing True: the controller is walking a revision through its steps",
  RolloutPaused: "Progressing True: the rollout is paused (a step, an analysis, a gate, a person)",
  RolloutCompleted: "Progressing True: the newest revision is stable",
  RolloutAborted: "Progressing True: the update was aborted; stable takes all traffic",
  ProgressDeadlineExceeded: "Progressing False: no progress for progressDeadlineSeconds",
  TrafficRoutingError: "Progressing False: the traffic router refused a change (its message says what)",
  InvalidSpec: "InvalidSpec True: the spec cannot be carried out (its message says why)",
  StableReplicaSetRecreated: "ReplicaFailure True: the deleted stable ReplicaSet is made again, until its pods are available",
  StableReplicaSetLost: "ReplicaFailure True: the deleted stable ReplicaSet cannot be made again; promote or undo",
} as const;

/** The reasons of kstatus' Ready, Reconciling and Stalled (src/api/conditions.ts). */
export const KSTATUS_REASONS = {
  RolloutCompleted: "Ready True: the newest revision is stable and takes all traffic",
  RolloutProgressing: "Reconciling True: the controller is walking a revision through its steps",
  RolloutPaused:
    "Reconciling True: paused by a step, an inconclusive analysis, a failed gate or a person; waits for `ramp promote`, `ramp resume` or its duration",
  TrafficRoutingError: "Reconciling True: the traffic router refused a change; retried with backoff until the progress deadline",
  RolloutAborted:
    "Stalled True: aborted (a failed analysis or gate, or `ramp abort`); stable takes all traffic until a new revision or `ramp retry`",
  ProgressDeadlineExceeded: "Stalled True: no progress for progressDeadlineSeconds",
  InvalidSpec:
    "Stalled True: the spec cannot be carried out (the InvalidSpec condition says why); nothing changes until it is fixed",
} as const;

/** Why a Rollout is paused: status.pauseConditions[].reason. */
export const PAUSE_REASONS = {
  CanaryPauseStep: "a canary pause step; one without a duration waits for `ramp promote`",
  BlueGreenPause: "blue-green: the preview is ready and waits for `ramp promote` or autoPromotionSeconds",
  InconclusiveAnalysisRun: "an analysis ended Inconclusive; waits for `ramp promote` or `ramp abort`",
  GateFailed: "a gate with onFailure pause failed; `ramp promote` skips it, `ramp abort` aborts",
  ErrorBudgetSpent: "an errorBudget step found the budget spent; checked again every recheckInterval, `ramp promote` skips it",
} as const;

/** A catalogue's names as constants: each name maps to itself. */
const namesOf = <C extends Record<string, string>>(catalogue: C) =>
  Object.freeze(Object.fromEntries(Object.keys(catalogue).map((name) => [name, name]))) as { readonly [N in keyof C]: N };

export const EventReason = namesOf(EVENT_REASONS);
export type EventReason = keyof typeof EVENT_REASONS;
export const ConditionReason = namesOf(CONDITION_REASONS);
export type ConditionReason = keyof typeof CONDITION_REASONS;
export const KstatusReason = namesOf(KSTATUS_REASONS);
export type KstatusReason = keyof typeof KSTATUS_REASONS;
export const PauseReason = namesOf(PAUSE_REASONS);
export type PauseReason = keyof typeof PAUSE_REASONS;
