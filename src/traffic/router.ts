// The seam between the Rollout controller and the routers a cluster already has. The planner says
// what should be routed (DesiredTraffic); a router makes it so, idempotently, keeping fields that
// other writers own. Adding a router touches its own folder and one line of registry.ts.
import type { CanaryStep, RolloutSpec } from "../api/rollout.ts";
import type { KubeClient } from "../kube/client.ts";

export interface HeaderRoute {
  name: string;
  match: NonNullable<NonNullable<CanaryStep["setHeaderRoute"]>["match"]>;
}

export interface MirrorRoute {
  name: string;
  percentage: number;
  match: NonNullable<NonNullable<CanaryStep["setMirrorRoute"]>["match"]>;
}

/** What the traffic router should be routing now. */
export interface DesiredTraffic {
  /** Canary share, 0..100. */
  weight: number;
  canaryHash: string;
  stableHash: string;
  headerRoutes: HeaderRoute[];
  mirrorRoutes: MirrorRoute[];
}

export type CanaryStrategy = NonNullable<RolloutSpec["strategy"]["canary"]>;
export type TrafficRouting = NonNullable<CanaryStrategy["trafficRouting"]>;

export interface RouterContext {
  client: KubeClient;
  rollout: { name: string; namespace: string; uid: string };
  canary: CanaryStrategy;
}

export interface TrafficRouter {
  readonly name: string;
  setWeight(desired: DesiredTraffic): Promise<void>;
  setHeaderRoutes(routes: HeaderRoute[], desired: DesiredTraffic): Promise<void>;
  setMirrorRoutes(routes: MirrorRoute[], desired: DesiredTraffic): Promise<void>;
  /** Whether the router's objects now route as desired; undefined when the router cannot tell. */
  verify(desired: DesiredTraffic): Promise<boolean | undefined>;
  /** Header and mirror routes go (on abort and full promotion), leaving the user's own routes. */
  removeManagedRoutes(): Promise<void>;
}

export type RouterFactory = (ctx: RouterContext) => TrafficRouter;
