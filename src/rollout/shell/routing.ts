// The traffic step: the router the Rollout names is told what the planner desires, and asked (before
// planning, as an observation) whether it has accepted what it was last told.
import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import { objectKey } from "../../kube/informer.ts";
import { routerFor } from "../../traffic/registry.ts";
import { RouterError, type TrafficRouter } from "../../traffic/router.ts";
import type { RolloutObject } from "../objects.ts";
import { SpecProblem, type StepContext, specOf, TrafficProblem } from "./context.ts";

/** The Rollout's router, or undefined when it routes by replica counts (or its spec does not parse). */
export function routerOf(ctx: StepContext, rollout: RolloutObject): TrafficRouter | undefined {
  const canary = specOf(rollout)?.strategy.canary;
  if (!canary) return undefined;
  const { name, namespace, uid = "" } = rollout.metadata;
  const objects = ctx.routerObjects(objectKey(rollout));
  return routerFor({ client: ctx.client, objects, rollout: { name, namespace, uid }, canary });
}

/** Observed.trafficVerified: the router's verdict on its objects as they are now. */
export async function observeTraffic(router: TrafficRouter | undefined): Promise<boolean | undefined> {
  if (!router) return undefined;
  try {
    return await router.verify();
  } catch (err) {
    throw asProblem(err);
  }
}

/** Makes the router route as the plan desires. */
export async function route(router: TrafficRouter | undefined, desired: DesiredTraffic | undefined): Promise<void> {
  if (!router || !desired) return;
  try {
    await router.sync(desired);
  } catch (err) {
    throw asProblem(err);
  }
}

/** A step this router cannot express, or a route in a namespace that grants nothing, never works on
 * a retry: a spec problem. Anything else is a traffic problem, retried. */
function asProblem(err: unknown): Error {
  if (err instanceof RouterError && (err.code === "UNSUPPORTED" || err.code === "NOT_GRANTED"))
    return new SpecProblem(err.message);
  return new TrafficProblem((err as Error).message);
}
