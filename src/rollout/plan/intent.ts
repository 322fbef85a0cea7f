// What people (`ramp promote`, `abort`, `retry`, the dashboard) ask of a Rollout through its status,
// decoded in this one place: where a request is a combination of fields (an Argo-style retry,
// blue-green's "promoted"), the planners, the CLI and the dashboard ask intentOf, never the fields.
import type { RolloutStatus } from "../../api/rollout.ts";

export interface Intent {
  /** Stop the update, traffic back to stable: `ramp abort`, or the controller itself (analysis, a gate,
   * the progress deadline). False once a retry is asked. */
  abort: boolean;
  /** Start the aborted revision again (canary: from its first step; blue-green: from the preview). */
  retry: boolean;
  /** Skip the remaining steps and analysis: `ramp promote --full`, or a rollback within rollbackWindow. */
  promoteFull: boolean;
  /** Blue-green: the controller's pause was cleared (`ramp promote`), which Argo Rollouts reads as promoted. */
  promoted: boolean;
}

export function intentOf(s: RolloutStatus): Intent {
  const retry =
    (s.abort === true && s.retry === true) ||
    // An Argo-style retry (abort cleared, abortedAt left), as an older `ramp retry` wrote it.
    (s.abort !== true && s.abortedAt !== undefined);
  return {
    abort: s.abort === true && !retry,
    retry,
    promoteFull: s.promoteFull === true,
    promoted: s.controllerPause === true && !s.pauseConditions?.length,
  };
}
