// Builders the router tables share (test-only).
import type { DesiredTraffic } from "../api/desired-traffic.ts";

/** What the planner asks of a router: `weight`% to revision "new", the rest to "old", no managed routes. */
export const desired = (weight: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic => ({
  weight,
  canaryHash: "new",
  stableHash: "old",
  headerRoutes: [],
  mirrorRoutes: [],
  ...extra,
});

/** The owner reference Ramp puts on the objects it generates for Rollout "web". */
export const rolloutOwner = {
  apiVersion: "ramp.dev/v1alpha1",
  kind: "Rollout",
  name: "web",
  uid: "u1",
  controller: true,
  blockOwnerDeletion: true,
};
