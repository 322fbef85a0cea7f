// What a planner sees and what it decides. Planners are pure: observed state + now in, actions,
// the new status and when to look again out.
import type { RolloutSpec, RolloutStatus } from "../../api/rollout.ts";

export interface ObservedReplicaSet {
  name: string;
  /** Value of the ramp.dev/pod-template-hash label. */
  hash: string;
  revision: number;
  /** .spec.replicas */
  replicas: number;
  /** .status.replicas, readyReplicas, availableReplicas */
  current: number;
  ready: number;
  available: number;
  /** RFC 3339 time after which an old ReplicaSet's remaining pods go (annotation). */
  scaleDownAt?: string;
}

export interface Observed {
  generation: number;
  spec: RolloutSpec;
  status: RolloutStatus;
  /** Hash of the current pod template. */
  templateHash: string;
  replicaSets: ObservedReplicaSet[];
  now: Date;
}

export type Action =
  | { type: "createReplicaSet"; hash: string; revision: number; replicas: number }
  | { type: "scaleReplicaSet"; name: string; replicas: number }
  | { type: "setScaleDownAt"; name: string; at: string | null }
  | { type: "event"; reason: string; message: string; warning?: boolean };

export interface Plan {
  actions: Action[];
  status: RolloutStatus;
  /** Look again after this long even if nothing changes (a timed pause, a scale-down delay). */
  requeueAfterMs?: number;
}
