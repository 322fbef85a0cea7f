// The Rollout conditions GitOps tools read. `Ready`, `Reconciling` and `Stalled` follow kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus), which Flux's health checks and `kpt live` wait with: Ready is
// always present; Reconciling and Stalled have abnormal-true polarity, present only while True.
// Their reasons are in the catalogue (reasons.ts: KSTATUS_REASONS).
export const KSTATUS_CONDITIONS = ["Ready", "Reconciling", "Stalled"] as const;
