// Builders the planner tables share (test-only).
import type { ObservedReplicaSet } from "./types.ts";

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
