// Builders and cases the planner tables share (test-only; pure, as the planner is: no vitest here).
import type { RolloutStatus } from "../../api/rollout.ts";
import type { ObservedReplicaSet, Plan } from "./types.ts";

/** A settled ReplicaSet `web-<hash>`: every pod current, ready and available; "new" is revision 2. */
export const replicaSet = (hash: string, replicas: number, extra: Partial<ObservedReplicaSet> = {}): ObservedReplicaSet => ({
  name: `web-${hash}`,
  hash,
  revision: hash === "new" ? 2 : 1,
  replicas,
  current: replicas,
  ready: replicas,
  available: replicas,
  ...extra,
});

export const T0 = new Date("2026-11-22T10:00:00Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The reasons of the Events a plan records, in order. */
export const events = (p: Plan) => p.actions.filter((a) => a.type === "event").map((a) => (a as { reason: string }).reason);
/** What a plan changes in the cluster: its actions but the Events. */
export const changes = (p: Plan) => p.actions.filter((a) => a.type !== "event");

/** A status the planner is given, and what its plan must show: the status, the Events, the fields gone. */
export interface RetryCase {
  name: string;
  status: RolloutStatus;
  expected: Partial<RolloutStatus>;
  events: string[];
  cleared: (keyof RolloutStatus)[];
}

/** The retry cases every strategy answers alike, from its `aborted` status: retried by `ramp retry`
 * (before or after the abort was taken up) or Argo's way (abort cleared, abortedAt left), each giving
 * `retried` with the abort and `alsoCleared` gone; and with no retry asked, still aborted. */
export function retryCases(strategy: {
  aborted: RolloutStatus;
  /** How the first case is named: what a retry does. */
  retryDoes: string;
  retried: Partial<RolloutStatus>;
  alsoCleared: (keyof RolloutStatus)[];
  /** What else an aborted rollout keeps while no retry is asked. */
  stillAborted?: Partial<RolloutStatus>;
}): RetryCase[] {
  const { aborted, retryDoes, stillAborted = {} } = strategy;
  const { abortedAt: _, ...abortNotTakenUp } = aborted;
  const retried: Omit<RetryCase, "name" | "status"> = {
    expected: strategy.retried,
    events: ["RolloutRetried"],
    cleared: ["retry", "abort", "abortedAt", ...strategy.alsoCleared],
  };
  return [
    { name: `\`ramp retry\`: ${retryDoes}`, status: { ...aborted, retry: true }, ...retried },
    { name: "asked before the abort was taken up: the same", status: { ...abortNotTakenUp, retry: true }, ...retried },
    { name: "an Argo-style retry (abort cleared, abortedAt left): the same", status: { ...aborted, abort: false }, ...retried },
    {
      name: "aborted with no retry asked: stays aborted",
      status: aborted,
      expected: { abort: true, abortedAt: aborted.abortedAt, phase: "Degraded", ...stillAborted },
      events: [],
      cleared: ["retry"],
    },
  ];
}
