// What should be routed now: the planner decides it from the Rollout's steps, a router makes its
// cluster's objects say it.
import type { CanaryStep } from "./rollout.ts";

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
