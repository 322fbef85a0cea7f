// The traffic finalizer: held by Rollouts that route traffic, so that deleting one first sends all
// traffic back to what is running and removes Ramp's header and mirror routes.
import { API_VERSION } from "../../api/group.ts";
import type { RolloutStatus } from "../../api/rollout.ts";
import { isNotFound } from "../../kube/client.ts";
import type { ReconcileResult } from "../../kube/queue.ts";
import { RouterError, release } from "../../traffic/router.ts";
import type { RolloutObject } from "../objects.ts";
import { finalizersOf, type StepContext, specOf, TRAFFIC_FINALIZER } from "./context.ts";
import { routerOf } from "./routing.ts";

/** Adds the finalizer to a Rollout that routes traffic and lacks it. Returns whether it patched:
 * the reconcile then starts again from the resourceVersion the patch returned. */
export async function ensureFinalizer(ctx: StepContext, rollout: RolloutObject): Promise<boolean> {
  const finalizers = finalizersOf(rollout);
  if (!specOf(rollout)?.strategy.canary?.trafficRouting || finalizers.includes(TRAFFIC_FINALIZER)) return false;
  const updated = await setFinalizers(ctx, rollout, [...finalizers, TRAFFIC_FINALIZER]);
  if (updated) ctx.caches.rollouts.remember(updated);
  return true;
}

/** A deleted Rollout's router objects are released (all traffic to stable, no managed routes) before
 * its finalizer lets it go. */
export async function finalize(ctx: StepContext, rollout: RolloutObject): Promise<ReconcileResult> {
  const finalizers = finalizersOf(rollout);
  if (!finalizers.includes(TRAFFIC_FINALIZER)) return undefined;
  const status = (rollout.status ?? {}) as RolloutStatus;
  const stable = status.stableRS ?? status.currentPodHash ?? "";
  const router = stable ? routerOf(ctx, rollout) : undefined;
  if (router) {
    try {
      await release(router, stable);
    } catch (err) {
      // With the route object (or its kind) gone, or never granted, there is nothing of ours to
      // restore; anything else is retried.
      if (!(err instanceof RouterError && ["NOT_FOUND", "NOT_SERVED", "NOT_GRANTED"].includes(err.code))) throw err;
      const { namespace, name } = rollout.metadata;
      ctx.log(`rollout ${namespace}/${name} deleted; its routes are gone: ${err.message}`, "warn");
    }
  }
  // Not remembered: with its last finalizer gone the Rollout goes, and the watch says so.
  await setFinalizers(
    ctx,
    rollout,
    finalizers.filter((f) => f !== TRAFFIC_FINALIZER),
  );
  return undefined;
}

/** A merge patch replaces the whole list, so it is guarded by the resourceVersion read: a conflict
 * (someone else's finalizer changed meanwhile) fails the reconcile, which runs again on fresh data. */
async function setFinalizers(ctx: StepContext, rollout: RolloutObject, finalizers: string[]): Promise<RolloutObject | undefined> {
  const { namespace, name, resourceVersion } = rollout.metadata;
  try {
    return await ctx.client.patch(API_VERSION, "Rollout", name, namespace, { metadata: { finalizers, resourceVersion } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return undefined;
  }
}
