// Pure: the owner reference that ties what Ramp creates (ReplicaSets, revisions, analysis runs, the
// routers' generated objects) to its Rollout, so Kubernetes collects them with it.
import { API_VERSION } from "./group.ts";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function ownerReference(rollout: { metadata: { name: string; uid?: string } }): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: "Rollout",
    name: rollout.metadata.name,
    uid: rollout.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}
