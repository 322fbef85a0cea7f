// Objects the CLI's view tests share (test-only): ReplicaSets of the Rollout "web" in "shop", aged from NOW.
import type { ReplicaSetObject } from "../rollout/objects.ts";

export const NOW = new Date("2026-01-01T12:00:00Z");
export const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
export const owner = (uid = "u1") => [{ apiVersion: "ramp.dev/v1alpha1", kind: "Rollout", name: "web", uid, controller: true }];

/** `web-<hash>` of a revision: made revision × 10 minutes ago, image web:<revision>, every pod ready. */
export function replicaSet(hash: string, revision: number, ready: number, uid = "u1"): ReplicaSetObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      namespace: "shop",
      creationTimestamp: minutesAgo(revision * 10),
      labels: { "ramp.dev/pod-template-hash": hash },
      annotations: { "ramp.dev/revision": String(revision) },
      ownerReferences: owner(uid),
    },
    spec: { replicas: ready, selector: {}, template: { spec: { containers: [{ name: "web", image: `web:${revision}` }] } } },
    status: { readyReplicas: ready, availableReplicas: ready },
  };
}
