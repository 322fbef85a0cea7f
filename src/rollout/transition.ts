// Pure: what one reconcile's status write changed that the metrics count — an abort, a promotion, a
// rollback — and how long the Rollout took to become Healthy again. Read from the statuses before
// and after the write, so a retried reconcile (its write refused) counts nothing twice.
import type { RolloutStatus } from "../api/rollout.ts";

export interface RolloutTransition {
  /** The update was stopped and traffic sent back to stable (analysis, a gate, the deadline, `ramp abort`). */
  aborted: boolean;
  /** A new revision became the stable one. */
  promoted: boolean;
  /** The spec went back to the stable revision's template before the update completed (`ramp undo`, a revert). */
  rolledBack: boolean;
  /** Seconds from leaving Healthy (an update) to Healthy again, when this write made it Healthy. */
  healthyAfterSeconds?: number;
}

export function rolloutTransition(before: RolloutStatus, after: RolloutStatus, now: Date): RolloutTransition {
  const aborted = before.abortedAt === undefined && after.abortedAt !== undefined;
  const promoted = before.stableRS !== undefined && after.stableRS !== before.stableRS;
  const rolledBack =
    before.currentPodHash !== undefined &&
    before.currentPodHash !== before.stableRS &&
    after.currentPodHash !== before.currentPodHash &&
    after.currentPodHash === before.stableRS;
  // The Healthy condition's lastTransitionTime is when it went False: the start of the update.
  const unhealthySince = before.conditions?.find((c) => c.type === "Healthy" && c.status === "False")?.lastTransitionTime;
  const healthy = after.phase === "Healthy" && before.phase !== "Healthy" && unhealthySince !== undefined;
  const seconds = healthy ? (now.getTime() - new Date(unhealthySince).getTime()) / 1000 : Number.NaN;
  return { aborted, promoted, rolledBack, ...(Number.isFinite(seconds) && seconds >= 0 ? { healthyAfterSeconds: seconds } : {}) };
}
