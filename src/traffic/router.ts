// The seam between the Rollout controller and the routers a cluster already has. The planner says
// what should be routed (DesiredTraffic, in src/api); a router makes it so, idempotently, keeping
// fields that other writers own. Adding a router touches its own folder and one line of registry.ts.
import { type Code, CodedError } from "../api/codes.ts";
import type { DesiredTraffic } from "../api/desired-traffic.ts";
import type { RolloutSpec } from "../api/rollout.ts";
import type { KubeClient } from "../kube/client.ts";
import type { ObjectReader } from "../kube/object-caches.ts";

export type CanaryStrategy = NonNullable<RolloutSpec["strategy"]["canary"]>;
export type TrafficRouting = NonNullable<CanaryStrategy["trafficRouting"]>;

export interface RouterContext {
  /** Writes go through the client; */
  client: KubeClient;
  /** reads through these caches (kept by watches where the controller has them). */
  objects: ObjectReader;
  rollout: { name: string; namespace: string; uid: string };
  canary: CanaryStrategy;
}

export interface TrafficRouter {
  readonly name: string;
  /** Makes the router's objects route as desired: the weights, and Ramp's header and mirror routes
   * and no others, keeping the user's own routes. An object already as desired is not written. */
  sync(desired: DesiredTraffic): Promise<void>;
  /** Whether the router's objects have accepted what they were last told; undefined when the router
   * cannot tell. */
  verify(): Promise<boolean | undefined>;
}

/** Gives a Rollout's router objects back (the Rollout is being deleted): all traffic to the stable
 * revision and none of Ramp's header or mirror routes. */
export function release(router: TrafficRouter, stableHash: string): Promise<void> {
  return router.sync({ weight: 0, canaryHash: stableHash, stableHash, headerRoutes: [], mirrorRoutes: [] });
}

export type RouterFactory = (ctx: RouterContext) => TrafficRouter;

/** Why a router could not route as desired:
 * - NOT_FOUND: an object the Rollout names does not exist (yet); retrying may succeed.
 * - NOT_SERVED: the cluster does not serve the router's kind (its CRD is not installed).
 * - NO_BACKENDS: the user's object routes to neither the stable nor the canary Service.
 * - UNSUPPORTED: the step asks for something this router cannot express; retrying will not help.
 * - NOT_OWNED: the object Ramp would generate exists and belongs to someone else.
 * - CONFLICT: the object kept changing under every attempt to write it.
 * - NOT_GRANTED: the object is in another namespace, and nothing there allows the Rollout to touch it. */
export type RouterErrorCode = Extract<
  Code,
  "NOT_FOUND" | "NOT_SERVED" | "NO_BACKENDS" | "UNSUPPORTED" | "NOT_OWNED" | "CONFLICT" | "NOT_GRANTED"
>;

export class RouterError extends CodedError<RouterErrorCode> {
  override name = "RouterError";
}
