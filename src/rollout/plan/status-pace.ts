// When a planned status is written. A change of what the rollout decided (phase, step, pause,
// revisions, a condition's state) is written at once; a change of only what is counted and said
// about it (pod counts, messages, the time stamps they bump) waits until COUNTS_INTERVAL_MS after
// the rollout's last write. Pods become ready one after the other: each used to cost a status write
// from the same rate-limit budget as the ReplicaSet writes that move rollouts on. 5 s folds the
// counts into the next decision's write more often than not, and is well within the 15 s an HPA
// looks at the scale subresource. With more rollouts waiting in the queue than workers to take
// them (every rollout changed at once), the counts wait BUSY_COUNTS_INTERVAL_MS: the budget goes
// to the writes that move rollouts on, and the counts come with them.
import { canonicalJson } from "../../api/canonical-json.ts";
import type { RolloutStatus } from "../../api/rollout.ts";

export const COUNTS_INTERVAL_MS = 5_000;
export const BUSY_COUNTS_INTERVAL_MS = 30_000;

export type StatusWrite = { write: "no" } | { write: "now" } | { write: "later"; inMs: number };

/** The status without what only counts pods or says so in words. */
function decided(s: RolloutStatus): unknown {
  const { replicas: _r, updatedReplicas: _u, readyReplicas: _ready, availableReplicas: _a, message: _m, ...rest } = s;
  return {
    ...rest,
    conditions: rest.conditions?.map(({ lastUpdateTime: _t, message: _msg, ...c }) => c),
  };
}

/** `lastWrittenAt`: when this process last wrote the rollout's status (undefined: not yet); `busy`:
 * more rollouts wait to be reconciled than there are workers. */
export function statusWrite(
  before: RolloutStatus,
  after: RolloutStatus,
  lastWrittenAt: number | undefined,
  now: number,
  busy = false,
): StatusWrite {
  if (canonicalJson(after) === canonicalJson(before)) return { write: "no" };
  if (lastWrittenAt === undefined || canonicalJson(decided(after)) !== canonicalJson(decided(before))) return { write: "now" };
  const inMs = lastWrittenAt + (busy ? BUSY_COUNTS_INTERVAL_MS : COUNTS_INTERVAL_MS) - now;
  return inMs > 0 ? { write: "later", inMs } : { write: "now" };
}
