// The Rollout conditions GitOps tools read, and the catalogue of their reasons. `Ready`, `Reconciling`
// and `Stalled` follow kstatus (sigs.k8s.io/cli-utils/pkg/kstatus), which Flux's health checks and
// `kpt live` wait with: Ready is always present; Reconciling and Stalled have abnormal-true polarity,
// present only while True. Scripts and alerts match on the reasons, so one is never renamed;
// docs/api.md explains each.
export const KSTATUS_CONDITIONS = ["Ready", "Reconciling", "Stalled"] as const;

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

export type KstatusReason = keyof typeof KSTATUS_REASONS;
