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

/** What asking the router gave: its verdict, and why it could not be asked. */
export interface TrafficObservation {
  verified?: boolean;
  failure?: TrafficProblem;
}

/** Observed.trafficVerified: the router's verdict on its objects as they are now. A router that
 * could not be asked (its route missing, the apiserver failing) has verified nothing; its failure is
 * returned, to be reported once the reconcile has scaled and planned, so that it never hides a
 * problem the planner reports (a missing Service). A spec problem is thrown. */
export async function observeTraffic(router: TrafficRouter | undefined): Promise<TrafficObservation> {
  if (!router) return {};
  try {
    const verified = await router.verify();
    return verified === undefined ? {} : { verified };
  } catch (err) {
    const problem = asProblem(err);
    if (problem instanceof SpecProblem) throw problem;
    return { verified: false, failure: problem };
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
function asProblem(err: unknown): SpecProblem | TrafficProblem {
  if (err instanceof RouterError && (err.code === "UNSUPPORTED" || err.code === "NOT_GRANTED"))
    return new SpecProblem(err.message);
  return new TrafficProblem((err as Error).message);
}
