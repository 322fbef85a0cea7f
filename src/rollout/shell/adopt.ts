// Orphan adoption: a ReplicaSet with no controller whose labels the Rollout's selector matches is
// taken over (as the deployment controller's ClaimReplicaSets does), found through the caches'
// indexes rather than a scan of every ReplicaSet.
import { ownerReference } from "../../api/owner-reference.ts";
import { controllerOf, isBaseline, type ReplicaSetObject, type RolloutObject, selectorMatches } from "../objects.ts";
import type { Observed } from "../plan/types.ts";
import { BY_OWNER, ORPHANS_BY_NAMESPACE, type StepContext, specOf } from "./context.ts";

/** Whether the Rollout would adopt this ReplicaSet (an orphan its selector matches). */
export function adopts(rollout: RolloutObject, rs: ReplicaSetObject): boolean {
  const spec = specOf(rollout);
  return (
    rs.metadata.namespace === rollout.metadata.namespace &&
    !controllerOf(rs) &&
    !isBaseline(rs) &&
    spec !== undefined &&
    selectorMatches(spec.selector, rs.metadata.labels ?? {})
  );
}

/** The ReplicaSets the Rollout owns, and the orphans it is about to adopt. */
export function ownedOrAdoptable(ctx: StepContext, rollout: RolloutObject): ReplicaSetObject[] {
  const { replicaSets } = ctx.caches;
  const owned = replicaSets.byIndex(BY_OWNER, rollout.metadata.uid ?? "");
  const orphans = replicaSets.byIndex(ORPHANS_BY_NAMESPACE, rollout.metadata.namespace).filter((rs) => adopts(rollout, rs));
  return [...owned, ...orphans];
}

/** Adopts the observed orphans first, so a restart never creates a second ReplicaSet for one revision. */
export async function adoptOrphans(ctx: StepContext, rollout: RolloutObject, observed: Observed): Promise<void> {
  const { namespace } = rollout.metadata;
  for (const { name } of observed.replicaSets) {
    const rs = ctx.caches.replicaSets.get(`${namespace}/${name}`);
    if (!rs || controllerOf(rs)) continue;
    const refs = [...(rs.metadata.ownerReferences ?? []), ownerReference(rollout)];
    ctx.caches.replicaSets.remember(
      await ctx.client.patch("apps/v1", "ReplicaSet", name, namespace, {
        metadata: { ownerReferences: refs, resourceVersion: rs.metadata.resourceVersion },
      }),
    );
  }
}
